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

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from mlnb.data import distances, kinds, precision, stattests
from mlnb.data.distances import JENSEN_SHANNON, L_INFINITY
from mlnb.data.drift_report import (
    _THRESHOLDS,
    CHI_SQUARED,
    CHI_SQUARED_BINS_TEST,
    CHI_SQUARED_TEST,
    DEFAULT_ALPHA,
    DEFAULT_BINS,
    DEFAULT_METHOD,
    KOLMOGOROV_SMIRNOV,
    KS_TEST,
    METHODS,
    PSI,
    WASSERSTEIN,
    ColumnDrift,
    DriftReport,
    name_list,
    short_list,
)
from mlnb.data.profile import MAX_DOMAIN, ColumnProfile, DataProfile, profile
from mlnb.exceptions import ColumnMismatchError, InvalidArgumentError


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
    defaults = check_options(method, alpha, bins, numeric_threshold, categorical_threshold)
    ref_owned, cur_owned = (
        not isinstance(reference, DataProfile),
        not isinstance(current, DataProfile),
    )
    ref = _as_profile(reference, "the reference", max_domain, workers)
    cur = _as_profile(current, "the current data", max_domain, workers)
    shared = shared_columns(list(ref.columns), list(cur.columns), thresholds)
    columns = {}
    for name in shared:
        r, c = ref.columns[name], cur.columns[name]
        threshold = _column_threshold(name, r, method, defaults, thresholds)
        columns[name] = compare_columns(r, c, threshold, bins, method=method, alpha=float(alpha))
    for owned, found in ((ref_owned, ref), (cur_owned, cur)):
        if owned:  # the sorted values were only needed for the tests: do not keep a copy
            _drop_sorted_values(found)
    return DriftReport(
        columns=columns,
        reference=ref,
        current=cur,
        missing_in_current=[n for n in ref.columns if n not in cur.columns],
        new_in_current=[n for n in cur.columns if n not in ref.columns],
        method=method,
        alpha=float(alpha),
    )


def _column_threshold(
    name: str,
    ref: ColumnProfile,
    method: str,
    defaults: Mapping[str, float],
    thresholds: Mapping[str, float] | None,
) -> float:
    """The threshold of column ``name``: the user's for it, else its family's default."""
    family = "numeric" if ref.kind in kinds.NUMBER_KINDS else "counted"
    if thresholds and name in thresholds:
        return _checked_threshold(
            method, family, thresholds[name], f"the threshold of column {name!r}"
        )
    return defaults[family]


def _drop_sorted_values(found: DataProfile) -> None:
    """Forget each column's sorted values (kept only for the tests) to free the memory."""
    for column in found.columns.values():
        column.values = None


def check_options(
    method: str,
    alpha: float,
    bins: int,
    numeric_threshold: float | None = None,
    categorical_threshold: float | None = None,
) -> dict[str, float]:
    """Refuse bad options (and a missing SciPy) before any data is read.

    Returns:
        The default threshold of each column family, ``{"numeric": …, "counted": …}``
        (NaN where the method judges by the p-value alone).
    """
    if method not in METHODS:
        raise InvalidArgumentError(f"method must be one of {', '.join(METHODS)}, got {method!r}.")
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer):
        raise InvalidArgumentError(f"bins must be a whole number of at least 2, got {bins!r}.")
    if bins < 2:
        raise InvalidArgumentError(f"bins must be at least 2, got {bins}.")
    if not _is_number(alpha) or not 0.0 < float(alpha) <= 1.0:
        raise InvalidArgumentError(f"alpha must be a number above 0 and at most 1, got {alpha!r}.")
    defaults = {
        "numeric": _default_threshold(method, "numeric", numeric_threshold),
        "counted": _default_threshold(method, "counted", categorical_threshold),
    }
    stattests.scipy_stats()  # refuse before profiling when SciPy is missing
    return defaults


def shared_columns(
    reference: list[str], current: list[str], thresholds: Mapping[str, float] | None = None
) -> list[str]:
    """The columns both sides hold, in the reference's order.

    Raises:
        ColumnMismatchError: none is shared, or ``thresholds`` names a column not in both.
    """
    present = set(current)
    shared = [name for name in reference if name in present]
    if not shared:
        raise ColumnMismatchError(
            f"the reference and the current data share no column "
            f"(reference: {short_list(reference)}; current: {short_list(current)})."
        )
    unknown = [name for name in (thresholds or {}) if name not in shared]
    if unknown:
        raise ColumnMismatchError(
            f"thresholds name {name_list(unknown)} not in both frames (shared: {short_list(shared)})."
        )
    return shared


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
        ref_n, cur_n, rounding = precision.at_common_precision(ref, cur)
        _numbers(result, ref_n, cur_n, bins, method)
        if rounding:
            result.note = f"{result.note} {rounding}" if result.note else rounding
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
    # a side tested on its sketch rather than on its values or a uniform sample of them
    result.from_sketch = any(
        not side.sketch_exact and side.test_sample is None for side in (ref, cur)
    )
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
            elif math.isnan(result.value):
                result.note = "the reference holds infinite values, so it has no standard deviation to scale by and no verdict — use method 'ks' for this column."
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
        sampling = stattests.psi_noise(occupied, ref.count, cur.count)
        result.noise = max(sampling, distances.psi_sketch_error(ref, cur, p, q))
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
