"""The two drift statistics, computed from column profiles.

* :func:`l_infinity` — the largest absolute difference between a value's share
  of the non-missing reference rows and its share of the non-missing current
  rows (TFDV's comparator for categorical skew and drift).
* :func:`jensen_shannon_distance` — ``sqrt(JSD)`` with log base 2, in ``[0, 1]``,
  over the shares :func:`binned_shares` puts in the reference's quantile bins
  (with open bins for the values beyond either end of the reference's range).

Each comes with a *noise* figure: the distance two samples of the same
distribution typically show at these sample sizes (chi-square approximations,
see :func:`jensen_shannon_noise` and :func:`l_infinity`).
"""

from __future__ import annotations

import math

import numpy as np

from mlnb.data.profile import ColumnProfile
from mlnb.data.stattests import PSI_EMPTY_SHARE

L_INFINITY = "L-infinity distance"
JENSEN_SHANNON = "Jensen-Shannon distance (base 2)"


def jensen_shannon_noise(bins: int, n_reference: int, n_current: int) -> float:
    """Typical JS distance (base 2) between two samples of one distribution over ``bins`` occupied bins.

    The JS divergence of two samples of sizes ``n`` and ``m`` is about
    ``(bins - 1) (1/n + 1/m) / (8 ln 2)`` bits; this returns its square root.
    """
    return math.sqrt((bins - 1) * (1 / n_reference + 1 / n_current) / (8 * math.log(2)))


def bin_edges(ref: ColumnProfile, bins: int) -> np.ndarray:
    """The reference's quantile edges: its minimum, ``bins - 1`` inner quantiles and its
    maximum (ties merged), from the sketch (exact up to :data:`~mlnb.data.profile.SKETCH_SIZE` values)."""
    points = ref.sketch_values
    assert points is not None  # a numeric column with values always has a sketch
    inner = points[np.round(np.linspace(0, len(points) - 1, bins + 1)).astype(np.int64)]
    return np.unique(inner)


def binned_shares(
    ref: ColumnProfile, cur: ColumnProfile, bins: int
) -> tuple[np.ndarray, np.ndarray]:
    """Shares of each side in the reference's quantile bins.

    The bins are ``(-inf, min)``, ``[min, e1)``, …, ``[e_last, max]`` and ``(max, +inf)``:
    the open bins hold exactly the values beyond the reference's range, on either side,
    so a constant column that moves, capped values that jump past the cap, or a flag's
    1s that become 7s all land in a bin the reference leaves empty.
    """
    edges = bin_edges(ref, bins)
    return _masses(ref, edges), _masses(cur, edges)


def _masses(side: ColumnProfile, edges: np.ndarray) -> np.ndarray:
    # a constant reference has a single edge: it still opens the bin below its minimum
    below = side.fraction_below(edges[: max(1, len(edges) - 1)])
    at_most = side.fraction_at_most(edges[-1:])
    cumulative = np.concatenate(([0.0], below, at_most, [1.0]))
    return np.clip(np.diff(cumulative), 0.0, None)


def sketch_step(ref: ColumnProfile, cur: ColumnProfile) -> float:
    """How far an edge's share can be off on both sides together because it was read from
    a sketch: one sketch step plus the sketch's ``rank_error`` per inexact side."""
    return sum(
        0.0
        if side.sketch_exact or side.sketch_values is None
        else 1 / (len(side.sketch_values) - 1) + side.rank_error
        for side in (ref, cur)
    )


def psi_sketch_error(ref: ColumnProfile, cur: ColumnProfile, p: np.ndarray, q: np.ndarray) -> float:
    """How far the PSI of ``p`` and ``q`` may be off because shares were read from sketches
    (first order: each bin's share off by up to two steps, times the PSI's slope there)."""
    step = sketch_step(ref, cur)
    if step == 0.0:
        return 0.0
    used = (p > 0) | (q > 0)
    pp, qq = np.maximum(p[used], PSI_EMPTY_SHARE), np.maximum(q[used], PSI_EMPTY_SHARE)
    ratio = np.log(qq / pp)
    slope = np.abs(ratio + 1 - qq / pp) + np.abs(ratio + 1 - pp / qq)
    return float(np.sum(2 * step * slope))


def sketch_error(ref: ColumnProfile, cur: ColumnProfile, p: np.ndarray, q: np.ndarray) -> float:
    """How far the JS distance of ``p`` and ``q`` may be off because a side's shares were
    interpolated from its 1,001-value sketch (0 when both are exact).

    Each edge's share is within one sketch step (``1/(SKETCH_SIZE - 1)``, plus the
    sketch's ``rank_error`` for a streamed one) of the truth, so a bin's share is within two steps a side; this returns the JS distance such
    errors give, ``sqrt(sum(e_i**2 / m_i) / (8 ln 2))`` over the pooled shares ``m_i``.
    """
    step = sketch_step(ref, cur)
    if step == 0.0:
        return 0.0
    pooled = (p + q) / 2
    used = pooled > 0
    error = np.minimum(2 * step, 2 * pooled[used])
    return float(min(1.0, math.sqrt(np.sum(error**2 / pooled[used]) / (8 * math.log(2)))))


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
