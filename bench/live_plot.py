"""What the live plot costs a training loop: the same loop with and without ``LivePlot``, one process.

A loop of Python work (~``--step-us`` µs a step, calibrated at start) logs 4 values a
step (``epoch``, ``loss``, ``val_loss``, ``acc``) to a run. Phases of ``--steps`` steps
alternate between a run with no plot and a run with a live plot attached (redrawing
every 0.5 s, as in a notebook), ``--pairs`` times, swapping which goes first; each
plot is created, and has drawn its first figure, before its phase is timed. The
slowdown of a pair is the plotted phase's time over the bare phase's, minus one; the
headline is the median over pairs. Target (issue 18): ≤ 2% slower with the plot on.

Usage: ``python bench/live_plot.py [--steps N] [--pairs P] [--step-us U]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.training_loop import calibrate, work


def phase(run: Any, steps: int, iterations: int) -> float:
    """Seconds for ``steps`` steps of work, each logging four values to ``run``."""
    log = run.log
    started = time.perf_counter()
    for step in range(steps):
        loss = work(iterations)
        log({"epoch": step // 1000, "loss": loss, "val_loss": loss * 1.1, "acc": 1e-3 * step}, step)
    return time.perf_counter() - started


def timed_phase(
    store: Any, steps: int, iterations: int, with_plot: bool, in_process: bool = False
) -> tuple[float, int, float, float]:
    """One phase in a fresh run: seconds, the plot's redraws, this process's and the helper's CPU."""
    from mlnb.runs.live import LivePlot
    from mlnb.runs.live_renderer import Renderer
    from mlnb.runs.run import Run

    run = Run(store, "plotted" if with_plot else "bare")
    plot = LivePlot(run) if with_plot else None
    if plot is not None and in_process:  # the fallback: figures drawn in this process
        plot._renderer.close()
        plot._renderer = Renderer(use_helper=False)
    if plot is not None:  # let the helper start and draw once, as it has by the time data flows
        run.log({"loss": 1.0}, 0)
        deadline = time.monotonic() + 60
        while plot.redraws == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    before = (plot.redraws, plot.cpu_seconds, plot.helper_cpu_seconds) if plot else (0, 0.0, 0.0)
    seconds = phase(run, steps, iterations)
    after = (plot.redraws, plot.cpu_seconds, plot.helper_cpu_seconds) if plot else (0, 0.0, 0.0)
    redraws, cpu, helper = (int(after[0] - before[0]), after[1] - before[1], after[2] - before[2])
    run.finish()
    if plot is not None:
        plot.wait(60)  # its final drawing is not part of the next phase
    return seconds, redraws, cpu, helper


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15_000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--step-us", type=float, default=200.0)
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="draw in this process (the fallback when the helper cannot start) instead",
    )
    args = parser.parse_args()
    from mlnb.runs import Store

    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    iterations = calibrate(args.step_us)
    print(f"work: {iterations} iterations ≈ {args.step_us:.0f} µs a step; 4 values logged a step")
    ratios, bare_times, plot_times, redraw_counts, shares = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "store") as store:
        for pair in range(args.pairs):
            order = (False, True) if pair % 2 == 0 else (True, False)
            results = {
                flag: timed_phase(store, args.steps, iterations, flag, args.in_process)
                for flag in order
            }
            (bare, *_), (plotted, redraws, cpu, helper) = results[False], results[True]
            ratios.append(plotted / bare - 1)
            bare_times.append(bare)
            plot_times.append(plotted)
            redraw_counts.append(redraws)
            shares.append(cpu / plotted)
            print(
                f"pair {pair + 1}: bare {bare:.3f} s, with live plot {plotted:.3f} s "
                f"({redraws} redraws, {1000 * cpu / max(redraws, 1):.1f} ms CPU each in this "
                f"process = {100 * cpu / plotted:.2f}% of the phase; helper "
                f"{1000 * helper / max(redraws, 1):.0f} ms each) → {100 * ratios[-1]:+.2f}%"
            )
    slowdown = statistics.median(ratios)
    verdict = "meets" if slowdown <= 0.02 else "misses"
    print(
        json.dumps(
            {
                "load_average": round(os.getloadavg()[0], 2),
                "bare_median_s": round(statistics.median(bare_times), 3),
                "plot_median_s": round(statistics.median(plot_times), 3),
                "redraws_median": statistics.median(redraw_counts),
                "plot_cpu_share_in_process_median": round(statistics.median(shares), 5),
            }
        )
    )
    print(
        f"live plot slowdown (median of {args.pairs} pairs): {100 * slowdown:+.2f}% — {verdict} ≤ 2%"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
