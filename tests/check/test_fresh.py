"""Fresh runs of ``mlnb check``: one planted notebook, checked once (3 kernels), read by many tests."""

from __future__ import annotations

import json

import pytest

from mlnb.checking.api import check
from mlnb.cli import main
from tests.check.planted import result, stdout
from tests.helpers import run_notebook

pytestmark = pytest.mark.kernel

CELLS = [
    "import random, tempfile, time\nimport numpy as np\nimport pandas as pd",
    # addresses, temp paths, clock times and timing lines change every run
    "print(object(), tempfile.mkdtemp())\nprint(time.strftime('%H:%M:%S'))\n%time total = sum(range(1000))",
    "0.1 + 0.2",
    "pd.DataFrame({'a': [1.5, 2.5], 'b': ['x', 'y']})",
    "print(random.random())",  # pinned by the seed, but the saved value came from elsewhere
    "print(np.random.default_rng().random())",  # a generator no seed reaches
    "with open('in.txt') as f:\n    text = f.read()\nwith open('out.txt', 'w') as f:\n    f.write(text * 2)\ntext",
    "print(undefined_xyz)",
    "print('only now')",
    "quiet = 1",
]


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """The planted notebook, saved after a real run and then edited as a session would leave it."""
    import nbformat

    folder = tmp_path_factory.mktemp("fresh")
    (folder / "in.txt").write_text("abc")
    nb = run_notebook(CELLS, allow_errors=True, cwd=str(folder))
    cells = nb.cells
    cells[2].outputs = [result("0.30000000000000004")]
    cells[4].outputs = [stdout("0.5\n")]
    cells[7].outputs = [stdout("42\n")]
    cells[8].outputs = []
    cells[9].outputs = [stdout("gone\n")]
    path = folder / "planted.ipynb"
    nbformat.write(nb, str(path))
    return path, check(path, runs=2, seed=5, vary_seed=True)


def _status(report):
    return {c.cell: c.status for c in report.cells}


def test_each_cell_says_same_or_how_it_differs(checked):
    _path, report = checked
    assert report.runs == 3 and report.seed == 5 and not report.reproducible
    assert _status(report) == {
        0: "same",
        1: "same",  # address, temp path, time, timing: normalised
        2: "same",  # 0.30000000000000004 within the tolerance
        3: "same",  # the DataFrame by value
        4: "differs",
        5: "differs",
        6: "same",
        7: "new error",
        8: "new output",
        9: "output gone",
    }
    details = {c.cell: c.detail for c in report.cells}
    assert details[4].startswith("stdout: 1 number(s) changed: 0.5 → 0.")
    assert details[7] == "NameError: name 'undefined_xyz' is not defined"


def test_same_seed_nondeterminism_and_seed_sensitivity_name_the_cell(checked):
    _path, report = checked
    nondeterministic = [f for f in report.findings if f.kind == "nondeterministic"]
    assert [f.cell for f in nondeterministic] == [5]
    assert nondeterministic[0].message.startswith(
        "two fresh runs with the same seed 5 differ in cell 6: stdout: 1 number(s) changed: 0."
    )
    sensitive = sorted(f.cell for f in report.findings if f.kind == "seed-sensitive")
    assert sensitive == [4, 5]
    assert "with seed 6 instead of 5, cell 5 changes (largest relative change" in next(
        f.message for f in report.findings if f.kind == "seed-sensitive" and f.cell == 4
    )


def test_files_read_and_written_with_hashes_and_the_lines_to_add(checked):
    import hashlib

    _path, report = checked
    files = {(f.role, f.path): f for f in report.files}
    assert set(files) == {("input", "in.txt"), ("output", "out.txt")}
    assert files["input", "in.txt"].sha256 == hashlib.sha256(b"abc").hexdigest()
    assert files["output", "out.txt"].sha256 == hashlib.sha256(b"abcabc").hexdigest()
    assert report.suggestion() == "inputs: [in.txt]\noutputs: [out.txt]"
    assert "add to the step in pipeline.yaml:\n    inputs: [in.txt]" in report.text()
    kinds = {f.kind for f in report.findings}
    assert {"undeclared-input", "undeclared-output", "undefined"} <= kinds


def test_json_and_html_forms(checked):
    _path, report = checked
    data = json.loads(json.dumps(report.to_json()))
    assert data["reproducible"] is False and data["exit_code"] == 1
    assert {
        "cell": 8,
        "status": "new error",
        "detail": "NameError: name 'undefined_xyz' is not defined",
    } in data["cells"]
    assert "✗ not reproducible" in report.html() and "<table" in report.html()


def test_the_saved_notebook_is_not_touched(checked):
    import nbformat

    path, _report = checked
    nb = nbformat.read(str(path), as_version=4)
    assert nb.cells[4].outputs[0]["text"] == "0.5\n"


def test_timeout_and_a_dead_kernel_name_the_cell(tmp_path, capsys):
    from tests.check.planted import saved

    slow = saved(
        tmp_path / "slow.ipynb", [("x = 1", 1, []), ("import time\ntime.sleep(60)", 2, [])]
    )
    code = main(["check", str(slow), "--timeout", "4", "--json"])
    data = json.loads(capsys.readouterr().out)[0]
    assert code == 1
    assert [(f["kind"], f["cell"]) for f in data["findings"]] == [("timeout", 2)]
    assert {"cell": 2, "status": "not run", "detail": "the fresh run stopped before it"} in data[
        "cells"
    ]
    dies = saved(
        tmp_path / "dies.ipynb",
        [("x = 1", 1, []), ("import os\nos._exit(3)", 2, []), ("y = 2", 3, [])],
    )
    report = check(dies, timeout=60)
    assert [(f.kind, f.cell) for f in report.errors] == [("kernel-died", 1)]
    assert report.errors[0].message.startswith("the kernel died while cell 2 ran")
    assert [c.status for c in report.cells] == ["same", "not run", "not run"]
