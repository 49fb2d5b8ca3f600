"""Parity: mlnb.data.compare against SciPy on planted shifts (issue 13, data half).

Every check computes the peer's answer on the same inputs, independently of mlnb's
code, and states its tolerance. Peers: ``scipy.stats.ks_2samp``,
``scipy.stats.chi2_contingency``, ``scipy.stats.wasserstein_distance``,
``scipy.spatial.distance.jensenshannon``, and the PSI / L-infinity / decile bins
written from their definitions below.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

stats = pytest.importorskip("scipy.stats")
from scipy.spatial.distance import jensenshannon  # noqa: E402

from mlnb.data import compare  # noqa: E402

ALPHA = 0.05
#: p-values and statistics are the same SciPy calls on the same values: float round-off only
REL = 1e-9
ABS = 1e-12


def _cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Planted shifts, each a (reference, current) pair of 1-D arrays (NaN = missing)."""
    rng = np.random.default_rng(2024)
    n = 600
    capped = np.minimum(rng.normal(80, 20, n), 100.0)
    flag = (rng.random(n) < 0.3).astype(float)
    low = rng.normal(0, 1, n)
    heavy = rng.standard_t(2, n)  # same centre and quartiles as a normal-ish, far tails
    nan_heavy_ref = np.where(rng.random(n) < 0.8, np.nan, rng.normal(0, 1, n))
    nan_heavy_cur = np.where(rng.random(n) < 0.8, np.nan, rng.normal(0.8, 1, n))
    tiny = rng.normal(0, 1, 6)
    return {
        "identical_300": (rng.normal(0, 1, 300), rng.normal(0, 1, 300)),
        "shift_half_sigma_300": (rng.normal(0, 1, 300), rng.normal(0.5, 1, 300)),
        "shift_half_sigma_5000": (rng.normal(0, 1, 5000), rng.normal(0.5, 1, 5000)),
        "constant_moves_up": (np.ones(n), np.full(n, 1000.0)),
        "cap_values_jump": (capped, np.where(capped >= 100.0, 1e6, capped)),
        "flag_ones_become_sevens": (flag, np.where(flag == 1.0, 7.0, 0.0)),
        "mass_below_the_minimum": (low, np.where(low < -0.5, low - 100.0, low)),
        "tails_only": (rng.normal(0, 1, n), np.where(np.abs(heavy) > 2, heavy * 5, heavy)),
        "nan_heavy": (nan_heavy_ref, nan_heavy_cur),
        "tiny_identical": (tiny, tiny[:5][::-1]),  # the same values: nothing to find
        "tiny_shifted": (rng.normal(0, 1, 6), rng.normal(5, 1, 5)),
    }


CASES = _cases()


def _report(method: str) -> object:
    ref = pd.DataFrame({name: pd.Series(r) for name, (r, _) in CASES.items()})
    cur = pd.DataFrame({name: pd.Series(c) for name, (_, c) in CASES.items()})
    return compare(ref, cur, method=method, alpha=ALPHA, workers=1)


@pytest.fixture(scope="module")
def reports() -> dict[str, object]:
    return {m: _report(m) for m in ("distance", "ks", "chisquare", "psi", "wasserstein")}


def _present(values: np.ndarray) -> np.ndarray:
    return values[~np.isnan(values)]


@pytest.mark.parametrize("case", list(CASES))
def test_ks_statistic_p_value_and_verdict_match_scipy(case: str, reports) -> None:
    ref, cur = (_present(v) for v in CASES[case])
    peer = stats.ks_2samp(ref, cur)
    ours = reports["ks"].columns[case]
    assert ours.n_reference == len(ref) and ours.n_current == len(cur)  # NaN left out, like dropna
    assert ours.value == pytest.approx(peer.statistic, abs=ABS)  # tolerance: 1e-12
    assert ours.p_value == pytest.approx(peer.pvalue, rel=REL, abs=1e-300)  # tolerance: rel 1e-9
    assert ours.drift == (peer.pvalue < ALPHA)  # the verdict: exactly SciPy's at alpha 0.05


@pytest.mark.parametrize("case", list(CASES))
def test_wasserstein_matches_scipy(case: str, reports) -> None:
    ref, cur = (_present(v) for v in CASES[case])
    raw = stats.wasserstein_distance(ref, cur)
    scale = np.std(ref, ddof=1)
    ours = reports["wasserstein"].columns[case]
    if scale > 0:
        assert ours.value == pytest.approx(raw / scale, rel=REL)  # tolerance: rel 1e-9
    else:  # a constant reference: any move is infinitely many standard deviations
        assert ours.value == (np.inf if raw > 0 else 0.0)
    assert ours.p_value == pytest.approx(stats.ks_2samp(ref, cur).pvalue, rel=REL, abs=1e-300)


