"""``mlnb info``: the installed version and what the optional extras found."""

from __future__ import annotations

import json
import re

from mlnb import __version__
from mlnb.cli import main


def test_info_json_lists_core_and_extras(capsys):
    assert main(["info", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["mlnb"] == __version__
    assert report["core"]["papermill"]
    assert "torch" in report["extras"]


def test_info_table(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("package")
    assert re.search(rf"^mlnb +{re.escape(__version__)}$", out, re.MULTILINE)
