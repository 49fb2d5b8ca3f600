"""``%gpu_timeline``'s snapshot processing vs PyTorch's memory_viz on a 1M-event snapshot.

A synthetic snapshot shaped like ``torch.cuda.memory._snapshot()`` (alloc/free events
with Python frames over 2,000 addresses). mlnb turns it into arrays
(:func:`mlnb.gpu.timeline.timeline_from_snapshot`) and draws one bounded view (800
points, the 10 largest allocations with their frames); memory_viz's ``trace_plot``
embeds the whole snapshot in its HTML for the browser to decode and draw event by
event (that browser step, where it stalls, is not timed here: its page loads d3 from a
CDN). Prints the median time of each, the HTML sizes, and the ratios last.

Run: ``python bench/gpu_timeline.py [--events 1000000] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def synthetic_snapshot(events: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    frames = [
        {
            "filename": "/venv/lib/python3.11/site-packages/torch/nn/modules/linear.py",
            "line": 125,
            "name": "forward",
        },
        {"filename": "/tmp/ipykernel_1/123.py", "line": 9, "name": "train_step"},
    ]
    live: dict[int, int] = {}
    trace = []
    for t, (addr, size) in enumerate(
        zip(
            rng.integers(0, 2_000, events).tolist(),
            (rng.integers(1, 64, events) << 20).tolist(),
            strict=True,
        )
    ):
        if addr in live:
            trace.append(
                {
                    "action": "free_completed",
                    "addr": addr,
                    "size": live.pop(addr),
                    "stream": 0,
                    "time_us": t,
                    "frames": frames,
                }
            )
        else:
            live[addr] = size
            trace.append(
                {
                    "action": "alloc",
                    "addr": addr,
                    "size": size,
                    "stream": 0,
                    "time_us": t,
                    "frames": frames,
                }
            )
    blocks = [
        {"address": a, "size": s, "state": "active_allocated", "frames": frames}
        for a, s in live.items()
    ]
    return {
        "segments": [{"device": 0, "address": 0, "total_size": 1 << 40, "blocks": blocks}],
        "device_traces": [trace],
    }


def mlnb_view(snapshot: dict) -> str:
    from mlnb.gpu.timeline import timeline_from_snapshot
    from mlnb.gpu.timeline_view import view

    return view(timeline_from_snapshot(snapshot)).html()


def memory_viz(snapshot: dict) -> str:
    from torch.cuda import _memory_viz

    return _memory_viz.trace_plot(snapshot)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    snapshot = synthetic_snapshot(args.events)
    ours, theirs = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        ours_html = mlnb_view(snapshot)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        their_html = memory_viz(snapshot)
        theirs.append(time.perf_counter() - started)
    mine, peer = statistics.median(ours), statistics.median(theirs)
    print(f"{args.events:,} events, median of {args.repeats}")
    print(f"mlnb timeline + view:      {mine:.2f} s, HTML {len(ours_html) / 1e3:,.0f} kB (bounded)")
    print(
        f"memory_viz trace_plot:     {peer:.2f} s, HTML {len(their_html) / 1e6:,.1f} MB (every event, drawn in the browser)"
    )
    print(
        f"ratio time mlnb/memory_viz: {mine / peer:.2f}; HTML size memory_viz/mlnb: {len(their_html) / len(ours_html):,.0f}x"
    )


if __name__ == "__main__":
    main()