def test_wasserstein_scale_of_huge_and_infinite_references() -> None:
    # np.std overflows on 1e200-sized values (a finite std of 1e200); an infinite value
    # leaves no standard deviation, which is not a "constant" reference
    rng = np.random.default_rng(3)
    ref, cur = rng.normal(0, 1e200, 400), rng.normal(1e200, 1e200, 400)
    frame = pd.DataFrame
    ours = compare(frame({"x": ref}), frame({"x": cur}), method="wasserstein").columns["x"]
    scale = np.std(ref / 1e200, ddof=1) * 1e200
    assert ours.value == pytest.approx(stats.wasserstein_distance(ref, cur) / scale, rel=REL)
    assert ours.drift and ours.note is None
    with np.errstate(all="raise"):
        odd = compare(
            frame({"x": [1.0, 2.0, np.inf] * 20}),
            frame({"x": [1.0, 2.0, 3.0] * 20}),
            method="wasserstein",
        ).columns["x"]
    assert np.isnan(odd.value) and "infinite" in (odd.note or "") and "constant" not in odd.note


def _reference_bins(ref: np.ndarray, cur: np.ndarray, bins: int = 10) -> tuple[np.ndarray, ...]:
    """Shares in the reference's decile bins, from the definition: edges at the values of
    ranks round(i (n-1) / bins) of the sorted reference (ties merged); bins (-inf, min),
    [e_i, e_i+1) …, the last closed at the maximum, and (max, +inf)."""
    ordered = np.sort(ref)
    ranks = [round(i * (len(ordered) - 1) / bins) for i in range(bins + 1)]
    edges = sorted({float(ordered[r]) for r in ranks})

    def shares(x: np.ndarray) -> np.ndarray:
        cells = [np.mean(x < edges[0])]
        for lo, hi in itertools.pairwise(edges[:-1]):
            cells.append(np.mean((x >= lo) & (x < hi)))
        if len(edges) >= 2:
            cells.append(np.mean((x >= edges[-2]) & (x <= edges[-1])))
        else:
            cells.append(np.mean(x == edges[0]))
        cells.append(np.mean(x > edges[-1]))
        return np.array(cells)

    return shares(ref), shares(cur)


@pytest.mark.parametrize("case", [c for c in CASES if len(_present(CASES[c][0])) <= 1001])
def test_binned_distances_match_their_definitions(case: str, reports) -> None:
    """Exact binning needs the reference's deciles: up to 1,001 values they are exact."""
    ref, cur = (_present(v) for v in CASES[case])
    p, q = _reference_bins(ref, cur)
    js = jensenshannon(p, q, base=2)
    assert reports["distance"].columns[case].value == pytest.approx(js, abs=1e-9)  # tol 1e-9
    pp, qq = np.where(p > 0, p, 1e-4), np.where(q > 0, q, 1e-4)
    used = (p > 0) | (q > 0)
    psi = float(np.sum(((qq - pp) * np.log(qq / pp))[used]))
    assert reports["psi"].columns[case].value == pytest.approx(psi, rel=1e-9)  # tol rel 1e-9


@pytest.mark.parametrize(
    "case",
    [
        "shift_half_sigma_300",
        "shift_half_sigma_5000",
        "constant_moves_up",
        "cap_values_jump",
        "flag_ones_become_sevens",
        "mass_below_the_minimum",
        "nan_heavy",
    ],
)
def test_every_method_flags_what_scipy_ks_finds_beyond_doubt(case: str, reports) -> None:
    ref, cur = (_present(v) for v in CASES[case])
    assert stats.ks_2samp(ref, cur).pvalue < 1e-4  # the peer is sure: a real shift
    for method, report in reports.items():
        assert report.columns[case].drift, method


def test_identical_columns_at_300_rows_agree_with_scipy_ks(reports) -> None:
    ref, cur = CASES["identical_300"]
    assert stats.ks_2samp(ref, cur).pvalue > 0.2  # the peer sees nothing
    for method, report in reports.items():
        assert not report.columns["identical_300"].drift, method


def test_tiny_samples_use_scipys_exact_ks_and_stay_quiet(reports) -> None:
    ref, cur = CASES["tiny_identical"]
    exact = stats.ks_2samp(ref, cur, method="exact")
    assert reports["ks"].columns["tiny_identical"].p_value == pytest.approx(exact.pvalue, rel=REL)
    for report in reports.values():
        assert not report.columns["tiny_identical"].drift
    # 6 vs 5 values 5σ apart: SciPy's exact KS p = 2/462 < 0.05, and so does mlnb
    assert reports["ks"].columns["tiny_shifted"].drift


def _many_identical(seed: int, columns: int = 200, n: int = 300) -> tuple[pd.DataFrame, ...]:
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame(rng.normal(size=(n, columns))).add_prefix("c")
    cur = pd.DataFrame(rng.normal(size=(n, columns))).add_prefix("c")
    return ref, cur


