"""Recording a run that executes somewhere else: a papermill kernel, a worker process, a Ray task.

:class:`~mlnb.runs.run.Run` is for code that logs from inside the run. A run
whose code runs in another process — a notebook executed by papermill, a trial
in a worker, a task on a Ray node — is recorded from outside with two calls:
:func:`begin` writes it as ``running`` (it shows in ``mlnb runs ls`` and the lab's
Runs panel at once) and :func:`end` writes how it ended, its summary, more
provenance and its artifacts. Both return the same kind of
:class:`~mlnb.runs.records.RunRecord` the store hands back for every run, so a
pipeline's run and a notebook's run are one thing. :func:`record` writes a run
that is already over in one call (a task whose worker died before it could
report).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from mlnb.config import project as configured_project
from mlnb.exceptions import InvalidArgumentError
from mlnb.runs import liveness
from mlnb.runs import values as checks
from mlnb.runs.records import STATUSES, RunRecord, artifact_for_file, new_run_id
from mlnb.runs.session import open_store

if TYPE_CHECKING:
    from typing_extensions import Unpack

#: statuses :func:`end` accepts (``crashed`` too: a kernel that died is known from outside)
END_STATUSES = tuple(s for s in STATUSES if s != "running")


class RunFields(TypedDict, total=False):
    """What :func:`begin` and :func:`draft` take besides the name (see :func:`begin`)."""

    project: str | None
    config: Mapping[str, Any] | None
    tags: Sequence[str]
    provenance: Mapping[str, Any] | None
    run_id: str | None
    started: float | None


def begin(
    name: str, *, home: str | os.PathLike[str] | None = None, **fields: Unpack[RunFields]
) -> RunRecord:
    """Write a new ``running`` run for work that executes in another process.

    Args:
        name: the run's name.
        project: its project (default ``MLNB_PROJECT``, else ``"default"``).
        config: its parameters (values JSON cannot hold are stored as their repr).
        tags: labels to filter by.
        provenance: what to record about where and how it runs (sections by name).
        run_id: the id to use (default: a new one).
        started: Unix start time (default: now).
        home: the store folder (default ``$MLNB_HOME`` or ``./.mlnb``).

    Returns:
        The record as written. Its ``pid`` and ``host`` are this process's: while
        it lives and the run is not ended, readers show the run as running.

    Raises:
        StoreError: the store cannot be written.
        MetricValueError: a name, project or tag is empty or spans lines.
    """
    record = draft(name, **fields)
    open_store(home).create_run(record, liveness.process_start_time())
    return record


def draft(
    name: str,
    *,
    project: str | None = None,
    config: Mapping[str, Any] | None = None,
    tags: Sequence[str] = (),
    provenance: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    started: float | None = None,
) -> RunRecord:
    """The ``running`` record :func:`begin` would write, without writing it (for a run
    that cannot reach a store: papermill using mlnb's engine by name, an unusable store)."""
    now = time.time()
    return RunRecord(
        id=run_id or new_run_id(),
        name=checks.check_name("name", name),
        project=checks.check_name("project", project or configured_project()),
        status="running",
        started=started if started is not None else now,
        ended=None,
        heartbeat=now,
        pid=os.getpid(),
        host=liveness.host(),
        config=checks.sanitize_config(config or {}),
        tags=tuple(checks.check_name("tag", tag) for tag in dict.fromkeys(tags)),
        summary={},
        provenance=dict(provenance or {}),
    )


def end(
    record: RunRecord,
    status: str,
    *,
    error: str | None = None,
    summary: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    artifacts: Sequence[tuple[str | os.PathLike[str], str]] = (),
    ended: float | None = None,
    home: str | os.PathLike[str] | None = None,
) -> RunRecord:
    """Write how a run begun with :func:`begin` ended.

    Args:
        record: the record :func:`begin` returned.
        status: ``finished``, ``failed``, ``killed`` or ``crashed``.
        error: what went wrong, for a run that did not finish.
        summary: final values to show for the run (numbers, short text).
        provenance: sections to add or replace.
        artifacts: ``(path, kind)`` of files to list with the run (they stay where they are).
        ended: Unix end time (default: now).
        home: the store folder (default ``$MLNB_HOME`` or ``./.mlnb``).

    Returns:
        The final record.

    Raises:
        InvalidArgumentError: an unknown status.
        StoreError: the store cannot be written.
    """
    final = ended_record(
        record, status, error=error, summary=summary, provenance=provenance, ended=ended
    )
    store = open_store(home)
    store.append(
        final.id,
        status=final.status,
        ended=final.ended,
        heartbeat=final.ended,
        summary=final.summary,
        error=final.error,
        provenance=final.provenance,
    )
    for path, kind in artifacts:
        file = Path(path)
        if file.is_file():
            store.add_artifact(final.id, artifact_for_file(file.resolve(), file.name, kind, {}))
    return final


def ended_record(
    record: RunRecord,
    status: str,
    *,
    error: str | None = None,
    summary: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    ended: float | None = None,
) -> RunRecord:
    """``record`` as it reads once ended (nothing is written): what :func:`end` stores."""
    if status not in END_STATUSES:
        raise InvalidArgumentError(
            f"status must be one of {', '.join(END_STATUSES)}, got {status!r}."
        )
    finished_at = ended if ended is not None else time.time()
    return dataclasses.replace(
        record,
        status=status,
        ended=finished_at,
        heartbeat=finished_at,
        error=error,
        summary=(
            checks.sanitize_config(summary, "summary")
            if summary is not None
            else dict(record.summary)
        ),
        provenance={**record.provenance, **(provenance or {})},
    )


def record(
    name: str,
    status: str,
    *,
    error: str | None = None,
    started: float | None = None,
    home: str | os.PathLike[str] | None = None,
    **fields: Any,
) -> RunRecord:
    """Write a run that is already over (begun and ended in one call).

    ``fields`` are :func:`begin`'s keywords (``project``, ``config``, ``tags``,
    ``provenance``, ``run_id``).
    """
    begun = begin(name, started=started, home=home, **fields)
    return end(begun, status, error=error, home=home)
