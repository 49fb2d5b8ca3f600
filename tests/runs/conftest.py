"""Fixtures for the run-logging tests: a fresh store per test, no run left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


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
