"""What a compiled Kubeflow component runs in its pod: files in and out, values typed."""

from __future__ import annotations

import json

import pytest

from mlnb.exceptions import PipelineError, RunFailedError
from mlnb.pipeline.kfp_plan import embed_file, embed_notebook
from mlnb.pipeline.kfp_step import restore_ints, run_step, typed_outputs, unpack
from tests.helpers import extra, write_notebook


def test_restore_ints_where_the_default_had_ints():
    assert restore_ints([64.0, 32.0, 16.0], [64, 32]) == [64, 32, 16]
    assert restore_ints({"a": 1.0, "b": 0.5, "c": 2.0}, {"a": 1, "b": 1.0}) == {
        "a": 1,
        "b": 0.5,
        "c": 2.0,
    }
    assert restore_ints([1.0, 2.5], [0.1]) == [1.0, 2.5]
    assert restore_ints(1.0, True) == 1.0  # a bool default is not an int


def test_typed_outputs_coerce_or_say_what_to_change():
    values = {"n": 3.0, "acc": 1, "name": "a", "ok": True}
    declared = {"n": "int", "acc": "float", "name": "str", "ok": "bool"}
    assert typed_outputs("s", values, declared) == (3, 1.0, "a", True, values)
    with pytest.raises(PipelineError) as info:
        typed_outputs("s", {"acc": "high"}, {"acc": "float"})
    assert str(info.value) == (
        "step 's' recorded 'acc' as a str, but its compiled component declares a float output — "
        "wrap the recorded expression in str(...) so its type shows, and recompile."
    )
    with pytest.raises(PipelineError, match="did not record 'acc'"):
        typed_outputs("s", {}, {"acc": "float"})
    with pytest.raises(PipelineError, match="as a bool"):
        typed_outputs("s", {"n": True}, {"n": "int"})


def test_packed_files_unpack(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"\x00\x01abc")
    assert unpack(embed_file(path, "x")) == b"\x00\x01abc"


@pytest.mark.kernel
def test_run_step_copies_files_in_and_out_and_logs_metrics(tmp_path):
    kfp = extra("kfp")
    notebook = write_notebook(
        tmp_path / "src" / "nb" / "double.ipynb",
        [
            "import mlnb\nvalue = float(open('data/in.txt').read()) * factor",
            "open('out/result.txt', 'w').write(str(value))\nmlnb.record('value', value)\nmlnb.record('tag', 'x')",
        ],
        parameters="factor = 2",
    )
    source = tmp_path / "artifact-in"
    source.write_text("21")
    metrics = kfp.dsl.Metrics(name="metrics", uri=str(tmp_path / "metrics"))
    values = run_step(
        step="double",
        notebook="nb/double.ipynb",
        embedded=embed_notebook(notebook),
        params={"factor": 3},
        inputs={"data/in.txt": str(source)},
        outputs={"out/result.txt": str(tmp_path / "artifacts" / "result")},
        executed=str(tmp_path / "artifacts" / "executed"),
        metrics=metrics,
        seed=7,
    )
    assert values == {"value": 63.0, "tag": "x"}
    assert (tmp_path / "artifacts" / "result").read_text() == "63.0"
    assert metrics.metadata == {"value": 63.0}
    executed = json.loads((tmp_path / "artifacts" / "executed").read_text())
    assert executed["metadata"]["mlnb"]["run"]["status"] == "finished"


@pytest.mark.kernel
def test_run_step_that_fails_keeps_its_notebook_and_says_why(tmp_path):
    notebook = write_notebook(tmp_path / "bad.ipynb", ["raise ValueError('no data')"])
    executed = tmp_path / "executed"
    with pytest.raises(RunFailedError, match="ValueError"):
        run_step(
            step="bad",
            notebook="bad.ipynb",
            embedded=embed_notebook(notebook),
            params={},
            executed=str(executed),
        )
    assert "no data" in executed.read_text()
    good = write_notebook(tmp_path / "good.ipynb", ["y = 1"])
    with pytest.raises(PipelineError) as info:
        run_step(
            step="good",
            notebook="good.ipynb",
            embedded=embed_notebook(good),
            params={},
            outputs={"model.pkl": str(tmp_path / "model")},
            executed=str(tmp_path / "executed2"),
        )
    assert (
        str(info.value) == "step 'good' finished but did not write its declared output model.pkl."
    )
