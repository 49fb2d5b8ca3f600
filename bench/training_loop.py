"""What logging costs a training loop: µs per scalar over the same loop without logging.

A loop of ``--steps`` steps (default 20,000), each ~50 µs of Python work (calibrated at
start), logs 3 scalars per step to: mlnb (``run.log``), TensorBoard's
``SummaryWriter.add_scalar``, W&B in offline mode (``wandb.log``), MLflow
``log_metrics`` (asynchronous, and synchronous to SQLite; both on fewer steps, as
each takes from a hundred µs to milliseconds a call; the cost is per scalar either way). Everything runs in this one process, side by side.

The steps run in blocks that alternate with equally long blocks of the bare loop, so a
busy machine slows both alike; each pair gives the µs a scalar the logging added
(background writer threads that run during the loop are counted, as a user feels them).
The headline is the mean over pairs without the 10% highest and 10% lowest (a shared
machine's spikes, either way); the plain total and the median over pairs are printed too. Finishing (``finish``/``close``) is timed apart. Target (issue 20): mlnb ≤ 1 µs a scalar.

Usage: ``python bench/training_loop.py [--steps N] [--block B] [--mlflow-sync-steps M]``
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SCALARS = 3
WORK_US = 50.0


def calibrate(target_us: float = WORK_US) -> int:
    """Iterations of :func:`work` that take ``target_us`` µs here (median of a few tries)."""
    iterations = 100
    while True:
        started = time.perf_counter()
        for _ in range(200):
            work(iterations)
        took_us = (time.perf_counter() - started) / 200 * 1e6
        if took_us > target_us / 4:
            break
        iterations *= 2
    estimates = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(200):
            work(iterations)
        estimates.append((time.perf_counter() - started) / 200 * 1e6)
    return max(1, round(iterations * target_us / min(estimates)))  # the least disturbed try


def work(iterations: int) -> float:
    """A stand-in for a training step's Python-side work (one core, holds the GIL)."""
    x = 1.0
    for _ in range(iterations):
        x = x * 1.0000001 + 1e-9
    return x


Logger = Callable[[int, float, float, float], Any]


def loop(steps: range, iterations: int, logger: Logger | None) -> float:  # seconds for these steps
    started = time.perf_counter()
    if logger is None:
        for _step in steps:
            loss = work(iterations)
            _ = (loss, loss * 0.5, 1e-3)
    else:
        for step in steps:
            loss = work(iterations)
            logger(step, loss, loss * 0.5, 1e-3)
    return time.perf_counter() - started


def measure(name: str, logger: Logger, steps: int, block: int, iterations: int) -> dict[str, float]:
    """Alternate bare and logging blocks over ``steps`` steps; µs per scalar added."""
    bare, logged = [], []
    gc.collect()
    for first in range(0, steps, block):
        span = range(first, min(first + block, steps))
        if (first // block) % 2 == 0:
            bare.append(loop(span, iterations, None))
            logged.append(loop(span, iterations, logger))
        else:
            logged.append(loop(span, iterations, logger))
            bare.append(loop(span, iterations, None))
    scalars = steps * SCALARS
    per_block = [
        (b - a) / (len(range(i * block, min((i + 1) * block, steps))) * SCALARS) * 1e6
        for i, (a, b) in enumerate(zip(bare, logged, strict=True))
    ]
    trim = len(per_block) // 10  # a busy machine's worst and best blocks, both ends alike
    kept = sorted(per_block)[trim : len(per_block) - trim] if trim else per_block
    return {
        "us_per_scalar": statistics.fmean(kept),
        "us_per_scalar_total": (sum(logged) - sum(bare)) / scalars * 1e6,
        "us_per_scalar_median_block": statistics.median(per_block),
        "bare_step_us": sum(bare) / steps * 1e6,
        "steps": steps,
    }


def setup_mlnb(folder: Path) -> tuple[Logger, Callable[[], None]]:
    from mlnb.runs import Store
    from mlnb.runs.run import Run

    store = Store(folder / "mlnb")
    run = Run(store, "training-loop")
    log = run.log

    def logger(step: int, loss: float, acc: float, lr: float) -> None:
        log({"loss": loss, "acc": acc, "lr": lr}, step)

    def finish() -> None:
        run.finish()
        store.close()

    return logger, finish


def setup_tensorboard(folder: Path) -> tuple[Logger, Callable[[], None]]:
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder / "tb"))
    add = writer.add_scalar

    def logger(step: int, loss: float, acc: float, lr: float) -> None:
        add("loss", loss, step)
        add("acc", acc, step)
        add("lr", lr, step)

    return logger, writer.close


