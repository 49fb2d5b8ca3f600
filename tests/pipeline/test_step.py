"""mlnb step init / inspect: AST finds the first cells' literal assignments."""

from __future__ import annotations

import json

import pytest

from mlnb.cli import main
from mlnb.exceptions import NoParametersCellError
from mlnb.pipeline.step import inspect, step_init


def _finished(notebook):
    return notebook(
        "finished.ipynb",
        [
            "%load_ext mlnb\nimport numpy as np\nlr = 0.01  # learning rate\nepochs: int = 3",
            "layers = [64, 32]; name = 'run'\ndata = np.arange(10)\nbatch = 5",
            "print(lr, epochs, layers, name, data.sum(), batch)",
        ],
        parameters=None,
    )


def test_dry_run_reports_without_changing_the_file(notebook):
    path = _finished(notebook)
    before = path.read_text()
    plan = step_init(path)
    assert [p.name for p in plan.parameters] == ["lr", "epochs", "layers", "name"]
    assert plan.source_cells == [0, 1] and not plan.written and path.read_text() == before
    assert plan.summary().endswith("run again with --write to change the notebook.")


def test_write_moves_assignments_into_a_parameters_cell(notebook):
    path = _finished(notebook)
    plan = step_init(path, write=True, inputs=["data.csv"], outputs=["model.pkl"])
    nb = json.loads(path.read_text())
    sources = ["".join(c["source"]) for c in nb["cells"]]
    assert nb["cells"][0]["metadata"]["tags"] == ["parameters"]
    assert (
        sources[0] == "lr = 0.01  # learning rate\nepochs: int = 3\nlayers = [64, 32]; name = 'run'"
    )
    assert sources[1] == "%load_ext mlnb\nimport numpy as np"
    assert sources[2] == "data = np.arange(10)\nbatch = 5"  # after the first computation: stays
    step = nb["metadata"]["mlnb"]["step"]
    assert step["inputs"] == ["data.csv"] and step["outputs"] == ["model.pkl"]
    assert step["parameters"]["epochs"] == {"type": "int", "default": 3}
    assert "numpy" in step["environment"]["packages"] and plan.written
    assert [(p.name, p.type_name, p.default) for p in inspect(path)][:2] == [
        ("lr", "float", 0.01),
        ("epochs", "int", 3),
    ]
    again = step_init(path)
    assert (
        again.existing
        and "already has a parameters cell (lr, epochs, layers, name)" in again.summary()
    )


def test_inspect_without_parameters_cell_points_to_step_init(notebook, capsys):
    path = notebook("plain.ipynb", ["print(1)"], parameters=None)
    with pytest.raises(NoParametersCellError):
        inspect(path)
    assert main(["step", "inspect", str(path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"mlnb: {path} has no cell tagged `parameters` — run `mlnb step init {path} --write` to make one."
    )


def test_cli_step_init_and_inspect(notebook, capsys):
    path = _finished(notebook)
    assert main(["step", "init", str(path), "--write"]) == 0
    out = capsys.readouterr().out
    assert "moved 4 assignments (lr, epochs, layers, name) from cell(s) 1, 2" in out
    assert main(["step", "inspect", str(path)]) == 0
    table = capsys.readouterr().out
    assert "lr         float  0.01      learning rate" in table


def test_inspect_says_when_the_parameters_cell_does_not_parse(notebook, capsys):
    """Issue 15 item 2: a syntax error printed an empty table (as if there were no parameters)."""
    path = notebook("broken.ipynb", ["pass"], parameters="msg = 'hi'\nif True print(1)")
    assert main(["step", "inspect", str(path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"mlnb: the parameters cell of {path} does not parse (SyntaxError at line 2: invalid "
        "syntax), so its parameters cannot be listed or checked — fix that cell."
    )
    magic = notebook("magic.ipynb", ["pass"], parameters="%matplotlib inline\nlr = 0.1")
    assert [p.name for p in inspect(magic)] == ["lr"]  # IPython syntax is not an error
