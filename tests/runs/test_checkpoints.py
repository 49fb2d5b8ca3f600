"""Checkpoints of a run: keep the best k, and bad input."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import mlnb
from mlnb.exceptions import InvalidArgumentError


def test_checkpoints_keep_the_best_k(home: Path) -> None:
    import torch

    run = mlnb.start("ckpt", system_interval=None)
    saved = []
    for step, loss in enumerate([0.9, 0.5, math.nan, 0.7, 0.2, 0.95]):
        run.log({"val/loss": loss}, step=step)
        saved.append(
            run.save_checkpoint({"w": torch.full((2,), float(step))}, metric="val/loss", keep=2)
        )
    assert saved[2] is None or math.isnan(saved[2].value)
    assert saved[5] is None  # worse than the two kept
    kept = [c for c in run.store.artifacts(run.id, kind="checkpoint")]
    assert sorted(c.meta["value"] for c in kept) == [0.2, 0.5]
    files = sorted((run.run_dir() / "checkpoints").iterdir())
    assert len(files) == 2
    best = run.best_checkpoint()
    assert best.value == 0.2 and best.step == 4 and best.metric == "val/loss"
    assert best.load()["w"].tolist() == [4.0, 4.0]
    run.finish()


def test_checkpoint_bad_input(home: Path) -> None:
    run = mlnb.start("ckpt", system_interval=None)
    with pytest.raises(InvalidArgumentError, match=r"mode must be 'min' or 'max', got 'best'\."):
        run.save_checkpoint({}, metric="loss", value=1.0, mode="best")
    with pytest.raises(InvalidArgumentError, match=r"keep must be a whole number ≥ 1, got 0\."):
        run.save_checkpoint({}, metric="loss", value=1.0, keep=0)
    with pytest.raises(
        InvalidArgumentError,
        match=r"no value for 'acc': it was never logged in run 'ckpt' — log it first or pass value=\.",
    ):
        run.save_checkpoint({}, metric="acc")
    run.save_checkpoint({}, metric="loss", value=1.0)
    with pytest.raises(
        InvalidArgumentError,
        match=r"run 'ckpt' keeps checkpoints by 'loss' \(min\); use the same metric and mode\.",
    ):
        run.save_checkpoint({}, metric="acc", value=1.0, mode="max")
    run.finish()
