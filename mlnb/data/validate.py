"""Check a frame against a :class:`~mlnb.data.schema.Schema` and list its anomalies.

Each anomaly names the column, its kind (one of :data:`ANOMALY_KINDS`), says in
one line what is wrong and shows a few examples (values, or the rows where they
are), as TFDV's ``validate_statistics`` does — but on the rows themselves, so the
examples are real values. Every check is vectorised: value counts for domains,
boolean masks for ranges and missing values.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlnb import display
from mlnb.data import kinds, precision
from mlnb.data.frames import as_frame
from mlnb.data.schema import ColumnSchema, Schema, load_schema

MISSING_COLUMN = "missing_column"
NEW_COLUMN = "new_column"
TYPE_CHANGE = "type_change"
OUT_OF_DOMAIN = "out_of_domain"
OUT_OF_RANGE = "out_of_range"
MISSING_RATE = "missing_rate"
ANOMALY_KINDS = (MISSING_COLUMN, NEW_COLUMN, TYPE_CHANGE, OUT_OF_DOMAIN, OUT_OF_RANGE, MISSING_RATE)
MAX_EXAMPLES = 5


@dataclass
class Anomaly:
    """One thing about one column that the schema does not allow.

    Attributes:
        column: the column name.
        kind: one of :data:`ANOMALY_KINDS`.
        description: one line saying what is wrong, with counts.
        examples: a few offending values (or rows) as text.
    """

    column: str
    kind: str
    description: str
    examples: list[str] = field(default_factory=list)


@dataclass(repr=False)
class ValidationReport(display.Report):
    """Every anomaly found in one frame, in schema column order."""

    anomalies: list[Anomaly]
    rows: int
    columns_checked: int

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.anomalies

    def raise_for_anomalies(self) -> ValidationReport:
        """Raise :class:`~mlnb.exceptions.DataCheckFailedError` if anything was found, else return self.

        In a notebook run as a pipeline step, this fails the step (TFDV's gate before training).
        """
        if not self.ok:
            from mlnb.exceptions import DataCheckFailedError

            detail = "; ".join(f"{a.column}: {a.description}" for a in self.anomalies[:3])
            more = f"; and {len(self.anomalies) - 3} more" if len(self.anomalies) > 3 else ""
            raise DataCheckFailedError(f"{self.summary()[:-1]} — {detail}{more}.")
        return self

    def by_column(self) -> dict[str, list[Anomaly]]:
        """The anomalies grouped by column name."""
        grouped: dict[str, list[Anomaly]] = {}
        for anomaly in self.anomalies:
            grouped.setdefault(anomaly.column, []).append(anomaly)
        return grouped

    def summary(self) -> str:
        """One line: how many anomalies in how many columns."""
        if self.ok:
            return f"no anomalies: {self.columns_checked} columns of {self.rows:,} rows match the schema."
        n, cols = len(self.anomalies), len(self.by_column())
        return (
            f"{n} anomal{'y' if n == 1 else 'ies'} in {cols} column{'s' if cols != 1 else ''} "
            f"({self.rows:,} rows checked)."
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per anomaly: column, kind, description, examples (joined by ``, ``)."""
        return pd.DataFrame(
            [(a.column, a.kind, a.description, ", ".join(a.examples)) for a in self.anomalies],
            columns=["column", "kind", "description", "examples"],
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: counts and every anomaly."""
        return {
            "ok": self.ok,
            "rows": self.rows,
            "columns_checked": self.columns_checked,
            "anomalies": [a.__dict__ for a in self.anomalies],
        }

    def to_metrics(self, prefix: str = "validation/") -> dict[str, float]:
        """Flat ``name → float`` figures for a run log: the anomaly count and one count per kind."""
        metrics = {f"{prefix}anomalies": float(len(self.anomalies))}
        for kind in ANOMALY_KINDS:
            metrics[f"{prefix}{kind}"] = float(sum(a.kind == kind for a in self.anomalies))
        return metrics

    _HEADERS = ("column", "anomaly", "description", "examples")

    def _rows(self) -> list[tuple[str, ...]]:
        return [(a.column, a.kind, a.description, ", ".join(a.examples)) for a in self.anomalies]

    def text(self) -> str:
        """The summary line and a table of the anomalies."""
        if self.ok:
            return self.summary()
        return self.summary() + "\n" + display.text_table(self._HEADERS, self._rows())

    def html(self) -> str:
        """The same as :meth:`text`, as escaped HTML."""
        if self.ok:
            return f"<p>{html.escape(self.summary())}</p>"
        return display.html_table(self._HEADERS, self._rows(), caption=self.summary())


def validate(
    data: Any,
    schema: Schema | str | Path,
    *,
    max_examples: int = MAX_EXAMPLES,
    what: str = "the data",
) -> ValidationReport:
    """Check ``data`` against ``schema`` and return every anomaly.

    Checks, per column: present when required (``missing_column``), known to the
    schema (``new_column``), same kind (``type_change``), missing rate within
    ``max_missing_rate`` (``missing_rate``), values inside the domain
    (``out_of_domain``) or inside ``[min, max]`` (``out_of_range``).

    Args:
        data: a DataFrame, Series or 1-D/2-D numpy array.
        schema: a :class:`~mlnb.data.schema.Schema` or the path of its JSON file.
        max_examples: how many examples each anomaly shows.
        what: how error messages name the data.

    Returns:
        A :class:`ValidationReport` (``ok`` is True when there is no anomaly).

    Raises:
        SchemaFileError: ``schema`` is a path to a missing or unreadable schema.
        DataTypeError, EmptyDataError: ``data`` is not a frame, or is empty.
    """
    frame = as_frame(data, what=what)
    if not isinstance(schema, Schema):
        schema = load_schema(schema)
    anomalies: list[Anomaly] = []
    for name, expected in schema.columns.items():
        if name not in frame.columns:
            if expected.required:
                anomalies.append(
                    Anomaly(
                        name,
                        MISSING_COLUMN,
                        "required column is in the schema but not in the data.",
                    )
                )
            continue
        anomalies += _check_column(name, frame[name], expected, max_examples)
    for name in frame.columns:
        if name not in schema.columns:
            examples = _examples(frame[name].dropna().iloc[:max_examples].tolist())
            anomalies.append(Anomaly(name, NEW_COLUMN, "column is not in the schema.", examples))
    checked = sum(name in frame.columns for name in schema.columns)
    return ValidationReport(anomalies=anomalies, rows=len(frame), columns_checked=checked)


def _check_column(name: str, series: pd.Series, expected: ColumnSchema, k: int) -> list[Anomaly]:
    found: list[Anomaly] = []
    values = kinds.column_values(name, series)
    rate = values.missing / values.rows
    if rate > expected.max_missing_rate + 1e-12:
        rows = series.index[series.isna().to_numpy()][:k]
        found.append(
            Anomaly(
                name,
                MISSING_RATE,
                f"{rate:.1%} of rows are missing ({values.missing:,}); the schema allows "
                f"{expected.max_missing_rate:.1%}.",
                [f"row {label}" for label in rows.tolist()],
            )
        )
    if kinds.EMPTY in (values.kind, expected.kind) or values.rows == values.missing:
        return found
    if values.kind != expected.kind:
        description = f"kind changed from {expected.kind} to {values.kind} (dtype {values.dtype})"
        description += f": {values.note}" if values.note else "."
        sample = series.dropna().iloc[:k].tolist()
        return [*found, Anomaly(name, TYPE_CHANGE, description, _examples(sample))]
    if values.counts is not None and expected.domain is not None:
        found += _check_domain(name, values.counts, expected.domain, k)
    if values.numbers is not None:
        if expected.kind == kinds.NUMERIC and kinds.integer_dtype(expected.dtype):
            found += _check_whole(name, values.numbers, expected, k)
        found += _check_range(name, values.numbers, expected, k, values.dtype)
    return found


def _check_whole(name: str, numbers: np.ndarray, expected: ColumnSchema, k: int) -> list[Anomaly]:
    """An integer column (by the schema's dtype) that received fractions: TFDV's type anomaly.

    Whole floats pass (an int column with a missing value is float64 in pandas).
    """
    finite = numbers[np.isfinite(numbers)]
    fractions = finite[finite != np.round(finite)]
    infinite = len(numbers) - len(finite)
    n = len(fractions) + infinite
    if n == 0:
        return []
    parts = []
    if len(fractions):
        parts.append(f"{len(fractions):,} with a fraction")
    if infinite:
        parts.append(f"{infinite:,} infinite")
    description = (
        f"the schema's dtype is {expected.dtype} (whole numbers), but {n:,} value{'s' if n != 1 else ''} "
        f"({n / len(numbers):.1%}) {'are' if n != 1 else 'is'} not whole: {', '.join(parts)}."
    )
    shown = np.concatenate(
        [fractions[:k], numbers[~np.isfinite(numbers)][: max(0, k - len(fractions[:k]))]]
    )
    return [Anomaly(name, TYPE_CHANGE, description, _examples(shown.tolist()))]


def _check_domain(name: str, counts: pd.Series, domain: list[str], k: int) -> list[Anomaly]:
    outside = counts[~counts.index.isin(domain)]
    if outside.empty:
        return []
    n, total = int(outside.sum()), int(counts.sum())
    description = (
        f"{n:,} value{'s' if n != 1 else ''} ({n / total:.1%}) outside the domain of "
        f"{len(domain)}: {len(outside):,} unexpected distinct value{'s' if len(outside) != 1 else ''}."
    )
    examples = [f"{value!r} ×{count:,}" for value, count in outside.iloc[:k].items()]
    return [Anomaly(name, OUT_OF_DOMAIN, description, examples)]


def _check_range(
    name: str, numbers: np.ndarray, expected: ColumnSchema, k: int, dtype: str | None = None
) -> list[Anomaly]:
    low, high = expected.bounds()
    narrow = (
        precision.narrowest_float(expected.dtype, dtype) if expected.kind == kinds.NUMERIC else None
    )
    if narrow is not None:  # float32 data against float64 bounds (or back): 0.1 is 0.1 in both
        numbers = precision.rounded_to(numbers, narrow)
        low, high = precision.rounded_to(np.array([low, high]), narrow).tolist()
    below = numbers[numbers < low]
    above = numbers[numbers > high]
    n = len(below) + len(above)
    if n == 0:
        return []
    fmt = _formatter(expected.kind)
    lowest = np.sort(below)[: max(1, k // 2)] if len(below) else np.array([])
    highest = np.sort(above)[::-1][: max(1, k - len(lowest))] if len(above) else np.array([])
    parts = []
    if len(below):
        parts.append(f"{len(below):,} below {fmt(low)} (lowest {fmt(below.min())})")
    if len(above):
        parts.append(f"{len(above):,} above {fmt(high)} (highest {fmt(above.max())})")
    description = (
        f"{n:,} value{'s' if n != 1 else ''} ({n / len(numbers):.1%}) out of range: "
        + ", ".join(parts)
        + "."
    )
    examples = [fmt(v) for v in [*lowest.tolist(), *highest.tolist()]]
    return [Anomaly(name, OUT_OF_RANGE, description, examples)]


def _formatter(kind: str) -> Callable[[float], str]:
    if kind == kinds.DATETIME:
        return lambda v: (
            kinds.format_datetime(v) if math.isfinite(v) else display.format_value(float(v))
        )
    return lambda v: display.format_value(float(v))


def _examples(values: list[Any]) -> list[str]:
    return [repr(v) if isinstance(v, str) else display.format_value(v) for v in values]
