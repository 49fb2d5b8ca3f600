"""What-if explorer: edit → prediction latency, and PDP+ICE vs scikit-learn's brute method.

One process, same data and model for both: 100,000 rows × 30 features, a
HistGradientBoostingClassifier (few iterations, so fitting is quick).

* edit → new prediction: set a feature slider on a ``WhatIf`` panel (debounce 0,
  so the update runs synchronously) and time until the prediction text changed.
  Target (issue 6): median ≤ 50 ms.
* PDP + ICE at 50 grid points × 1,000 rows: ``mlnb.whatif.pdp.partial_dependence``
  (one predict call on a 50,000-row batch) against
  ``sklearn.inspection.partial_dependence(kind="both", method="brute")`` (one call per
  grid point) on the same rows and grid. Target: no slower than scikit-learn.

Prints the median of each and, on the last line, the PDP speed ratio.
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("MPLBACKEND", "Agg")

ROWS, FEATURES = 100_000, 30
EDIT_REPEATS = 30
PDP_REPEATS = 5
GRID, ICE_ROWS = 50, 1_000


def data(rows: int = ROWS, features: int = FEATURES):
    """``rows`` × ``features`` normal values and a label from a nonlinear mix of four of them."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    values = rng.normal(size=(rows, features))
    frame = pd.DataFrame(values, columns=[f"f{i}" for i in range(features)])
    logit = values[:, 0] + 0.5 * values[:, 1] ** 2 - values[:, 2] * values[:, 3]
    label = (logit + rng.normal(scale=0.5, size=rows) > 0.5).astype(int)
    return frame, label


def main() -> None:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import partial_dependence as sk_partial_dependence

    from mlnb.whatif.explorer import WhatIf
    from mlnb.whatif.pdp import partial_dependence

    frame, label = data()
    started = time.perf_counter()
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(frame, label)
    print(
        f"fitted HistGradientBoostingClassifier on {ROWS:,} × {FEATURES} in {time.perf_counter() - started:.1f} s"
    )

    started = time.perf_counter()
    panel = WhatIf(model, frame, label, debounce_seconds=0, sample_size=ICE_ROWS)
    print(
        f"WhatIf panel built (predicts all {ROWS:,} rows once) in {time.perf_counter() - started:.2f} s"
    )
    slider = panel.inputs["f0"]
    values = np.linspace(slider.min, slider.max, EDIT_REPEATS + 1)
    edits = []
    for value in values:
        started = time.perf_counter()
        slider.value = float(value)
        edits.append(time.perf_counter() - started)
        assert panel.edited_point["f0"] == float(value)  # the update ran
    edit_median = statistics.median(edits[1:])
    print(
        f"edit → new prediction (WhatIf slider)     median {edit_median * 1e3:7.2f} ms over {EDIT_REPEATS} edits (target ≤ 50 ms)"
    )

    rows = frame.sample(ICE_ROWS, random_state=0)
    grid = np.linspace(frame["f1"].quantile(0.05), frame["f1"].quantile(0.95), GRID)
    adapter = panel.adapter
    ours, theirs = [], []
    for _ in range(PDP_REPEATS):
        started = time.perf_counter()
        mine = partial_dependence(adapter, rows, "f1", grid)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        ref = sk_partial_dependence(
            model, rows, ["f1"], kind="both", method="brute", custom_values={"f1": grid}
        )
        theirs.append(time.perf_counter() - started)
    np.testing.assert_allclose(mine.average, ref["average"][0])
    np.testing.assert_allclose(mine.individual, ref["individual"][0])
    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    print(
        f"PDP+ICE {GRID} grid × {ICE_ROWS:,} rows, mlnb (1 predict call)   median {ours_median * 1e3:7.1f} ms over {PDP_REPEATS} runs"
    )
    print(
        f"PDP+ICE {GRID} grid × {ICE_ROWS:,} rows, sklearn brute          median {theirs_median * 1e3:7.1f} ms over {PDP_REPEATS} runs (same values)"
    )
    panel.close()
    print(
        f"PDP+ICE speed-up vs sklearn partial_dependence(kind='both', method='brute'): {theirs_median / ours_median:.2f}x"
    )


if __name__ == "__main__":
    main()
