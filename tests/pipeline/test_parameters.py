"""Parameters cell parsing; papermill's leniency (warnings) and --strict (refusals); JSON-only
values from YAML (issue 14 item 1); papermill-style -p/-r/-y/-f/-b parsing."""

from __future__ import annotations

import base64
import warnings

import pytest

from mlnb.exceptions import (
    MalformedParameterError,
    NoParametersCellError,
    ParametersCellError,
    ParameterTypeError,
    ParameterValueError,
    ParameterWarning,
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


def _warned(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught if issubclass(w.category, ParameterWarning)]


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
    # IPython syntax in the cell does not hide the parameters
    assert [p.name for p in parse_parameters("%matplotlib inline\nlr = 0.1")] == ["lr"]


def test_unknown_name_warns_and_injects_by_default_and_strict_refuses(notebook):
    nb = load_notebook(notebook("t.ipynb", ["pass"], parameters=PARAMS))
    checked, warned = _warned(lambda: check_parameters(nb, {"lrr": 0.1}, "t.ipynb"))
    assert checked == {"lrr": 0.1}
    assert warned == [
        "t.ipynb has no parameter 'lrr'; its parameters are: epochs, flag, layers, lr, name, path "
        "(did you mean 'lr'?); injected anyway, as papermill does (--strict refuses)."
    ]
    with pytest.raises(UnknownParameterError) as info:
        check_parameters(nb, {"lrr": 0.1}, "t.ipynb", strict=True)
    assert str(info.value) == (
        "t.ipynb has no parameter 'lrr'; its parameters are: epochs, flag, layers, lr, name, path "
        "(did you mean 'lr'?)"
    )


def test_type_mismatch_warns_and_strict_says_which(notebook):
    nb = load_notebook(notebook("t.ipynb", ["pass"], parameters=PARAMS))
    checked, warned = _warned(lambda: check_parameters(nb, {"epochs": "ten"}, "t.ipynb"))
    assert checked == {"epochs": "ten"}
    assert warned == [
        "parameter 'epochs' is int (default 3), got str 'ten'; injected anyway, as papermill does (--strict refuses)."
    ]
    with pytest.raises(ParameterTypeError) as info:
        check_parameters(nb, {"epochs": "ten"}, "t.ipynb", strict=True)
    assert str(info.value) == "parameter 'epochs' is int (default 3), got str 'ten'."
    with pytest.raises(ParameterTypeError, match="parameter 'flag' is bool"):
        check_parameters(nb, {"flag": 1}, "t.ipynb", strict=True)


def test_int_for_float_stays_int_and_unknown_defaults_take_anything(notebook):
    nb = load_notebook(notebook("t.ipynb", ["pass"], parameters=PARAMS))
    checked, warned = _warned(lambda: check_parameters(nb, {"lr": 1, "path": 5}, "t.ipynb"))
    assert checked == {"lr": 1, "path": 5} and type(checked["lr"]) is int  # papermill: int
    assert warned == []


def test_no_parameters_cell_injects_at_the_top_and_strict_points_to_step_init(notebook):
    path = notebook("plain.ipynb", ["print(1)"], parameters=None)
    nb = load_notebook(path)
    assert check_parameters(nb, {}, path) == {}
    checked, warned = _warned(lambda: check_parameters(nb, {"lr": 0.1}, "plain.ipynb"))
    assert checked == {"lr": 0.1} and warned == [
        "plain.ipynb has no cell tagged `parameters` so lr cannot be set — run `mlnb step init "
        "plain.ipynb --write` to make one; the parameters are injected at the top, as papermill "
        "does (--strict refuses)."
    ]
    with pytest.raises(NoParametersCellError) as info:
        check_parameters(nb, {"lr": 0.1}, "plain.ipynb", strict=True)
    assert str(info.value) == (
        "plain.ipynb has no cell tagged `parameters` so lr cannot be set — "
        "run `mlnb step init plain.ipynb --write` to make one."
    )


def test_a_parameters_cell_with_a_syntax_error_is_not_no_parameters(notebook):
    path = notebook("broken.ipynb", ["print(msg)"], parameters="msg = 'hi'\nif True print(1)")
    nb = load_notebook(path)
    checked, warned = _warned(lambda: check_parameters(nb, {"msg": "Hello"}, "broken.ipynb"))
    assert checked == {"msg": "Hello"}
    assert warned == [
        "the parameters cell of broken.ipynb does not parse (SyntaxError at line 2: invalid syntax), "
        "so its parameters cannot be listed or checked — fix that cell; the parameters are injected "
        "after it anyway, as papermill does (--strict refuses)."
    ]
    with pytest.raises(ParametersCellError, match="does not parse"):
        check_parameters(nb, {"msg": "Hello"}, "broken.ipynb", strict=True)


def test_values_must_be_json_data_always(notebook, tmp_path):
    """Issue 14 item 1: !!binary reached papermill's bytes fallback and became code."""
    nb = load_notebook(notebook("t.ipynb", ["pass"], parameters=PARAMS))
    payload = base64.b64encode(b"', __import__('os').system('touch pwned'), '").decode()
    expected = (
        "parameter 'anything' is a bytes (YAML's !!binary tag); parameter values must be JSON "
        "data (str, int, float, bool, None, list or dict) — quote it to pass it as a string."
    )
    with pytest.raises(ParameterValueError) as info:
        cli_parameters(nb, yaml_texts=[f"anything: !!binary {payload}"])
    assert str(info.value) == expected
    bad_file = tmp_path / "p.yaml"
    bad_file.write_text(f"anything: !!binary {payload}\n")
    with pytest.raises(ParameterValueError, match="'anything' is a bytes"):
        cli_parameters(nb, yaml_files=[str(bad_file)])
    with pytest.raises(ParameterValueError, match=r"'layers'\[1\] is a bytes"):
        cli_parameters(nb, pairs=[("layers", f"[1, !!binary {payload}]")])  # -p on a list default
    with pytest.raises(ParameterValueError, match="is a set"):
        cli_parameters(nb, yaml_texts=["s: !!set {a: null}"])
    with pytest.raises(ParameterValueError, match="has the key 1"):
        cli_parameters(nb, yaml_texts=["d: {1: a}"])
    with pytest.raises(ParameterValueError, match="'x' is a bytes"):
        check_parameters(nb, {"x": b"raw"}, "t.ipynb")  # the library refuses it too
    with pytest.raises(ParameterValueError, match="is a datetime"):
        cli_parameters(nb, yaml_texts=["when: !!timestamp 2019-01-01 10:00:00"])
    # a date without a tag stays text, as papermill's loader keeps it
    assert cli_parameters(nb, yaml_texts=["msg: 2019-01-01"]) == {"msg": "2019-01-01"}


def test_cli_values_are_typed_like_papermill_unless_the_default_says_otherwise(notebook):
    nb = load_notebook(notebook("t.ipynb", ["pass"], parameters=PARAMS))
    params = cli_parameters(
        nb,
        pairs=[
            ("lr", "10"),
            ("name", "007"),
            ("layers", "[8, 4]"),
            ("flag", "true"),
            ("x", "2.5"),
            ("neg", "-3"),
            ("tiny", "-1e-3"),
            ("ninf", "-inf"),
            ("listy", "[1, 2]"),
            ("dash", "--x"),
        ],
        raw_pairs=[("epochs", "5")],
        yaml_texts=["epochs: 7"],
        base64_texts=[base64.b64encode(b"b64: 1").decode()],
    )
    assert params == {
        "b64": 1,
        "lr": 10,
        "name": "007",
        "layers": [8, 4],
        "flag": True,
        "x": 2.5,
        "neg": -3,
        "tiny": -0.001,
        "ninf": float("-inf"),
        "listy": "[1, 2]",
        "dash": "--x",
        "epochs": "5",
    }
    assert type(params["lr"]) is int and type(params["neg"]) is int
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
    with pytest.raises(MalformedParameterError, match="is not base64 text"):
        cli_parameters(nb, base64_texts=["%%%"])
    missing = tmp_path / "nope.yaml"
    with pytest.raises(MalformedParameterError, match=f"-f {missing}: no such parameters file."):
        cli_parameters(nb, yaml_files=[str(missing)])
    with pytest.raises(MalformedParameterError) as info:
        split_assignment("lr")
    assert str(info.value) == "-p expects name=value[,value...] (e.g. `-p lr=0.1,0.01`), got 'lr'."
