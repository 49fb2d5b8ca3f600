"""The Ray backend: trials as Ray tasks on a local ray.init(num_cpus=2)."""

from __future__ import annotations

import pytest

from mlnb.exceptions import InvalidArgumentError
from mlnb.pipeline.backends import executors
from mlnb.pipeline.sweep import sweep
from tests.helpers import START_TIMEOUT, extra, skip_unless_required


def test_unknown_backend_names_the_known_ones():
    with pytest.raises(InvalidArgumentError) as info:
        executors.create("dask")
    assert str(info.value) == "unknown backend 'dask'; available: local, ray, slurm."


@pytest.mark.kernel
def test_sweep_on_a_local_ray(notebook, tmp_path):
    ray = extra("ray")
    path = notebook(
        "t.ipynb",
        ["import mlnb, os\nmlnb.record('acc', lr * 2)\nmlnb.record('pid', os.getpid())"],
        parameters="lr = 0.1",
    )
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    except Exception as exc:  # seen on an overloaded 2-core box: ray issue #62883
        ray.shutdown()
        skip_unless_required(f"a local Ray did not start here ({str(exc).splitlines()[0][:120]})")
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
    finally:
        ray.shutdown()
    assert [t.status for t in result.trials] == ["finished", "finished"]
    assert [t.values["acc"] for t in result.trials] == [0.2, 0.4]
    assert result.best.params == {"lr": 0.2}
