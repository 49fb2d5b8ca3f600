"""Parameters cell parsing, checks against it, and papermill-style -p/-r/-y/-f parsing."""

from __future__ import annotations

import pytest

from mlnb.exceptions import (
    MalformedParameterError,
    NoParametersCellError,
    ParameterTypeError,
    UnknownParameterError,
)
from mlnb.pipeline.loading import load_notebook
from mlnb.pipeline.parameters import (
    check_parameters,
    cli_parameters,
    parse_parameters,
    resolve_cli_value,
    split_assignment,
)

PARAMS = "lr = 0.01  # learning rate\nepochs: int = 3\nname = 'run'\nlayers = [64, 32]\nflag = False\npath = os.getcwd()"


def test_parse_parameters_reads_types_defaults_and_comments():
    params = {p.name: p for p in parse_parameters(PARAMS)}
    assert [(p.name, p.type_name, p.default) for p in params.values()][:5] == [
        ("lr", "float", 0.01),
        ("epochs", "int", 3),
        ("name", "str", "run"),
        ("layers", "list", [64, 32]),
        ("flag", "bool", False),
    ]
    assert params["lr"].help == "learning rate"
    assert params["path"].type_name == "unknown" and params["path"].default == "os.getcwd()"


def test_unknown_parameter_names_the_known_ones(notebook):
    nb = load_notebook(notebook("t.ipynb", ["pass"], parameters=PARAMS))
    with pytest.raises(UnknownParameterError) as info:
        check_parameters(nb, {"lrr": 0.1}, "t.ipynb")
    assert str(info.value) == (
        "t.ipynb has no parameter 'lrr'; its parameters are: epochs, flag, layers, lr, name, path "
        "(did you mean 'lr'?)"
    )


def test_type_mismatch_says_which(notebook):
    nb = load_notebook(notebook("t.ipynb", ["pass"], parameters=PARAMS))
    with pytest.raises(ParameterTypeError) as info:
        check_parameters(nb, {"epochs": "ten"}, "t.ipynb")
    assert str(info.value) == "parameter 'epochs' is int (default 3), got str 'ten'."
    with pytest.raises(ParameterTypeError, match="parameter 'flag' is bool"):
        check_parameters(nb, {"flag": 1}, "t.ipynb")


def test_int_for_float_becomes_float_and_unknown_defaults_take_anything(notebook):
    nb = load_notebook(notebook("t.ipynb", ["pass"], parameters=PARAMS))
    checked = check_parameters(nb, {"lr": 1, "path": 5}, "t.ipynb")
    assert checked == {"lr": 1.0, "path": 5} and isinstance(checked["lr"], float)


def test_no_parameters_cell_points_to_step_init(notebook):
    path = notebook("plain.ipynb", ["print(1)"], parameters=None)
    nb = load_notebook(path)
    assert check_parameters(nb, {}, path) == {}
    with pytest.raises(NoParametersCellError) as info:
        check_parameters(nb, {"lr": 0.1}, "plain.ipynb")
    assert str(info.value) == (
        "plain.ipynb has no cell tagged `parameters` so lr cannot be set — "
        "run `mlnb step init plain.ipynb --write` to make one."
    )


def test_cli_values_are_read_as_the_defaults_type(notebook):
    nb = load_notebook(notebook("t.ipynb", ["pass"], parameters=PARAMS))
    params = cli_parameters(
        nb,
        pairs=[("lr", "1"), ("name", "007"), ("layers", "[8, 4]"), ("flag", "true"), ("x", "2.5")],
        raw_pairs=[("epochs", "5")],
        yaml_texts=["epochs: 7"],
    )
    assert params == {
        "lr": 1,
        "name": "007",
        "layers": [8, 4],
        "flag": True,
        "x": 2.5,
        "epochs": "5",
    }
    assert resolve_cli_value("None", None) is None


def test_malformed_parameters_are_one_sentence(notebook, tmp_path):
    nb = load_notebook(notebook("t.ipynb", ["pass"], parameters=PARAMS))
    with pytest.raises(MalformedParameterError) as info:
        cli_parameters(nb, pairs=[("1x", "3")])
    assert (
        str(info.value)
        == "-p expects a parameter name and a value (`-p lr 0.1`); '1x' is not a Python name."
    )
    with pytest.raises(
        MalformedParameterError,
        match=r"-y '\[1, 2\]' must be a YAML mapping like `lr: 0.1`, got a list.",
    ):
        cli_parameters(nb, yaml_texts=["[1, 2]"])
    with pytest.raises(MalformedParameterError, match="is not valid YAML at line 1"):
        cli_parameters(nb, yaml_texts=["a: [1,"])
    missing = tmp_path / "nope.yaml"
    with pytest.raises(MalformedParameterError, match=f"-f {missing}: no such parameters file."):
        cli_parameters(nb, yaml_files=[str(missing)])
    with pytest.raises(MalformedParameterError) as info:
        split_assignment("lr")
    assert str(info.value) == "-p expects name=value[,value...] (e.g. `-p lr=0.1,0.01`), got 'lr'."
