"""Replay a recorded run: the stored copy of its notebook, its params and its seed.

``rerun(run_id)`` finds the run in the run store (``$MLNB_HOME``), checks that the copy of
the input notebook stored when it ran still has the recorded SHA-256, executes it (so later
edits to the notebook do not count) with the same parameters, seed, kernel and working
directory, and compares every recorded value with the original run's. A copy that is
missing or changed is refused unless ``allow_changed`` — then a loud warning says what ran
instead, and the replay does not count as reproduced.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlnb import display
from mlnb.exceptions import MlnbWarning, StoredNotebookError
from mlnb.pipeline.loading import file_sha256
from mlnb.pipeline.run import run
from mlnb.pipeline.section import section_of
from mlnb.runs.records import RunRecord
from mlnb.runs.session import get_run


@dataclass
class ValueChange:
    """One recorded value in the original run and in the replay."""

    name: str
    original: Any
    rerun: Any
    verdict: str  # "same", "differs", "only in original", "only in rerun"


@dataclass
class RerunReport:
    """The original record, the replay's record and the value-by-value comparison."""

    original: RunRecord
    replay: RunRecord
    changes: list[ValueChange] = field(default_factory=list)
    #: set when the replay did not run the verified stored notebook (``allow_changed``)
    warning: str | None = None

    @property
    def reproduced(self) -> bool:
        """Whether the verified notebook's replay finished and every recorded value is the same."""
        return (
            self.warning is None
            and self.replay.status == "finished"
            and all(c.verdict == "same" for c in self.changes)
        )

    @property
    def differing(self) -> list[str]:
        """Names of the values that are not the same."""
        return [c.name for c in self.changes if c.verdict != "same"]

    def text(self) -> str:
        """A summary line and a table of the values."""
        head = (
            f"rerun of {self.original.id} (seed {section_of(self.original).seed}) -> run {self.replay.id} {self.replay.status}"
            f" -> {section_of(self.replay).output}"
        )
        if self.replay.error:
            head += f" — {self.replay.error}"
        rows = [(c.name, _show(c.original), _show(c.rerun), c.verdict) for c in self.changes]
        verdict = (
            f"✓ reproduced: all {len(self.changes)} recorded values are the same"
            if self.reproduced
            else f"✗ not reproduced: {', '.join(self.differing) or 'the run did not finish'} differ"
        )
        table = (
            display.text_table(["recorded", "original", "rerun", "verdict"], rows)
            if rows
            else "(no recorded values)"
        )
        if self.warning:
            verdict += f"\n⚠ {self.warning}"
        return f"{head}\n{table}\n{verdict}"


def _show(value: Any) -> str:
    return "—" if value is _MISSING else display.format_value(value)


_MISSING = object()


def compare_values(original: dict[str, Any], replay: dict[str, Any]) -> list[ValueChange]:
    """Each name recorded by either run, with its verdict."""
    changes = []
    for name in [*original, *(n for n in replay if n not in original)]:
        old, new = original.get(name, _MISSING), replay.get(name, _MISSING)
        if old is _MISSING:
            verdict = "only in rerun"
        elif new is _MISSING:
            verdict = "only in original"
        else:
            verdict = "same" if old == new and type(old) is type(new) else "differs"
        changes.append(ValueChange(name, old, new, verdict))
    return changes


def find_run(run_id: str, home: str | os.PathLike[str] | None = None) -> RunRecord:
    """The pipeline run ``run_id`` (or a unique prefix of it) in the run store.

    Args:
        run_id: the run's id or a unique prefix.
        home: the run store, or a folder holding one in ``.mlnb/`` (default ``$MLNB_HOME``).

    Raises:
        RunNotFoundError: no run, or several, match.
        PipelineError: the run was logged by hand, not executed by the pipeline.
    """
    record = get_run(run_id, store_folder(home))
    section_of(record)  # a hand-logged run has no notebook to replay: say so now
    return record


