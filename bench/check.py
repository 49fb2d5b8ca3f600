"""`mlnb check NB` (the fresh-run pass) vs a plain `papermill NB out.ipynb` of the same notebook.

One small saved notebook (the one bench/papermill_run.py runs: a parameters cell and three
short cells, saved with its outputs), checked and run as the two commands people type —
each a fresh process and a fresh kernel, alternating, REPEATS times each; the medians and
the ratio are printed. `mlnb check` does more than papermill: the static pass, the I/O audit
hook, the comparison of every cell; "papermill (lean)" is papermill without jsonschema's
optional rfc3987_syntax, which the mlnb command skips (see bench/papermill_run.py). Target
(issue 17): at most 1.2× papermill. The last line is JSON.

papermill runs with the environment as given (it imports the installed mlnb's papermill
engine entry point); `mlnb check` runs this checkout (PYTHONPATH).
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
TARGET = 1.2
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from papermill_run import LEAN_PAPERMILL, write_notebook  # noqa: E402  (bench/ is not a package)


def timed(cmd: list[str], env: dict[str, str], cwd: Path, ok: tuple[int, ...] = (0,)) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def main() -> None:
    env = dict(os.environ)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    check_env = dict(env)
    check_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    bindir = Path(sys.executable).parent
    papermill = (
        [str(bindir / "papermill")]
        if (bindir / "papermill").exists()
        else [sys.executable, "-m", "papermill"]
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        blank = folder / "blank.ipynb"
        saved = folder / "saved.ipynb"
        write_notebook(blank)
        timed([*papermill, str(blank), str(saved)], env, folder)  # the saved outputs
        nb = nbformat.read(str(saved), as_version=4)
        assert all(c.outputs for c in nb.cells[2:]), "the saved notebook has its outputs"
        commands = {
            "papermill": ([*papermill, str(saved), str(folder / "pm.ipynb")], env, (0,)),
            "mlnb check": (
                [sys.executable, "-m", "mlnb.cli", "check", str(saved)],
                check_env,
                (0,),
            ),
            "papermill (lean)": (
                [*LEAN_PAPERMILL, str(saved), str(folder / "pl.ipynb")],
                env,
                (0,),
            ),
        }
        for cmd, cmd_env, ok in commands.values():  # warm the file cache once each
            timed(cmd, cmd_env, folder, ok)
        runs: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(REPEATS):
            for name, (cmd, cmd_env, ok) in commands.items():
                runs[name].append(timed(cmd, cmd_env, folder, ok))
    medians = {k: statistics.median(v) for k, v in runs.items()}
    ratio = medians["mlnb check"] / medians["papermill"]
    lean_ratio = medians["mlnb check"] / medians["papermill (lean)"]
    print(f"one saved notebook, median of {REPEATS} (alternating, fresh process and kernel each):")
    for name, value in medians.items():
        print(f"  {name:16s} {value:6.2f} s   runs: {', '.join(f'{t:.2f}' for t in runs[name])}")
    print(f"  mlnb check / papermill = {ratio:.2f} (target <= {TARGET})")
    print(f"  mlnb check / papermill (lean) = {lean_ratio:.2f} (both without rfc3987_syntax)")
    print(
        json.dumps(
            {
                "seconds": medians,
                "ratio": round(ratio, 3),
                "ratio_lean": round(lean_ratio, 3),
                "target": TARGET,
                "load_average": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
