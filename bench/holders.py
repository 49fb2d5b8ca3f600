"""``holders()`` over a 10,000-object namespace vs the usual ``gc.get_objects()`` tensor scan.

The peer is the snippet notebooks copy from the PyTorch forums to find live tensors —
walk every object the garbage collector tracks and keep the tensors. It cannot say
which variable holds what and counts views of one storage twice; ``holders()``
attributes storage to variable names and counts each storage once. Same namespace,
same process, interleaved repetitions; prints the median of each and the ratio last.
Target: ``holders()`` ≤ 50 ms.

Run: ``python bench/holders.py [--repeats 7]``
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
import warnings


def build_namespace(torch):
    """10,000 variables: tensors, views, containers, small modules, plain Python values."""

    class Record:
        def __init__(self, i):
            self.step = i
            self.note = f"r{i}"

    namespace = {}
    base = torch.zeros(1000, 256)
    for i in range(10_000):
        kind = i % 20
        if kind < 2:
            value = torch.randn(64)  # 1,000 tensors
        elif kind == 2:
            value = base[i % 1000]  # 500 views of one storage
        elif kind == 3:
            value = [torch.ones(8), torch.ones(8), i]  # 500 lists holding tensors
        elif kind == 4:
            value = {"w": torch.ones(4), "meta": {"i": i}}  # 500 nested dicts
        elif kind == 5 and i % 100 == 5:
            value = torch.nn.Linear(16, 16)  # 100 modules
        elif kind in (6, 7):
            value = Record(i)
        elif kind in (8, 9):
            value = list(range(10))
        elif kind in (10, 11):
            value = f"string {i}"
        else:
            value = i * 0.5
        namespace[f"v{i}"] = value
    return namespace


def gc_scan(torch):
    """The forum snippet: every tensor the garbage collector knows about."""
    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for obj in gc.get_objects():
            try:
                if torch.is_tensor(obj) or (hasattr(obj, "data") and torch.is_tensor(obj.data)):
                    found.append(obj)
            except Exception:
                pass
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import torch

    from mlnb.gpu import holders

    namespace = build_namespace(torch)
    start = time.perf_counter()
    holders(namespace, allocated={})
    first = time.perf_counter() - start

    mlnb_times, peer_times, mlnb_cpu, peer_cpu = [], [], [], []
    for _ in range(args.repeats):
        start, cpu = time.perf_counter(), time.process_time()
        report = holders(namespace, allocated={})
        mlnb_times.append(time.perf_counter() - start)
        mlnb_cpu.append(time.process_time() - cpu)
        start, cpu = time.perf_counter(), time.process_time()
        tensors = gc_scan(torch)
        peer_times.append(time.perf_counter() - start)
        peer_cpu.append(time.process_time() - cpu)

    mlnb_median, peer_median = statistics.median(mlnb_times), statistics.median(peer_times)
    mlnb_cpu_median, peer_cpu_median = statistics.median(mlnb_cpu), statistics.median(peer_cpu)
    naive_bytes = sum(t.element_size() * t.numel() for t in tensors if isinstance(t, torch.Tensor))
    print(f"namespace: {len(namespace)} variables; gc tracks {len(gc.get_objects())} objects")
    print(f"  first call (includes backend selection): {first * 1e3:.1f} ms")
    print(
        f"  mlnb holders():      median {mlnb_median * 1e3:.1f} ms  "
        f"({len(report.holders)} holding variables, {report.reachable.get('cpu', 0)} bytes, storages once)"
    )
    print(
        f"  gc.get_objects scan: median {peer_median * 1e3:.1f} ms  "
        f"({len(tensors)} tensors, {naive_bytes} bytes by element count, no variable names)"
    )
    print(
        f"  process CPU time (less sensitive to a busy machine): holders() {mlnb_cpu_median * 1e3:.1f} ms, "
        f"gc scan {peer_cpu_median * 1e3:.1f} ms; load average {os.getloadavg()[0]:.2f}"
    )
    print(f"  target: holders() <= 50 ms wall -> {'met' if mlnb_median <= 0.050 else 'MISSED'}")
    print(f"ratio: holders() takes {mlnb_median / peer_median:.2f}x the time of the gc scan")


if __name__ == "__main__":
    main()
