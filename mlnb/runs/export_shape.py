"""What every exporter shares: a run as the targets see it, and what an export reports.

:func:`shape_of` reads a run once for any target: its flattened config, the summary
values set by hand (numbers and text apart), every metric name, and the notes of
what changes on the way. :class:`ExportResult` is what an exporter returns for one
run; :class:`ExportError` is raised when a target refused runs.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlnb.exceptions import RunsError
from mlnb.runs.records import RunRecord, dumps
from mlnb.runs.store import Store

#: the artifact that holds the whole run record, exactly
RECORD_ARTIFACT = "mlnb/run.json"
EXACT_INT = 2**53


@dataclass(frozen=True)
class ExportResult:
    """What happened to one run, and where it went.

    Attributes:
        run_id / name: the mlnb run.
        action: ``exported``, ``skipped`` (already there) or ``failed``.
        location: the MLflow run id or the TensorBoard folder (the reason when failed).
        points: metric points written.
        renamed: ``(kind, original, new)`` for every name the target got instead of
            mlnb's, e.g. ``("metric", "loss (train)", "loss _train_")``.
        lossy: one sentence per value the target could not hold exactly.
        notes: other things done, e.g. an incomplete earlier export that was replaced.
    """

    run_id: str
    name: str
    action: str
    location: str
    points: int
    renamed: tuple[tuple[str, str, str], ...] = ()
    lossy: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The result as lines: a headline, then renames, lossy conversions and notes."""
        if self.action == "skipped":
            head = f"skipped {self.name} ({self.run_id}): already there → {self.location}"
        elif self.action == "failed":
            head = f"failed {self.name} ({self.run_id}): {self.location}"
        else:
            head = (
                f"{self.action} {self.name} ({self.run_id}): {self.points} points → {self.location}"
            )
        out = [head]
        out += [f"  renamed {kind} {old!r} → {new!r}" for kind, old, new in self.renamed]
        out += [f"  lossy: {text}" for text in self.lossy]
        out += [f"  note: {text}" for text in self.notes]
        return out

    def text(self) -> str:
        """The lines, joined."""
        return "\n".join(self.lines())

    def __str__(self) -> str:
        return self.text()


class ExportError(RunsError):
    """A run could not be exported; nothing of it was kept in the target.

    ``results`` holds the outcome of every run of the call (the others were exported).
    """

    def __init__(self, message: str, results: Sequence[ExportResult] = ()) -> None:
        self.results = list(results)
        super().__init__(message)


def first_line(exc: BaseException) -> str:
    """The first sentence of an error's first line, for a one-sentence message
    (MLflow's errors run on with a list of schemes and a link)."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    text = text.split(". ")[0]
    return (text if len(text) <= 300 else text[:299] + "…").rstrip(".")


# --- what a run holds, as the targets see it ---------------------------------------


def is_number(value: Any) -> bool:
    """An int or float a double can hold, at least approximately (not a bool, not 10**400)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, float) or abs(value) <= sys.float_info.max


def same_value(a: Any, b: Any) -> bool:
    if is_number(a) and is_number(b):
        return a == b or (math.isnan(a) and math.isnan(b))
    return False


def describe(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    return repr(value)


def flat_config(config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``{"opt": {"lr": 0.1}, "aug": {}}`` → ``{"opt.lr": 0.1, "aug": {}}`` and notes.

    An empty section stays (as ``{}``) instead of vanishing; a name two paths flatten
    to (``{"a.b": 1, "a": {"b": 2}}``) is kept twice, the second as ``"a.b (2)"``.
    """
    flat: dict[str, Any] = {}
    notes: list[str] = []

    def walk(section: Mapping[str, Any], prefix: str) -> None:
        for key, value in section.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping) and value:
                walk(value, f"{name}.")
                continue
            unique, n = name, 1
            while unique in flat:
                n += 1
                unique = f"{name} ({n})"
            if unique != name:
                notes.append(f"two config entries flatten to {name!r}; the second is {unique!r}")
            flat[unique] = value

    walk(config, "")
    return flat, notes


@dataclass
class RunShape:
    """The names one run brings: metrics, summary set by hand, config, tags."""

    record: RunRecord
    metric_keys: list[str]
    summary_numbers: dict[str, float | int]  # target metric/scalar name → value
    summary_text: dict[str, Any]  # summary key → value
    summary_names: dict[str, str]  # summary key → metric name, where not the key itself
    config: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def shape_of(store: Store, record: RunRecord) -> RunShape:
    """What of ``record`` goes out, before any name is mapped.

    The summary holds every metric's last value plus what was set by hand; only the
    values set by hand (a key that is not a metric, or a value other than the metric's
    last point) are exported as summary — the rest are the metrics' last points already.
    """
    metric_keys = store.metric_keys(record.id)
    known = set(metric_keys)
    shared = [k for k in record.summary if k in known]
    last: dict[str, float] = {}
    if shared:  # (every key at once past SQLite's limit on query parameters)
        for row in store.metrics(record.id, shared if len(shared) <= 500 else None):
            last[row.key] = row.value
    numbers: dict[str, float | int] = {}
    text: dict[str, Any] = {}
    names: dict[str, str] = {}
    for key, value in record.summary.items():
        if key in last and same_value(value, last[key]):
            continue
        if is_number(value):
            name = key
            while name in known or name in numbers:
                name = f"summary/{name}"
            if name != key:
                names[key] = name
            numbers[name] = value
        else:
            text[key] = value
    config, notes = flat_config(record.config)
    return RunShape(record, metric_keys, numbers, text, names, config, notes)


def record_json(record: RunRecord, **extra: Any) -> str:
    """The whole record as JSON (NaN and ±inf as JSON's ``NaN``/``Infinity`` tokens)."""
    data = {**record.to_dict(), **extra}
    data["config"], data["summary"] = record.config, record.summary
    return dumps(data)


def as_text(value: Any) -> str:
    """``value`` as a target's text: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else dumps(value)
