"""The pipeline sub-commands (run, sweep, pipeline): bad input is one `mlnb: ...` line and exit 2."""

from __future__ import annotations

import pytest

from mlnb.cli import main
from mlnb.pipeline.loading import installed_kernels


def test_bad_inputs_are_one_line_and_exit_2(notebook, tmp_path, capsys, cli_err):
    path = notebook("t.ipynb", ["pass"], parameters="lr = 0.1\nepochs = 3")
    missing = tmp_path / "missing.ipynb"
    assert cli_err(["run", str(missing)]) == (2, f"mlnb: notebook {missing} does not exist.")
    assert cli_err(["run", str(path), "-p", "lrr", "1"]) == (
        2,
        f"mlnb: {path} has no parameter 'lrr'; its parameters are: epochs, lr (did you mean 'lr'?)",
    )
    assert cli_err(["run", str(path), "-p", "epochs", "0.5"]) == (
        2,
        "mlnb: parameter 'epochs' is int (default 3), got float 0.5.",
    )
    kernels = ", ".join(sorted(installed_kernels()))
    assert cli_err(["run", str(path), "--kernel", "nope"]) == (
        2,
        f"mlnb: no kernel named 'nope' is installed; installed kernels: {kernels}.",
    )
    assert cli_err(["sweep", str(path), "-p", "lr"]) == (
        2,
        "mlnb: -p expects name=value[,value...] (e.g. `-p lr=0.1,0.01`), got 'lr'.",
    )
    assert cli_err(["run", str(path), "--seed", "-1"])[1].startswith(
        "mlnb: seed must be a whole number"
    )
    cyclic = tmp_path / "p.yaml"
    cyclic.write_text("steps:\n  a: {notebook: t.ipynb, upstream: [a]}\n")
    assert cli_err(["pipeline", str(cyclic)]) == (2, "mlnb: p.yaml has a cycle: a → a.")
    with pytest.raises(SystemExit) as info:
        main(["run", str(path), "-p", "lr"])
    assert info.value.code == 2 and "expected 2 arguments" in capsys.readouterr().err
