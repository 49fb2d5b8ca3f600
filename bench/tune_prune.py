"""`mlnb tune --prune median|asha` vs the same search without pruning, in one run.

One small notebook whose bad configurations show early: it "trains" for EPOCHS epochs
(EPOCH_SECONDS each, a sleep standing in for the work) and logs ``acc`` at every epoch
with ``mlnb.log``; its accuracy curve rises towards a ceiling set by ``lr`` (best at
0.01), so a poor ``lr`` is visibly poor after a few epochs. Pruners: MedianPruner (4
startup trials, 2 warm-up steps) and asha (Optuna's asynchronous successive halving: rungs
at steps 2, 6, the best third goes on). Every side gets its own run store and study.

Two searches, each run three times (no pruning, median, asha) with the same seed:

* ``random`` — random search over a log-uniform ``lr`` (RANDOM_TRIALS trials, 2 at once).
  A trial's point depends only on the seed and its number, so all three sides try the same
  points: the difference in trial time is pruning alone, and "same best value" checks that
  the pruner never stopped the best trial. This is the target's search.
* ``tpe`` — Optuna's TPE over eight ``lr`` choices (TPE_TRIALS trials, 2 at once). TPE soon
  proposes the best ``lr`` again and again, and those trials must run to the end, so no
  pruner can cut much here; it is kept to show that limit.

For each side, the same search is also run in this process by Optuna alone (sequentially,
no notebooks, no kernels, epochs counted rather than slept): its epochs-run ratio is the
saving a pruner can give on that search at best, and measured / that = how much of it mlnb
keeps after kernel start-up and the time to notice and stop a pruned trial. The same ideal
ratio over other seeds shows the chosen seed is not an outlier.

Measured: total trial time (sum of the trials' run durations from the run store), wall
time, trials pruned, best value. Target (issue 16): pruning cuts the total trial time
>= 2x and finds the same best value. The last line is JSON.

    python bench/tune_prune.py [random|tpe ...]     # default: both
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

JOBS = 2
EPOCHS = 12
EPOCH_SECONDS = float(os.environ.get("MLNB_BENCH_EPOCH_SECONDS", "1.0"))
SEED = 11
OTHER_SEEDS = (1, 2, 3, 4, 5, 6, 7, 8)
PRUNE_STARTUP, PRUNE_WARMUP = 4, 2
CHOICES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]
SEARCHES: dict[str, dict[str, Any]] = {
    "random": {
        "sampler": "random",
        "trials": 32,
        "space": {"lr": {"low": 1e-4, "high": 0.3, "log": True}},
    },
    "tpe": {"sampler": "tpe", "trials": 16, "space": {"lr": CHOICES}},
}
SIDES = (("no pruning", None), ("--prune median", "median"), ("--prune asha", "asha"))
TRAIN = f"""import math, time
import mlnb
ceiling = 1 - (math.log10(lr) + 2) ** 2 / 8      # best at lr = 0.01
for epoch in range({EPOCHS}):
    time.sleep({EPOCH_SECONDS})                    # the epoch's work
    acc = ceiling * (1 - math.exp(-(epoch + 1) / 3))
    mlnb.log({{"acc": acc}}, step=epoch)           # the trial's run: the tuner reads it
mlnb.record("acc", acc)"""


def accuracy(lr: float, epoch: int) -> float:
    """The notebook's ``acc`` at ``epoch`` (the same formula as TRAIN)."""
    return (1 - (math.log10(lr) + 2) ** 2 / 8) * (1 - math.exp(-(epoch + 1) / 3))


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


