"""The `mlnb` command: the parser and the one registry of sub-commands (mlnb/cli/__init__.py)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from mlnb import __version__
from mlnb.cli import main


def test_version_from_console_script():
    out = subprocess.run(
        [sys.executable, "-m", "mlnb.cli", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"mlnb {__version__}"


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "usage: mlnb" in capsys.readouterr().out


def test_unknown_command_is_one_usage_error(capsys):
    try:
        main(["frobnicate"])
    except SystemExit as exc:
        assert exc.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'frobnicate'" in err


def test_every_subcommand_is_a_module_of_mlnb_cli_with_add_arguments_and_main():
    from mlnb.cli import SUBCOMMANDS

    assert list(SUBCOMMANDS) == [
        "info", "data", "runs", "gpu", "run", "sweep", "tune", "pipeline", "step", "check", "rerun"
    ]  # fmt: skip
    for name, (module_name, _help) in SUBCOMMANDS.items():
        assert module_name == f"mlnb.cli.{name}"
        module = importlib.import_module(module_name)
        assert callable(module.add_arguments) and callable(module.main)


def test_every_subcommand_answers_help(capsys):
    from mlnb.cli import SUBCOMMANDS

    for name in SUBCOMMANDS:
        with pytest.raises(SystemExit) as exit_:
            main([name, "--help"])
        assert exit_.value.code == 0
        assert f"usage: mlnb {name}" in capsys.readouterr().out