def test_ks_verdicts_over_many_identical_columns_are_scipys() -> None:
    ref, cur = _many_identical(7)
    ours = compare(ref, cur, method="ks", workers=1)
    peer = [c for c in ref if stats.ks_2samp(ref[c], cur[c]).pvalue < ALPHA]
    assert ours.drifted == peer  # the very same columns
    assert len(peer) / 200 <= 0.08  # KS at 5%: about 5% (binomial sd 1.5%)


# --- counted columns: chi-squared of the contingency table --------------------------------


def _counted_cases() -> dict[str, tuple[pd.Series, pd.Series]]:
    rng = np.random.default_rng(99)
    cities = np.array(["paris", "lyon", "nice", "lille"])
    base = [0.4, 0.3, 0.2, 0.1]
    return {
        "same": (
            pd.Series(rng.choice(cities, 400, p=base)),
            pd.Series(rng.choice(cities, 400, p=base)),
        ),
        "reweighted": (
            pd.Series(rng.choice(cities, 400, p=base)),
            pd.Series(rng.choice(cities, 400, p=base[::-1])),
        ),
        "new_categories": (
            pd.Series(rng.choice(cities, 400, p=base)),
            pd.Series(
                rng.choice(
                    np.r_[cities, ["marseille", "brest"]], 400, p=[0.3, 0.2, 0.2, 0.1, 0.15, 0.05]
                )
            ),
        ),
        "rare_new_category": (  # sparse: a cell expects fewer than 5
            pd.Series(rng.choice(cities, 400, p=base)),
            pd.Series(np.r_[rng.choice(cities, 398, p=base), ["tours", "tours"]]),
        ),
        "nan_heavy": (
            pd.Series(np.where(rng.random(400) < 0.7, None, rng.choice(cities, 400, p=base))),
            pd.Series(np.where(rng.random(400) < 0.7, None, rng.choice(cities, 400, p=base[::-1]))),
        ),
        "boolean_2x2": (pd.Series(rng.random(400) < 0.3), pd.Series(rng.random(400) < 0.45)),
    }


COUNTED = _counted_cases()


@pytest.mark.parametrize("case", list(COUNTED))
def test_chi_squared_and_l_infinity_match_scipy(case: str) -> None:
    ref, cur = COUNTED[case]
    ours = compare(ref.to_frame("c"), cur.to_frame("c"), method="chisquare").columns["c"]
    table = pd.crosstab(
        np.r_[np.zeros(ref.notna().sum()), np.ones(cur.notna().sum())],
        np.r_[ref.dropna().astype(str), cur.dropna().astype(str)],
    ).to_numpy()
    peer = stats.chi2_contingency(table)
    expected = peer.expected_freq
    assert ours.value == pytest.approx(peer.statistic, rel=REL)  # tolerance: rel 1e-9
    if (expected < 5).any():  # Cochran's rule: SciPy's Monte Carlo p-value, same seed
        method = stats.MonteCarloMethod(n_resamples=1999, rng=np.random.default_rng(0))
        peer_p = stats.chi2_contingency(table, correction=False, method=method).pvalue
        assert ours.p_value == pytest.approx(peer_p, rel=REL)  # tolerance: rel 1e-9
    else:
        assert ours.p_value == pytest.approx(peer.pvalue, rel=REL, abs=1e-300)
    assert ours.drift == (ours.p_value < ALPHA)
    # the default report: L-infinity from its definition, judged by the same test
    p = ref.dropna().astype(str).value_counts(normalize=True)
    q = cur.dropna().astype(str).value_counts(normalize=True)
    p, q = p.align(q, fill_value=0.0)
    default = compare(ref.to_frame("c"), cur.to_frame("c")).columns["c"]
    assert default.value == pytest.approx(float((p - q).abs().max()), abs=ABS)  # tol 1e-12
    assert default.p_value == pytest.approx(ours.p_value, rel=REL)


def test_counted_verdicts_are_the_threshold_and_scipys_test() -> None:
    for case, (ref, cur) in COUNTED.items():
        ours = compare(ref.to_frame("c"), cur.to_frame("c")).columns["c"]
        p = ref.dropna().astype(str).value_counts(normalize=True)
        q = cur.dropna().astype(str).value_counts(normalize=True)
        p, q = p.align(q, fill_value=0.0)
        beyond = float((p - q).abs().max()) > 0.1
        assert ours.drift == (beyond and ours.p_value < ALPHA), case
    clear = {"same": False, "reweighted": True, "new_categories": True, "nan_heavy": True}
    for case, expected in clear.items():
        ref, cur = COUNTED[case]
        assert compare(ref.to_frame("c"), cur.to_frame("c")).columns["c"].drift is expected
