"""The executor registry, and the Ray backend starting a local Ray of its own (the two-node
cluster is in test_ray_cluster.py)."""

from __future__ import annotations

import pytest

from mlnb.exceptions import BackendUnreachableError, InvalidArgumentError
from mlnb.pipeline.backends import executors
from mlnb.pipeline.sweep import sweep
from tests.helpers import START_TIMEOUT, extra, skip_unless_required


def test_unknown_backend_names_the_known_ones():
    with pytest.raises(InvalidArgumentError) as info:
        executors.create("dask")
    assert str(info.value) == "unknown backend 'dask'; available: local, ray, slurm."


@pytest.mark.kernel
def test_sweep_starts_and_stops_a_local_ray(notebook, tmp_path):
    ray = extra("ray")
    if ray.is_initialized():  # the two-node cluster of other tests: this one starts its own
        pytest.skip("a Ray is already running in this process")
    path = notebook(
        "t.ipynb",
        ["import mlnb, os\nmlnb.record('acc', lr * 2)\nmlnb.record('pid', os.getpid())"],
        parameters="lr = 0.1",
    )
    try:
        result = sweep(
            path,
            {"lr": [0.1, 0.2]},
            jobs=2,
            seed=1,
            backend="ray",
            output_dir=tmp_path / "sw",
            start_timeout=START_TIMEOUT,
            progress=False,
        )
    except BackendUnreachableError as exc:  # seen on an overloaded 2-core box: ray issue #62883
        skip_unless_required(str(exc))
    assert not ray.is_initialized()  # the executor shut down the Ray it started
    assert [t.status for t in result.trials] == ["finished", "finished"]
    assert [t.values["acc"] for t in result.trials] == [0.2, 0.4]
    assert result.best.params == {"lr": 0.2}
    node = result.trials[0].record.provenance["node"]
    assert node["backend"] == "ray" and node["node_id"]
