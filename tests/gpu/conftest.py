"""Fixtures for the GPU tests: a machine view with no GPU (``no_gpu``; ``fake_gpu`` and ``shell``: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A machine whose NVML library is missing and that has no GPUtil/torch device."""
    from mlnb import nvml
    from mlnb.gpu import backends

    pynvml = nvml.import_pynvml()

    def missing_library() -> None:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)

    monkeypatch.setattr(pynvml, "nvmlInit", missing_library)
    monkeypatch.setattr(nvml, "_initialised", False)
    monkeypatch.setenv("MLNB_GPU_BACKEND", "nvml")
    backends.reset()
    yield
    backends.reset()
