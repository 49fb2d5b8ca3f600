"""``mlnb run``: prints the record; a failed run exits 1."""

from __future__ import annotations

import pytest

from mlnb.cli import main
from tests.helpers import START_TIMEOUT


@pytest.mark.kernel
def test_run_prints_the_record_and_a_failure_exits_1(notebook, tmp_path, capsys, cli_err):
    good = notebook(
        "good.ipynb", ["import mlnb\nmlnb.record('acc', lr * 2)"], parameters="lr = 0.1"
    )
    assert (
        main(
            [
                "run",
                str(good),
                str(tmp_path / "o.ipynb"),
                "-p",
                "lr",
                "1",
                "--seed",
                "4",
                "--start-timeout",
                str(START_TIMEOUT),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"-> {tmp_path / 'o.ipynb'} (seed 4)" in out and "acc       2" in out
    bad = notebook("bad.ipynb", ["raise ValueError('nope')"])
    code, err = cli_err(
        ["run", str(bad), str(tmp_path / "b.ipynb"), "--start-timeout", str(START_TIMEOUT)]
    )
    assert (
        code == 1 and err.startswith(f"mlnb: {bad} failed in cell 2") and "ValueError: nope" in err
    )


def test_help_notebook_lists_the_parameters_without_running(notebook, capsys):
    path = notebook("h.ipynb", ["pass"], parameters="lr = 0.1  # learning rate\nepochs = 3")
    assert main(["run", str(path), "--help-notebook"]) == 0
    out = capsys.readouterr().out
    assert "lr         float  0.1      learning rate" in out and "epochs" in out
