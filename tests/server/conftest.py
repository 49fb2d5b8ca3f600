"""Jupyter server fixtures (pytest-jupyter) with mlnb's server extension enabled."""

from __future__ import annotations

import pytest

from tests.helpers import log_run


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"mlnb.server": True}}}


@pytest.fixture
def store_home(tmp_path, monkeypatch):
    """An empty run store the server reads, and a fake GPU so the GPU path is real code."""
    home = tmp_path / "store"
    monkeypatch.setenv("MLNB_HOME", str(home))
    return home


@pytest.fixture(name="log_run")
def _log_run():
    """``log_run(home, name, project=..., points=..., finish=..., tags=...)``: one real run
    written into ``home`` with mlnb.runs (see :func:`tests.helpers.log_run`)."""
    return log_run
