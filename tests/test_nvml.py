"""mlnb.nvml, the one NVML reader, with a stand-in pynvml: runs' metrics/provenance and the GPU backend."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from mlnb import nvml
from mlnb.gpu.backends import BackendUnavailable
from mlnb.gpu.backends.nvml import NvmlBackend
from mlnb.runs import provenance, sysmetrics
from tests.helpers import GIB


class _NVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(f"NVML error {value}")
        self.value = value


def _fake_pynvml(count: int = 2, power: bool = True) -> types.ModuleType:
    fake = types.ModuleType("pynvml")
    fake.NVMLError = _NVMLError
    fake.NVML_ERROR_NOT_SUPPORTED = 3
    fake.NVML_ERROR_LIBRARY_NOT_FOUND = 12
    fake.NVML_TEMPERATURE_GPU = 0
    fake.nvmlInit = lambda: None
    fake.nvmlDeviceGetCount = lambda: count
    fake.nvmlSystemGetDriverVersion = lambda: b"550.54.15"
    fake.nvmlDeviceGetHandleByIndex = lambda i: i
    fake.nvmlDeviceGetName = lambda h: f"Fake H{h}".encode()
    fake.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(
        total=8 * GIB, used=2 * GIB, free=6 * GIB
    )
    fake.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=40 + h)
    fake.nvmlDeviceGetTemperature = lambda h, sensor: 61

    def power_usage(h: int) -> int:
        if not power:
            raise _NVMLError(fake.NVML_ERROR_NOT_SUPPORTED)
        return 123_000

    fake.nvmlDeviceGetPowerUsage = power_usage
    fake.nvmlDeviceGetComputeRunningProcesses = lambda h: [
        types.SimpleNamespace(pid=999_999_999, usedGpuMemory=GIB)
    ]
    fake.nvmlDeviceGetGraphicsRunningProcesses = lambda h: []
    return fake


@pytest.fixture
def fake_nvml(monkeypatch: pytest.MonkeyPatch):
    def install(**kwargs) -> types.ModuleType:
        fake = _fake_pynvml(**kwargs)
        monkeypatch.setitem(sys.modules, "pynvml", fake)
        monkeypatch.setattr(nvml, "_initialised", False)
        return fake

    return install


def test_system_metric_names_per_gpu(fake_nvml):
    fake_nvml(count=2)
    read = sysmetrics.gpu_reader()
    assert read is not None
    assert read() == {
        "sys/gpu0/utilization_percent": 40.0,
        "sys/gpu0/memory_used_mb": 2048.0,
        "sys/gpu0/memory_percent": 25.0,
        "sys/gpu0/power_w": 123.0,
        "sys/gpu1/utilization_percent": 41.0,
        "sys/gpu1/memory_used_mb": 2048.0,
        "sys/gpu1/memory_percent": 25.0,
        "sys/gpu1/power_w": 123.0,
    }


def test_board_without_power_reading_leaves_power_out(fake_nvml):
    fake_nvml(count=1, power=False)
    assert "sys/gpu0/power_w" not in sysmetrics.gpu_reader()()


def test_provenance_gpu_info(fake_nvml):
    fake_nvml(count=1)
    assert provenance.gpu_info() == [
        {"index": 0, "name": "Fake H0", "memory_total_bytes": 8 * GIB, "driver": "550.54.15"}
    ]


def test_backend_reads_through_the_same_reader(fake_nvml):
    fake_nvml(count=1)
    (device,) = NvmlBackend().devices()
    assert (device.name, device.total, device.used, device.free) == (
        "Fake H0",
        8 * GIB,
        2 * GIB,
        6 * GIB,
    )
    assert (device.utilization, device.temperature, device.power) == (40.0, 61.0, 123.0)
    assert [(p.pid, p.used) for p in device.processes] == [(999_999_999, GIB)]


def test_no_gpu_is_quiet_for_runs_and_one_sentence_for_the_backend(fake_nvml):
    fake = fake_nvml(count=1)

    def missing() -> None:
        raise _NVMLError(fake.NVML_ERROR_LIBRARY_NOT_FOUND)

    fake.nvmlInit = missing
    assert sysmetrics.gpu_reader() is None
    assert provenance.gpu_info() == []
    with pytest.raises(BackendUnavailable, match=r"^NVML is off: the NVIDIA driver library"):
        NvmlBackend()


def test_zero_devices(fake_nvml):
    fake_nvml(count=0)
    assert sysmetrics.gpu_reader() is None
    assert provenance.gpu_info() == []
    with pytest.raises(BackendUnavailable, match="reports no GPU"):
        NvmlBackend()


def test_importing_runs_and_gpu_does_not_import_pynvml():
    code = (
        "import sys, mlnb, mlnb.runs, mlnb.runs.sysmetrics, mlnb.runs.provenance, mlnb.gpu.backends.nvml\n"
        "print('pynvml' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"]