def setup_wandb(folder: Path) -> tuple[Logger, Callable[[], None]]:
    import wandb

    run = wandb.init(
        project="mlnb-bench", mode="offline", dir=str(folder), settings=wandb.Settings(silent=True)
    )
    log = run.log

    def logger(step: int, loss: float, acc: float, lr: float) -> None:
        log({"loss": loss, "acc": acc, "lr": lr}, step=step)

    return logger, run.finish


def setup_mlflow(folder: Path, synchronous: bool) -> tuple[Logger, Callable[[], None]]:
    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
    mlflow.set_experiment("training-loop")
    mlflow.start_run()
    log_metrics = mlflow.log_metrics

    def logger(step: int, loss: float, acc: float, lr: float) -> None:
        log_metrics({"loss": loss, "acc": acc, "lr": lr}, step=step, synchronous=synchronous)

    return logger, mlflow.end_run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--block", type=int, default=250)
    parser.add_argument("--mlflow-async-steps", type=int, default=4_000)
    parser.add_argument("--mlflow-sync-steps", type=int, default=300)
    parser.add_argument("--skip", action="append", default=[], help="a logger to leave out")
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    warnings.simplefilter("ignore")
    os.environ.setdefault("WANDB_SILENT", "true")
    os.environ.setdefault("WANDB_MODE", "offline")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    iterations = calibrate()
    print(f"work: {iterations} iterations ≈ {WORK_US:.0f} µs a step; {SCALARS} scalars a step")

    plans: list[tuple[str, Callable[[Path], tuple[Logger, Callable[[], None]]], int, int]] = [
        ("mlnb", setup_mlnb, args.steps, args.block),
        ("TensorBoard SummaryWriter", setup_tensorboard, args.steps, args.block),
        ("W&B offline", setup_wandb, args.steps, args.block),
        (
            "MLflow log_metrics async",
            lambda f: setup_mlflow(f, synchronous=False),
            args.mlflow_async_steps,
            max(1, args.mlflow_async_steps // 10),
        ),
        (
            "MLflow log_metrics sync (sqlite)",
            lambda f: setup_mlflow(f, synchronous=True),
            args.mlflow_sync_steps,
            max(1, args.mlflow_sync_steps // 10),
        ),
    ]
    results: dict[str, dict[str, float]] = {}
    for name, setup, steps, block in plans:
        if any(skip.lower() in name.lower() for skip in args.skip):
            print(f"{name:34s} skipped (--skip)")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            try:
                logger, finish = setup(Path(tmp))
            except Exception as exc:  # a peer that is missing or cannot start here
                print(f"{name:34s} skipped: {type(exc).__name__}: {str(exc)[:160]}")
                continue
            result = measure(name, logger, steps, block, iterations)
            started = time.perf_counter()
            finish()
            result["finish_s"] = time.perf_counter() - started
        results[name] = result
        print(
            f"{name:34s} {result['us_per_scalar']:+9.2f} µs a scalar over the bare loop "
            f"(total {result['us_per_scalar_total']:+.2f}, median block "
            f"{result['us_per_scalar_median_block']:+.2f}; {steps:,} steps, "
            f"bare step {result['bare_step_us']:.1f} µs; finish {result['finish_s']:.2f} s)"
        )
    ours = results.get("mlnb")
    if ours:
        verdict = "meets" if ours["us_per_scalar"] <= 1.0 else "misses"
        print(f"mlnb {verdict} the target of ≤ 1 µs a scalar: {ours['us_per_scalar']:.2f} µs")
        for name, result in results.items():
            if name != "mlnb" and ours["us_per_scalar"] > 0:
                print(
                    f"ratio {name} / mlnb: {result['us_per_scalar'] / ours['us_per_scalar']:,.1f}x"
                )
    print(
        json.dumps(
            {
                "load_average": round(os.getloadavg()[0], 2),
                **{name: round(result["us_per_scalar"], 3) for name, result in results.items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
