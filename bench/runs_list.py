"""The lab's runs list request on a store of 100,000 runs (target: ≤ 50 ms, issue 20).

Writes 100,000 realistic rows (config, summary, provenance) with one ``executemany``,
then times ``mlnb.server.data.list_runs`` — what the ``/mlnb/api/runs`` handler runs
in its worker thread — for the panel's poll (``limit=1000``), a small page, a later page,
a status and a project filter. Medians of ``--repeat`` calls, the page cache warm.
The HTTP round trip through Jupyter is timed by ``tests/server/test_large_store.py``.

Usage: ``python bench/runs_list.py [--runs N] [--repeat R]``
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import store_with_runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "store"
        started = time.perf_counter()
        store_with_runs(home, args.runs, notebook=str(home.parent / "train.ipynb"))
        print(f"store of {args.runs:,} runs written in {time.perf_counter() - started:.1f} s")
        os.environ["MLNB_HOME"] = str(home)
        from mlnb.server import data

        root = {"root": Path(tmp)}  # the server passes its root: paths are shown relative to it
        cases: dict[str, dict[str, object]] = {
            "poll (limit=1000)": {"limit": 1000, **root},
            "poll without a server root": {"limit": 1000},
            "page (limit=50)": {"limit": 50, **root},
            "later page (limit=1000, offset=50000)": {"limit": 1000, "offset": 50_000, **root},
            "status=failed (limit=1000)": {"limit": 1000, "status": "failed", **root},
            "project=project-3 (limit=1000)": {"limit": 1000, "project": "project-3", **root},
            "largest page (limit=5000)": {"limit": 5000, **root},
        }
        medians = {}
        for label, params in cases.items():
            data.list_runs(**params)  # type: ignore[arg-type]  # warm the page cache
            times = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                answer = data.list_runs(**params)  # type: ignore[arg-type]
                times.append(time.perf_counter() - began)
                assert answer["runs"] and answer["total"], answer["message"]
            medians[label] = statistics.median(times)
            size = len(json.dumps(answer))
            print(
                f"{label:40s} median {medians[label] * 1e3:7.1f} ms, best {min(times) * 1e3:6.1f} ms,"
                f" {len(answer['runs']):,} of {answer['total']:,} runs, {size / 1e6:.2f} MB JSON"
            )
    poll = medians["poll (limit=1000)"]
    print(
        f"poll {'meets' if poll <= 0.05 else 'misses'} the target of ≤ 50 ms: {poll * 1e3:.1f} ms"
    )
    print(
        json.dumps(
            {
                "load_average": round(os.getloadavg()[0], 2),
                **{label: round(value * 1e3, 1) for label, value in medians.items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
