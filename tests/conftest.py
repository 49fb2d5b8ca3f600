"""Shared fixtures: a real ipykernel to run cells in (``kernel``) and what reads its cells
(``cell_text``, ``strip_ansi``), an in-process IPython shell (``shell``), a fresh run store
(``home``), small notebooks (``notebook``), the environment for child processes
(``child_env``) and the fake GPU (``fake_gpu``).

Constants and plain functions live in tests/helpers.py (``from tests.helpers import ...``);
nothing imports from a conftest file.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import FAKE_SPEC, cell_text, child_env, run_notebook, strip_ansi, write_notebook

os.environ.setdefault("MPLBACKEND", "Agg")

# jp_fetch, jp_serverapp, ... for the server-extension tests in tests/server/ (a dev
# dependency; a GPU machine running only `-m gpu` tests may lack it)
# pytester: tests/check runs the mlnb pytest plugin inside a pytest of its own
pytest_plugins = ("pytester",) + (
    ("pytest_jupyter.jupyter_server",) if importlib.util.find_spec("pytest_jupyter") else ()
)


@pytest.fixture
def kernel() -> Callable[..., object]:
    """Run a list of cell sources in a fresh kernel: ``kernel(["%load_ext mlnb", ...])``.

    Keywords: ``allow_errors``, ``timeout``, ``cwd`` (see :func:`tests.helpers.run_notebook`).
    """
    return run_notebook


@pytest.fixture(name="cell_text")
def _cell_text() -> Callable[[object], str]:
    """``cell_text(cell)``: everything an executed cell showed as text (streams, results, errors)."""
    return cell_text


@pytest.fixture(name="strip_ansi")
def _strip_ansi() -> Callable[[str], str]:
    """``strip_ansi(text)``: ``text`` without terminal colour codes."""
    return strip_ansi


@pytest.fixture(name="child_env")
def _child_env() -> Callable[..., dict[str, str]]:
    """``child_env(NAME=value, ...)``: os.environ with this checkout first on PYTHONPATH, plus
    the given variables, for child processes and kernels."""
    return child_env


@pytest.fixture
def shell() -> Iterator[object]:
    """The in-process IPython shell with mlnb loaded; unloaded afterwards.

    ``globalipapp.get_ipython()`` returns the one running test shell every time (imported
    here, after its first call, it is the shell's own ``get_ipython``), so any number of tests
    can use it; mlnb is taken out of the extension manager's list first so that it really loads.
    """
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.extension_manager.loaded.discard("mlnb")
    ip.run_line_magic("load_ext", "mlnb")
    yield ip
    ip.run_line_magic("unload_ext", "mlnb")
    ip.extension_manager.loaded.discard("mlnb")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh, empty store folder set as MLNB_HOME; every run of the test is finished after."""
    from mlnb.runs import session

    store_home = tmp_path / "store"
    monkeypatch.setenv("MLNB_HOME", str(store_home))
    monkeypatch.chdir(tmp_path)
    yield store_home
    for run in session.live_runs():
        run.finish()
    for store in session._stores.values():
        store.close()
    session._stores.clear()


@pytest.fixture
def notebook(tmp_path: Path) -> Callable[..., Path]:
    """``notebook("name.ipynb", cells, parameters=...)`` writes one into ``tmp_path``
    (``name`` may have folders; see :func:`tests.helpers.write_notebook`)."""

    def make(name: str, cells: list[str], parameters: str | None = "x = 1", **kw: object) -> Path:
        return write_notebook(tmp_path / name, cells, parameters, **kw)  # type: ignore[arg-type]

    return make


@pytest.fixture
def fake_gpu(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Every mlnb.gpu function reads a fresh 16 GiB fake GPU (1 GiB used elsewhere,
    :data:`tests.helpers.FAKE_SPEC`)."""
    from mlnb.gpu import backends
    from mlnb.gpu.backends import fake

    monkeypatch.setenv("MLNB_GPU_BACKEND", "fake")
    monkeypatch.setenv("MLNB_GPU_FAKE", json.dumps(FAKE_SPEC))
    monkeypatch.setattr(fake, "_instance", None)
    backends.reset()
    yield fake.fake_gpu()
    backends.reset()


@pytest.fixture
def restore_rng() -> Iterator[None]:
    """Every generator and the environment put back as they were after the test."""
    from mlnb import rng_state

    saved = rng_state.get_state()
    env = os.environ.copy()
    yield
    rng_state.set_state(saved)
    os.environ.clear()
    os.environ.update(env)
