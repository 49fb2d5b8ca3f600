"""What the run store hands back: plain, immutable records (no SQLite types leak out).

These are the public read API's return types, shared by the CLI, the magics, the
pipeline capability and the JupyterLab runs panel.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, NamedTuple

#: every state a run can be in; ``crashed`` is set by readers when the writing process died;
#: ``pruned``: a tuning trial stopped early because its intermediate values were poor
STATUSES = ("running", "finished", "failed", "killed", "crashed", "pruned")
#: states a user (or the context manager) may finish a run with
FINISH_STATUSES = ("finished", "failed", "killed")


def new_run_id() -> str:
    """A new run id: 12 random hex digits (every run, logged or executed, gets one)."""
    return uuid.uuid4().hex[:12]


class MetricRow(NamedTuple):
    """One logged point. ``value`` is a float and may be ``nan``, ``inf`` or ``-inf``.

    Attributes:
        key: the metric's name, e.g. ``"train/loss"``.
        step: the whole-number step it was logged at (exact, up to ``2**63 - 1``).
        value: the value.
        time: Unix time the point was logged at (seconds).
        cell: the cell-log sequence number of the notebook cell that logged it, or None.
    """

    key: str
    step: int
    value: float
    time: float
    cell: int | None


class CellRow(NamedTuple):
    """One notebook cell that ran while a run was active (see :mod:`mlnb.runs.cells`)."""

    seq: int
    execution_count: int | None
    source: str
    hash: str
    started: float
    ended: float | None
    status: str
    error: str | None


class ArtifactRow(NamedTuple):
    """A file stored beside a run (``path`` is absolute); ``meta`` is a dict."""

    name: str
    path: str
    kind: str
    size: int
    sha256: str
    created: float
    meta: dict[str, Any]


@dataclass(frozen=True)
class RunRecord:
    """Everything the store knows about one run, except its metric points.

    Attributes:
        id: the run's id (12 hex digits); any unique prefix also finds it.
        name: the run's name (several runs may share one; the latest wins a lookup).
        project: the project it belongs to (``"default"`` unless given).
        status: one of :data:`STATUSES`.
        started / ended / heartbeat: Unix times; ``ended`` is None while running.
        pid / host: the process that wrote the run.
        config: the parameters the run was started with (JSON values).
        tags: the run's tags.
        summary: final or best values: the last value of every metric unless set by hand.
        provenance: seed, git, notebook, packages, host, GPUs (see :mod:`mlnb.runs.provenance`).
        error: the exception summary of a failed run, or why a run counts as crashed.
    """

    id: str
    name: str
    project: str
    status: str
    started: float
    ended: float | None
    heartbeat: float | None
    pid: int | None
    host: str | None
    config: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    summary: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def duration(self) -> float:
        """Seconds from start to end (to the last heartbeat while running or crashed)."""
        end = self.ended or self.heartbeat or time.time()
        return max(0.0, end - self.started)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN and infinities become the strings ``"nan"``, ``"inf"``)."""
        data = {
            "id": self.id,
            "name": self.name,
            "project": self.project,
            "status": self.status,
            "started": self.started,
            "ended": self.ended,
            "duration": self.duration,
            "pid": self.pid,
            "host": self.host,
            "config": self.config,
            "tags": list(self.tags),
            "summary": self.summary,
            "provenance": self.provenance,
            "error": self.error,
        }
        return json.loads(dumps(data, strict=True))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        """The record :meth:`to_dict` wrote (``duration`` and unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["tags"] = tuple(values.get("tags") or ())
        values.setdefault("heartbeat", values.get("ended"))
        return cls(**values)


def finite_or_text(value: Any) -> Any:
    """``value`` with NaN and infinities (at any depth) as the strings "nan", "inf", "-inf"."""
    return _finite_or_text(value)


def _finite_or_text(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _finite_or_text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_text(v) for v in value]
    return value


def dumps(value: Any, *, strict: bool = False) -> str:
    """JSON text; ``strict`` turns non-finite floats into strings (for other programs)."""
    if strict:
        return json.dumps(_finite_or_text(value), ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


def loads(text: str | None, default: Any) -> Any:
    """Parse JSON text written by :func:`dumps` (NaN/Infinity tokens included)."""
    if not text:
        return default
    return json.loads(text)


def loads_finite(text: str | None, default: Any) -> Any:
    """:func:`loads` with NaN and infinities as strings, for JSON readers; the walk over the
    value is skipped when the text has no such token (the common case, and a hot path)."""
    value = loads(text, default)
    if text and ("NaN" in text or "Infinity" in text):
        return _finite_or_text(value)
    return value


def artifact_for_file(path: Path, name: str, kind: str, meta: Mapping[str, Any]) -> ArtifactRow:
    """The artifact record of a stored file (size and SHA-256 read from disk)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return ArtifactRow(
        name, str(path), kind, path.stat().st_size, digest.hexdigest(), time.time(), dict(meta)
    )
