"""What the lab extension's endpoints return, as JSON-ready dicts.

Kept apart from the tornado handlers so it is testable without a server. GPU data
comes from :func:`mlnb.gpu.status`, runs from :class:`mlnb.runs.Store` opened
read-only with a short busy timeout (:data:`BUSY_TIMEOUT`); any failure becomes a
``message`` the panel shows, never a 500. These functions block (SQLite): the
handlers run them off the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlnb.runs import Store
    from mlnb.runs.records import ArtifactRow, CellRow

log = logging.getLogger(__name__)


def store_location() -> str:
    """The run store folder the server reads (``$MLNB_HOME`` or ``./.mlnb``)."""
    from mlnb.runs.database import default_home

    return str(default_home())


def _device(device: Any) -> dict[str, Any]:
    return {
        "index": device.index,
        "name": device.name,
        "kind": "host" if device.kind == "host" else "gpu",
        "memory_used": device.used,
        "memory_total": device.total,
        "utilization": device.utilization,
        "temperature": device.temperature,
        "power_watts": device.power,
        "backend": device.backend,
    }


def gpu_snapshot() -> dict[str, Any]:
    """Every GPU now, or host RAM labelled as such when there is none."""
    try:
        from mlnb.gpu import status

        report = status()
    except Exception as exc:  # the panel must keep working whatever the readers do
        log.warning("mlnb: GPU status failed", exc_info=True)
        return {"gpu_available": False, "devices": [], "message": f"GPU status failed: {exc}"}
    shown = list(report.devices) or ([report.host] if report.host is not None else [])
    return {
        "gpu_available": bool(report.devices),
        "devices": [_device(d) for d in shown],
        "message": report.no_gpu_sentence() or "",
    }


def _relative(path: str | None, root: Path | None) -> str | None:
    """``path`` relative to the server root (what the lab can open), else None."""
    if not path or root is None:
        return None
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return None


def _relative_paths(root: Path | None) -> Callable[[str | None], str | None]:
    """:func:`_relative` for many rows: each distinct path resolved once (runs share a few
    notebooks; resolving per row was most of a 1,000-run list request)."""
    known: dict[str | None, str | None] = {}

    def relative(path: str | None) -> str | None:
        if path not in known:
            known[path] = _relative(path, root)
        return known[path]

    return relative


def _summary(row: dict[str, Any], relative: Callable[[str | None], str | None]) -> dict[str, Any]:
    """The panel's view of a run from :meth:`mlnb.runs.Store.list_summaries`."""
    return {
        "id": row["id"],
        "name": row["name"],
        "project": row["project"],
        "status": row["status"],
        "start_time": row["started"],
        "end_time": row["ended"],
        "duration": row["duration"],
        "summary": {k: v for k, v in (row.get("summary") or {}).items() if _scalar(v)},
        "tags": row.get("tags") or [],
        "notebook_path": relative(row.get("notebook")),
        "output_path": relative(row.get("output")),
    }


def _scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


#: seconds a request waits for a store another process holds before answering with a message
BUSY_TIMEOUT = 1.0


