"""Benchmark: streamed drift and profile of two large Parquet files, time and peak memory.

Data (generated once, cached under ``bench/out/data_drift_large/``, in row groups of
100,000 rows so that generating stays under 1 GB): ``--rows`` rows × ``--columns``
columns, of which ``CATEGORICAL`` are dictionary-encoded text and the rest float32
normals (various means and scales, rounded to 0.01 so the files compress to about a
third; every 50th column 5% missing). In the current file, numeric columns 0–4 are
shifted by half a standard deviation, 5–9 widened 1.5×, and categorical columns
0–2 move 15 points of share onto one value: the columns drifted on purpose.

* mlnb: ``mlnb data drift REF CUR --stream --json`` and ``mlnb data profile CUR
  --stream --json``, each a subprocess; wall time and its peak RSS (``wait4``).
  Goal (issue 20): 3,000,000 × 1,000 in ≤ 300 s and ≤ 4 GB.
* The peer: no Evidently in this environment, so what a notebook user does by hand —
  pandas ``read_parquet`` and a SciPy test per column (``ks_2samp`` for numeric,
  ``chi2_contingency`` for categorical) — in a subprocess, on a slice of the first
  ``--slice-rows`` rows (the full files need 2 × rows × columns × 4 bytes as float32
  frames). mlnb runs on the same slice, streamed and in memory; the streamed verdicts
  are checked against the in-memory ones column by column.

The last line is the ratio on the slice (peer time / mlnb streamed time).

Run: ``python bench/data_drift_large.py [--rows N] [--columns C]`` (default 3,000,000 × 1,000;
develop at ``--rows 300000 --columns 100``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out" / "data_drift_large"
CATEGORICAL = 20
CHUNK_ROWS = 100_000
CATEGORIES = np.array([f"value_{i:02d}" for i in range(12)])
GOAL_S, GOAL_BYTES = 300, 4 * 1024**3


def drifted(columns: int) -> list[str]:
    """The columns shifted on purpose in the current file."""
    return [f"num_{i:04d}" for i in range(10)] + [f"cat_{i:02d}" for i in range(3)]


def generate(path: Path, rows: int, columns: int, seed: int, current: bool) -> None:
    """Write one file in row groups of CHUNK_ROWS rows (skipped when already complete)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    done = path.with_suffix(".done")
    if path.exists() and done.exists():
        return
    rng = np.random.default_rng(seed)
    numeric = columns - CATEGORICAL
    loc = (np.arange(numeric) % 7).astype(np.float32)[:, None]
    scale = (1 + np.arange(numeric) % 3).astype(np.float32)[:, None]
    if current:
        loc[:5] += 0.5 * scale[:5]
        scale[5:10] *= 1.5
    base = np.full(len(CATEGORIES), 1 / len(CATEGORIES))
    moved = np.append(base[0] + 0.15, base[1:] - 0.15 / (len(CATEGORIES) - 1))
    dictionary = pa.array(CATEGORIES)
    writer = None
    start = time.perf_counter()
    for first in range(0, rows, CHUNK_ROWS):
        n = min(CHUNK_ROWS, rows - first)
        values = rng.standard_normal((numeric, n), dtype=np.float32) * scale + loc
        np.round(values, 2, out=values)
        values[::50, rng.random(n) < 0.05] = np.nan
        arrays = {f"num_{i:04d}": pa.array(values[i]) for i in range(numeric)}
        for i in range(CATEGORICAL):
            p = moved if current and i < 3 else base
            codes = rng.choice(len(CATEGORIES), n, p=p).astype(np.int32)
            arrays[f"cat_{i:02d}"] = pa.DictionaryArray.from_arrays(pa.array(codes), dictionary)
        table = pa.table(arrays)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="snappy")
        writer.write_table(table, row_group_size=CHUNK_ROWS)
        del values, arrays, table
    assert writer is not None
    writer.close()
    done.write_text(f"{rows} x {columns}\n")
    size = path.stat().st_size / 1e9
    print(f"generated {path.name}: {size:.2f} GB in {time.perf_counter() - start:.0f} s")


