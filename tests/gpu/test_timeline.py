"""The CUDA memory timeline on synthetic snapshots shaped like ``torch.cuda.memory._snapshot()``'s
(see its docstring and ``torch/cuda/_memory_viz.py``): curve, pre-existing blocks, lifetimes,
user frames, ranges, a million events, bad snapshots, and ``%gpu_timeline`` without CUDA."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from mlnb.exceptions import SnapshotError
from mlnb.gpu import timeline_view
from mlnb.gpu.timeline import load, timeline_from_snapshot, user_frames

MIB = 2**20
TORCH_FRAMES = [
    {"filename": "??", "line": 0, "name": "c10::cuda::CUDACachingAllocator::malloc"},
    {
        "filename": "/venv/lib/python3.11/site-packages/torch/nn/modules/linear.py",
        "line": 125,
        "name": "forward",
    },
    {
        "filename": "/venv/lib/python3.11/site-packages/torch/nn/modules/module.py",
        "line": 1750,
        "name": "_call_impl",
    },
]


def user(name: str, line: int) -> list[dict]:
    return [
        *TORCH_FRAMES,
        {"filename": "/tmp/ipykernel_42/3141592.py", "line": line, "name": name},
        {"filename": "/home/me/train.py", "line": 7, "name": "main"},
    ]


def event(action: str, addr: int, size: int, t: int, frames=None) -> dict:
    return {
        "action": action,
        "addr": addr,
        "size": size,
        "stream": 0,
        "time_us": t,
        "frames": frames if frames is not None else [],
    }


def free(addr: int, size: int, t: int) -> list[dict]:
    return [event("free_requested", addr, size, t), event("free_completed", addr, size, t + 1)]


def snapshot(trace: list[dict], blocks: list[dict] = ()) -> dict:
    return {
        "segments": [
            {"device": 0, "address": 0, "total_size": 1 << 40, "stream": 0, "blocks": list(blocks)}
        ],
        "device_traces": [trace],
    }


def small_snapshot() -> dict:
    """A 64 MiB block from before recording, then: a (100 MiB), b (300 MiB), free a, c (50 MiB)."""
    trace = [
        event("segment_alloc", 0x1000, 512 * MIB, 900),
        event("alloc", 0x1000, 100 * MIB, 1_000, user("embed", 3)),
        event("alloc", 0x9000, 300 * MIB, 2_000, user("forward", 11)),
        *free(0x1000, 100 * MIB, 3_000),
        event("alloc", 0x5000, 50 * MIB, 4_000, user("loss", 20)),
        event("oom", 0, 8 << 30, 4_500),
    ]
    blocks = [
        {
            "address": 0x100,
            "size": 64 * MIB,
            "state": "active_allocated",
            "frames": user("load_model", 1),
        },
        {"address": 0x9000, "size": 300 * MIB, "state": "active_allocated", "frames": []},
        {"address": 0x5000, "size": 50 * MIB, "state": "active_allocated", "frames": []},
        {"address": 0x1000, "size": 100 * MIB, "state": "inactive"},
    ]
    return snapshot(trace, blocks)


def test_curve_counts_allocations_and_the_memory_held_before_recording():
    tl = timeline_from_snapshot(small_snapshot())
    assert tl.device == 0 and tl.duration_us == 3_600
    assert (tl.allocated // MIB).tolist() == [64, 164, 464, 464, 364, 414, 414]
    assert tl.peak == 464 * MIB


def test_largest_allocations_with_lifetimes_and_user_frames():
    tl = timeline_from_snapshot(small_snapshot())
    top = tl.largest(3)
    assert [(a.size // MIB, a.start_us, a.end_us) for a in top] == [
        (300, 1_100, None),
        (100, 100, 2_101),
        (64, None, None),
    ]
    assert top[0].frames == ("3141592.py:11 in forward", "train.py:7 in main")
    # only what is alive in the range: after a was freed, before c
    later = tl.largest(10, start_us=2_500, end_us=2_900)
    assert [a.size // MIB for a in later] == [300, 64]


def test_user_frames_leave_out_torch_libraries_and_cpp():
    assert user_frames(TORCH_FRAMES) == ()
    assert user_frames(user("step", 5), limit=1) == ("3141592.py:5 in step",)


def test_view_text_html_and_the_range_slider():
    tl = timeline_from_snapshot(small_snapshot())
    whole = timeline_view.view(tl, top=2)
    assert whole.text().startswith("cuda:0: 0.000 s – 0.004 s, peak 464.0 MiB allocated (7 events")
    assert "<svg" in whole.html() and "3141592.py:11 in forward" in whole.html()
    box = timeline_view.widget(tl, top=5)
    slider, shown = box.children
    assert "100.0 MiB" in shown.value
    slider.value = (0.0025, 0.0029)  # seconds: a was freed at 0.0021 s
    assert "100.0 MiB" not in shown.value and "300.0 MiB" in shown.value


def synthetic_trace(events: int, seed: int = 0) -> tuple[dict, int, int]:
    """``events`` alloc/free events over 2,000 addresses; the final and peak bytes allocated."""
    rng = np.random.default_rng(seed)
    live: dict[int, int] = {}
    trace: list[dict] = []
    frames = user("step", 9)
    total = peak = 0
    addresses = rng.integers(0, 2_000, events).tolist()
    sizes = (rng.integers(1, 64, events) * MIB).tolist()
    for t, (addr, size) in enumerate(zip(addresses, sizes, strict=True)):
        if addr in live:
            trace.append(event("free_completed", addr, live.pop(addr), t))
            total -= trace[-1]["size"]
        else:
            live[addr] = size
            trace.append(event("alloc", addr, size, t, frames))
            total += size
            peak = max(peak, total)
    blocks = [{"address": a, "size": s, "state": "active_allocated"} for a, s in live.items()]
    return snapshot(trace, blocks), total, peak


def test_a_million_events():
    snap, final, peak = synthetic_trace(1_000_000)
    tl = timeline_from_snapshot(snap)
    assert int(tl.allocated[-1]) == final and tl.peak == peak
    times, values = tl.curve(points=1000)
    assert len(times) == 1000 and int(values.max()) == peak  # thinning keeps the peak
    top = tl.largest(10)
    assert len(top) == 10 and top[0].size == int(tl.sizes.max())
    assert "3141592.py:9 in step" in timeline_view.view(tl).html()


def test_bad_snapshots_are_one_sentence(tmp_path):
    with pytest.raises(SnapshotError, match="expected a dict with 'device_traces'"):
        timeline_from_snapshot({"segments": []})
    with pytest.raises(SnapshotError, match="no recorded events for device 3"):
        timeline_from_snapshot(small_snapshot(), device=3)
    with pytest.raises(SnapshotError, match="cannot read the snapshot"):
        load(tmp_path / "missing.pickle")
    (tmp_path / "junk.pickle").write_bytes(b"not a pickle")
    with pytest.raises(SnapshotError, match="is not a pickled memory snapshot"):
        load(tmp_path / "junk.pickle")
    path = tmp_path / "snap.pickle"
    path.write_bytes(pickle.dumps(small_snapshot()))
    assert load(path).peak == 464 * MIB


@pytest.mark.kernel
def test_gpu_timeline_without_cuda_is_one_sentence(kernel, cell_text, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: tests/gpu/test_attribution_cuda.py covers it")
    path = tmp_path / "snap.pickle"
    path.write_bytes(pickle.dumps(small_snapshot()))
    nb = kernel(
        [
            "%load_ext mlnb",
            "%gpu_timeline start",
            "%gpu_timeline stop",
            f"%gpu_timeline load {path} --top 2",
            "%gpu_timeline load",
        ],
        allow_errors=True,
    )
    out = [cell_text(cell).strip() for cell in nb.cells]
    sentence = "UsageError: the CUDA memory timeline needs a CUDA device, and torch sees none on this machine."
    assert out[1] == sentence and out[2] == sentence
    widget = [
        o
        for o in nb.cells[3].outputs
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widget
    assert out[4] == "UsageError: %gpu_timeline load needs the snapshot's path."
