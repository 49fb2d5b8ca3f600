"""The `mlnb` console command."""

from __future__ import annotations

import subprocess
import sys

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

