"""``mlnb tune --backend ray``: Ray Tune on the two-node cluster (``ray_two_nodes``), trials
pinned to the worker node, ASHA stopping the notebooks whose logged values fall behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlnb.exceptions import MlnbWarning
from mlnb.pipeline.tune import parse_space, tune
from mlnb.runs.session import open_store
from tests.helpers import START_TIMEOUT

#: every search here: Ray Tune on the worker node, ASHA, no progress bar
ON_RAY = {
    "backend": "ray",
    "backend_options": {"ray_resources": '{"mlnb_worker": 1}'},
    "prune": "asha",
    "start_timeout": START_TIMEOUT,
    "progress": False,
}
#: a trial's quality shows from its first logged value; ten epochs of 0.6 s leave a stop
#: from Ray Tune (seconds on a loaded 2-core machine) time to land before the last one
EPOCHS = (
    "import mlnb, time\n"
    "for epoch in range(10):\n"
    "    mlnb.log({'acc': lr * (epoch + 1)}, step=epoch)\n"
    "    time.sleep(0.6)\n"
    "mlnb.record('acc', lr * 10)"
)

pytestmark = pytest.mark.kernel


def test_asha_on_ray_tune_prunes_trials_that_fall_behind(ray_two_nodes, notebook, tmp_path):
    path = notebook("train.ipynb", [EPOCHS], parameters="lr = 0.1")
    space = parse_space({"lr": [0.1, 0.2, 0.5, 0.9]})
    result = tune(
        path,
        space,
        "acc",
        trials=4,
        seed=3,
        **ON_RAY,
    )
    trials = result.study.get_trials(deepcopy=False)
    states = [t.state.name for t in trials]
    assert len(trials) == 4 and result.ran == 4
    assert result.pruned >= 1 and states.count("PRUNED") == result.pruned, states
    finished = [t for t in trials if t.state.name == "COMPLETE"]
    assert result.study.best_value == max(t.value for t in finished)
    runs = open_store().list_runs()
    assert len(runs) == 4
    for run in runs:
        assert run.provenance["node"]["node_id"] == ray_two_nodes.worker_node_id
        output = Path(run.provenance["pipeline"]["output"])
        assert output.is_file() and output.parent == tmp_path / "tune" / "train"
        if run.status == "pruned":
            assert run.error.startswith("Pruned: Ray Tune's asha scheduler stopped it at step")
            nb = json.loads(output.read_text(encoding="utf-8"))
            marks = [c["metadata"].get("mlnb", {}).get("status") for c in nb["cells"]]
            assert "pruned" in marks, marks
            assert len(open_store().metrics(run.id, ["acc"])) < 10
        else:
            assert run.status == "finished"
    assert [r.status for r in runs].count("pruned") == result.pruned
    assert not ray_two_nodes.violations.exists(), ray_two_nodes.violations.read_text()


def test_asha_on_a_metric_never_logged_warns_and_runs_every_trial(
    ray_two_nodes, notebook, tmp_path
):
    path = notebook("quiet.ipynb", ["import mlnb\nmlnb.record('acc', lr)"], parameters="lr = 0.1")
    with pytest.warns(MlnbWarning, match="logged no 'acc' while it ran"):
        result = tune(
            path,
            parse_space({"lr": [0.1, 0.9]}),
            "acc",
            trials=2,
            seed=1,
            **ON_RAY,
        )
    assert [t.state.name for t in result.study.get_trials(deepcopy=False)] == [
        "COMPLETE",
        "COMPLETE",
    ]
    assert result.pruned == 0
    assert sorted(r.status for r in open_store().list_runs()) == ["finished", "finished"]
