"""What a drift comparison returns: one :class:`ColumnDrift` per column and the
:class:`DriftReport` that shows them (text, HTML, a DataFrame, JSON) and can fail a
pipeline step (:meth:`DriftReport.raise_for_drift`). :mod:`mlnb.data.drift` computes them.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mlnb import display
from mlnb.data.column_profile import finite_or_none
from mlnb.data.profile import SKETCH_SIZE, DataProfile

DEFAULT_CATEGORICAL_THRESHOLD = 0.1
DEFAULT_NUMERIC_THRESHOLD = 0.1
DEFAULT_BINS = 10
DEFAULT_METHOD = "distance"
DEFAULT_ALPHA = 0.05
#: the methods :func:`compare` offers (see the module docstring)
METHODS = ("distance", "ks", "chisquare", "psi", "wasserstein")

KOLMOGOROV_SMIRNOV = "KS statistic D"
CHI_SQUARED = "chi-squared statistic"
PSI = "PSI"
WASSERSTEIN = "Wasserstein / reference std"
CHI_SQUARED_TEST = "chi-squared (scipy.stats.chi2_contingency)"
CHI_SQUARED_BINS_TEST = "chi-squared on pooled deciles (scipy.stats.chi2_contingency)"
KS_TEST = "KS (scipy.stats.ks_2samp)"

#: each method's default threshold per column family; None: the p-value alone decides
_THRESHOLDS: dict[str, dict[str, float | None]] = {
    "distance": {"numeric": DEFAULT_NUMERIC_THRESHOLD, "counted": DEFAULT_CATEGORICAL_THRESHOLD},
    "psi": {"numeric": 0.1, "counted": 0.1},
    "wasserstein": {"numeric": 0.1, "counted": None},
    "ks": {"numeric": None, "counted": None},
    "chisquare": {"numeric": None, "counted": None},
}


@dataclass
class ColumnDrift:
    """The drift verdict of one column.

    Attributes:
        column: the column name.
        kind: the column's kind in the reference (``"numeric"``, ``"categorical"``, ...).
        statistic: what ``value`` is (:data:`L_INFINITY`, :data:`JENSEN_SHANNON`,
            :data:`KOLMOGOROV_SMIRNOV`, ...), or ``"—"`` when none applies.
        value: the statistic, NaN when it could not be computed (see ``note``).
        threshold: the value above which the column drifts (if significant); NaN for
            statistics judged by the p-value alone.
        drift: the verdict: ``p_value < alpha`` and ``value > threshold`` (when there is one).
        n_reference: non-missing reference values the statistic is based on.
        n_current: non-missing current values the statistic is based on.
        missing_reference: share of reference rows missing.
        missing_current: share of current rows missing.
        noise: the statistic sampling alone typically gives at these sample sizes.
        detail: what moved most (a value's share, or the mean), for people.
        note: why no statistic was computed, or a caveat about it.
        p_value: the p-value of the column's test, NaN when none ran.
        test: the test behind ``p_value`` (and the SciPy function that computed it).
        from_sketch: True when a side was given as a profile of more than 1,001 values,
            so the test ran on its sketch (conservative) instead of every value.
    """

    column: str
    kind: str
    statistic: str
    value: float
    threshold: float
    drift: bool
    n_reference: int
    n_current: int
    missing_reference: float
    missing_current: float
    noise: float = float("nan")
    detail: str = ""
    note: str | None = None
    p_value: float = float("nan")
    test: str = ""
    from_sketch: bool = False

    @property
    def within_noise(self) -> bool:
        """True when the statistic passes its threshold but the test says chance could explain it."""
        return (
            not self.drift
            and not math.isnan(self.threshold)
            and self.value > self.threshold
            and not math.isnan(self.p_value)
        )

    def short(self) -> str:
        """``value / threshold`` (or ``p=…`` when the p-value alone decides) and the verdict."""
        value = "—" if math.isnan(self.value) else f"{self.value:.3f}"
        bound = f"p={self.p_value:.2g}" if math.isnan(self.threshold) else f"{self.threshold:g}"
        return f"{value} / {bound}{' DRIFT' if self.drift else ''}"


@dataclass(repr=False)
class DriftReport(display.Report):
    """Drift of every shared column, the overall verdict, and the profiles behind it."""

    columns: dict[str, ColumnDrift]
    reference: DataProfile
    current: DataProfile
    missing_in_current: list[str] = field(default_factory=list)
    new_in_current: list[str] = field(default_factory=list)
    method: str = DEFAULT_METHOD
    alpha: float = DEFAULT_ALPHA

    @property
    def drifted(self) -> list[str]:
        """Names of the columns that drift, in column order."""
        return [name for name, c in self.columns.items() if c.drift]

    @property
    def drift(self) -> bool:
        """The overall verdict: True when at least one column drifts."""
        return bool(self.drifted)

    def raise_for_drift(self) -> DriftReport:
        """Raise :class:`~mlnb.exceptions.DataCheckFailedError` if any column drifts, else return self.

        In a notebook run as a pipeline step, this fails the step.
        """
        if self.drift:
            from mlnb.exceptions import DataCheckFailedError

            raise DataCheckFailedError(self.summary())
        return self

    @property
    def mismatch(self) -> str | None:
        """One sentence about columns present on one side only, or None."""
        parts = []
        if self.missing_in_current:
            parts.append(f"lacks {name_list(self.missing_in_current)}")
        if self.new_in_current:
            parts.append(f"has {name_list(self.new_in_current, 'new ')}")
        if not parts:
            return None
        shared = len(self.columns)
        return (
            f"the current data {' and '.join(parts)} compared with the reference; "
            f"compared the {shared} shared column{'s' if shared != 1 else ''} only."
        )

    @property
    def noise_note(self) -> str | None:
        """One sentence naming the columns whose distance passes the threshold only by chance, or None."""
        chance = [c.column for c in self.columns.values() if c.within_noise]
        if not chance:
            return None
        these = "column" if len(chance) == 1 else "columns"
        return (
            f"{len(chance)} {these} ({short_list(chance)}) pass{'es' if len(chance) == 1 else ''} "
            f"the threshold but not the test (p ≥ {self.alpha:g}): at these sample sizes "
            "sampling alone gives differences like that, so they are not flagged."
        )

    @property
    def sketch_note(self) -> str | None:
        """One sentence naming numeric columns tested on profile sketches, or None."""
        sketched = [name for name, c in self.columns.items() if c.from_sketch]
        if not sketched:
            return None
        return (
            f"compared from profiles: {short_list(sketched)} {'has' if len(sketched) == 1 else 'have'} "
            f"more than {SKETCH_SIZE:,} values, so {'its' if len(sketched) == 1 else 'their'} "
            f"test ran on the profiles' {SKETCH_SIZE:,}-value sketches (conservative p-values); "
            "pass the frames for exact ones."
        )

    @property
    def notes(self) -> list[str]:
        """The column mismatch, the noise and sketch notes (if any), and every column's note."""
        notes = [n for n in (self.mismatch, self.noise_note, self.sketch_note) if n]
        return notes + [f"{c.column}: {c.note}" for c in self.columns.values() if c.note]

    def summary(self) -> str:
        """One line: the verdict, how many columns drift, and the sample sizes."""
        n, d = len(self.columns), len(self.drifted)
        verdict = "drift" if d else "no drift"
        which = f" ({', '.join(self.drifted)})" if d else ""
        return (
            f"{verdict}: {d} of {n} columns drift{which} — "
            f"reference {self.reference.rows:,} rows, current {self.current.rows:,} rows."
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per compared column: statistic, value, threshold, ``drift``, sample sizes, p-value."""
        records = [
            {
                "column": c.column,
                "kind": c.kind,
                "statistic": c.statistic,
                "value": c.value,
                "threshold": c.threshold,
                "drift": c.drift,
                "n_reference": c.n_reference,
                "n_current": c.n_current,
                "missing_reference": c.missing_reference,
                "missing_current": c.missing_current,
                "noise": c.noise,
                "p_value": c.p_value,
                "test": c.test,
                "detail": c.detail,
                "note": c.note,
            }
            for c in self.columns.values()
        ]
        frame = pd.DataFrame.from_records(records).set_index("column")
        return frame.astype({"drift": bool})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready verdicts (NaN and infinite numbers become None)."""
        return {
            "drift": self.drift,
            "drifted": self.drifted,
            "method": self.method,
            "alpha": self.alpha,
            "reference_rows": self.reference.rows,
            "current_rows": self.current.rows,
            "missing_in_current": list(self.missing_in_current),
            "new_in_current": list(self.new_in_current),
            "notes": self.notes,
            "columns": [
                {
                    **c.__dict__,
                    **{
                        key: finite_or_none(getattr(c, key))
                        for key in ("value", "threshold", "noise", "p_value")
                    },
                }
                for c in self.columns.values()
            ],
        }

    def to_metrics(self, prefix: str = "drift/") -> dict[str, float]:
        """Flat ``name → float`` figures for a run log: each column's statistic (when
        finite), the number and share of drifting columns, and the verdict as 0/1."""
        metrics = {
            f"{prefix}{c.column}": float(c.value)
            for c in self.columns.values()
            if math.isfinite(c.value)
        }
        n = len(self.columns)
        metrics[f"{prefix}columns_drifted"] = float(len(self.drifted))
        metrics[f"{prefix}share_drifted"] = len(self.drifted) / n if n else 0.0
        metrics[f"{prefix}dataset_drift"] = float(self.drift)
        return metrics

    _HEADERS = (
        "column",
        "kind",
        "statistic",
        "value",
        "threshold",
        "p-value",
        "drift",
        "n ref",
        "n cur",
        "noise",
    )

    def _rows(self) -> list[tuple[Any, ...]]:
        return [
            (
                c.column,
                c.kind,
                c.statistic,
                "—" if math.isnan(c.value) else f"{c.value:.4f}",
                "—" if math.isnan(c.threshold) else f"{c.threshold:g}",
                "—" if math.isnan(c.p_value) else f"{c.p_value:.3g}",
                "DRIFT" if c.drift else "ok",
                c.n_reference,
                c.n_current,
                "—" if math.isnan(c.noise) else f"{c.noise:.3f}",
            )
            for c in self.columns.values()
        ]

    def text(self) -> str:
        """The summary line, the table of every column, and the notes, as plain text."""
        lines = [self.summary(), display.text_table(self._HEADERS, self._rows())]
        return "\n".join(lines + [f"note: {n}" for n in self.notes])

    def html(self) -> str:
        """The same as :meth:`text`, as escaped HTML."""
        notes = "".join(f"<p>note: {html.escape(n)}</p>" for n in self.notes)
        return display.html_table(self._HEADERS, self._rows(), caption=self.summary()) + notes


def name_list(names: list[str], adjective: str = "") -> str:
    word = "column" if len(names) == 1 else "columns"
    return f"{len(names)} {adjective}{word} ({short_list(names)})"


def short_list(names: Any, limit: int = 8) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return shown + (f", … {len(names) - limit} more" if len(names) > limit else "")