def measured(folder: Path, search: dict[str, Any], prune: str | None) -> dict[str, Any]:
    """One side through ``mlnb tune``: trial time from the run store, wall time, best."""
    from mlnb.pipeline.tune import parse_space, tune
    from mlnb.runs.store import Store

    os.environ["MLNB_HOME"] = str(folder / ".mlnb")  # the workers inherit it
    notebook = folder / "train.ipynb"
    write_notebook(notebook)
    result = tune(
        notebook,
        parse_space(search["space"]),
        "acc",
        trials=search["trials"],
        jobs=JOBS,
        seed=SEED,
        sampler=search["sampler"],
        prune=prune,
        prune_startup=PRUNE_STARTUP,
        prune_warmup=PRUNE_WARMUP,
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


def ideal_epochs(search: dict[str, Any], prune: str | None, seed: int) -> int:
    """Epochs the same search runs in this process with Optuna alone (no kernels, no delay)."""
    import optuna

    from mlnb.pipeline.study import make_pruner, make_sampler
    from mlnb.pipeline.tune import parse_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dimension = parse_space(search["space"])["lr"]
    study = optuna.create_study(
        direction="maximize",
        sampler=make_sampler(search["sampler"], seed),
        pruner=make_pruner(prune, PRUNE_STARTUP, PRUNE_WARMUP),
    )
    epochs = 0

    def objective(trial: optuna.Trial) -> float:
        nonlocal epochs
        lr = dimension.suggest(trial)
        for epoch in range(EPOCHS):
            epochs += 1
            trial.report(accuracy(lr, epoch), epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return accuracy(lr, EPOCHS - 1)

    study.optimize(objective, n_trials=search["trials"])
    return epochs


def ideal_ratios(search: dict[str, Any], prune: str, seeds: tuple[int, ...]) -> list[float]:
    return [ideal_epochs(search, None, s) / ideal_epochs(search, prune, s) for s in seeds]


def run_search(name: str, tmp: str) -> dict[str, Any]:
    search = SEARCHES[name]
    sides = {}
    for label, prune in SIDES:
        folder = Path(tmp, name, prune or "full")
        folder.mkdir(parents=True)
        sides[label] = measured(folder, search, prune)
    full = sides["no pruning"]
    print(
        f"\n{name}: {search['trials']} trials, {JOBS} at once, seed {SEED}, {EPOCHS} epochs of {EPOCH_SECONDS:g} s"
    )
    summary: dict[str, Any] = {}
    for label, side in sides.items():
        print(
            f"  {label:15s} {side['trials']} trials ({side['pruned']} pruned): "
            f"trial time {side['trial_seconds']:.1f} s, wall {side['wall_seconds']:.1f} s, "
            f"best acc {side['best']:.6f} at lr={side['best_lr']:.4g}"
        )
        summary[label] = side
    for label, prune in SIDES[1:]:
        assert prune is not None
        ratio = full["trial_seconds"] / sides[label]["trial_seconds"]
        same = full["best"] == sides[label]["best"]
        ideal = ideal_ratios(search, prune, (SEED,))[0]
        others = ideal_ratios(search, prune, OTHER_SEEDS)
        print(
            f"  {label}: total trial time cut {ratio:.2f}x (target >= 2x), same best value: {same}; "
            f"Optuna alone on this search {ideal:.2f}x, so mlnb keeps {ratio / ideal:.0%} of it "
            f"(Optuna alone, seeds {OTHER_SEEDS[0]}-{OTHER_SEEDS[-1]}: {min(others):.2f}-{max(others):.2f}x)"
        )
        summary[f"{label} ratio"] = round(ratio, 3)
        summary[f"{label} same best"] = same
        summary[f"{label} ideal ratio"] = round(ideal, 3)
        summary[f"{label} ideal ratio other seeds"] = [round(r, 3) for r in others]
    return summary


def main() -> None:
    names = sys.argv[1:] or list(SEARCHES)
    unknown = [n for n in names if n not in SEARCHES]
    if unknown:
        sys.exit(f"unknown search {unknown[0]!r}: choose from {', '.join(SEARCHES)}")
    summary: dict[str, Any] = {"load_average_start": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory(prefix="mlnb-bench-prune-") as tmp:
        for name in names:
            summary[name] = run_search(name, tmp)
    summary["load_average_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
