"""The static pass of ``mlnb check``: no kernel, only what the saved notebook shows."""

from __future__ import annotations

import json

import pytest

from mlnb.checking.api import check, check_static
from mlnb.cli import main
from mlnb.exceptions import (
    EmptyNotebookError,
    InvalidNotebookError,
    NotebookNotFoundError,
    UnsupportedLanguageError,
)
from tests.check.planted import saved, stdout


def _kinds(report):
    return sorted((f.kind, f.cell) for f in report.findings)


@pytest.fixture
def planted(tmp_path):
    return saved(
        tmp_path / "planted.ipynb",
        [
            ("import numpy as np\nthreshold = 0.5", 1, []),
            "# notes",
            ("print(threshold * 2)", 5, [stdout("1.8\n")]),
            ("y = z + 1", 2, []),
            ("threshold = 0.9", 4, []),
            ("import surely_not_installed_pkg", None, []),
            ("z = 3", 3, []),
        ],
    )


def test_planted_hidden_state_is_found_with_cells(planted):
    report = check_static(planted)
    assert _kinds(report) == [
        ("missing-import", 5),
        ("never-run", 5),
        ("out-of-order", 3),
        ("out-of-order", 6),
        ("out-of-order-definition", 2),
        ("used-before-defined", 3),
    ]
    assert not report.reproducible and report.exit_code == 1 and report.runs == 0
    messages = {f.kind: f.message for f in report.findings}
    assert messages["out-of-order-definition"] == (
        "cell 3's saved output used 'threshold' from cell 5 (below it, run earlier); "
        "a top-to-bottom run uses cell 1's."
    )
    assert "'z', first defined in cell 7 below it" in messages["used-before-defined"]
    assert "'surely_not_installed_pkg'" in messages["missing-import"]


def test_a_clean_notebook_in_order_has_no_findings(tmp_path):
    path = saved(
        tmp_path / "clean.ipynb",
        [
            ("import math\nfrom pathlib import Path\nn = 3", 1, []),
            ("def f(k):\n    return [math.sqrt(i) for i in range(k)]\nvalues = f(n)", 2, []),
            ("n += 1\ntotal = sum(v for v in values)\nprint(total, Path('.'))", 3, []),
            ("try:\n    1 / 0\nexcept ZeroDivisionError as exc:\n    caught = exc\ncaught", 4, []),
            ("%time x = [n for n in range(3)]\nlen(x)", 5, []),
        ],
    )
    report = check_static(path)
    assert report.findings == [] and report.reproducible and report.exit_code == 0


def test_gaps_a_deleted_definition_and_a_foreign_kernel(tmp_path):
    path = saved(
        tmp_path / "gaps.ipynb",
        [
            ("a = 1", 1, []),
            ("def g():\n    return missing_helper()\nb = a + deleted_value", 7, []),
        ],
        kernelspec={"name": "conda-env-old-py", "display_name": "old", "language": "python"},
        metadata={"language_info": {"name": "python", "version": "2.7.18"}},
    )
    report = check_static(path)
    kinds = _kinds(report)
    assert ("count-gaps", None) in kinds and ("foreign-kernel", None) in kinds
    assert ("foreign-python", None) in kinds
    undefined = sorted(f.message for f in report.findings if f.kind == "undefined")
    assert undefined == [
        "a function in cell 2 uses 'missing_helper', which no cell defines.",
        "cell 2 uses 'deleted_value', which no cell defines (a deleted cell?).",
    ]
    assert "not 1 to 2" in next(f.message for f in report.findings if f.kind == "count-gaps")


def test_star_imports_and_run_magics_silence_undefined_names(tmp_path):
    path = saved(tmp_path / "star.ipynb", [("from math import *\nprint(pi)", 1, [])])
    assert check_static(path).findings == []
    path = saved(tmp_path / "run.ipynb", [("%run helpers.py\nprint(helper_value)", 1, [])])
    assert check_static(path).findings == []


def test_a_syntax_error_cell_is_a_finding(tmp_path):
    path = saved(tmp_path / "bad.ipynb", [("def (:", 1, [])])
    (finding,) = check_static(path).findings
    assert finding.kind == "syntax-error" and finding.cell == 0


def test_bad_inputs_raise_one_sentence(tmp_path):
    with pytest.raises(NotebookNotFoundError):
        check_static(tmp_path / "nope.ipynb")
    text = tmp_path / "notes.ipynb"
    text.write_text("not json")
    with pytest.raises(InvalidNotebookError, match="is not a valid notebook: it is not JSON"):
        check_static(text)
    empty = saved(tmp_path / "empty.ipynb", ["# only prose", ("   ", None, [])])
    with pytest.raises(EmptyNotebookError, match="has no code cells, so there is nothing to check"):
        check_static(empty)
    r_nb = saved(
        tmp_path / "r.ipynb",
        [("x <- 1", 1, [])],
        kernelspec={"name": "ir", "display_name": "R", "language": "R"},
    )
    with pytest.raises(
        UnsupportedLanguageError, match="is a r notebook; mlnb check supports Python"
    ):
        check(r_nb)


def test_cli_static_only_json_and_exit_codes(planted, tmp_path, capsys):
    assert main(["check", str(planted), "--static-only", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data[0]["reproducible"] is False and data[0]["runs"] == 0
    found = {(f["kind"], f["severity"], f["cell"]) for f in data[0]["findings"]}
    assert ("used-before-defined", "error", 4) in found and ("never-run", "warning", 6) in found
    clean = saved(tmp_path / "clean.ipynb", [("x = 1", 1, [])])
    assert main(["check", str(clean), "--static-only"]) == 0
    assert capsys.readouterr().out.startswith("✓ reproducible: ")
    assert main(["check", str(tmp_path / "missing.ipynb"), "--static-only"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"mlnb: notebook {tmp_path / 'missing.ipynb'} does not exist."
    )


def test_mlnb_check_is_the_function_and_checking_the_package():
    import mlnb
    import mlnb.checking

    assert mlnb.check is check and callable(mlnb.check)
    assert mlnb.checking.__name__ == "mlnb.checking"


def test_step_init_warns_about_hidden_state(planted, tmp_path, capsys):
    assert main(["step", "init", str(planted)]) == 0
    captured = capsys.readouterr()
    assert "mlnb: check: error: cell 4 uses 'z', first defined in cell 7 below it" in captured.err
    assert captured.err.strip().endswith(
        f"run `mlnb check {planted}` to see whether a fresh run reproduces it."
    )
    clean = saved(tmp_path / "clean.ipynb", [("lr = 0.1", 1, []), ("print(lr)", 2, [])])
    assert main(["step", "init", str(clean)]) == 0
    assert "check:" not in capsys.readouterr().err
