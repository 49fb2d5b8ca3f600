"""The statistical tests behind drift verdicts, all from SciPy (imported when first used).

* :func:`chi_squared` — ``scipy.stats.chi2_contingency`` on the 2 × k table of the
  two sides' counts (values of a counted column, or the reference's quantile bins of
  a numeric one): a test of homogeneity that treats both sides as samples. When a
  cell expects fewer than 5 counts, the p-value is SciPy's Monte Carlo one
  (``method=MonteCarloMethod``, 1,999 random tables with the same margins, seed 0).
* :func:`kolmogorov_smirnov` — ``scipy.stats.ks_2samp`` (exact p-values for small
  samples, asymptotic for large ones, as SciPy chooses).
* :func:`wasserstein` — ``scipy.stats.wasserstein_distance`` divided by the
  reference's standard deviation (Evidently's "normed" Wasserstein).
* :func:`psi` — the population stability index from its definition,
  ``sum((q - p) ln(q / p))`` over bins, empty bins counted as 0.0001 (as Evidently).

SciPy is not needed by ``import mlnb`` or ``import mlnb.data``; a drift comparison
without it stops with one sentence saying how to install it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlnb.exceptions import MissingDependencyError

#: random tables behind a Monte Carlo p-value (SciPy >= 1.15, sparse tables only)
MONTE_CARLO_RESAMPLES = 1999
#: share given to an empty bin in the PSI (Evidently's value)
PSI_EMPTY_SHARE = 1e-4
#: mean of the Kolmogorov distribution: the typical sqrt(nm/(n+m)) D of two samples of one distribution
KOLMOGOROV_MEAN = math.sqrt(math.pi / 2) * math.log(2)


def scipy_stats() -> Any:
    """``scipy.stats``, or a one-sentence :class:`MissingDependencyError`."""
    try:
        from scipy import stats
    except ImportError:
        raise MissingDependencyError("scipy", "drift detection (mlnb.data.compare)") from None
    return stats


def chi_squared(reference: np.ndarray, current: np.ndarray) -> tuple[float, float, int]:
    """Chi-squared test of homogeneity of two count vectors over the same cells.

    Cells empty on both sides are dropped. With one cell left (both sides hold one and
    the same value) there is nothing to test: statistic 0, p-value 1.

    Returns:
        ``(statistic, p_value, degrees_of_freedom)`` as ``scipy.stats.chi2_contingency``
        gives them (Yates' correction on 2 × 2 tables, SciPy's default).
    """
    table = np.vstack([np.asarray(reference, dtype=float), np.asarray(current, dtype=float)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0, 0
    stats = scipy_stats()
    result = stats.chi2_contingency(table)
    if sparse(table) and hasattr(stats, "MonteCarloMethod"):
        # the chi-squared approximation overstates significance when cells expect fewer than
        # 5 counts (values just past the reference's range, rare categories, tiny samples):
        # SciPy's Monte Carlo p-value over random tables with the same margins instead
        method = stats.MonteCarloMethod(
            n_resamples=MONTE_CARLO_RESAMPLES, rng=np.random.default_rng(0)
        )
        exact = stats.chi2_contingency(
            np.rint(table).astype(np.int64), correction=False, method=method
        )
        return float(result.statistic), float(exact.pvalue), int(result.dof)
    return float(result.statistic), float(result.pvalue), int(result.dof)


def pooled_bin_counts(
    reference: np.ndarray, current: np.ndarray, bins: int
) -> tuple[np.ndarray, np.ndarray]:
    """Counts of two sorted samples in bins of the *pooled* sample.

    Edges: the pooled ``bins``-quantiles (actual values), plus every *atom* — a value
    holding at least ``1 / (2 bins)`` of the pooled rows — in a bin of its own. Both
    sides are treated alike (a test on the reference's own bins would see its
    always-empty out-of-range bins as evidence every time), and values that sit apart
    get their own bins: a constant that moved, a cap whose values jumped to 1e6, a
    flag whose 1s became 7s.
    """
    pooled = np.sort(np.concatenate([reference, current]))
    levels = np.linspace(0, 1, bins + 1)[1:-1]
    distinct, counts = np.unique(pooled, return_counts=True)
    heavy = np.flatnonzero(counts >= len(pooled) / (2 * bins))
    parts = [
        np.quantile(pooled, levels, method="inverted_cdf"),
        distinct[heavy],
        distinct[np.minimum(heavy + 1, len(distinct) - 1)],  # closes each atom's bin
    ]
    edges = np.unique(np.concatenate(parts))
    # bins: (-inf, e1), [e1, e2), …, [e_last, +inf); empty ones are dropped by the test
    return _counts(reference, edges), _counts(current, edges)


def _counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    below = np.searchsorted(values, edges, side="left")
    return np.diff(np.concatenate(([0], below, [len(values)]))).astype(float)


def sparse(table: np.ndarray) -> bool:
    """Cochran's rule: some cell of the 2 × k table expects fewer than 5 counts."""
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    return bool((expected < 5).any())


def kolmogorov_smirnov(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """``(D, p_value)`` of ``scipy.stats.ks_2samp`` (two-sided, SciPy's automatic method)."""
    result = scipy_stats().ks_2samp(reference, current)
    return float(result.statistic), float(result.pvalue)


def kolmogorov_smirnov_noise(n: int, m: int) -> float:
    """The KS statistic two samples of one continuous distribution give on average."""
    return KOLMOGOROV_MEAN * math.sqrt(1 / n + 1 / m)


def wasserstein(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """``(W / std(reference), W)``: the normed and the raw Wasserstein-1 distance.

    A constant reference (std 0) gives ``inf`` when the current side differs at all,
    0 when it does not; a reference holding infinite values has no standard deviation
    and gives NaN.
    """
    with np.errstate(invalid="ignore", over="ignore"):  # infinite values: NaN, said by the caller
        raw = float(scipy_stats().wasserstein_distance(reference, current))
    scale = _spread(reference)
    if math.isnan(scale):
        return math.nan, raw
    if scale > 0:
        return raw / scale, raw
    return (math.inf if raw > 0 else 0.0), raw


def _spread(values: np.ndarray) -> float:
    """Sample standard deviation, scaled first so that values near 1e300 do not overflow;
    NaN when some value is infinite."""
    if len(values) < 2:
        return 0.0
    top = float(np.max(np.abs(values)))
    if not math.isfinite(top):
        return math.nan
    return float(np.std(values / top, ddof=1)) * top if top > 0 else 0.0


def psi(p: np.ndarray, q: np.ndarray) -> float:
    """Population stability index of reference shares ``p`` and current shares ``q``."""
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    used = (p > 0) | (q > 0)
    p = np.where(p[used] > 0, p[used], PSI_EMPTY_SHARE)
    q = np.where(q[used] > 0, q[used], PSI_EMPTY_SHARE)
    return float(np.sum((q - p) * np.log(q / p)))


def psi_noise(cells: int, n: int, m: int) -> float:
    """The PSI two samples of one distribution give on average over ``cells`` occupied cells
    (the PSI is the Jeffreys divergence, about chi-squared with ``cells - 1`` degrees of
    freedom times ``1/n + 1/m``)."""
    return max(1, cells - 1) * (1 / n + 1 / m)
