"""Pipeline DAGs: spec errors, topological runs, cache keys, status, --force, failures."""

from __future__ import annotations

import time

import pytest

from mlnb.cli import main
from mlnb.exceptions import PipelineSpecError
from mlnb.pipeline.dag import pipeline_status, run_pipeline
from mlnb.pipeline.dagspec import load_spec
from tests.helpers import START_TIMEOUT

PIPELINE = """seed: 1
jobs: 2
steps:
  prepare: {notebook: prepare.ipynb, params: {n: 5}, outputs: [data.txt]}
  train: {notebook: train.ipynb, params: {scale: 2.0}, inputs: [data.txt], outputs: [model.txt], upstream: [prepare]}
  evaluate: {notebook: evaluate.ipynb, inputs: [model.txt], upstream: [train]}
"""


def _pipeline(notebook, tmp_path, text=PIPELINE):
    notebook(
        "prepare.ipynb",
        ["open('data.txt', 'w').write(' '.join(str(i) for i in range(n)))"],
        "n = 10",
    )
    notebook(
        "train.ipynb",
        [
            "import mlnb\ntotal = sum(float(x) for x in open('data.txt').read().split()) * scale\nopen('model.txt', 'w').write(str(total))\nmlnb.record('total', total)"
        ],
        "scale = 1.0",
    )
    notebook(
        "evaluate.ipynb",
        ["import mlnb\nmlnb.record('score', float(open('model.txt').read()) / 2)"],
        None,
    )
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            "  a: {notebook: a.ipynb, upstream: [b]}\n  b: {notebook: a.ipynb, upstream: [a]}\n",
            "p.yaml has a cycle: a → b → a.",
        ),
        (
            "  a: {notebook: a.ipynb, upstream: [prep]}\n",
            "p.yaml: step 'a' lists upstream 'prep', which is not a step (steps: a).",
        ),
        (
            "  a: {notebook: a.ipynb, upstreams: [b]}\n",
            "p.yaml, step 'a' has unknown key 'upstreams'; known keys: notebook, params, inputs, outputs, upstream, seed, kernel, timeout.",
        ),
        (
            "  a: {notebook: missing.ipynb}\n",
            "p.yaml, step 'a': notebook missing.ipynb does not exist.",
        ),
        ("  a: {params: {x: 1}}\n", "p.yaml, step 'a' needs `notebook: PATH.ipynb`."),
    ],
)
def test_spec_errors_are_one_sentence(tmp_path, steps, message, notebook):
    notebook("a.ipynb", ["pass"])
    path = tmp_path / "p.yaml"
    path.write_text("steps:\n" + steps)
    with pytest.raises(PipelineSpecError) as info:
        load_spec(path)
    assert str(info.value) == message


def test_order_and_bad_parameter_before_anything_runs(tmp_path, notebook):
    path = _pipeline(notebook, tmp_path, PIPELINE.replace("scale: 2.0", "scael: 2.0"))
    assert load_spec(path).order == ["prepare", "train", "evaluate"]
    with pytest.raises(PipelineSpecError) as info:
        run_pipeline(path)
    assert str(info.value) == (
        "pipeline.yaml, step 'train': train.ipynb has no parameter 'scael'; its parameters are: scale (did you mean 'scale'?)"
    )


@pytest.mark.kernel
def test_run_cache_status_and_force(tmp_path, capsys, notebook):
    path = _pipeline(notebook, tmp_path)
    assert [s.reasons for s in pipeline_status(path).steps] == [
        ["never ran"],
        ["upstream prepare is stale"],
        ["upstream train is stale"],
    ]
    first = run_pipeline(path, start_timeout=START_TIMEOUT)
    assert [s.status for s in first.steps] == ["ran", "ran", "ran"] and first.ok
    assert first.steps[1].values == {"total": 20.0} and first.steps[2].values == {"score": 10.0}
    assert (tmp_path / "runs" / "train.ipynb").exists()

    started = time.perf_counter()
    again = run_pipeline(path)
    assert time.perf_counter() - started < 5 and [s.status for s in again.steps] == ["cached"] * 3
    assert again.steps[2].values == {"score": 10.0}

    path.write_text(PIPELINE.replace("scale: 2.0", "scale: 3.0"))
    status = pipeline_status(path)
    assert [s.status for s in status.steps] == ["up to date", "stale", "stale"]
    assert status.steps[1].reasons == ["param scale changed: 2.0 → 3.0"]
    (tmp_path / "model.txt").write_text("0")
    assert "output model.txt was modified" in pipeline_status(path).steps[1].reasons

    assert main(["pipeline", "status", str(path)]) == 0
    assert "2 of 3 steps stale: train, evaluate" in capsys.readouterr().out
    third = run_pipeline(path, start_timeout=START_TIMEOUT)
    assert [s.status for s in third.steps] == ["cached", "ran", "ran"] and third.steps[
        2
    ].values == {"score": 15.0}
    forced = run_pipeline(path, force=True, start_timeout=START_TIMEOUT)
    assert [s.status for s in forced.steps] == ["ran"] * 3 and forced.steps[0].reasons == [
        "--force"
    ]


@pytest.mark.kernel
def test_failed_step_blocks_downstream_and_missing_output_fails(tmp_path, notebook):
    text = PIPELINE.replace("outputs: [model.txt]", "outputs: [model.txt, extra.txt]")
    path = _pipeline(notebook, tmp_path, text)
    result = run_pipeline(path, start_timeout=START_TIMEOUT)
    assert [s.status for s in result.steps] == ["ran", "failed", "blocked"] and not result.ok
    assert result.steps[1].reasons == [
        "it finished but did not write its declared output extra.txt"
    ]
    assert result.steps[2].reasons == ["upstream train did not finish"]
    assert pipeline_status(path).steps[1].reasons[0] == "its last run failed"
