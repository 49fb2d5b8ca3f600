"""Jupyter server fixtures (pytest-jupyter) with mlnb's server extension enabled."""

from __future__ import annotations

import pytest


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"mlnb.server": True}}}


@pytest.fixture
def store_home(tmp_path, monkeypatch):
    """An empty run store the server reads, and a fake GPU so the GPU path is real code."""
    home = tmp_path / "store"
    monkeypatch.setenv("MLNB_HOME", str(home))
    return home


def log_run(home, name, *, project="demo", points=5, finish=True, tags=()):
    """Write one real run into ``home`` with mlnb.runs (no mocks)."""
    from mlnb.runs import session

    run = session.start(
        name,
        project=project,
        config={"lr": 0.1},
        tags=tags,
        home=home,
        system_interval=None,
        active=False,
    )
    for step in range(points):
        run.log({"loss": 1.0 / (step + 1), "acc": step / points}, step=step)
    run.log({"weird": float("nan")}, step=0)
    if finish:
        run.finish()
    return run
