"""The system-metrics sampler: sys/ metrics of a run, and readers that fail."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pytest

import mlnb
from mlnb.exceptions import InvalidArgumentError, MlnbWarning
from mlnb.runs.sysmetrics import SystemSampler


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
        match=r"system-metrics interval must be a number of seconds from 0.05 to 86400 \(0 or None turns sampling off\), got 0\.",
    ):
        SystemSampler(run, 0)