def write_slice(source: Path, target: Path, rows: int) -> None:
    """The first ``rows`` rows of ``source`` (whole row groups), as a file of their own."""
    import pyarrow.parquet as pq

    if target.exists():
        return
    file = pq.ParquetFile(source)
    groups = list(range(max(1, min(file.num_row_groups, rows // CHUNK_ROWS))))
    pq.write_table(file.read_row_groups(groups), target, compression="snappy")


def measured(command: list[str], output: Path) -> tuple[float, int, int, float]:
    """Run ``command`` with stdout to ``output``: wall seconds, peak RSS bytes, exit status
    and CPU seconds (user + system: what the run costs whatever else the machine runs)."""
    with output.open("w") as out:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss * 1024, child.returncode, usage.ru_utime + usage.ru_stime


PEER = """
import json, sys, time
import pandas as pd
from scipy import stats
start = time.perf_counter()
ref, cur = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
drift = {}
for name in ref.columns:
    a, b = ref[name].dropna(), cur[name].dropna()
    if name.startswith("num_"):
        p = stats.ks_2samp(a.to_numpy(), b.to_numpy()).pvalue
    else:
        table = pd.concat([a.value_counts(), b.value_counts()], axis=1).fillna(0).T
        p = stats.chi2_contingency(table.to_numpy()).pvalue
    drift[name] = bool(p < 0.05)
print(json.dumps({"seconds": time.perf_counter() - start, "drift": drift}))
"""


def mlnb(*args: str) -> list[str]:
    return [sys.executable, "-m", "mlnb.cli", "data", *args, "--json"]


def drifting(report: Path) -> dict[str, bool]:
    found = json.loads(report.read_text())
    return {c["column"]: bool(c["drift"]) for c in found["columns"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--columns", type=int, default=1000)
    parser.add_argument("--slice-rows", type=int, default=100_000)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    shape = f"{args.rows}x{args.columns}"
    ref, cur = OUT / f"ref_{shape}.parquet", OUT / f"cur_{shape}.parquet"
    generate(ref, args.rows, args.columns, seed=1, current=False)
    generate(cur, args.rows, args.columns, seed=2, current=True)
    gigabytes = (ref.stat().st_size + cur.stat().st_size) / 1e9
    print(
        f"data: {args.rows:,} rows × {args.columns:,} columns a file ({CATEGORICAL} categorical), {gigabytes:.1f} GB of Parquet on disk"
    )
    print(
        f"cpus: {os.cpu_count()}, load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )

    wall, rss, status, cpu = measured(
        mlnb("drift", str(ref), str(cur), "--stream", "--no-progress"), OUT / f"drift_{shape}.json"
    )
    verdicts = drifting(OUT / f"drift_{shape}.json") if status == 0 else {}
    flagged = sorted(name for name, d in verdicts.items() if d)
    print(
        f"mlnb data drift --stream: {wall:.1f} s, peak RSS {rss / 1024**3:.2f} GiB (goal ≤ {GOAL_S} s, ≤ 4 GiB): {'met' if wall <= GOAL_S and rss <= GOAL_BYTES else 'NOT met'}"
    )
    print(
        f"  CPU time {cpu:.0f} s (user + system; {cpu / (os.cpu_count() or 1):.0f} s of wall time on {os.cpu_count()} idle cores)"
    )
    expected = drifted(args.columns)
    if status == 0:
        print(f"  {json.loads((OUT / f'drift_{shape}.json').read_text())['notes'][0]}")
    print(
        f"  drifting: {len(flagged)} columns; the {len(expected)} drifted on purpose all found: {set(expected) <= set(flagged)}; others flagged: {sorted(set(flagged) - set(expected)) or 'none'}"
    )
    wall_p, rss_p, _, cpu_p = measured(
        mlnb("profile", str(cur), "--stream", "--no-progress"), OUT / f"profile_{shape}.json"
    )
    print(
        f"mlnb data profile --stream: {wall_p:.1f} s, peak RSS {rss_p / 1024**3:.2f} GiB, CPU time {cpu_p:.0f} s"
    )
    found = json.loads((OUT / f"profile_{shape}.json").read_text())["columns"]
    errors = sorted(c.get("rank_error", 0.0) for c in found if c["kind"] == "numeric")
    print(
        f"  quantile sketches' rank error bound: median {errors[len(errors) // 2]:.3%}, largest {errors[-1]:.3%}"
    )
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    ref_slice, cur_slice = (
        OUT / f"ref_{shape}_slice{args.slice_rows}.parquet",
        OUT / f"cur_{shape}_slice{args.slice_rows}.parquet",
    )
    write_slice(ref, ref_slice, args.slice_rows)
    write_slice(cur, cur_slice, args.slice_rows)
    s_wall, s_rss, _, s_cpu = measured(
        mlnb("drift", str(ref_slice), str(cur_slice), "--stream", "--no-progress"),
        OUT / "slice_stream.json",
    )
    m_wall, m_rss, _, _ = measured(
        mlnb("drift", str(ref_slice), str(cur_slice)), OUT / "slice_memory.json"
    )
    streamed, in_memory = drifting(OUT / "slice_stream.json"), drifting(OUT / "slice_memory.json")
    differ = [name for name in in_memory if streamed.get(name) != in_memory[name]]
    p_wall, p_rss, p_status, p_cpu = measured(
        [sys.executable, "-c", PEER, str(ref_slice), str(cur_slice)], OUT / "slice_peer.json"
    )
    print(f"slice of {args.slice_rows:,} rows × {args.columns:,} columns:")
    print(
        f"  mlnb streamed {s_wall:.1f} s (CPU {s_cpu:.0f} s, {s_rss / 1024**3:.2f} GiB); mlnb in memory {m_wall:.1f} s ({m_rss / 1024**3:.2f} GiB); verdicts equal on {len(in_memory) - len(differ)}/{len(in_memory)} columns{' (differ: ' + ', '.join(differ) + ')' if differ else ''}"
    )
    if p_status != 0:
        print(f"peer failed (exit {p_status}); ratio not measured")
        return 1
    print(
        f"  pandas read_parquet + scipy per column {p_wall:.1f} s (CPU {p_cpu:.0f} s, {p_rss / 1024**3:.2f} GiB)"
    )
    print(
        f"  at full size the peer's two float32 frames alone need {2 * args.rows * args.columns * 4 / 1024**3:.0f} GiB"
    )
    print(
        f"ratio on the slice: peer {p_wall:.1f} s / mlnb streamed {s_wall:.1f} s = {p_wall / s_wall:.2f}x "
        f"(CPU time {p_cpu:.0f} s / {s_cpu:.0f} s = {p_cpu / max(s_cpu, 1e-9):.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
