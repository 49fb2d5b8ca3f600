"""Fixtures for the pipeline tests (``notebook``: tests/conftest.py; ``START_TIMEOUT``: tests/helpers.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.helpers import REPO

if TYPE_CHECKING:
    from mlnb.runs.records import RunRecord


@pytest.fixture(autouse=True)
def _mlnb_importable_in_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels and worker processes inherit PYTHONPATH: make sure it has this checkout."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(REPO) not in paths:
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), *paths]))


@pytest.fixture(autouse=True)
def _run_store_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every run also goes to the run store: keep it in this test's folder."""
    home = tmp_path / ".mlnb-store"
    monkeypatch.setenv("MLNB_HOME", str(home))
    return home


@pytest.fixture
def pipeline_record(tmp_path: Path) -> Callable[..., RunRecord]:
    """``pipeline_record(run_id="abc123", status="finished")``: the run record of a pipeline
    run of nb.ipynb (params lr=0.1, seed 3, output ``tmp_path/out.ipynb``); ``"running"``
    gives the record as it begins."""
    from mlnb.pipeline.section import PipelineSection
    from mlnb.runs.external import ended_record
    from mlnb.runs.records import RunRecord

    def make(run_id: str = "abc123", status: str = "finished") -> RunRecord:
        section = PipelineSection(
            notebook="nb.ipynb", output=str(tmp_path / "out.ipynb"), params={"lr": 0.1}, seed=3
        )
        begun = RunRecord(
            run_id,
            "nb",
            "pipeline",
            "running",
            1.0,
            None,
            None,
            None,
            None,
            config={"lr": 0.1},
            provenance={"pipeline": section.to_dict()},
        )
        return begun if status == "running" else ended_record(begun, status, ended=2.0)

    return make
