"""Cost of `%load_ext mlnb` vs `import wandb` / `import mlflow`, and `--every-cell` per-cell cost.

Two measurements of the extension, each over fresh interpreters:

* whole process, paired: each repetition starts a bare IPython shell, the same shell
  plus ``%load_ext mlnb``, a bare ``python -c pass`` and ``python -c "import wandb"``
  (and mlflow), one after the other; the cost is the median of the per-pair
  differences (shell + load_ext − bare shell; python + import − bare python), so
  the machine's load at that moment cancels out.
* in process: the interpreter and the shell start before the clock, which times only
  ``%load_ext mlnb`` (or the import).

Targets (issue 20): load_ext ≤ 25 ms over a bare shell and ≤ 0.05 of ``import wandb``;
every-cell ≤ 1 ms a cell. The last line is JSON.

Usage: ``python bench/load_ext.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CELLS = 1000

SHELL = (
    "from IPython.core.interactiveshell import InteractiveShell\nip = InteractiveShell.instance()\n"
)
PROCESSES = {
    "bare shell": SHELL,
    "shell + %load_ext mlnb": SHELL + "ip.run_line_magic('load_ext', 'mlnb')\n",
    "bare python": "pass\n",
    "import wandb": "import wandb\n",
    "import mlflow": "import mlflow\n",
}
IN_PROCESS = {
    "%load_ext mlnb": SHELL
    + "import time\nt = time.perf_counter()\nip.run_line_magic('load_ext', 'mlnb')\n"
    "print(time.perf_counter() - t)",
    "import wandb": "import time\nt = time.perf_counter()\nimport wandb\nprint(time.perf_counter() - t)",
    "import mlflow": "import time\nt = time.perf_counter()\nimport mlflow\nprint(time.perf_counter() - t)",
}


def _env() -> dict[str, str]:
    """This checkout first on the path, so the processes import the mlnb being measured."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("WANDB_SILENT", "true")
    return env


def wall(code: str) -> float:
    """Seconds a fresh interpreter takes to run ``code`` and exit."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env=_env())
    return time.perf_counter() - started


def own_timing(code: str) -> float:
    """The seconds ``code`` prints (its own timing inside a fresh interpreter)."""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_env()
    )
    return float(out.stdout.strip().splitlines()[-1])


def every_cell_cost() -> dict[str, float]:
    """Median wall time per trivial cell with --every-cell off and on (numpy + torch loaded)."""
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "mlnb")
    ip.run_cell("import numpy, torch")
    ip.run_line_magic("seed", "1 -q")

    def per_cell() -> list[float]:
        times = []
        for i in range(CELLS):
            started = time.perf_counter()
            ip.run_cell(f"x = {i}", store_history=False)
            times.append(time.perf_counter() - started)
        return times

    per_cell()  # warm up
    off = per_cell()
    ip.run_line_magic("seed", "1 --every-cell -q")
    on = per_cell()
    ip.run_line_magic("seed", "--off -q")
    return {"off": statistics.median(off), "on": statistics.median(on)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    peers = [p for p in ("wandb", "mlflow") if importlib.util.find_spec(p) is not None]
    for peer in {"wandb", "mlflow"} - set(peers):
        print(f"import {peer}: skipped, {peer} is not installed (pip install 'mlnb[bench]')")
    labels = [k for k in PROCESSES if not k.startswith("import ") or k.split()[1] in peers]
    for label in labels:  # warm the file cache: the first start of each reads from disk
        wall(PROCESSES[label])
    samples: dict[str, list[float]] = {label: [] for label in labels}
    for repetition in range(args.repeat):
        order = labels if repetition % 2 == 0 else labels[::-1]
        for label in order:
            samples[label].append(wall(PROCESSES[label]))
    diffs = {
        "%load_ext mlnb": [
            a - b
            for a, b in zip(samples["shell + %load_ext mlnb"], samples["bare shell"], strict=True)
        ],
        **{
            f"import {peer}": [
                a - b
                for a, b in zip(samples[f"import {peer}"], samples["bare python"], strict=True)
            ]
            for peer in peers
        },
    }
    print(f"whole process, medians of {args.repeat} paired fresh interpreters:")
    for label in labels:
        print(f"  {label:24s} {statistics.median(samples[label]) * 1e3:8.1f} ms")
    added = {label: statistics.median(values) for label, values in diffs.items()}
    for label, value in added.items():
        base = "a bare shell" if label.startswith("%") else "a bare python"
        print(f"  {label:24s} {value * 1e3:+8.1f} ms over {base} (median of the pairs)")
    own = {}
    for label, code in IN_PROCESS.items():
        if label.startswith("import ") and label.split()[1] not in peers:
            continue
        own[label] = statistics.median(own_timing(code) for _ in range(max(3, args.repeat // 2)))
        print(f"in process: {label:16s} {own[label] * 1e3:8.1f} ms (median)")
    cells = every_cell_cost()
    every_cell = cells["on"] - cells["off"]
    print(
        f"trivial cell     median {cells['off'] * 1e3:.3f} ms off, {cells['on'] * 1e3:.3f} ms with "
        f"--every-cell over {CELLS} cells: +{every_cell * 1e3:.3f} ms per cell (target <= 1 ms)"
    )
    result: dict[str, object] = {
        "load_ext_added_ms": round(added["%load_ext mlnb"] * 1e3, 1),
        "load_ext_in_process_ms": round(own["%load_ext mlnb"] * 1e3, 2),
        "every_cell_added_ms": round(every_cell * 1e3, 4),
        "load_average": round(os.getloadavg()[0], 2),
    }
    for peer in peers:
        ratio = added["%load_ext mlnb"] / added[f"import {peer}"]
        in_process = own["%load_ext mlnb"] / own[f"import {peer}"]
        print(
            f"ratio load_ext / import {peer}: {ratio:.4f} whole process, "
            f"{in_process:.4f} in process (target <= 0.05)"
        )
        result[f"ratio_vs_{peer}"] = round(ratio, 4)
        result[f"ratio_vs_{peer}_in_process"] = round(in_process, 4)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