class StoreUnavailable(Exception):
    """The store cannot be read now (damaged, locked, unreadable): ``message`` says why."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def _store() -> Store:
    from mlnb.runs import Store

    return Store(home=None, readonly=True, busy_timeout=BUSY_TIMEOUT, warn_damage=False)


def list_runs(
    *,
    limit: int,
    offset: int = 0,
    project: str | None = None,
    status: str | None = None,
    root: Path | None = None,
) -> dict[str, Any]:
    """Runs newest first: at most ``limit`` from ``offset`` on, with ``total`` matches.

    Never raises for the store: a broken store is ``runs: []`` with the sentence in ``message``.
    """
    from mlnb.exceptions import MlnbError

    where = store_location()
    try:
        with _store() as store:
            rows, total = store.list_summaries(
                project=project, status=status, limit=limit, offset=offset
            )
            in_store = store.count_runs() if not total and (project or status) else total
            notes = store.damage_notes
    except MlnbError as exc:  # a corrupt, locked or unreadable store: say so, keep the lab working
        log.warning("mlnb: reading the run store failed: %s", exc)
        return {"runs": [], "total": 0, "store": where, "message": str(exc)}
    relative = _relative_paths(root)
    runs = [_summary(row, relative) for row in rows]
    if total:
        message = " ".join(notes)
    elif in_store:
        asked = " and ".join(
            f"{name} {value!r}"
            for name, value in (("project", project), ("status", status))
            if value
        )
        message = f"no runs with {asked} among the {in_store} runs in {where}."
    else:
        message = f"no runs yet in {where} — start one with %run_start."
    return {"runs": runs, "total": total, "store": where, "message": message}


def get_run(run_id: str, root: Path | None = None) -> dict[str, Any] | None:
    """One run in full (config, provenance, cell log, artifacts), or None if the store has no
    such run.

    Raises:
        StoreUnavailable: the store cannot be read.
    """
    from mlnb.exceptions import RunNotFoundError, StoreError

    try:
        with _store() as store:
            record = store.get_run(run_id)
            if record.id != run_id:  # ids only: no prefix or name lookups over the API
                return None
            cells = [_cell(c) for c in store.cells(run_id)]
            artifacts = [_artifact(a, root) for a in store.artifacts(run_id)]
            notes = store.damage_notes
    except RunNotFoundError:
        return None
    except StoreError as exc:
        raise StoreUnavailable(str(exc)) from None
    detail = record.to_dict()
    provenance = detail.get("provenance") or {}
    notebook = provenance.get("notebook") if isinstance(provenance, dict) else None
    pipeline = provenance.get("pipeline") if isinstance(provenance, dict) else None
    detail.update(
        start_time=detail["started"],
        end_time=detail["ended"],
        notebook_path=_relative(_text(notebook, "path"), root),
        output_path=_relative(_text(pipeline, "output_path"), root),
        cells=cells,
        artifacts=artifacts,
        message=" ".join(notes),
    )
    return detail


def _cell(cell: CellRow) -> dict[str, Any]:
    """One cell-log entry for the run details view (``source`` in full: the view trims it)."""
    return {
        "seq": cell.seq,
        "execution_count": cell.execution_count,
        "source": cell.source,
        "status": cell.status,
        "started": cell.started,
        "ended": cell.ended,
        "error": cell.error,
    }


def _artifact(artifact: ArtifactRow, root: Path | None) -> dict[str, Any]:
    """One artifact: its name, kind and size; ``path`` only when the lab can open it."""
    return {
        "name": artifact.name,
        "kind": artifact.kind,
        "size": artifact.size,
        "created": artifact.created,
        "path": _relative(artifact.path, root),
    }


def _text(section: Any, key: str) -> str | None:
    value = section.get(key) if isinstance(section, dict) else None
    return value if isinstance(value, str) else None


def run_metrics(run_id: str) -> dict[str, Any] | None:
    """A run's metric curves: ``{metrics: [{name, steps, values, times}], message}`` (NaN as
    "nan", ``times`` in Unix seconds),
    or None if the store has no such run.

    Raises:
        StoreUnavailable: the store cannot be read.
    """
    from mlnb.exceptions import RunNotFoundError, StoreError

    try:
        with _store() as store:
            record = store.get_run(run_id)
            if record.id != run_id:
                return None
            rows = store.metrics(run_id)
            notes = store.damage_notes
    except RunNotFoundError:
        return None
    except StoreError as exc:
        raise StoreUnavailable(str(exc)) from None
    series: dict[str, dict[str, list[Any]]] = {}
    for row in rows:
        entry = series.setdefault(row.key, {"steps": [], "values": [], "times": []})
        entry["steps"].append(row.step)
        entry["values"].append(_json_float(row.value))
        entry["times"].append(row.time)
    return {
        "metrics": [{"name": name, **values} for name, values in series.items()],
        "message": " ".join(notes),
    }


def _json_float(value: float) -> float | str:
    if value != value:
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return value
