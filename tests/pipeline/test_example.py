"""example_notebooks/04_pipeline: the demo runs the pipeline, re-runs it from cache, sweeps C."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "example_notebooks" / "04_pipeline"

pytestmark = pytest.mark.kernel


def test_demo_runs_pipeline_cache_and_sweep(tmp_path, capsys):
    folder = tmp_path / "04_pipeline"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("runs", "*.csv", "*.pkl"))
    spec = importlib.util.spec_from_file_location("run_demo", folder / "run_demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    assert demo.main(folder) == 0
    out = capsys.readouterr().out
    assert "== again, unchanged: cached, cached, cached in" in out
    assert "evaluate  ran     never ran" in out and "test_acc=" in out
    best = [line for line in out.splitlines() if line.startswith("best: trial")]
    assert len(best) == 1 and "(val_acc=" in best[0] and ", max) C=" in best[0]
    listing = out.split("== mlnb runs ls --project pipeline")[1]
    assert all(name in listing for name in ("step prepare", "step evaluate", "train trial-3"))
    assert "replay any of them: mlnb rerun " in out
    assert len(list((folder / "runs" / "sweep").glob("train-trial-*.ipynb"))) == 4
