"""What-if on 1,000,000 rows × 30 features: build, edit, PDP+ICE, 2-D PDP, performance.

One process, one HistGradientBoostingClassifier (fitted on 100k of the rows, so
fitting is quick), and for every figure the naive way of computing the same thing
in the same run, with the ratio:

* build: ``WhatIf(model, X, y)`` (predicts every row once, chunked) against the
  floor, one ``predict_proba`` over every row. Target ≤ 10 s.
* edit: move one feature slider of the shown row until the new prediction is shown,
  against ``predict_proba`` of that one row with scikit-learn's default threads.
  Target ≤ 50 ms.
* PDP + ICE (20 grid values): the tab's curve (ICE on 1,000 rows, the average over a
  10,000-row sample, the mean over every row as a line) against scikit-learn's
  ``partial_dependence`` of every row (``method="brute"``, the same grid); then the
  exact every-row average the tab computes in the background, checked equal to
  scikit-learn's. The sampled average's largest gap to the exact one is printed.
* 2-D PDP (20 × 20 on the 1,000 ICE rows) in the background, with progress, against
  scikit-learn's 2-D brute ``partial_dependence`` of the same rows; and how long an
  edit takes while it runs (the panel stays responsive; the edit cancels it).
* performance at a new threshold over every row, checked equal to ``sklearn.metrics``.

WIT itself cannot run here: ``witwidget`` needs TensorFlow, which is not installed.
Its users report it slowing at 2,000 points and failing at 15–20k.

Prints ``uptime`` before and after: the machine is shared.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time

os.environ.setdefault("MPLBACKEND", "Agg")

ROWS, FEATURES = 1_000_000, 30
FIT_ROWS = 100_000
GRID = 20
EDITS = 30


def load() -> str:
    """The machine's load averages, as ``uptime`` prints them."""
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def data():
    """The data of ``bench/whatif.py``, at a million rows."""
    from whatif import data as whatif_data  # bench/whatif.py: this script's folder is on sys.path

    return whatif_data(ROWS, FEATURES)


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def line(what: str, ours: float, theirs: float, peer: str) -> None:
    print(
        f"{what:<34} mlnb {ours * 1e3:9.1f} ms | {peer:<44} {theirs * 1e3:9.1f} ms"
        f" | ratio {theirs / ours:7.1f}x"
    )


def bench_build(model, frame, label):
    from mlnb.whatif.explorer import WhatIf

    floor, _ = timed(lambda: model.predict_proba(frame))
    build, panel = timed(lambda: WhatIf(model, frame, label, debounce_seconds=0))
    line("build the panel (1M rows)", build, floor, "predict_proba of every row (the floor)")
    print(f"  target ≤ 10 s: {'met' if build <= 10 else 'NOT met'} ({build:.2f} s)")
    return panel


def bench_edit(panel, model, frame):
    import numpy as np

    slider = panel.inputs["f0"]
    ours = []
    for value in np.linspace(slider.min, slider.max, EDITS):
        took, _ = timed(lambda v=value: setattr(slider, "value", float(v)))
        assert panel.edited_point["f0"] == float(value)
        ours.append(took)
    row = frame.iloc[[panel.position]]
    theirs = [timed(lambda: model.predict_proba(row))[0] for _ in range(EDITS)]
    median = statistics.median(ours)
    line("edit → new prediction (median)", median, statistics.median(theirs),
         "predict_proba of the one row, default threads")  # fmt: skip
    print(f"  target ≤ 50 ms: {'met' if median <= 0.05 else 'NOT met'}")


