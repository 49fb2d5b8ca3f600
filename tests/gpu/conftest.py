"""Fixtures for the GPU tests: a machine view with no GPU (the fake GPU: tests/conftest.py)."""

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


@pytest.fixture
def ipshell() -> Iterator[object]:
    """The in-process IPython shell with mlnb loaded, safe to use in many tests.

    (The root ``shell`` fixture calls ``start_ipython()``, which returns None the
    second time it runs in a process; ``globalipapp.get_ipython()`` returns the
    running shell every time.)
    """
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.extension_manager.loaded.discard("mlnb")
    ip.run_line_magic("load_ext", "mlnb")
    yield ip
    ip.run_line_magic("unload_ext", "mlnb")
    ip.extension_manager.loaded.discard("mlnb")
