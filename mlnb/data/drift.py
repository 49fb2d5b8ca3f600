"""Per-column drift (or train/serving skew) between a reference and a current frame.

Every column gets a *statistic* (what moved, and how far) and a *test* (could
sampling alone explain it?). A column drifts when its test's p-value is below
``alpha`` (default 0.05) and — for the methods with a distance — the distance is
also above its threshold. The test keeps chance from flagging columns when samples
are small; the threshold keeps tiny, real but harmless moves from flagging when
samples are huge.

The methods (``compare(..., method=...)``, ``%drift --method``, ``mlnb data drift
--method``); Evidently's names for the same tests:

==============  ==========================================  =================================  ==========
method          numeric / datetime columns                  counted columns                    test
==============  ==========================================  =================================  ==========
``distance``    Jensen-Shannon distance (base 2) > 0.1      L-infinity distance > 0.1          chi-squared
``psi``         PSI > 0.1                                   PSI > 0.1                          chi-squared
``wasserstein`` Wasserstein / reference std > 0.1           chi-squared statistic (no thr.)    KS / chi-squared
``ks``          KS statistic D (no threshold)               chi-squared statistic              KS / chi-squared
``chisquare``   chi-squared statistic on the bins           chi-squared statistic              chi-squared
==============  ==========================================  =================================  ==========

* **Jensen-Shannon distance, base 2** (the default for numeric and datetime
  columns) — the square root of the JS divergence computed with log2, on the
  *reference's* decile bins: edges at the reference's minimum, deciles and maximum,
  the top inner bin closed at the maximum, plus open bins strictly below the
  minimum and strictly above the maximum — so mass beyond either end of the
  reference's range counts, symmetrically (a constant 1.0 that becomes 1000.0, a cap
  of 100 whose capped rows become 1e6, a flag whose 1s become 7s).
* **L-infinity distance** (the default for boolean, categorical and mixed columns)
  — the largest absolute change of one value's share (TFDV's comparator).
* **chi-squared** — ``scipy.stats.chi2_contingency`` on the 2 × k table of counts:
  the values of a counted column, the same reference bins for a numeric one.
* **KS** — ``scipy.stats.ks_2samp`` on every value; **Wasserstein** —
  ``scipy.stats.wasserstein_distance`` over the reference's standard deviation;
  **PSI** — ``sum((q - p) ln(q / p))`` over the same bins or values.

Each column also shows a ``noise`` figure: the statistic sampling alone typically
gives at these sample sizes (for the JS distance ``sqrt((k-1)(1/n+1/m) / (8 ln 2))``
over ``k`` bins, or — when a side was binned from its 1,001-value sketch — the
larger of that and the error the sketch can cause). Columns whose distance passes
the threshold but not the test are named in one note.

Both sides are profiled first (:func:`mlnb.data.profile`); numeric tests run on
every value when the frames are at hand. Given only profiles, they run on the
profiles' sketches: exact up to 1,001 values, and treated as a sample of 1,001 values
beyond (conservative: larger p-values than the full data would give).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlnb import display
from mlnb.data import distances, kinds, stattests
from mlnb.data.distances import JENSEN_SHANNON, L_INFINITY
from mlnb.data.profile import MAX_DOMAIN, SKETCH_SIZE, ColumnProfile, DataProfile, profile
from mlnb.exceptions import ColumnMismatchError, InvalidArgumentError

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
            parts.append(f"lacks {_names(self.missing_in_current)}")
        if self.new_in_current:
            parts.append(f"has {_names(self.new_in_current, 'new ')}")
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
            f"{len(chance)} {these} ({_list(chance)}) pass{'es' if len(chance) == 1 else ''} "
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
            f"compared from profiles: {_list(sketched)} {'has' if len(sketched) == 1 else 'have'} "
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
                        key: _finite_or_none(getattr(c, key))
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


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def compare(
    reference: Any,
    current: Any,
    *,
    method: str = DEFAULT_METHOD,
    alpha: float = DEFAULT_ALPHA,
    thresholds: Mapping[str, float] | None = None,
    categorical_threshold: float | None = None,
    numeric_threshold: float | None = None,
    bins: int = DEFAULT_BINS,
    max_domain: int = MAX_DOMAIN,
    workers: int | None = None,
) -> DriftReport:
    """Measure drift of every column the two frames share.

    A column drifts when its difference is *significant* — the p-value of the column's
    test is below ``alpha`` — and, for the methods with a distance, that distance is
    also above the column's threshold. So sampling noise alone flags about ``alpha``
    of the columns at most, at any sample size (see :data:`METHODS`).

    Args:
        reference: the training/baseline data: a DataFrame, array, or a
            :class:`~mlnb.data.profile.DataProfile` computed earlier (then tests run
            on its 1,001-value sketches, exact up to 1,001 values, conservative beyond).
        current: the serving/new data, in the same forms.
        method: ``"distance"`` (default: Jensen-Shannon / L-infinity distances),
            ``"ks"``, ``"chisquare"``, ``"psi"`` or ``"wasserstein"`` (see :data:`METHODS`).
        alpha: the significance level of every column's test (default 0.05).
        thresholds: per-column thresholds overriding the defaults, ``{"age": 0.2}``.
        categorical_threshold: distance threshold of boolean/categorical/mixed
            columns (``"distance"``: L-infinity, default 0.1; ``"psi"``: PSI, default 0.1).
        numeric_threshold: distance threshold of numeric/datetime columns
            (``"distance"``: JS distance, default 0.1; ``"psi"``: 0.1; ``"wasserstein"``:
            Wasserstein distance in reference standard deviations, 0.1).
        bins: quantile bins of the reference used for numeric columns (default 10: deciles).
        max_domain: distinct values kept per counted column when profiling.
        workers: threads used to profile each side.

    Returns:
        A :class:`DriftReport`; ``to_frame()`` gives one row per column.

    Raises:
        ColumnMismatchError: the frames share no column, or ``thresholds`` names a
            column that is not in both.
        InvalidArgumentError: an unknown method, a threshold out of bounds or given
            where the method has none, ``alpha`` outside ``(0, 1]``, fewer than 2 bins.
        MissingDependencyError: SciPy is not installed.
        DataTypeError, EmptyDataError: a side that is not a frame, or is empty.
    """
    if method not in METHODS:
        raise InvalidArgumentError(f"method must be one of {', '.join(METHODS)}, got {method!r}.")
    if bins < 2:
        raise InvalidArgumentError(f"bins must be at least 2, got {bins}.")
    if not _is_number(alpha) or not 0.0 < float(alpha) <= 1.0:
        raise InvalidArgumentError(f"alpha must be a number above 0 and at most 1, got {alpha!r}.")
    defaults = {
        "numeric": _default_threshold(method, "numeric", numeric_threshold),
        "counted": _default_threshold(method, "counted", categorical_threshold),
    }
    stattests.scipy_stats()  # refuse before profiling when SciPy is missing
    ref_owned, cur_owned = (
        not isinstance(reference, DataProfile),
        not isinstance(current, DataProfile),
    )
    ref = _as_profile(reference, "the reference", max_domain, workers)
    cur = _as_profile(current, "the current data", max_domain, workers)
    shared = [name for name in ref.columns if name in cur.columns]
    if not shared:
        raise ColumnMismatchError(
            f"the reference and the current data share no column "
            f"(reference: {_list(ref.columns)}; current: {_list(cur.columns)})."
        )
    unknown = [name for name in (thresholds or {}) if name not in shared]
    if unknown:
        raise ColumnMismatchError(
            f"thresholds name {_names(unknown)} not in both frames (shared: {_list(shared)})."
        )
    columns = {}
    for name in shared:
        r, c = ref.columns[name], cur.columns[name]
        family = "numeric" if r.kind in kinds.NUMBER_KINDS else "counted"
        threshold = defaults[family]
        if thresholds and name in thresholds:
            threshold = _checked_threshold(
                method, family, thresholds[name], f"the threshold of column {name!r}"
            )
        columns[name] = compare_columns(r, c, threshold, bins, method=method, alpha=float(alpha))
    for owned, found in ((ref_owned, ref), (cur_owned, cur)):
        if owned:  # the sorted values were only needed for the tests: do not keep a copy
            for column in found.columns.values():
                column.values = None
    return DriftReport(
        columns=columns,
        reference=ref,
        current=cur,
        missing_in_current=[n for n in ref.columns if n not in cur.columns],
        new_in_current=[n for n in cur.columns if n not in ref.columns],
        method=method,
        alpha=float(alpha),
    )


def compare_columns(
    ref: ColumnProfile,
    cur: ColumnProfile,
    threshold: float,
    bins: int,
    *,
    method: str = DEFAULT_METHOD,
    alpha: float = DEFAULT_ALPHA,
) -> ColumnDrift:
    """The drift verdict of one column from its two profiles (see :func:`compare`)."""
    result = ColumnDrift(
        column=ref.name,
        kind=ref.kind,
        statistic="—",
        value=float("nan"),
        threshold=threshold,
        drift=False,
        n_reference=ref.count,
        n_current=cur.count,
        missing_reference=ref.missing_rate,
        missing_current=cur.missing_rate,
    )
    counted = ref.kind in kinds.COUNTED_KINDS and cur.kind in kinds.COUNTED_KINDS
    if ref.count == 0 or cur.count == 0:
        side = (
            "either side"
            if ref.count == cur.count
            else ("the reference" if ref.count == 0 else "the current data")
        )
        result.note = f"no distance: no values in {side}."
        result.drift = ref.count != cur.count
        return result
    if ref.kind != cur.kind and not counted:
        result.note = f"no distance: the kind changed from {ref.kind} to {cur.kind}."
        result.drift = True
        return result
    if counted:
        _counted(result, ref, cur, method)
    else:
        _numbers(result, ref, cur, bins, method)
    beyond = math.isnan(result.threshold) or result.value > result.threshold
    result.drift = bool(beyond and result.p_value < alpha)
    return result


def _counted(result: ColumnDrift, ref: ColumnProfile, cur: ColumnProfile, method: str) -> None:
    if ref.counts is None or cur.counts is None:
        raise ValueError("a counted column's profile holds its counts")  # an mlnb bug if reached
    p_aligned, q_aligned = ref.counts.align(cur.counts, fill_value=0)
    p_counts, q_counts = p_aligned.to_numpy(float), q_aligned.to_numpy(float)
    if ref.other_count or cur.other_count:  # the values past max_domain, as one cell
        p_counts = np.append(p_counts, ref.other_count)
        q_counts = np.append(q_counts, cur.other_count)
    chi2, result.p_value, dof = stattests.chi_squared(p_counts, q_counts)
    result.test = CHI_SQUARED_TEST
    distance, noise, result.detail, result.note = distances.l_infinity(ref, cur)
    if method == "distance":
        result.statistic, result.value, result.noise = L_INFINITY, distance, noise
    elif method == "psi":
        result.statistic = PSI
        result.value = stattests.psi(p_counts / p_counts.sum(), q_counts / q_counts.sum())
        cells = int(np.count_nonzero(p_counts + q_counts))
        result.noise = stattests.psi_noise(cells, ref.count, cur.count)
    else:
        result.statistic, result.value, result.noise = CHI_SQUARED, chi2, float(max(dof, 1))


def _numbers(
    result: ColumnDrift, ref: ColumnProfile, cur: ColumnProfile, bins: int, method: str
) -> None:
    result.detail = f"mean {ref.format(ref.mean)} → {cur.format(cur.mean)}"
    n_ref, n_cur = len(ref.sample), len(cur.sample)  # type: ignore[arg-type]
    result.from_sketch = not (ref.sketch_exact and cur.sketch_exact)
    if method in ("ks", "wasserstein"):
        result.value, result.p_value = stattests.kolmogorov_smirnov(ref.sample, cur.sample)  # type: ignore[arg-type]
        result.test = KS_TEST
        result.statistic = KOLMOGOROV_SMIRNOV
        result.noise = stattests.kolmogorov_smirnov_noise(n_ref, n_cur)
        if method == "wasserstein":
            result.statistic = WASSERSTEIN
            result.value, raw = stattests.wasserstein(ref.sample, cur.sample)  # type: ignore[arg-type]
            result.noise = float("nan")
            result.detail += f"; Wasserstein {ref.format(raw) if ref.kind != kinds.DATETIME else f'{raw / 1e9:g} s'}"
            if math.isinf(result.value):
                result.note = "the reference is constant, so any change is infinitely many of its standard deviations."
        return
    p, q = distances.binned_shares(ref, cur, bins)
    chi2, result.p_value, dof = stattests.chi_squared(
        *stattests.pooled_bin_counts(ref.sample, cur.sample, bins)  # type: ignore[arg-type]
    )
    result.test = CHI_SQUARED_BINS_TEST
    occupied = max(2, int(np.count_nonzero((p + q) > 0)))
    if method == "distance":
        result.statistic = JENSEN_SHANNON
        result.value = distances.jensen_shannon_distance(p, q)
        sampling = distances.jensen_shannon_noise(occupied, ref.count, cur.count)
        result.noise = max(sampling, distances.sketch_error(ref, cur, p, q))
    elif method == "psi":
        result.statistic = PSI
        result.value = stattests.psi(p, q)
        result.noise = stattests.psi_noise(occupied, ref.count, cur.count)
    else:
        result.statistic, result.value, result.noise = CHI_SQUARED, chi2, float(max(dof, 1))


def _default_threshold(method: str, family: str, given: float | None) -> float:
    if given is None:
        default = _THRESHOLDS[method][family]
        return float("nan") if default is None else default
    label = "numeric_threshold" if family == "numeric" else "categorical_threshold"
    return _checked_threshold(method, family, given, label)


def _checked_threshold(method: str, family: str, value: Any, label: str) -> float:
    if _THRESHOLDS[method][family] is None:
        kind = "numeric" if family == "numeric" else "categorical"
        raise InvalidArgumentError(
            f"{label} does not apply: method {method!r} judges {kind} columns by the p-value "
            f"of its test alone (set alpha instead)."
        )
    number = float(value) if _is_number(value) else float("nan")
    bounded = method == "distance"
    if not (0.0 <= number <= 1.0 if bounded else 0.0 <= number < math.inf):
        bounds = "a number from 0 to 1" if bounded else "a number from 0 up"
        raise InvalidArgumentError(f"{label} must be {bounds}, got {value!r}.")
    return number


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return not math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def _as_profile(data: Any, what: str, max_domain: int, workers: int | None) -> DataProfile:
    if isinstance(data, DataProfile):
        return data
    return profile(data, max_domain=max_domain, workers=workers, what=what, keep_values=True)


def _names(names: list[str], adjective: str = "") -> str:
    word = "column" if len(names) == 1 else "columns"
    return f"{len(names)} {adjective}{word} ({_list(names)})"


def _list(names: Any, limit: int = 8) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return shown + (f", … {len(names) - limit} more" if len(names) > limit else "")
