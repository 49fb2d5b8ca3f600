"""Backend selection, NVML/GPUtil failures as one sentence (and status()'s fallback), the fake backend."""

from __future__ import annotations

import sys

import pytest

from mlnb import nvml as nvml_reader
from mlnb.exceptions import GpuBackendError
from mlnb.gpu import backends, status
from mlnb.gpu.backends import BackendUnavailable, GpuBackend, nvml
from tests.helpers import GIB


def _nvml_error(monkeypatch, code_name):
    pynvml = nvml_reader.import_pynvml()

    def fail() -> None:
        raise pynvml.NVMLError(getattr(pynvml, code_name))

    monkeypatch.setattr(pynvml, "nvmlInit", fail)
    monkeypatch.setattr(nvml_reader, "_initialised", False)


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        (
            "NVML_ERROR_LIBRARY_NOT_FOUND",
            "NVML is off: the NVIDIA driver library (libnvidia-ml.so) is not installed, so there is no NVIDIA driver on this machine.",
        ),
        (
            "NVML_ERROR_LIB_RM_VERSION_MISMATCH",
            "NVML is off: the NVIDIA driver and its user-space library have different versions (a driver update without a reboot?).",
        ),
        ("NVML_ERROR_DRIVER_NOT_LOADED", "NVML is off: the NVIDIA kernel driver is not loaded."),
    ],
)
def test_nvml_errors_become_one_sentence(monkeypatch, code, sentence):
    _nvml_error(monkeypatch, code)
    with pytest.raises(BackendUnavailable) as info:
        nvml.NvmlBackend()
    assert str(info.value) == sentence
    assert info.value.__cause__ is None


def test_driver_mismatch_falls_back_to_host_ram_in_status(monkeypatch):
    _nvml_error(monkeypatch, "NVML_ERROR_LIB_RM_VERSION_MISMATCH")
    monkeypatch.setenv("MLNB_GPU_BACKEND", "nvml")
    backends.reset()
    report = status()
    assert len(report) == 0
    assert report.text().splitlines()[0] == (
        "mlnb: no GPU found (NVML is off: the NVIDIA driver and its user-space library have "
        "different versions (a driver update without a reboot?)); showing host RAM instead."
    )
    assert report.rows()[0][:2] == ("host", "host RAM")
    backends.reset()


def test_gputil_import_failure_only_disables_it(monkeypatch, tmp_path):
    package = tmp_path / "GPUtil"
    package.mkdir()
    (package / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'distutils'\")\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "GPUtil", raising=False)
    selection = backends.select("gputil")
    assert selection.unavailable["gputil"] == (
        "GPUtil is off: it could not be imported (ModuleNotFoundError: No module named 'distutils')."
    )
    assert [b.name for b in selection.backends] == ["host"]


def test_unknown_backend_name_is_one_sentence():
    with pytest.raises(GpuBackendError) as info:
        backends.select("nvml,cuda9")
    assert str(info.value) == (
        "unknown GPU backend 'cuda9' in MLNB_GPU_BACKEND; choose from auto, fake, gputil, host, mps, "
        "nvml, torch (comma-separated)."
    )


def test_bad_fake_spec_is_one_sentence(monkeypatch):
    from mlnb.gpu.backends import fake

    monkeypatch.setenv("MLNB_GPU_FAKE", "{not json")
    monkeypatch.setattr(fake, "_instance", None)
    with pytest.raises(
        GpuBackendError, match=r"^MLNB_GPU_FAKE is not valid JSON \(Expecting property name"
    ):
        backends.select("fake")
    monkeypatch.setenv("MLNB_GPU_FAKE", '{"devices": [{"name": "x"}]}')
    with pytest.raises(GpuBackendError) as info:
        backends.select("fake")
    assert str(info.value).startswith(
        "MLNB_GPU_FAKE: device 0 needs a whole-number 'total' in bytes"
    )


def test_fake_backend_can_refuse_like_a_real_one(monkeypatch):
    from mlnb.gpu.backends import fake

    monkeypatch.setenv("MLNB_GPU_FAKE", '{"unavailable": "fake driver asleep."}')
    monkeypatch.setattr(fake, "_instance", None)
    monkeypatch.setenv("MLNB_GPU_BACKEND", "fake")
    backends.reset()
    assert (
        status().no_gpu_sentence()
        == "mlnb: no GPU found (fake driver asleep); showing host RAM instead."
    )
    backends.reset()


def test_every_backend_meets_the_protocol(fake_gpu):
    from mlnb.gpu.backends.host import HostBackend
    from mlnb.gpu.backends.torch_cuda import TorchCudaBackend

    for backend in (fake_gpu, HostBackend(), TorchCudaBackend()):
        assert isinstance(backend, GpuBackend)
        assert isinstance(backend.devices(), list)
        assert isinstance(backend.allocators(), list)
        assert isinstance(backend.counters(), list)


def test_torch_backend_never_creates_a_cuda_context():
    torch = pytest.importorskip("torch")
    from mlnb.gpu.backends.torch_cuda import TorchCudaBackend

    if torch.cuda.is_initialized():
        pytest.skip("CUDA already initialised in this process")
    backend = TorchCudaBackend()
    backend.allocators()
    backend.devices()
    backend.release_cache()
    assert not torch.cuda.is_initialized()


def test_fake_allocator_raises_torch_style_oom(fake_gpu):
    with pytest.raises(RuntimeError) as info:
        fake_gpu.allocate(20 * GIB)
    assert str(info.value).startswith(
        "CUDA out of memory. Tried to allocate 20.00 GiB. GPU 0 has a total capacity of 16.00 GiB"
    )
