"""Per-cell tracking overhead: mlnb's ``%gpu_track`` vs ipyexperiments' CellLogger, same run.

One in-process IPython shell runs 1,000 trivial cells per repetition in each mode —
tracking off, ``%gpu_track on``, and ipyexperiments' ``CellLogger`` (CPU backend, its
defaults) — with the modes interleaved in every repetition so machine noise hits
them alike. Output (mlnb's line, CellLogger's report) goes to a string buffer in
every mode. It then checks that both still catch a transient 200 MiB peak in a cell.
Prints the median per-cell time of each mode, the added cost, and the ratio last.

Run: ``python bench/gpu_tracking.py [--cells 1000] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import time


def run_cells(shell, cells: int) -> float:
    """Seconds per cell over ``cells`` trivial cells, output captured."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        start = time.perf_counter()
        for i in range(cells):
            shell.run_cell(f"x = {i}")
        elapsed = time.perf_counter() - start
    return elapsed / cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "mlnb")

    peer_error = None
    try:
        from ipyexperiments import IPyExperimentsCPU
    except Exception as exc:  # the peer is optional: say so and measure what we can
        IPyExperimentsCPU = None
        peer_error = f"{type(exc).__name__}: {exc}"

    def with_mlnb():
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink):
            shell.run_line_magic("gpu_track", "on")
        try:
            return run_cells(shell, args.cells)
        finally:
            with contextlib.redirect_stdout(sink):
                shell.run_line_magic("gpu_track", "off")

    def with_peer():
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            experiment = IPyExperimentsCPU(exp_enable=False, cl_enable=True)
        try:
            return run_cells(shell, args.cells)
        finally:
            with contextlib.redirect_stdout(sink):
                experiment.cl.stop()

    modes = {"off": lambda: run_cells(shell, args.cells), "mlnb %gpu_track": with_mlnb}
    if IPyExperimentsCPU is not None:
        modes["ipyexperiments CellLogger"] = with_peer
    timings: dict[str, list[float]] = {name: [] for name in modes}
    run_cells(shell, 100)  # warm-up
    for _ in range(args.repeats):
        for name, measure in modes.items():
            timings[name].append(measure())

    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(
        f"{args.cells} trivial cells x {args.repeats} repetitions, in-process IPython "
        f"{shell.__class__.__name__}; load average {os.getloadavg()[0]:.2f}"
    )
    for name, value in medians.items():
        spread = ", ".join(f"{v * 1e3:.3f}" for v in timings[name])
        print(f"  {name:<28} median {value * 1e3:.3f} ms/cell   (runs: {spread})")
    added_mlnb = medians["mlnb %gpu_track"] - medians["off"]
    print(f"  added by mlnb %gpu_track:     {added_mlnb * 1e3:.3f} ms/cell")

    # peaks still caught: a cell whose 200 MiB array is gone by the end of the cell
    peak_cell = "import numpy as np\n_t = np.ones(200 * 2**20 // 8)\ndel _t"
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        shell.run_line_magic("gpu_track", "on")
        shell.run_cell(peak_cell)
        shell.run_line_magic("gpu_track", "off")
    mlnb_line = [line for line in sink.getvalue().splitlines() if "RAM" in line][-1]
    print(f"  transient 200 MiB, mlnb:      {mlnb_line}")
    if IPyExperimentsCPU is None:
        print(f"  ipyexperiments could not be used ({peer_error}); no peer figures.")
        print(
            f"ratio: not measured (peer unavailable); mlnb adds {added_mlnb * 1e3:.3f} ms per cell"
        )
        return
    added_peer = medians["ipyexperiments CellLogger"] - medians["off"]
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        experiment = IPyExperimentsCPU(exp_enable=False, cl_enable=True, cl_compact=True)
        shell.run_cell(peak_cell)
        experiment.cl.stop()
    peer_line = [line for line in sink.getvalue().splitlines() if line.startswith("CPU:")]
    print(f"  transient 200 MiB, CellLogger: {peer_line[1] if len(peer_line) > 1 else peer_line}")
    print(f"  added by CellLogger:          {added_peer * 1e3:.3f} ms/cell")
    print(
        f"ratio: CellLogger adds {added_peer * 1e3:.3f} ms/cell, mlnb adds {added_mlnb * 1e3:.3f} ms/cell "
        f"-> mlnb is {added_peer / max(added_mlnb, 1e-9):.1f}x lighter"
    )


if __name__ == "__main__":
    main()
