"""`mlnb sweep --jobs 2` (warm and cold kernels) vs a sequential loop of the `papermill` CLI,
and a cached pipeline re-run.

Same 16 trials of one small two-cell notebook (parameter x = 0..15) on every side,
each into its own output notebook, each in a fresh kernel process. The papermill side is
the loop people write: one `papermill in.ipynb out_i.ipynb -p x i` per trial. The mlnb
side is one `mlnb sweep ... --jobs 2` command: two worker processes, each booting its
next kernel while the current trial runs — forked from a zygote that has imported
ipykernel and the notebook's libraries (warm, the default), or started as a new
interpreter (`--no-warm`, cold). The three are run in turn, REPEATS times, so load
changes hit them alike (with a "lean" papermill loop: see PAPERMILL); the load `uptime`
shows is printed before and after. Then a three-step
pipeline is run once and re-run unchanged (every step served from cache), timed as a
library call and as the `mlnb pipeline` command. Prints medians, ratios; the last line
is JSON. Targets: warm sweep >= 8x the loop (issue 20); cached re-run <= 0.5 s (issue 5).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from papermill_run import LEAN_PAPERMILL  # bench/ is not a package

TRIALS = 16
REPEATS = int(os.environ.get("MLNB_BENCH_REPEATS", "3"))
CACHE_REPEATS = 7
ROOT = Path(__file__).resolve().parent.parent


def write_notebook(path: Path, parameters: str, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


#: papermill's CLI as installed, and the same without jsonschema's optional rfc3987_syntax
#: (3 s of grammar compiling per process where JupyterLab's dependencies brought it in):
#: the "lean" loop is what the loop costs in an environment without it
PAPERMILL = {
    "installed": [sys.executable, "-m", "papermill"],
    "lean": LEAN_PAPERMILL,
}


def papermill_loop(notebook: Path, out: Path, flavour: str = "installed") -> float:
    started = time.perf_counter()
    for x in range(TRIALS):
        subprocess.run(
            [
                *PAPERMILL[flavour],
                str(notebook),
                str(out / f"pm-{x:02d}.ipynb"),
                "-p",
                "x",
                str(x),
                "-k",
                "python3",
                "--no-progress-bar",
            ],
            check=True,
            capture_output=True,
        )
    return time.perf_counter() - started


def mlnb_sweep(notebook: Path, out: Path, warm: bool) -> float:
    values = ",".join(str(x) for x in range(TRIALS))
    return timed(
        [
            sys.executable,
            "-m",
            "mlnb.cli",
            "sweep",
            str(notebook),
            "-p",
            f"x={values}",
            "--jobs",
            "2",
            "--seed",
            "0",
            "--no-progress",
            "--output-dir",
            str(out),
            *([] if warm else ["--no-warm"]),
        ],
        notebook.parent,
    )


def cached_pipeline(folder: Path) -> tuple[list[float], list[float]]:
    write_notebook(
        folder / "prepare.ipynb", "n = 5", ["open('data.txt', 'w').write(str(list(range(n))))"]
    )
    write_notebook(
        folder / "train.ipynb",
        "scale = 1.0",
        [
            "import mlnb\nmlnb.record('total', len(open('data.txt').read()) * scale)\nopen('model.txt', 'w').write('m')"
        ],
    )
    write_notebook(
        folder / "evaluate.ipynb",
        "k = 1",
        ["import mlnb\nmlnb.record('score', len(open('model.txt').read()) * k)"],
    )
    path = folder / "pipeline.yaml"
    path.write_text(
        "steps:\n"
        "  prepare: {notebook: prepare.ipynb, outputs: [data.txt]}\n"
        "  train: {notebook: train.ipynb, inputs: [data.txt], outputs: [model.txt], upstream: [prepare]}\n"
        "  evaluate: {notebook: evaluate.ipynb, inputs: [model.txt], upstream: [train]}\n"
    )
    from mlnb.pipeline.dag import run_pipeline

    first = run_pipeline(path)
    assert [s.status for s in first.steps] == ["ran"] * 3, first.text()
    library, command = [], []
    for _ in range(CACHE_REPEATS):
        started = time.perf_counter()
        again = run_pipeline(path)
        library.append(time.perf_counter() - started)
        assert [s.status for s in again.steps] == ["cached"] * 3
        command.append(timed([sys.executable, "-m", "mlnb.cli", "pipeline", str(path)], folder))
    return library, command


def load() -> str:
    """The load averages `uptime` prints (1, 5, 15 minutes) and the core count."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
    )
    with tempfile.TemporaryDirectory(prefix="mlnb-bench-") as tmp:
        folder = Path(tmp)
        notebook = folder / "small.ipynb"
        write_notebook(notebook, "x = 0", ["y = x * 2\nprint(y)"])
        print(f"load before: {load()}", flush=True)
        loop, lean, sweep, cold = [], [], [], []
        for rep in range(REPEATS):  # alternate so load changes hit every side alike
            (folder / f"pm{rep}").mkdir()
            (folder / f"lean{rep}").mkdir()
            loop.append(papermill_loop(notebook, folder / f"pm{rep}"))
            sweep.append(mlnb_sweep(notebook, folder / f"sw{rep}", warm=True))
            lean.append(papermill_loop(notebook, folder / f"lean{rep}", "lean"))
            cold.append(mlnb_sweep(notebook, folder / f"cold{rep}", warm=False))
            print(
                f"rep {rep + 1}: papermill loop {loop[-1]:.2f} s (lean {lean[-1]:.2f} s), mlnb sweep --jobs 2 warm {sweep[-1]:.2f} s, cold (--no-warm) {cold[-1]:.2f} s",
                flush=True,
            )
        print(f"load after: {load()}", flush=True)
        cache_dir = folder / "dag"
        cache_dir.mkdir()
        library, command = cached_pipeline(cache_dir)
    loop_median, sweep_median = statistics.median(loop), statistics.median(sweep)
    cold_median, lean_median = statistics.median(cold), statistics.median(lean)
    print(
        f"papermill CLI loop, {TRIALS} notebooks: median {loop_median:.2f} s over {REPEATS} runs ({loop_median / TRIALS:.2f} s per notebook)"
    )
    print(
        f"mlnb sweep --jobs 2 (warm), {TRIALS} trials: median {sweep_median:.2f} s over {REPEATS} runs ({sweep_median / TRIALS:.2f} s per trial)"
    )
    print(
        f"mlnb sweep --jobs 2 --no-warm, {TRIALS} trials: median {cold_median:.2f} s over {REPEATS} runs ({cold_median / TRIALS:.2f} s per trial)"
    )
    print(
        f"cached pipeline re-run (3 steps): library median {statistics.median(library) * 1e3:.1f} ms, `mlnb pipeline` command median {statistics.median(command) * 1e3:.0f} ms over {CACHE_REPEATS} runs (target <= 500 ms)"
    )
    print(
        f"papermill CLI loop without rfc3987_syntax (lean): median {lean_median:.2f} s ({lean_median / TRIALS:.2f} s per notebook)"
    )
    print(
        f"ratio papermill loop / mlnb sweep warm: {loop_median / sweep_median:.2f}x (target >= 8x); "
        f"lean loop / warm: {lean_median / sweep_median:.2f}x; "
        f"loop / cold: {loop_median / cold_median:.2f}x; lean loop / cold: {lean_median / cold_median:.2f}x; "
        f"cold / warm: {cold_median / sweep_median:.2f}x"
    )
    print(
        json.dumps(
            {
                "papermill_loop_s": round(loop_median, 2),
                "mlnb_sweep_s": round(sweep_median, 2),
                "mlnb_sweep_cold_s": round(cold_median, 2),
                "papermill_loop_lean_s": round(lean_median, 2),
                "cached_rerun_library_ms": round(statistics.median(library) * 1e3, 1),
                "cached_rerun_command_ms": round(statistics.median(command) * 1e3),
                "speedup": round(loop_median / sweep_median, 2),
                "speedup_cold": round(loop_median / cold_median, 2),
                "speedup_vs_lean_loop": round(lean_median / sweep_median, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
