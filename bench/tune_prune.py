"""`mlnb tune --prune median` vs the same search without pruning, in one run.

One small notebook whose bad configurations show early: it "trains" for EPOCHS epochs
(EPOCH_SECONDS each, a sleep standing in for the work) and logs ``acc`` at every epoch
with ``mlnb.log``; its accuracy curve rises towards a ceiling set by ``lr`` (best at
0.01), so a poor ``lr`` is visibly poor after a few epochs. Both sides run the same
Optuna TPE search (same seed, TRIALS trials, JOBS at once, lr from eight choices); one
side adds ``prune="median"`` (MedianPruner, 4 startup trials, 2 warm-up steps), a third
``prune="asha"`` (Optuna's asynchronous successive halving: rungs at steps 2, 6, the best
third goes on). Each side gets its own run store and study.

Measured: the total trial time (sum of the trials' run durations from the run store),
the wall time of each search, how many trials were pruned, and the best value found.
Target (issue 16): pruning cuts the total trial time >= 2x and finds the same best value.
The last line is JSON.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TRIALS = 16
JOBS = 2
EPOCHS = 12
EPOCH_SECONDS = float(os.environ.get("MLNB_BENCH_EPOCH_SECONDS", "1.0"))  # 0.25: detection latency dominates
SEED = 11
CHOICES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]
TRAIN = f"""import math, time
import mlnb
ceiling = 1 - (math.log10(lr) + 2) ** 2 / 8      # best at lr = 0.01
for epoch in range({EPOCHS}):
    time.sleep({EPOCH_SECONDS})                    # the epoch's work
    acc = ceiling * (1 - math.exp(-(epoch + 1) / 3))
    mlnb.log({{"acc": acc}}, step=epoch)           # the trial's run: the tuner reads it
mlnb.record("acc", acc)"""


def write_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("lr = 0.01")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(TRAIN)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))


def search(folder: Path, prune: str | None) -> dict[str, float | int]:
    from mlnb.pipeline.tune import parse_space, tune
    from mlnb.runs.store import Store

    os.environ["MLNB_HOME"] = str(folder / ".mlnb")  # the workers inherit it
    notebook = folder / "train.ipynb"
    write_notebook(notebook)
    result = tune(
        notebook,
        parse_space({"lr": CHOICES}),
        "acc",
        trials=TRIALS,
        jobs=JOBS,
        seed=SEED,
        prune=prune,
        prune_startup=4,
        prune_warmup=2,
        storage=f"sqlite:///{folder / 'study.db'}",
        output_dir=folder / "trials",
        progress=False,
    )
    with Store(readonly=True) as store:
        records = store.list_runs(tags=["tune"])
    return {
        "trial_seconds": sum(r.duration for r in records),
        "wall_seconds": result.seconds,
        "trials": len(records),
        "pruned": sum(r.status == "pruned" for r in records),
        "best": result.study.best_value,
        "best_lr": result.study.best_params["lr"],
    }


def main() -> None:
    sides: dict[str, dict[str, float | int]] = {}
    with tempfile.TemporaryDirectory(prefix="mlnb-bench-prune-") as tmp:
        for label, prune in (
            ("no pruning", None),
            ("--prune median", "median"),
            ("--prune asha", "asha"),
        ):
            folder = Path(tmp, prune or "full")
            folder.mkdir()
            sides[label] = search(folder, prune)
    full = sides["no pruning"]
    summary: dict[str, object] = {"load_average": round(os.getloadavg()[0], 2)}
    for label, side in sides.items():
        print(
            f"{label:15s} {side['trials']} trials ({side['pruned']} pruned): "
            f"trial time {side['trial_seconds']:.1f} s, wall {side['wall_seconds']:.1f} s, "
            f"best acc {side['best']:.6f} at lr={side['best_lr']:g}"
        )
        summary[label] = side
    for label in ("--prune median", "--prune asha"):
        ratio = full["trial_seconds"] / sides[label]["trial_seconds"]
        same = full["best"] == sides[label]["best"]
        print(f"{label}: total trial time cut {ratio:.2f}x (target >= 2x); same best value: {same}")
        summary[f"{label} ratio"], summary[f"{label} same best"] = round(ratio, 3), same
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
