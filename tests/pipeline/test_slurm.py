"""The Slurm backend through submitit: real jobs with submitit's local executor, and the
sbatch script submitit writes for a sweep's array job (read from a recording ``sbatch``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from mlnb.exceptions import InvalidArgumentError, MissingDependencyError
from mlnb.pipeline.backend_slurm import memory_gb
from mlnb.pipeline.backends import executors
from mlnb.pipeline.dag import run_pipeline
from mlnb.pipeline.run import RunTask
from mlnb.pipeline.sweep import sweep
from mlnb.runs.session import open_store
from tests.helpers import START_TIMEOUT, extra


@pytest.mark.kernel
def test_a_sweep_runs_as_submitit_jobs_and_lands_in_the_store(notebook, tmp_path):
    extra("submitit")
    path = notebook(
        "train.ipynb",
        [
            "import mlnb, os\nmlnb.record('acc', lr * 2)\nmlnb.record('job', os.environ.get('SUBMITIT_LOCAL_JOB_ID'))"
        ],
        parameters="lr = 0.1",
    )
    result = sweep(
        path,
        {"lr": [0.1, 0.2]},
        jobs=2,
        seed=1,
        backend="slurm",
        backend_options={"slurm_cluster": "local", "slurm_folder": str(tmp_path / "jobs")},
        output_dir=tmp_path / "sw",
        start_timeout=START_TIMEOUT,
        progress=False,
    )
    assert [t.status for t in result.trials] == ["finished", "finished"], [
        t.record.error for t in result.trials
    ]
    assert [t.values["acc"] for t in result.trials] == [0.2, 0.4]
    for trial in result.trials:
        assert Path(trial.output).is_file()
        node = open_store().get_run(trial.record.id).provenance["node"]
        assert node["backend"] == "slurm" and node["job_id"] == trial.values["job"]


@pytest.mark.kernel
def test_the_cli_sends_a_sweep_to_slurm_with_its_settings(notebook, tmp_path, capsys):
    extra("submitit")
    from mlnb.cli import main

    path = notebook("t.ipynb", ["import mlnb\nmlnb.record('acc', lr)"], parameters="lr = 0.1")
    code = main(
        [
            "sweep", str(path), "-p", "lr=0.1,0.3", "--jobs", "2", "--no-progress",
            "--output-dir", str(tmp_path / "sw"), "--start-timeout", str(START_TIMEOUT),
            "--backend", "slurm", "--slurm-cluster", "local", "--slurm-time", "5",
            "--slurm-folder", str(tmp_path / "jobs"),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "best: trial 1 (acc=0.3, max)" in out
    jobs = [p.name for p in (tmp_path / "jobs").iterdir() if p.name.isdigit()]
    assert len(jobs) == 2  # one submitit job folder per trial


@pytest.mark.kernel
def test_pipeline_steps_run_as_submitit_jobs(notebook, tmp_path):
    extra("submitit")
    notebook("make.ipynb", ["open('data.csv', 'w').write(str(n))"], parameters="n = 4")
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(
        "steps:\n  make: {notebook: make.ipynb, outputs: [data.csv]}\n", encoding="utf-8"
    )
    result = run_pipeline(
        spec,
        backend="slurm",
        backend_options={"slurm_cluster": "local", "slurm_folder": str(tmp_path / "jobs")},
        start_timeout=START_TIMEOUT,
    )
    assert [s.status for s in result.steps] == ["ran"], result.text()
    assert (tmp_path / "data.csv").read_text(encoding="utf-8") == "4"


def test_a_sweep_goes_to_sbatch_as_one_array_job_with_the_settings(notebook, tmp_path, monkeypatch):
    extra("submitit")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = tmp_path / "submitted"
    sbatch = bin_dir / "sbatch"
    sbatch.write_text(
        f"#!{sys.executable}\n"
        "import sys, shutil\n"
        f"shutil.copy(sys.argv[-1], {str(scripts)!r})\n"
        "print('Submitted batch job 4242')\n",
        encoding="utf-8",
    )
    sbatch.chmod(0o755)
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    (bin_dir / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    path = notebook("t.ipynb", ["y = lr"], parameters="lr = 0.1")
    executor = executors.create(
        "slurm",
        jobs=2,
        options={
            "slurm_partition": "gpu",
            "slurm_gpus": 1,
            "slurm_time": 30,
            "slurm_mem": "8G",
            "slurm_folder": str(tmp_path / "jobs"),
        },
    )
    for index in range(3):
        executor.submit(index, RunTask(str(path), {"lr": index}, str(tmp_path / f"o{index}.ipynb")))
    executor._flush()  # what next_result() does first: one sbatch call for the three
    script = scripts.read_text(encoding="utf-8")
    for line in (
        "#SBATCH --array=0-2%2",
        "#SBATCH --partition=gpu",
        "#SBATCH --gpus-per-node=1",
        "#SBATCH --time=30",
        "#SBATCH --mem=8GB",
        "#SBATCH --job-name=mlnb",
    ):
        assert line in script, script


def test_slurm_bad_inputs_are_one_sentence(monkeypatch, tmp_path):
    extra("submitit")
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch here
    with pytest.raises(InvalidArgumentError) as info:
        executors.create("slurm")
    assert str(info.value).startswith("--backend slurm needs Slurm's sbatch and srun on PATH")
    with pytest.raises(InvalidArgumentError, match=r"^--slurm-mem must be a size like 8G"):
        memory_gb("lots")
    assert memory_gb("512M") == 0.5 and memory_gb(2) == 2.0
    with pytest.raises(InvalidArgumentError, match=r"^--slurm-time must be"):
        executors.create("slurm", options={"slurm_cluster": "local", "slurm_time": 0})
    monkeypatch.setitem(sys.modules, "submitit", None)
    with pytest.raises(MissingDependencyError) as missing:
        executors.create("slurm", options={"slurm_cluster": "local"})
    assert str(missing.value) == (
        '--backend slurm needs submitit, which is not installed — run `pip install "mlnb[slurm]"`.'
    )


def test_ray_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingDependencyError) as missing:
        executors.create("ray")
    assert str(missing.value) == (
        '--backend ray needs ray, which is not installed — run `pip install "mlnb[ray]"`.'
    )
