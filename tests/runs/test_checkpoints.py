"""Checkpoints, the tqdm helper, the live plot and the system-metrics sampler."""

from __future__ import annotations

import io
import itertools
import math
import time
import warnings
from pathlib import Path

import pytest

import mlnb
from mlnb.exceptions import InvalidArgumentError, MlnbWarning, NoActiveRunError
from mlnb.runs import LivePlot, progress
from mlnb.runs.sysmetrics import SystemSampler


def test_checkpoints_keep_the_best_k(home: Path) -> None:
    import torch

    run = mlnb.start("ckpt", system_interval=None)
    saved = []
    for step, loss in enumerate([0.9, 0.5, math.nan, 0.7, 0.2, 0.95]):
        run.log({"val/loss": loss}, step=step)
        saved.append(
            run.save_checkpoint({"w": torch.full((2,), float(step))}, metric="val/loss", keep=2)
        )
    assert saved[2] is None or math.isnan(saved[2].value)
    assert saved[5] is None  # worse than the two kept
    kept = [c for c in run.store.artifacts(run.id, kind="checkpoint")]
    assert sorted(c.meta["value"] for c in kept) == [0.2, 0.5]
    files = sorted((run.run_dir() / "checkpoints").iterdir())
    assert len(files) == 2
    best = run.best_checkpoint()
    assert best.value == 0.2 and best.step == 4 and best.metric == "val/loss"
    assert best.load()["w"].tolist() == [4.0, 4.0]
    run.finish()


def test_checkpoint_bad_input(home: Path) -> None:
    run = mlnb.start("ckpt", system_interval=None)
    with pytest.raises(InvalidArgumentError, match=r"mode must be 'min' or 'max', got 'best'\."):
        run.save_checkpoint({}, metric="loss", value=1.0, mode="best")
    with pytest.raises(InvalidArgumentError, match=r"keep must be a whole number ≥ 1, got 0\."):
        run.save_checkpoint({}, metric="loss", value=1.0, keep=0)
    with pytest.raises(
        InvalidArgumentError,
        match=r"no value for 'acc': it was never logged in run 'ckpt' — log it first or pass value=\.",
    ):
        run.save_checkpoint({}, metric="acc")
    run.save_checkpoint({}, metric="loss", value=1.0)
    with pytest.raises(
        InvalidArgumentError,
        match=r"run 'ckpt' keeps checkpoints by 'loss' \(min\); use the same metric and mode\.",
    ):
        run.save_checkpoint({}, metric="acc", value=1.0, mode="max")
    run.finish()


def test_progress_postfix_shows_latest_metrics(home: Path) -> None:
    with pytest.raises(NoActiveRunError, match="cannot show progress: no run is active"):
        progress(range(3))
    run = mlnb.start("bar", system_interval=None)
    out = io.StringIO()
    for step in progress(range(4), file=out, mininterval=0):
        run.log({"loss": 1.0 / (step + 1), "sys/cpu_percent": 5.0})
    text = out.getvalue()
    assert text.startswith("\rbar:") and "4/4" in text
    assert "loss=0.25" in text.splitlines()[-1] and "sys/" not in text
    run.finish()


def test_live_plot_redraws_at_most_every_half_second(home: Path) -> None:
    run = mlnb.start("live", system_interval=None)
    plot = LivePlot(run)
    deadline = time.monotonic() + 3.0
    step = 0
    while time.monotonic() < deadline:
        run.log({"loss": 1.0 / (step + 1), "acc": step / 1000, "sys/cpu_percent": 1.0})
        step += 1
        time.sleep(0.001)
    run.finish()  # the final flush reaches the plot, then it draws once more and stops
    times = plot.redraw_times
    assert plot.redraws == len(times) >= 2
    gaps = [b - a for a, b in itertools.pairwise(times[:-1])]  # the last is the final draw
    assert all(gap >= 0.5 for gap in gaps), gaps
    assert bytes(plot.image.value).startswith(b"\x89PNG")
    assert "<b>live</b> (finished)" in plot.header.value and "loss = " in plot.header.value
    assert set(plot._series) == {"loss", "acc"}  # sys/ metrics are left out by default
    assert plot._series["loss"][0][-1] == step - 1
    with pytest.raises(
        InvalidArgumentError, match=r"live plot interval must be at least 0.5 s, got 0.1\."
    ):
        LivePlot(run, interval=0.1)


def test_system_metrics_are_sampled_as_sys_metrics(home: Path) -> None:
    run = mlnb.start("sys", system_interval=0.1)
    time.sleep(0.8)
    record = run.finish()
    keys = set(run.store.metric_keys(run.id))
    assert {
        "sys/cpu_percent",
        "sys/memory_percent",
        "sys/memory_used_mb",
        "sys/disk_used_percent",
        "sys/net_recv_mb",
    } <= keys
    steps = [r.step for r in run.store.metrics(run.id, ["sys/memory_percent"])]
    assert steps == list(range(len(steps))) and len(steps) >= 3
    assert 0 < record.summary["sys/memory_percent"] <= 100


def test_a_failing_reader_warns_once_and_the_others_go_on(home: Path) -> None:
    run = mlnb.start("sys", system_interval=None)
    calls = {"n": 0}

    def broken() -> dict[str, float]:
        calls["n"] += 1
        raise OSError("sensor gone")

    def fake_gpu() -> dict[str, float]:  # stands in for NVML on a machine without GPUs
        return {"sys/gpu0/utilization_percent": 87.0, "sys/gpu0/memory_used_mb": 1024.0}

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sampler = SystemSampler(run, 0.05, readers=[broken, fake_gpu]).start()
        time.sleep(0.4)
        run.finish()
    messages = [str(w.message) for w in caught if issubclass(w.category, MlnbWarning)]
    assert messages == [
        "mlnb: a system-metrics reader failed and was turned off (OSError: sensor gone); the run goes on."
    ]
    assert calls["n"] == 1 and sampler.samples >= 3
    assert run.store.get_run(run.id).summary["sys/gpu0/utilization_percent"] == 87.0
    with pytest.raises(
        InvalidArgumentError,
        match=r"system-metrics interval must be a number of seconds ≥ 0.05, got 0\.",
    ):
        SystemSampler(run, 0)
