"""NVML provenance and GPU system metrics on a real NVIDIA GPU (skipped without one)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import mlnb
from mlnb.runs.provenance import gpu_info

pytestmark = pytest.mark.gpu


@pytest.fixture
def gpus() -> list[dict]:
    found = gpu_info()
    if not found:
        pytest.skip("no NVIDIA GPU visible through NVML")
    return found


def test_gpu_names_driver_and_metrics_are_recorded(home: Path, gpus: list[dict]) -> None:
    assert all(g["name"] and g["driver"] and g["memory_total_bytes"] > 0 for g in gpus)
    run = mlnb.start("gpu", system_interval=0.2)
    time.sleep(1.0)
    record = run.finish()
    assert [g["name"] for g in record.provenance["gpus"]] == [g["name"] for g in gpus]
    assert 0 <= record.summary["sys/gpu0/utilization_percent"] <= 100
    assert record.summary["sys/gpu0/memory_used_mb"] >= 0
