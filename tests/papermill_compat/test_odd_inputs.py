"""`mlnb run` beside `papermill` on inputs found by the adversarial round: what papermill runs,
mlnb runs too (a notebook that breaks nbformat's schema, extra engine keywords); what papermill
refuses with a traceback, mlnb refuses with one sentence before a run is recorded."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from mlnb.exceptions import InvalidArgumentError, MalformedParameterError
from mlnb.pipeline.loading import parse_notebook
from mlnb.pipeline.parameters import cli_parameters
from mlnb.runs.store import Store
from tests.papermill_compat.notebooks import write
from tests.papermill_compat.test_compat import mlnb, papermill, view


def _stored_runs(home: Path) -> int:
    return len(Store(home).list_runs()) if home.exists() else 0


def test_an_unknown_engine_is_one_sentence_and_no_run(tmp_path, capsys, _compat_env):
    path = write(tmp_path / "nb.ipynb", ["print(1)"], "a = 1")
    code, err = mlnb([str(path), str(tmp_path / "out.ipynb"), "--engine", "bogus"], capsys)
    assert code == 2 and "Traceback" not in err
    assert "no papermill engine named 'bogus'" in err and "mlnb" in err and "nbclient" in err
    assert _stored_runs(_compat_env) == 0


def test_a_language_without_a_translator_is_one_sentence(tmp_path, capsys, _compat_env):
    path = write(tmp_path / "nb.ipynb", ["print(a)"], "a = 1")
    out = tmp_path / "out.ipynb"
    code, err = mlnb([str(path), str(out), "-l", "cobol", "-p", "a", "2"], capsys)
    assert code == 2 and "Traceback" not in err
    assert "papermill cannot inject parameters into a cobol notebook" in err
    assert not out.exists() and _stored_runs(_compat_env) == 0


@pytest.mark.kernel
def test_a_language_without_a_translator_runs_without_parameters(tmp_path, capsys):
    path = write(tmp_path / "nb.ipynb", ["print(a)"], "a = 1")
    code, _ = mlnb([str(path), str(tmp_path / "out.ipynb"), "-l", "cobol"], capsys)
    assert code == 0  # papermill translates nothing when there is nothing to inject


def test_yaml_keys_that_are_not_names_name_the_yaml(tmp_path):
    with pytest.raises(MalformedParameterError) as caught:
        cli_parameters(None, yaml_texts=["1: 2"])
    assert "-y" in str(caught.value) and "the key '1', which is not a Python name" in str(
        caught.value
    )
    assert "`-y lr 0.1`" not in str(caught.value)  # -y takes YAML, not a name and a value


def test_none_on_a_str_default_is_none_as_papermill_types_it(tmp_path):
    nb = nbformat.read(str(write(tmp_path / "nb.ipynb", ["print(path)"], "path = 'm.pt'")), 4)
    params = cli_parameters(nb, pairs=[["path", "None"], ["path2", "None"]])
    assert params == {"path": None, "path2": None}
    assert cli_parameters(nb, pairs=[["path", "007"]]) == {"path": "007"}  # text kept


def _with(path: Path, change) -> Path:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["cells"][1].__setitem__("foo", 1),
        lambda d: d["cells"][1].pop("outputs"),
        lambda d: d["cells"][1].pop("execution_count"),
        lambda d: d.__setitem__("extra", 1),
    ],
    ids=["extra-cell-key", "no-outputs", "no-execution-count", "extra-top-key"],
)
def test_a_notebook_breaking_the_schema_is_read_with_a_warning(change, tmp_path):
    path = _with(write(tmp_path / "nb.ipynb", ["print(a)"], "a = 1"), change)
    with pytest.warns(UserWarning, match="is not a valid notebook: .*; running it anyway"):
        nb = parse_notebook(path.read_bytes(), path, lenient=True)
    assert len(nb.cells) == 2
    with pytest.raises(Exception, match="is not a valid notebook"):
        parse_notebook(path.read_bytes(), path)  # steps, sweeps and checks stay strict


@pytest.mark.kernel
def test_a_notebook_breaking_the_schema_runs_as_with_papermill(tmp_path, capsys):
    path = _with(
        write(tmp_path / "nb.ipynb", ["print(a)"], "a = 1"), lambda d: d["cells"][1].pop("outputs")
    )
    pm_out, ml_out = tmp_path / "pm.ipynb", tmp_path / "ml.ipynb"
    pm = papermill([str(path), str(pm_out), "--no-progress-bar", "-p", "a", "3"])
    capsys.readouterr()
    ml, err = mlnb([str(path), str(ml_out), "-p", "a", "3"], capsys)
    ml_nb = view(nbformat.read(str(ml_out), as_version=4))
    assert (pm, ml) == (0, 0) and view(nbformat.read(str(pm_out), as_version=4)) == ml_nb
    assert ml_nb["cells"][2]["streams"] == {"stdout": "3\n"}
    assert "is not a valid notebook" in err and "running it anyway" in err
    assert "Traceback" not in err and "'source': 'print(a)'" not in err  # no nbformat dump


@pytest.mark.kernel
def test_extra_nbclient_keywords_reach_the_client_as_with_papermill(tmp_path):
    import papermill

    from mlnb.pipeline.run import execute_notebook

    path = write(tmp_path / "nb.ipynb", ["print(1)"], "a = 1")
    for run, out in ((papermill.execute_notebook, "pm"), (execute_notebook, "ml")):
        nb = run(str(path), str(tmp_path / f"{out}.ipynb"), progress_bar=False, record_timing=False)
        assert all("execution" not in cell.metadata for cell in nb.cells)  # the setting reached it


def test_a_keyword_no_engine_knows_is_refused(tmp_path):
    from mlnb.pipeline.run import execute_notebook

    path = write(tmp_path / "nb.ipynb", ["print(1)"], "a = 1")
    with pytest.raises(InvalidArgumentError, match="unknown keyword 'alow_errors'"):
        execute_notebook(str(path), str(tmp_path / "out.ipynb"), alow_errors=True)


@pytest.mark.kernel
@pytest.mark.parametrize("limit", ["0", "-1"])
def test_an_execution_timeout_of_zero_or_less_is_no_limit_as_with_papermill(
    limit, tmp_path, capsys
):
    path = write(tmp_path / "nb.ipynb", ["import time; time.sleep(1.5); print('slept')"], "a = 1")
    pm_out, ml_out = tmp_path / "pm.ipynb", tmp_path / "ml.ipynb"
    pm = papermill([str(path), str(pm_out), "--no-progress-bar", "--execution-timeout", limit])
    capsys.readouterr()
    ml, err = mlnb([str(path), str(ml_out), "--execution-timeout", limit], capsys)
    assert (pm, ml) == (0, 0), err
    ml_nb = view(nbformat.read(str(ml_out), as_version=4))
    assert view(nbformat.read(str(pm_out), as_version=4)) == ml_nb
    assert ml_nb["cells"][1]["streams"] == {"stdout": "slept\n"}


def test_reading_a_notebook_from_stdin_warns_nothing(tmp_path, monkeypatch, recwarn):
    import io
    import sys

    from mlnb.pipeline.papermill_io import stdin_holding

    path = write(tmp_path / "nb.ipynb", ["print(1)"], "a = 1")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with stdin_holding(path.read_bytes()):
        from papermill.iorw import load_notebook_node

        nb = load_notebook_node("-")
    assert len(nb.cells) == 2
    assert not [w for w in recwarn if "not specified with any extension" in str(w.message)]


def test_a_long_mistyped_value_is_shortened_in_the_warning(tmp_path):
    from mlnb.pipeline.parameters import parameter_problems

    nb = nbformat.read(str(write(tmp_path / "nb.ipynb", ["print(a)"], "a = 1")), 4)
    (problem,) = parameter_problems(nb, {"a": "x" * 100_000}, "nb.ipynb")
    assert len(str(problem)) < 200 and str(problem).startswith("parameter 'a' is int (default 1)")


def test_tags_written_as_one_string_are_read_as_papermill_reads_them(tmp_path):
    from mlnb.pipeline.parameters import parameters_cell_index

    nb = nbformat.read(str(write(tmp_path / "nb.ipynb", ["print(a)"], "a = 1")), 4)
    nb.cells[0].metadata["tags"] = "parameters"  # breaks the schema; papermill still finds it
    assert parameters_cell_index(nb) == 0


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"params": {1: 2}}, r"parameter names must be text, got 1 \(int\)"),
        ({"params": "a: 1"}, "params must be a mapping of names to values, got str"),
        ({"output": 123}, "the output must be a path, got int"),
    ],
    ids=["int-name", "str-params", "int-output"],
)
def test_python_callers_get_one_sentence_for_wrong_shapes(keywords, message, tmp_path):
    from mlnb.pipeline.run import run

    path = write(tmp_path / "nb.ipynb", ["print(a)"], "a = 1")
    keywords = {"output": str(tmp_path / "o.ipynb"), **keywords}
    with pytest.raises(InvalidArgumentError, match=message):
        run(str(path), prepare_only=True, **keywords)
