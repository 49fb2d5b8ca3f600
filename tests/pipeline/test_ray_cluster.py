"""The Ray backend on a real two-node cluster (``ray_two_nodes``): trials and steps pinned to
the worker node, their files travelling with them, their runs landing in the driver's store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mlnb.exceptions import BackendUnreachableError, InvalidArgumentError
from mlnb.pipeline.backend_ray import parse_resources
from mlnb.pipeline.backends import executors
from mlnb.pipeline.dag import run_pipeline
from mlnb.pipeline.sweep import sweep
from mlnb.runs.session import open_store
from tests.helpers import START_TIMEOUT

PINNED = {"ray_resources": '{"mlnb_worker": 1}'}
#: every sweep and pipeline here runs on the worker node
ON_WORKER = {"backend": "ray", "backend_options": PINNED, "start_timeout": START_TIMEOUT}


@pytest.mark.kernel
def test_a_sweep_runs_on_the_worker_node_and_lands_in_the_driver_store(
    ray_two_nodes, notebook, tmp_path, monkeypatch
):
    monkeypatch.setenv("MLNB_PROJECT", "scale-out")  # travels with the task
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "scale.txt").write_text("3", encoding="utf-8")
    path = notebook(
        "train.ipynb",
        [
            "import mlnb, os\n"
            "scale = int(open('data/scale.txt').read())\n"
            "for epoch in range(3):\n"
            "    mlnb.log({'loss': lr / (epoch + 1)}, step=epoch)\n"
            "os.makedirs('results', exist_ok=True)\n"
            "open(f'results/lr-{lr}.txt', 'w').write(str(lr * scale))\n"
            "mlnb.record('acc', lr * scale)\n"
            "mlnb.record('cwd', os.getcwd())",
        ],
        parameters="lr = 0.1",
    )
    result = sweep(
        path,
        {"lr": [0.1, 0.2]},
        jobs=2,
        seed=1,
        output_dir=tmp_path / "sw",
        progress=False,
        **ON_WORKER,
    )
    assert [t.status for t in result.trials] == ["finished", "finished"], [
        t.record.error for t in result.trials
    ]
    assert [t.values["acc"] for t in result.trials] == pytest.approx([0.3, 0.6])
    for trial in result.trials:
        assert trial.values["cwd"].startswith(str(ray_two_nodes.worker_scratch))
        assert Path(trial.output).is_file() and Path(trial.output).parent == tmp_path / "sw"
        stored = open_store().get_run(trial.record.id)
        node = stored.provenance["node"]
        assert node["node_id"] == ray_two_nodes.worker_node_id
        assert node["backend"] == "ray" and node["hostname"] and node["ip"]
        assert stored.project == "scale-out"
        assert stored.provenance["pipeline"]["output"] == trial.output
        assert stored.provenance["pipeline"]["notebook"] == str(path)
        steps = [row.step for row in open_store().metrics(stored.id, ["loss"])]
        assert steps == [0, 1, 2]
    written = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert written == ["lr-0.1.txt", "lr-0.2.txt"]
    assert not ray_two_nodes.violations.exists(), ray_two_nodes.violations.read_text()


@pytest.mark.kernel
def test_the_guard_catches_a_worker_opening_a_driver_path(ray_two_nodes, notebook, tmp_path):
    secret = tmp_path / "only-on-the-driver.txt"
    secret.write_text("driver", encoding="utf-8")
    path = notebook(
        "peek.ipynb", ["text = open(where).read()"], parameters=f"where = {str(secret)!r}"
    )
    result = sweep(
        path,
        {"where": [str(secret)]},
        output_dir=tmp_path / "sw",
        progress=False,
        **ON_WORKER,
    )
    assert result.trials[0].status == "failed"
    assert "PermissionError" in (result.trials[0].record.error or "")
    assert str(secret) in ray_two_nodes.violations.read_text()
    ray_two_nodes.violations.unlink()


@pytest.mark.kernel
def test_pipeline_steps_run_on_the_worker_node_and_their_outputs_come_back(
    ray_two_nodes, notebook, tmp_path
):
    notebook("make.ipynb", ["open('data.csv', 'w').write('a\\n' + str(n))"], parameters="n = 4")
    notebook(
        "use.ipynb",
        ["import mlnb\nmlnb.record('n', int(open('data.csv').read().split()[-1]))"],
        parameters="x = 1",
    )
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(
        "steps:\n"
        "  make: {notebook: make.ipynb, outputs: [data.csv]}\n"
        "  use: {notebook: use.ipynb, inputs: [data.csv], upstream: [make]}\n",
        encoding="utf-8",
    )
    result = run_pipeline(spec, **ON_WORKER)
    assert [s.status for s in result.steps] == ["ran", "ran"], result.text()
    assert result.steps[1].values == {"n": 4}
    assert (tmp_path / "data.csv").read_text(encoding="utf-8") == "a\n4"
    for step in result.steps:
        node = open_store().get_run(step.record.id).provenance["node"]
        assert node["node_id"] == ray_two_nodes.worker_node_id
    assert not ray_two_nodes.violations.exists(), ray_two_nodes.violations.read_text()


def test_an_unreachable_address_is_one_sentence_within_30_seconds():
    started = time.monotonic()
    with pytest.raises(BackendUnreachableError) as info:
        executors.create("ray", address="127.0.0.1:9")
    assert time.monotonic() - started < 30
    message = str(info.value)
    assert message.startswith("no Ray cluster answers at 127.0.0.1:9 (")
    assert "ray start --head" in message and "\n" not in message


@pytest.mark.parametrize(
    "text", ['{"mlnb_worker": 0}', "mlnb_worker=1", '["mlnb_worker"]', '{"gpu": true}']
)
def test_bad_ray_resources_are_one_sentence(text):
    with pytest.raises(InvalidArgumentError, match=r"^--ray-resources must be a JSON object"):
        parse_resources(text)
