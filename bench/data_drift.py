"""Benchmark: mlnb's profile + drift comparison against Evidently's data-drift report.

Same data on both sides: ``ROWS`` rows × 50 columns (25 numeric, 25 categorical
string columns), reference and current drawn with one seed; in the current data
5 numeric columns are shifted by half a standard deviation and 5 categorical
columns move 20 points of share onto one value — the columns "shifted on purpose".

* mlnb: ``mlnb.data.compare(reference, current)`` — which profiles both frames
  (counts, missing, unique, quantiles, histograms, top values) and measures every
  column's drift — timed over several repetitions in this process.
* Evidently: ``Report([DataDriftPreset()]).run(...)`` on the same data, built and
  timed inside a separate virtual environment's Python (Evidently pins its own
  pandas), by re-running this file there with ``--peer``. Set ``EVIDENTLY_PYTHON``
  to that interpreter (default ``/tmp/evidently-venv/bin/python``).

One Evidently report is first run at full size; if it does not finish within
``PEER_LIMIT_S`` (5 minutes), both tools are measured again at ``FALLBACK_ROWS``
rows and the ratio is taken there (the output says so). Otherwise the remaining
repetitions run at full size too.
The last line is the ratio of the medians.

Run: ``python bench/data_drift.py [--rows N] [--reps R]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = 50
SHIFTED = 5
PEER_LIMIT_S = 300
FALLBACK_ROWS = 100_000
EVIDENTLY_PYTHON = os.environ.get("EVIDENTLY_PYTHON", "/tmp/evidently-venv/bin/python")
CATEGORIES = np.array([f"value_{i:02d}" for i in range(20)])


def make_data(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current frames; the first SHIFTED numeric and categorical columns drift."""
    rng = np.random.default_rng(seed)
    reference: dict[str, object] = {}
    current: dict[str, object] = {}
    uniform = np.full(20, 1 / 20)
    moved = np.append(0.25, np.full(19, 0.75 / 19))  # value_00: 5% → 25%
    for i in range(COLUMNS // 2):
        scale = 1 + i % 4
        reference[f"num_{i:02d}"] = rng.normal(10 * i, scale, rows)
        shift = 0.5 * scale if i < SHIFTED else 0.0
        current[f"num_{i:02d}"] = rng.normal(10 * i + shift, scale, rows)
    for i in range(COLUMNS - COLUMNS // 2):
        reference[f"cat_{i:02d}"] = CATEGORIES[rng.choice(20, rows, p=uniform)]
        p = moved if i < SHIFTED else uniform
        current[f"cat_{i:02d}"] = CATEGORIES[rng.choice(20, rows, p=p)]
    ref = pd.DataFrame(reference)
    cur = pd.DataFrame(current)
    for frame in (ref, cur):
        for name in frame.columns:
            if name.startswith("cat_"):
                frame[name] = frame[name].astype(str)
    return ref, cur


def shifted_columns() -> list[str]:
    return [f"num_{i:02d}" for i in range(SHIFTED)] + [f"cat_{i:02d}" for i in range(SHIFTED)]


def run_mlnb(rows: int, reps: int) -> dict[str, object]:
    from mlnb.data import compare

    ref, cur = make_data(rows)
    times = []
    report = None
    for _ in range(reps):
        start = time.perf_counter()
        report = compare(ref, cur)
        times.append(time.perf_counter() - start)
    assert report is not None
    return {
        "times": times,
        "drift": {name: bool(c.drift) for name, c in report.columns.items()},
        "values": {name: c.value for name, c in report.columns.items()},
    }


def run_evidently(rows: int, reps: int) -> dict[str, object]:
    """Runs inside the Evidently virtual environment (``--peer``)."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    ref, cur = make_data(rows)
    definition = DataDefinition(
        numerical_columns=[c for c in ref.columns if c.startswith("num_")],
        categorical_columns=[c for c in ref.columns if c.startswith("cat_")],
    )
    times = []
    snapshot = None
    for _ in range(reps):
        start = time.perf_counter()
        snapshot = Report([DataDriftPreset()]).run(
            current_data=Dataset.from_pandas(cur, data_definition=definition),
            reference_data=Dataset.from_pandas(ref, data_definition=definition),
        )
        times.append(time.perf_counter() - start)
    drift, values, methods = {}, {}, {}
    for metric in snapshot.dict()["metrics"]:  # type: ignore[union-attr]
        config = metric["config"]
        if config.get("type", "").endswith("ValueDrift"):
            name = config["column"]
            values[name] = float(metric["value"])
            # Evidently's distance tests flag drift when the score reaches the threshold
            drift[name] = values[name] >= float(config["threshold"])
            methods[name] = config["method"]
    import evidently

    return {
        "times": times,
        "drift": drift,
        "values": values,
        "methods": sorted(set(methods.values())),
        "version": evidently.__version__,
        "pandas": pd.__version__,
    }


def peer(rows: int, reps: int, limit_s: float) -> dict[str, object] | str:
    """Evidently's figures from its own interpreter, or why there are none."""
    if not Path(EVIDENTLY_PYTHON).exists():
        return f"no Evidently interpreter at {EVIDENTLY_PYTHON} (create it: python3 -m venv /tmp/evidently-venv && /tmp/evidently-venv/bin/pip install evidently 'pandas<3')"
    command = [EVIDENTLY_PYTHON, __file__, "--peer", "--rows", str(rows), "--reps", str(reps)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit_s, env=env)
    except subprocess.TimeoutExpired:
        return f"timeout: {reps} Evidently report(s) at {rows:,} rows did not finish within {limit_s:.0f} s"
    if done.returncode != 0:
        return f"Evidently failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def agreement(
    ours: dict[str, bool], theirs: dict[str, bool], names: list[str]
) -> tuple[int, list[str]]:
    differ = [n for n in names if ours.get(n) != theirs.get(n)]
    return len(names) - len(differ), differ


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        print(json.dumps(run_evidently(args.rows, args.reps)))
        return 0

    print(
        f"data: {args.rows:,} rows × {COLUMNS} columns (25 numeric, 25 categorical), {SHIFTED}+{SHIFTED} shifted on purpose"
    )
    print(f"cpus: {os.cpu_count()}, load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    ours = run_mlnb(args.rows, args.reps)
    mlnb_median = statistics.median(ours["times"])  # type: ignore[arg-type]
    print(
        f"mlnb profile + compare: median {mlnb_median:.2f} s over {args.reps} ({', '.join(f'{t:.2f}' for t in ours['times'])})"
    )  # type: ignore[union-attr]
    rows = args.rows
    # one report first, within the limit; the other repetitions only if it fits
    theirs = peer(rows, 1, PEER_LIMIT_S)
    if isinstance(theirs, dict) and args.reps > 1:
        more = peer(rows, args.reps - 1, PEER_LIMIT_S * args.reps)
        if isinstance(more, dict):
            theirs["times"] = theirs["times"] + more["times"]  # type: ignore[operator]
    if isinstance(theirs, str) and theirs.startswith("timeout") and rows > FALLBACK_ROWS:
        print(f"evidently: {theirs}; measuring both at {FALLBACK_ROWS:,} rows instead")
        rows = FALLBACK_ROWS
        ours = run_mlnb(rows, args.reps)
        mlnb_median = statistics.median(ours["times"])  # type: ignore[arg-type]
        print(
            f"mlnb profile + compare at {rows:,} rows: median {mlnb_median:.2f} s over {args.reps} "
            f"({', '.join(f'{t:.2f}' for t in ours['times'])})"  # type: ignore[union-attr]
        )
        theirs = peer(rows, args.reps, PEER_LIMIT_S * args.reps)
    if isinstance(theirs, str):
        print(f"evidently: skipped — {theirs}")
        print(f"ratio: not measured (mlnb median {mlnb_median:.2f} s)")
        return 0
    peer_median = statistics.median(theirs["times"])  # type: ignore[arg-type]
    print(
        f"evidently {theirs['version']} (pandas {theirs['pandas']}) DataDriftPreset at {rows:,} rows: "
        f"median {peer_median:.2f} s over {args.reps} ({', '.join(f'{t:.2f}' for t in theirs['times'])}); "  # type: ignore[union-attr]
        f"methods: {', '.join(theirs['methods'])}"  # type: ignore[arg-type]
    )
    names = list(ours["drift"])  # type: ignore[arg-type]
    agree_shifted, differ_shifted = agreement(ours["drift"], theirs["drift"], shifted_columns())  # type: ignore[arg-type]
    agree_all, differ_all = agreement(ours["drift"], theirs["drift"], names)  # type: ignore[arg-type]
    flagged = [n for n in names if ours["drift"][n]]  # type: ignore[index]
    print(f"mlnb drifting columns: {', '.join(flagged) or 'none'}")
    print(
        f"verdicts agree on {agree_shifted}/{len(shifted_columns())} columns shifted on purpose"
        f"{' (differ: ' + ', '.join(differ_shifted) + ')' if differ_shifted else ''}; "
        f"on {agree_all}/{len(names)} columns overall"
        f"{' (differ: ' + ', '.join(differ_all) + ')' if differ_all else ''}"
    )
    print(
        f"ratio at {rows:,} rows: evidently {peer_median:.2f} s / mlnb {mlnb_median:.2f} s = {peer_median / mlnb_median:.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
