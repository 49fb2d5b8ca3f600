"""progress(): a tqdm bar whose postfix shows the active run's latest metrics."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import mlnb
from mlnb.exceptions import NoActiveRunError
from mlnb.runs import progress


def test_progress_postfix_shows_latest_metrics(home: Path) -> None:
    with pytest.raises(NoActiveRunError, match="cannot show progress: no run is active"):
        progress(range(3))
    run = mlnb.start("bar", system_interval=None)
    out = io.StringIO()
    for step in progress(range(4), file=out, mininterval=0):
        run.log({"loss": 1.0 / (step + 1), "sys/cpu_percent": 5.0})
    text = out.getvalue()
    assert text.startswith("\rbar:") and "4/4" in text
    assert "loss=0.25" in text.splitlines()[-1] and "sys/" not in text
    run.finish()


def test_the_final_postfix_is_the_summary_even_before_a_flush(home: Path) -> None:
    """Many points of one metric, then another metric last in each epoch (the example's
    loop): the bar's last postfix and the run's summary say the same value."""
    run = mlnb.start("epochs", system_interval=None)
    out = io.StringIO()
    for epoch in progress(range(3), run=run, keys=["train/loss"], file=out, mininterval=0):
        for batch in range(50):
            run.log({"train/loss": epoch + batch / 100})
        run.log({"val/acc": 0.5})
    assert run.latest["train/loss"] == 2.49
    final = out.getvalue().split("\r")[-1]
    record = run.finish()
    assert record.summary["train/loss"] == 2.49 and "train/loss=2.49" in final