def bench_pdp(panel, model, frame):
    import numpy as np
    from sklearn.inspection import partial_dependence as sk_pd

    panel.tabs.selected_index = 1
    view = panel.pdp_view
    view.grid_points.value = GRID
    ours, _ = timed(lambda: setattr(view.feature, "value", "f1"))
    sampled = panel.pdp
    grid = sampled.grid

    def sklearn_every_row():
        return sk_pd(
            model, frame, ["f1"], kind="average", method="brute", custom_values={"f1": grid}
        )

    theirs, reference = timed(sklearn_every_row)
    line("PDP+ICE tab (sample, 20 grid)", ours, theirs, "sklearn brute PDP of every row")
    edits = [timed(lambda v=v: panel.edit(f0=float(v)))[0] for v in np.linspace(-2, 2, 9)]
    line("edit with the PDP tab shown", statistics.median(edits), ours,
         "recomputing the tab's curves")  # fmt: skip
    exact, _ = timed(lambda: (setattr(view.every_row, "value", True), panel.flush()))
    np.testing.assert_allclose(panel.pdp.average, reference["average"][0], rtol=1e-9)
    line("PDP exact every-row (background)", exact, theirs, "sklearn brute PDP of every row")
    gap = float(np.max(np.abs(sampled.average - reference["average"][0])))
    print(
        f"  the sampled average ({sampled.average_rows:,} rows) is within {gap:.4f} of the "
        f"exact one (P(1) scale); ICE curves drawn: {len(sampled.individual):,}"
    )
    view.every_row.value = False


def bench_pdp_2d(panel, model, frame):
    from sklearn.inspection import partial_dependence as sk_pd

    view = panel.pdp_view
    reports = []
    view.progress.observe(lambda change: reports.append(change["new"]), names="value")
    ours, _ = timed(lambda: (setattr(view.second, "value", "f2"), panel.flush()))
    surface = panel.pdp
    rows = frame.iloc[panel.sample_positions]
    grids = {"f1": surface.grid_x, "f2": surface.grid_y}

    def sklearn_2d():
        return sk_pd(model, rows, ["f1", "f2"], kind="average", method="brute", custom_values=grids)

    theirs, _ = timed(sklearn_2d)
    line("2-D PDP 20×20, 1k rows (background)", ours, theirs, "sklearn brute 2-D PDP, same rows")
    print(f"  progress updates shown: {len(reports)}, last {view.status.value!r}")
    view.grid_points.value = GRID + 1  # starts a fresh 2-D computation
    running = view.task.running
    took, _ = timed(lambda: panel.edit(f3=1.5))
    panel.flush()
    print(
        f"  an edit while a 2-D computation runs ({running=}): {took * 1e3:.1f} ms; the stale "
        f"computation was cancelled ({view.task.cancelled} cancelled, {view.task.finished} done)"
    )


def bench_performance(panel):
    import numpy as np
    from sklearn import metrics

    took, _ = timed(lambda: setattr(panel.threshold_slider, "value", 0.4))
    y, score = panel.y_true, panel.scores[:, 1]
    predicted = (score >= 0.4).astype(int)
    theirs, expected = timed(
        lambda: (
            metrics.accuracy_score(y, predicted),
            metrics.f1_score(y, predicted),
            metrics.roc_auc_score(y, score),
        )
    )
    got = (panel.metrics["accuracy"], panel.metrics["f1"], panel.metrics["roc_auc"])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    line("threshold change, 1M-row metrics", took, theirs, "sklearn accuracy + f1 + roc_auc")
    print("  accuracy, F1 and ROC-AUC equal to sklearn.metrics over all 1,000,000 rows")


def main() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    print(f"uptime before: {load()}")
    frame, label = data()
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0)
    model.fit(frame.iloc[:FIT_ROWS], label[:FIT_ROWS])
    print(f"{ROWS:,} rows × {FEATURES} features, HistGradientBoostingClassifier")
    print("WIT: not run — witwidget needs TensorFlow, not installed here.")
    panel = bench_build(model, frame, label)
    try:
        bench_edit(panel, model, frame)
        bench_pdp(panel, model, frame)
        bench_pdp_2d(panel, model, frame)
        bench_performance(panel)
    finally:
        panel.close()
    print(f"uptime after: {load()}")


if __name__ == "__main__":
    main()
