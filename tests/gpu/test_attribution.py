"""mlnb.gpu.attribution: driver processes to kernels (and their workers), idle flags, other
processes, MIG instances as devices, and the self-report fallback when pids are hidden."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import types

import pytest

from mlnb import nvml
from mlnb.gpu.attribution import KernelRef, attribute
from mlnb.gpu.backends.nvml import NvmlBackend
from mlnb.gpu.backends.records import DeviceStatus, ProcessUsage
from mlnb.gpu.selfreport import SelfReporter, kernel_id_from_argv, read_all
from tests.helpers import GIB, sleeper

NOW = 1_800_000_000.0


@pytest.fixture
def worker():
    """A real child of this process, standing in for a DataLoader worker of a kernel."""
    with sleeper() as process:
        yield process


def device(*processes: tuple[int, int | None], index: int = 0, uuid: str | None = None):
    return DeviceStatus(
        index,
        f"Fake {index}",
        "fake",
        total=16 * GIB,
        used=sum(u or 0 for _, u in processes),
        processes=tuple(ProcessUsage(pid, "python", used) for pid, used in processes),
        uuid=uuid,
    )


def test_a_kernel_and_its_worker_are_one_bar_and_idle_is_flagged(worker):
    kernel = KernelRef(
        "k-1", pid=os.getpid(), path="train.ipynb", last_activity=NOW - 3600, execution_state="idle"
    )
    result = attribute([device((os.getpid(), GIB), (worker.pid, GIB))], [kernel], now=NOW)
    (bar,) = result.devices[0].bars
    assert (bar.label, bar.used, bar.kind) == ("train.ipynb", 2 * GIB, "kernel")
    assert sorted(bar.pids) == sorted([os.getpid(), worker.pid])
    assert bar.idle_seconds == 3600 and bar.idle_holding is True
    assert "(idle, holding memory)" in result.text()


def test_busy_and_recent_kernels_are_not_flagged(worker):
    busy = KernelRef("k-1", pid=os.getpid(), last_activity=NOW - 9999, execution_state="busy")
    result = attribute([device((os.getpid(), GIB))], [busy], now=NOW)
    (bar,) = result.devices[0].bars
    assert bar.idle_seconds == 0 and bar.idle_holding is False
    assert bar.label == "kernel k-1"  # no session: named by id
    recent = KernelRef("k-2", pid=worker.pid, last_activity=NOW - 5, execution_state="idle")
    (bar,) = attribute([device((worker.pid, GIB))], [recent], now=NOW).devices[0].bars
    assert bar.idle_holding is False


def test_a_kernel_is_found_by_its_connection_file_when_its_pid_is_unknown(tmp_path):
    connection = tmp_path / "kernel-0b1c2d3e-aaaa-bbbb-cccc-1234567890ab.json"
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "-f", str(connection)]
    )
    try:
        ref = KernelRef("0b1c2d3e-aaaa-bbbb-cccc-1234567890ab", path="remote.ipynb")
        (bar,) = attribute([device((child.pid, 3 * GIB))], [ref], now=NOW).devices[0].bars
    finally:
        child.kill()
        child.wait()
    assert bar.path == "remote.ipynb" and bar.used == 3 * GIB
    assert kernel_id_from_argv(["python", "-f", str(connection)]) == ref.kernel_id


def test_unknown_used_bytes_stay_unknown(worker):
    kernel = KernelRef("k", pid=worker.pid)
    result = attribute([device((worker.pid, None))], [kernel], now=NOW)
    assert result.devices[0].bars[0].used is None
    assert "?" in result.rows()[0][2]


def test_as_dict_is_json(worker):
    result = attribute([device((worker.pid, GIB)), device(index=1)], [], now=NOW)
    payload = json.loads(json.dumps(result.as_dict()))
    assert payload["devices"][0]["bars"][0]["kind"] == "process"
    assert payload["devices"][1]["bars"] == []
    assert result.rows()[1][1] == "nobody"


def test_self_reports_are_the_fallback_when_pids_are_hidden(tmp_path, worker):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / f"{worker.pid}.json").write_text(
        json.dumps(
            {
                "pid": worker.pid,
                "kernel_id": "k-9",
                "notebook": "in_container.ipynb",
                "time": NOW - 30,
                "busy": False,
                "devices": [{"index": 0, "uuid": "GPU-b", "allocated": GIB, "reserved": 2 * GIB}],
            }
        )
    )
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (reports / f"{gone.pid}.json").write_text(
        json.dumps({"pid": gone.pid, "time": NOW, "devices": []})
    )
    (reports / "broken.json").write_text("{half")
    found = read_all(reports)
    assert [r.pid for r in found] == [worker.pid]
    assert not (reports / f"{gone.pid}.json").exists()  # an exited kernel's report is removed
    hidden = [
        device((999_999_001, 5 * GIB), uuid="GPU-a"),
        device((999_999_002, GIB), index=1, uuid="GPU-b"),
    ]
    result = attribute(hidden, [], reports=found, now=NOW)
    assert result.pids_visible is False and "pid namespace" in result.notes[0]
    # matched by UUID, not by position; what no kernel reports stays visible as one bar
    (rest,) = result.devices[0].bars
    assert (rest.label, rest.used, rest.pids) == (
        "processes not visible here",
        5 * GIB,
        (999_999_001,),
    )
    (bar,) = result.devices[1].bars  # the kernel reports all the driver lists: no remainder
    assert (bar.path, bar.used, bar.source, bar.idle_seconds) == (
        "in_container.ipynb",
        2 * GIB,
        "self-report",
        30,
    )


def test_self_reporter_writes_and_removes_its_report(tmp_path, fake_gpu):
    reporter = SelfReporter(tmp_path)
    block = fake_gpu.allocate(GIB)
    assert reporter.write(busy=False)
    (report,) = read_all(tmp_path)
    assert report.pid == os.getpid() and report.devices[0].allocated >= GIB
    assert report.busy is False
    reporter.write(busy=True)
    assert read_all(tmp_path)[0].busy is True
    reporter.remove()
    assert read_all(tmp_path) == []
    del block


def test_a_long_cell_is_reported_while_it_runs(shell, tmp_path, monkeypatch, fake_gpu):
    """The report is refreshed during a cell, not only after it (a training cell runs for hours)."""
    from mlnb.magics.gpu_report import GpuSelfReport

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    reports = GpuSelfReport(shell, interval=0.05)
    try:
        reports.before_cell()  # a cell starts (the fake GPU is in use: a first, busy report)
        block = fake_gpu.allocate(3 * GIB)  # ...and allocates while it runs
        deadline = time.time() + 30
        while time.time() < deadline:
            found = read_all(tmp_path / "mlnb-gpu")
            if found and found[0].devices[0].allocated >= 3 * GIB:
                break
            time.sleep(0.05)
        assert found[0].busy is True and found[0].devices[0].allocated >= 3 * GIB
        reports.after_cell()
        assert read_all(tmp_path / "mlnb-gpu")[0].busy is False
    finally:
        reports.close()
    assert reports._thread is not None and not reports._thread.is_alive()
    assert read_all(tmp_path / "mlnb-gpu") == []  # closing removes the report
    del block


def test_a_kernel_without_a_gpu_starts_no_reporting_thread(shell, tmp_path, monkeypatch):
    """%load_ext stays cheap: the thread starts with the first report, i.e. once a GPU is in use."""
    from mlnb.magics.gpu_report import GpuSelfReport

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    monkeypatch.delitem(sys.modules, "mlnb.gpu.backends.fake", raising=False)
    reports = GpuSelfReport(shell, interval=0.05)
    try:
        reports.before_cell()
        reports.after_cell()
        assert reports._thread is None
        assert not (tmp_path / "mlnb-gpu").exists() or read_all(tmp_path / "mlnb-gpu") == []
    finally:
        reports.close()


def _mig_pynvml() -> types.ModuleType:
    """A stand-in pynvml: GPU 0 in MIG mode with two instances, GPU 1 whole."""

    class NVMLError(Exception):
        value = 6

    fake = types.ModuleType("pynvml")
    fake.NVMLError = NVMLError
    fake.NVML_TEMPERATURE_GPU = 0
    fake.NVML_DEVICE_MIG_ENABLE = 1
    fake.nvmlInit = lambda: None
    fake.nvmlDeviceGetCount = lambda: 2
    fake.nvmlDeviceGetHandleByIndex = lambda i: ("gpu", i)
    fake.nvmlDeviceGetName = lambda h: b"A100" if h[0] == "gpu" else b"MIG 3g.40gb"
    fake.nvmlDeviceGetUUID = lambda h: f"{'GPU' if h[0] == 'gpu' else 'MIG'}-{h[1]}"
    fake.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(
        total=40 * GIB, used=GIB, free=39 * GIB
    )

    def unsupported(*_args):
        raise NVMLError()

    fake.nvmlDeviceGetUtilizationRates = unsupported
    fake.nvmlDeviceGetTemperature = lambda h, s: 40
    fake.nvmlDeviceGetPowerUsage = lambda h: 100_000
    fake.nvmlDeviceGetMigMode = lambda h: (1, 1) if h == ("gpu", 0) else (0, 0)
    fake.nvmlDeviceGetMaxMigDeviceCount = lambda h: 7
    fake.nvmlDeviceGetMigDeviceHandleByIndex = lambda h, i: (
        ("mig", f"{h[1]}.{i}") if i < 2 else unsupported()
    )
    fake.nvmlDeviceGetComputeRunningProcesses = lambda h: (
        [types.SimpleNamespace(pid=os.getpid(), usedGpuMemory=GIB)] if h == ("mig", "0.1") else []
    )
    fake.nvmlDeviceGetGraphicsRunningProcesses = lambda h: []
    return fake


def test_mig_instances_are_devices(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", _mig_pynvml())
    monkeypatch.setattr(nvml, "_initialised", False)
    devices = NvmlBackend().devices()
    assert [(d.name, d.parent, d.uuid) for d in devices] == [
        ("A100 MIG 0", 0, "MIG-0.0"),
        ("A100 MIG 1", 0, "MIG-0.1"),
        ("A100", None, "GPU-1"),
    ]
    assert [d.index for d in devices] == [0, 1, 2]
    kernel = KernelRef("k", pid=os.getpid(), path="mig.ipynb")
    result = attribute(devices, [kernel], now=NOW)
    assert [len(d.bars) for d in result.devices] == [0, 1, 0]
    assert result.devices[1].bars[0].path == "mig.ipynb" and result.devices[1].parent == 0
