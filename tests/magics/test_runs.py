"""The run magics and the cell log in a real ipykernel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlnb.runs import Store

pytestmark = pytest.mark.kernel


@pytest.fixture
def kernel_home(home: Path, monkeypatch: pytest.MonkeyPatch, child_env) -> Path:
    """Kernels inherit MLNB_HOME and this worktree on PYTHONPATH."""
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    return home


def test_magics_start_log_list_show_stop(kernel: object, kernel_home: Path, cell_text) -> None:
    nb = kernel(
        [
            "%load_ext mlnb",
            "config = {'lr': 0.1, 'layers': [64, 32]}\n%run_start baseline --project demo --config config --tag cnn --system-interval 0 --no-live",
            "import mlnb\nfor step in range(20):\n    mlnb.log({'loss': 1 / (step + 1), 'val/acc': step / 20})",
            "1 / 0",
            "mlnb.log({'loss': float('nan')}, step=99)",
            "%run_stop",
            "%runs",
            "%run_show baseline",
            "%run_start --help",
            "print(type(get_ipython().find_line_magic('run').__self__).__name__)",
        ],
        allow_errors=True,
    )
    texts = [cell_text(cell).strip() for cell in nb.cells]
    assert "mlnb: started run 'baseline' (" in texts[1] and "in project 'demo'" in texts[1]
    assert texts[5].startswith("mlnb: run 'baseline' (") and "finished after" in texts[5]
    assert "loss=nan" in texts[5] and "val/acc=0.95" in texts[5]
    assert "baseline" in texts[6] and "finished" in texts[6] and "nan" in texts[6]
    assert "config" in texts[7] and "lr" in texts[7] and "cells" in texts[7]
    assert "Usage: %run_start [--project PROJECT] [--tag TAG] [--config CONFIG]" in texts[8]
    assert texts[9].strip() == "ExecutionMagics"  # %run is still IPython's own
    with Store(kernel_home, readonly=True) as store:
        (record,) = store.list_runs()
        cells = store.cells(record.id)
        rows = store.metrics(record.id)
    assert record.config == {"lr": 0.1, "layers": [64, 32]} and record.tags == ("cnn",)
    # the cell log: start cell, logging cell, failing cell, nan cell, stop cell — in order
    assert [c.status for c in cells] == ["ok", "ok", "error", "ok", "ok"]
    assert cells[1].source.startswith("import mlnb\nfor step in range(20)")
    assert cells[2].error.startswith("ZeroDivisionError: division by zero")
    assert [c.execution_count for c in cells] == [2, 3, 4, 5, 6]
    import hashlib

    assert cells[1].hash == hashlib.sha256(cells[1].source.encode()).hexdigest()[:16]
    # every metric is tied to the cell that logged it
    assert {r.cell for r in rows if r.step < 20} == {cells[1].seq}
    assert [r.cell for r in rows if r.step == 99] == [cells[3].seq]


def test_magic_errors_are_one_line(kernel: object, kernel_home: Path, cell_text) -> None:
    nb = kernel(
        [
            "%load_ext mlnb",
            "import mlnb\nmlnb.log({'loss': 1.0})",
            "%run_stop",
            "%run_start a --system-interval 0 --no-live",
            "%run_start b --system-interval 0 --no-live",
            "%run_start c --config nope --no-live",
            "%run_show missing",
            "mlnb.log({'loss': 'high'})",
            "%run_start --bogus",
        ],
        allow_errors=True,
    )
    texts = [cell_text(cell).strip() for cell in nb.cells]
    assert (
        "NoActiveRunError: cannot log: no run is active — start one with `run = mlnb.start('name')`"
        in texts[1]
    )
    assert (
        texts[2]
        == "UsageError: cannot finish: no run is active — start one with `run = mlnb.start('name')` or `%run_start name`, or log to a run object with `run.log(...)`."
    )
    assert (
        texts[4].startswith("UsageError: run 'a' (")
        and "is still active — finish it with `mlnb.finish()`" in texts[4]
    )
    assert texts[5] == "UsageError: %run_start: no variable named 'nope' for --config."
    assert texts[6].startswith("UsageError: no run 'missing' in the run store at")
    assert "MetricValueError: metric 'loss' must be a number, got text 'high'" in texts[7]
    assert texts[8].startswith("UsageError: unrecognized arguments: --bogus. Usage: %run_start")


def test_live_plot_and_a_failing_cell_hook_never_break_cells(
    kernel: object, kernel_home: Path, cell_text
) -> None:
    nb = kernel(
        [
            "%load_ext mlnb",
            "%run_start live --system-interval 0",
            "import time, mlnb\nfor i in range(40):\n    mlnb.log({'loss': 1 / (i + 1)})\n    time.sleep(0.05)",
            "from mlnb.magics import loaded_magics\nplot = [m for m in loaded_magics(get_ipython()) if hasattr(m, 'live_plot')][0].live_plot\n"
            "deadline = time.time() + 60  # the drawing helper runs at the lowest priority: a busy machine delays it\n"
            "while plot.redraws < 2 and time.time() < deadline:\n    mlnb.log({'loss': 0.01})\n    time.sleep(0.05)\n"
            "print('redraws', plot.redraws, len(plot.image.value) > 1000)",
            "recorder = [m for m in loaded_magics(get_ipython()) if hasattr(m, 'recorder')][0].recorder\nrecorder.live_runs = lambda: 1 / 0  # break the cell-log hook",
            "print('still fine')",
            "print('and again')",
            "print('done')",
        ]
    )
    texts = [cell_text(cell).strip() for cell in nb.cells]
    outputs = nb.cells[1].outputs
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    redraws = int(texts[3].split()[1])
    assert redraws >= 2 and texts[3].endswith("True")
    assert "still fine" in texts[5] and "and again" in texts[6]
    warnings_shown = "\n".join(texts[4:8])
    assert (
        warnings_shown.count(
            "mlnb: the mlnb RunsMagics pre_run_cell hook (cell-log-pre) failed and was skipped"
        )
        == 1
    )
    assert "your cell ran normally" in warnings_shown
    json.dumps(texts)
