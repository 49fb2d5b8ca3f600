"""The pipeline demo: run prepare -> train -> evaluate (cached when unchanged), then sweep C.

`python example_notebooks/04_pipeline/run_demo.py` prints the pipeline's table, runs
it again to show every step served from cache, then sweeps the train notebook over
four values of C in two worker processes and prints params -> recorded accuracies
and the best trial, and lists the runs as the run store (``$MLNB_HOME``, which
``mlnb runs`` and the JupyterLab Runs panel read) has them. Exits non-zero if
anything did not finish.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(folder: Path = HERE) -> int:
    from mlnb.pipeline.dag import run_pipeline
    from mlnb.pipeline.sweep import sweep

    print("== mlnb pipeline pipeline.yaml")
    result = run_pipeline(folder / "pipeline.yaml")
    print(result.text())
    started = time.perf_counter()
    again = run_pipeline(folder / "pipeline.yaml")
    print(
        f"== again, unchanged: {', '.join(s.status for s in again.steps)} in {time.perf_counter() - started:.2f} s"
    )
    print(
        "\n== mlnb sweep train.ipynb -p C=0.01,0.1,1,10 -r save_model False --jobs 2 --metric val_acc"
    )
    trials = sweep(
        folder / "train.ipynb",
        {"C": [0.01, 0.1, 1.0, 10.0]},
        fixed={"save_model": False},  # the pipeline's data/model.pkl stays the pipeline's
        jobs=2,
        seed=0,
        metric="val_acc",
        output_dir=folder / "runs" / "sweep",
        progress=False,
    )
    print(trials.text())
    from mlnb.cli import main as mlnb
    from mlnb.runs.store import default_home

    print(f"\n== mlnb runs ls --project pipeline   (store: {default_home()})")
    mlnb(["runs", "ls", "--project", "pipeline", "--limit", "7"])
    print(f"replay any of them: mlnb rerun {trials.best.record.id}" if trials.best else "")
    finished = result.ok and all(t.status == "finished" for t in trials.trials)
    return 0 if finished else 1


if __name__ == "__main__":
    sys.exit(main())
