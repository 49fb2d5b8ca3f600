"""Cold cost of `%load_ext mlnb` vs `import mlflow` / `import wandb`, and `--every-cell` per-cell cost.

Each cold measurement is a fresh interpreter that times only the statement under
test (the interpreter and the IPython shell are started before the clock runs).
Prints the median of each, then the ratios; the last line is the headline ratio.
Targets (issue 2): load_ext <= 1/10 of the lighter peer; every-cell <= 1 ms median.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
import time

REPEATS = 7
CELLS = 1000

PROBES = {
    "%load_ext mlnb": (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "import time\nt = time.perf_counter()\nip.run_line_magic('load_ext', 'mlnb')\n"
        "print(time.perf_counter() - t)"
    ),
    "import mlflow": "import time\nt = time.perf_counter()\nimport mlflow\nprint(time.perf_counter() - t)",
    "import wandb": "import time\nt = time.perf_counter()\nimport wandb\nprint(time.perf_counter() - t)",
}


def cold(code: str) -> float:
    """Median seconds of ``code``'s own timing over fresh interpreters."""
    samples = []
    for _ in range(REPEATS):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


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


def main() -> None:
    medians = {}
    for label, code in PROBES.items():
        peer = label.split()[-1]
        if label.startswith("import") and importlib.util.find_spec(peer) is None:
            print(f"{label:16s} skipped: {peer} is not installed (pip install 'mlnb[bench]')")
            continue
        medians[label] = cold(code)
        print(
            f"{label:16s} median {medians[label] * 1e3:8.1f} ms over {REPEATS} fresh interpreters"
        )
    cells = every_cell_cost()
    added = cells["on"] - cells["off"]
    print(
        f"trivial cell     median {cells['off'] * 1e3:.3f} ms off, {cells['on'] * 1e3:.3f} ms with --every-cell "
        f"over {CELLS} cells: +{added * 1e3:.3f} ms per cell (target <= 1 ms)"
    )
    ours = medians["%load_ext mlnb"]
    peers = {k: v for k, v in medians.items() if k != "%load_ext mlnb"}
    for label, value in peers.items():
        print(f"ratio load_ext / {label}: {ours / value:.4f} ({value / ours:.0f}x lighter)")
    if peers:
        lighter = min(peers, key=peers.get)
        print(
            json.dumps(
                {
                    "load_ext_ms": round(ours * 1e3, 2),
                    "lighter_peer": lighter,
                    "ratio_vs_lighter_peer": round(ours / peers[lighter], 4),
                    "every_cell_added_ms": round(added * 1e3, 4),
                }
            )
        )
    else:
        print(
            json.dumps(
                {"load_ext_ms": round(ours * 1e3, 2), "every_cell_added_ms": round(added * 1e3, 4)}
            )
        )


if __name__ == "__main__":
    main()
