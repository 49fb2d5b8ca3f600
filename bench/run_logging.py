"""Scalar logging throughput: mlnb vs MLflow ``log_metric`` (sqlite) and TensorBoard ``add_scalar``.

Also mlnb's batch form, ``run.log_many`` of three arrays (target ≥ 10M points/s).

Each logger logs one scalar per call (``{"loss": v}`` at step i) in one process,
several repetitions, median reported. Two rates for mlnb: into its buffer (the
cost inside a training loop) and end to end (logging plus ``finish()``, after
which every point is on disk). TensorBoard's end-to-end rate includes
``close()``. MLflow writes each call synchronously to SQLite (~ms a call), so it
logs fewer points; rates are per point, so they compare directly.

Usage: ``python bench/run_logging.py [--points N] [--mlflow-points M] [--repeat R]``
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def bench_mlnb(points: int, folder: Path) -> tuple[float, float]:
    """(buffer rate, end-to-end rate) in points per second."""
    from mlnb.runs import Store
    from mlnb.runs.run import Run

    store = Store(folder / "mlnb")
    run = Run(store, "bench")
    log = run.log
    gc.collect()  # each side starts without the others' garbage (see main)
    started = time.perf_counter()
    for step in range(points):
        log({"loss": 0.5}, step)
    logged = time.perf_counter()
    run.finish()
    done = time.perf_counter()
    stored = store.count_metrics(run.id)
    store.close()
    assert stored == points, f"mlnb stored {stored} of {points} points"
    return points / (logged - started), points / (done - started)


def bench_mlnb_many(points: int, folder: Path) -> tuple[float, float]:
    """``run.log_many`` of one epoch's arrays: (buffer rate, end-to-end rate) in points per second."""
    import numpy as np

    from mlnb.runs import Store
    from mlnb.runs.run import Run

    store = Store(folder / "mlnb-many")
    run = Run(store, "bench-many")
    per_metric = points // 3
    arrays = {key: np.random.default_rng(0).random(per_metric) for key in ("loss", "acc", "lr")}
    steps = np.arange(per_metric)
    gc.collect()
    started = time.perf_counter()
    logged_points = run.log_many(arrays, steps=steps)
    logged = time.perf_counter()
    run.finish()
    done = time.perf_counter()
    stored = store.count_metrics(run.id)
    store.close()
    assert stored == logged_points == 3 * per_metric, f"mlnb stored {stored} of {logged_points}"
    return logged_points / (logged - started), logged_points / (done - started)


def bench_tensorboard(points: int, folder: Path) -> tuple[float, float]:
    """(add_scalar rate, rate including close()) in points per second."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder / "tb"))
    add = writer.add_scalar
    gc.collect()
    started = time.perf_counter()
    for step in range(points):
        add("loss", 0.5, step)
    logged = time.perf_counter()
    writer.close()
    done = time.perf_counter()
    return points / (logged - started), points / (done - started)


def bench_mlflow(points: int, folder: Path) -> float:
    """log_metric rate (synchronous, sqlite backend) in points per second."""
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
    mlflow.set_experiment("bench")
    with mlflow.start_run():
        gc.collect()
        started = time.perf_counter()
        for step in range(points):
            mlflow.log_metric("loss", 0.5, step=step)
        return points / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--mlflow-points", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--many-points", type=int, default=3_000_000)
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    warnings.simplefilter("ignore")
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    # Import every peer first, so all repetitions run in the same (large) heap, as in a
    # notebook that has torch loaded; each timed loop starts after gc.collect(), so no side
    # pays for the garbage the imports or another side left behind.
    import mlflow  # noqa: F401
    from torch.utils.tensorboard import SummaryWriter  # noqa: F401

    import mlnb.runs  # noqa: F401

    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    results: dict[str, list[float]] = {
        k: []
        for k in (
            "mlnb_buffer",
            "mlnb_e2e",
            "many_buffer",
            "many_e2e",
            "tb_add",
            "tb_e2e",
            "mlflow",
        )
    }
    for repetition in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            buffer_rate, e2e_rate = bench_mlnb(args.points, folder)
            many_buffer, many_e2e = bench_mlnb_many(args.many_points, folder)
            tb_add, tb_e2e = bench_tensorboard(args.points, folder)
            mlflow_rate = bench_mlflow(args.mlflow_points, folder)
        for key, value in zip(
            results,
            (buffer_rate, e2e_rate, many_buffer, many_e2e, tb_add, tb_e2e, mlflow_rate),
            strict=True,
        ):
            results[key].append(value)
        print(
            f"repetition {repetition + 1}: "
            + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in results.items())
        )
    median = {k: statistics.median(v) for k, v in results.items()}
    print(
        f"points: mlnb and TensorBoard {args.points:,} each, MLflow {args.mlflow_points:,}; medians of {args.repeat}"
    )
    print(
        f"mlnb run.log into buffer     {median['mlnb_buffer']:>12,.0f} points/s  ({1e6 / median['mlnb_buffer']:.2f} µs/point)"
    )
    print(f"mlnb log + finish (on disk)  {median['mlnb_e2e']:>12,.0f} points/s")
    print(
        f"mlnb log_many into buffer    {median['many_buffer']:>12,.0f} points/s  "
        f"({args.many_points:,} points in 3 arrays; target >= 10M/s)"
    )
    print(f"mlnb log_many + finish       {median['many_e2e']:>12,.0f} points/s")
    print(
        f"TensorBoard add_scalar       {median['tb_add']:>12,.0f} points/s  ({1e6 / median['tb_add']:.2f} µs/point)"
    )
    print(f"TensorBoard add + close      {median['tb_e2e']:>12,.0f} points/s")
    print(
        f"MLflow log_metric (sqlite)   {median['mlflow']:>12,.0f} points/s  ({1e6 / median['mlflow']:.0f} µs/point)"
    )
    print(
        f"mlnb run.log: best repetition {max(results['mlnb_buffer']):,.0f} points/s, "
        f"worst {min(results['mlnb_buffer']):,.0f} (target >= 500k/s); "
        f"load average now {os.getloadavg()[0]:.2f}"
    )
    print(
        f"ratios: mlnb buffer / MLflow {median['mlnb_buffer'] / median['mlflow']:,.0f}x, "
        f"mlnb buffer / TensorBoard {median['mlnb_buffer'] / median['tb_add']:.1f}x, "
        f"mlnb on-disk / TensorBoard on-disk {median['mlnb_e2e'] / median['tb_e2e']:.1f}x, "
        f"mlnb on-disk / MLflow {median['mlnb_e2e'] / median['mlflow']:,.0f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
