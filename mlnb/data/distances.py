"""The two drift statistics, computed from column profiles.

* :func:`l_infinity` — the largest absolute difference between a value's share
  of the non-missing reference rows and its share of the non-missing current
  rows (TFDV's comparator for categorical skew and drift).
* :func:`jensen_shannon_distance` — ``sqrt(JSD)`` with log base 2, in ``[0, 1]``,
  over the shares :func:`binned_shares` puts in the reference's quantile bins.

Each comes with a *noise* figure: the distance two samples of the same
distribution typically show at these sample sizes (chi-square approximations,
see :func:`jensen_shannon_noise` and :func:`l_infinity`).
"""

from __future__ import annotations

import math

import numpy as np

from mlnb.data.profile import ColumnProfile

L_INFINITY = "L-infinity distance"
JENSEN_SHANNON = "Jensen-Shannon distance (base 2)"


def jensen_shannon_noise(bins: int, n_reference: int, n_current: int) -> float:
    """Typical JS distance (base 2) between two samples of one distribution over ``bins`` occupied bins.

    The JS divergence of two samples of sizes ``n`` and ``m`` is about
    ``(bins - 1) (1/n + 1/m) / (8 ln 2)`` bits; this returns its square root.
    """
    return math.sqrt((bins - 1) * (1 / n_reference + 1 / n_current) / (8 * math.log(2)))


def binned_shares(
    ref: ColumnProfile, cur: ColumnProfile, bins: int
) -> tuple[np.ndarray, np.ndarray]:
    """Shares of each side in the reference's quantile bins: edges at its minimum, its
    ``bins`` quantiles and its maximum, plus an open bin below and one above."""
    points = ref.sketch_values
    assert points is not None  # a numeric column with values always has a sketch
    inner = points[np.round(np.linspace(0, len(points) - 1, bins + 1)).astype(np.int64)]
    edges = np.unique(inner)  # includes the minimum and maximum; ties merge bins
    below_ref = ref.fraction_below(edges)
    below_cur = cur.fraction_below(edges)
    return _masses(below_ref), _masses(below_cur)


def _masses(below: np.ndarray) -> np.ndarray:
    cumulative = np.concatenate(([0.0], below, [1.0]))
    return np.clip(np.diff(cumulative), 0.0, None)


def jensen_shannon_distance(p: np.ndarray, q: np.ndarray) -> float:
    """``sqrt(JSD(p, q))`` with log base 2, in ``[0, 1]``; ``p`` and ``q`` are normalised first."""
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum()
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum()
    divergence = max(0.0, 0.5 * (kl_p + kl_q))
    return float(min(1.0, math.sqrt(divergence)))


def l_infinity(ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float, str, str | None]:
    if ref.counts is None or cur.counts is None:
        raise ValueError(
            f"l_infinity compares value counts; column {ref.name!r} has none on a side."
        )
    p = ref.counts / ref.count
    q = cur.counts / cur.count
    p, q = p.align(q, fill_value=0.0)
    gaps = (p - q).abs()
    pooled = (p + q) / 2
    variance = float((pooled * (1 - pooled)).max())
    k = max(2, len(pooled))
    noise = math.sqrt(variance * (1 / ref.count + 1 / cur.count) * 2 * math.log(k))
    worst = str(gaps.idxmax())
    detail = f"{worst!r}: {p[worst]:.1%} → {q[worst]:.1%}"
    note = None
    if ref.domain_capped or cur.domain_capped:
        note = (
            "distance over the most frequent values of each side only "
            f"(the column has {max(ref.unique, cur.unique):,} distinct values)."
        )
    return float(gaps.max()), noise, detail, note