def store_folder(folder: str | os.PathLike[str] | None) -> Path | None:
    """``folder`` if it is a run store, its ``.mlnb/`` if that is one, else ``folder`` as given."""
    if folder is None:
        return None
    path = Path(folder).expanduser()
    if not (path / "runs.db").exists() and (path / ".mlnb" / "runs.db").exists():
        return path / ".mlnb"
    return path


def stored_notebook(record: RunRecord, *, allow_changed: bool = False) -> tuple[Path, str | None]:
    """The notebook to replay ``record`` from: its stored copy, checked against the recorded
    SHA-256.

    Returns:
        ``(path, warning)``; the warning (None when the copy is verified) says what will
        run instead of the verified copy.

    Raises:
        StoredNotebookError: the copy is missing or its hash differs (unless ``allow_changed``,
            which falls back to the copy as it is, then to the input notebook as it is now).
    """
    section = section_of(record)
    expected = section.notebook_sha256
    copy = Path(section.snapshot) if section.snapshot else None
    if copy is not None and copy.is_file() and expected:
        if file_sha256(copy) == expected:
            return copy, None
        problem = f"run {record.id}'s stored notebook {copy} was changed since the run (its SHA-256 is not the recorded {expected[:12]}…)"
        fallback: Path | None = copy
    else:
        what = f"stored notebook {copy}" if copy is not None else "copy of its notebook"
        problem = (
            f"run {record.id}'s {what} is missing"
            if expected
            else f"run {record.id} recorded no notebook hash to check"
        )
        notebook = Path(section.notebook) if section.notebook not in ("", "-") else None
        fallback = notebook if notebook is not None and notebook.is_file() else None
        if copy is not None and copy.is_file():
            fallback = copy
    if not allow_changed:
        raise StoredNotebookError(
            f"{problem}, so a replay would not run what ran — pass --allow-changed (allow_changed=True) to replay it anyway."
        )
    if fallback is None:
        raise StoredNotebookError(
            f"{problem}, and its input {section.notebook} is gone too — there is nothing to replay."
        )
    changed = "" if fallback == copy else f" — replaying the input notebook {fallback} AS IT IS NOW"
    return fallback, f"{problem}{changed}; the replay may not run what the original ran."


def rerun(
    run_id: str,
    home: str | os.PathLike[str] | None = None,
    output: str | os.PathLike[str] | None = None,
    *,
    start_timeout: int = 120,
    allow_changed: bool = False,
) -> RerunReport:
    """Re-execute a recorded run and report which recorded values differ.

    The stored copy of the notebook is verified against the SHA-256 recorded when it ran.

    Args:
        run_id: the run's id (a unique prefix works).
        home: the run store to look in (default ``$MLNB_HOME`` or ``./.mlnb``); a folder
            holding the store in ``.mlnb/`` works too.
        output: the replay's output notebook (default ``<output stem>-rerun.ipynb``).
        start_timeout: seconds to wait for the kernel.
        allow_changed: replay even when the stored copy is missing or changed (a
            :class:`~mlnb.exceptions.MlnbWarning` and the report say so).

    Returns:
        A :class:`RerunReport`.

    Raises:
        RunNotFoundError: the store does not know the run.
        PipelineError: the run was not a pipeline run.
        StoredNotebookError: its stored notebook is missing or changed (without
            ``allow_changed``).
    """
    original = find_run(run_id, home)
    section = section_of(original)
    source, warning = stored_notebook(original, allow_changed=allow_changed)
    if warning:
        warnings.warn(warning, MlnbWarning, stacklevel=2)
    if output:
        out = Path(output)
    elif section.output in ("", "-"):
        out = Path.cwd() / f"{original.id}-rerun.ipynb"
    else:
        out = Path(section.output).with_name(f"{Path(section.output).stem}-rerun.ipynb")
    cwd = section.cwd if section.cwd and Path(section.cwd).is_dir() else None
    replay = run(
        source,
        section.params,
        out,
        section.seed,
        kernel=section.kernel,
        cwd=cwd,
        start_timeout=start_timeout,
        pin_seed=section.seed is not None,
        raise_on_failure=False,
        rerun_of=original.id,
        tags=["rerun"],
    )
    return RerunReport(
        original, replay, compare_values(section.values, section_of(replay).values), warning
    )
