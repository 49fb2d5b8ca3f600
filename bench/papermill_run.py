"""`mlnb run` vs `papermill` on one notebook, and `mlnb --version` vs `papermill --version`.

One small notebook (a parameters cell, three short cells), run as the two commands people
type — `papermill in.ipynb out.ipynb -p n 3` and `mlnb run in.ipynb out.ipynb -p n 3` —
each a fresh process and a fresh kernel, alternating, 5 times each; the medians and the
ratio are printed. The ``mlnb`` command marks jsonschema's optional ``rfc3987_syntax``
absent (nbformat never uses it; about 0.8 s of import here, where JupyterLab's
dependencies install it), papermill imports it: so a third command, "papermill (lean)",
is papermill's CLI with the same module marked absent — mlnb's engine against papermill's
on equal terms. Then the start-up of each command (`--version`, 5 times each,
alternating). Target (issue 15): `mlnb run` no slower than papermill. The last line is JSON.
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

REPEATS = 5
ROOT = Path(__file__).resolve().parent.parent
#: papermill's CLI with jsonschema's optional rfc3987_syntax marked absent, as the mlnb
#: command marks it (see mlnb.pipeline.lean): the two engines on equal terms
LEAN_PAPERMILL = [
    sys.executable,
    "-c",
    "import sys; sys.modules['rfc3987_syntax'] = None; "
    "from papermill.cli import papermill; papermill(prog_name='papermill')",
]


def write_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("n = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "import math\ntotal = sum(math.sqrt(i) for i in range(10_000 * n))"
        ),
        nbformat.v4.new_code_cell("print(total)"),
        nbformat.v4.new_code_cell("squares = [i * i for i in range(n)]\nsquares"),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=cwd, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    bindir = Path(sys.executable).parent
    papermill = (
        [str(bindir / "papermill")]
        if (bindir / "papermill").exists()
        else [sys.executable, "-m", "papermill"]
    )
    mlnb = [sys.executable, "-m", "mlnb.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env["MLNB_HOME"] = str(folder / "store")
        nb = folder / "bench.ipynb"
        write_notebook(nb)
        commands = {
            "papermill": [*papermill, str(nb), str(folder / "pm.ipynb"), "-p", "n", "3"],
            "mlnb run": [*mlnb, "run", str(nb), str(folder / "ml.ipynb"), "-p", "n", "3"],
            "papermill (lean)": [
                *LEAN_PAPERMILL,
                str(nb),
                str(folder / "pl.ipynb"),
                "-p",
                "n",
                "3",
            ],
        }
        versions = {"papermill": [*papermill, "--version"], "mlnb": [*mlnb, "--version"]}
        for cmd in commands.values():  # warm the file cache once each
            timed(cmd, env, folder)
        runs: dict[str, list[float]] = {name: [] for name in commands}
        starts: dict[str, list[float]] = {name: [] for name in versions}
        for _ in range(REPEATS):
            for name, cmd in commands.items():
                runs[name].append(timed(cmd, env, folder))
            for name, cmd in versions.items():
                starts[name].append(timed(cmd, env, folder))
    run_med = {k: statistics.median(v) for k, v in runs.items()}
    start_med = {k: statistics.median(v) for k, v in starts.items()}
    run_ratio = run_med["mlnb run"] / run_med["papermill"]
    lean_ratio = run_med["mlnb run"] / run_med["papermill (lean)"]
    start_ratio = start_med["mlnb"] / start_med["papermill"]
    print(f"one notebook, median of {REPEATS} (alternating, fresh process and kernel each):")
    for name, value in run_med.items():
        print(f"  {name:16s} {value:6.2f} s   runs: {', '.join(f'{t:.2f}' for t in runs[name])}")
    print(f"  mlnb run / papermill = {run_ratio:.2f} (target <= 1.0)")
    print(f"  mlnb run / papermill (lean) = {lean_ratio:.2f} (both without rfc3987_syntax)")
    print("start-up (--version), median:")
    for name, value in start_med.items():
        print(f"  {name:10s} {value * 1000:6.0f} ms")
    print(f"  mlnb / papermill = {start_ratio:.2f}")
    print(
        json.dumps(
            {
                "run_s": run_med,
                "run_ratio": round(run_ratio, 3),
                "run_ratio_lean": round(lean_ratio, 3),
                "load_average": round(os.getloadavg()[0], 2),
                "version_s": start_med,
                "version_ratio": round(start_ratio, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
