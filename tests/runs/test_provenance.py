"""Provenance captured for every run: seed, git and its diff, notebook path, packages, host, and
(on a real NVIDIA GPU only) the GPUs and their system metrics."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import mlnb
from mlnb.runs import provenance
from mlnb.runs.provenance import git_reason, gpu_info


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


def test_seed_git_diff_packages_and_host_are_recorded(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.invalid")
    _git(repo, "config", "user.name", "t")
    (repo / "train.py").write_text("lr = 0.1\n")
    _git(repo, "add", "train.py")
    _git(repo, "commit", "-q", "-m", "first")
    (repo / "train.py").write_text("lr = 0.01\n")
    (repo / "scratch.txt").write_text("new")
    monkeypatch.chdir(repo)
    mlnb.pin(1234)
    record = mlnb.start("prov", system_interval=None).finish()
    prov = record.provenance
    assert prov["seed"]["seed"] == 1234 and prov["seed"]["source"] == "argument"
    git = prov["git"]
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert git["commit"] == commit and git["branch"] == "main" and git["dirty"] is True
    assert git["untracked"] == ["scratch.txt"]
    (diff,) = mlnb.runs.open_store().artifacts(record.id, kind="git-diff")
    text = Path(diff.path).read_text()
    assert "-lr = 0.1" in text and "+lr = 0.01" in text and diff.meta["commit"] == commit
    assert prov["python"]["version"].count(".") == 2
    assert "numpy" in prov["packages"] and prov["packages"]["mlnb"] == mlnb.__version__
    assert prov["host"]["pid"] > 0 and prov["host"]["cwd"] == str(repo)
    assert prov["gpus"] == []  # no NVIDIA GPU on this machine: an empty list, not an error
    assert prov["notebook"] is None and prov["papermill"] is None


def test_outside_git_the_reason_is_recorded(home: Path) -> None:
    record = mlnb.start("nogit", system_interval=None).finish()
    assert record.provenance["git"]["available"] is False
    assert record.provenance["git"]["reason"] == "not a git repository"  # not git's "fatal: …"


def test_git_reasons_are_plain_words() -> None:
    fatal = "fatal: not a git repository (or any of the parent directories): .git\n"
    assert git_reason(fatal) == "not a git repository"
    no_commits = (
        "fatal: ambiguous argument 'HEAD': unknown revision or path not in the working tree."
    )
    assert git_reason(no_commits) == "a git repository with no commits yet"
    assert git_reason("fatal: something new\n") == "something new"
    assert git_reason("") == "git failed"


def test_notebook_path_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv("MLNB_NOTEBOOK", raising=False)
    vscode = SimpleNamespace(user_ns={"__vsc_ipynb_file__": "/work/a.ipynb"})
    assert provenance.notebook_path(vscode) == {"path": "/work/a.ipynb", "source": "vscode"}
    papermill = SimpleNamespace(user_ns={"PAPERMILL_INPUT_PATH": "in.ipynb"})
    assert provenance.notebook_path(papermill) == {"path": "in.ipynb", "source": "papermill"}
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/u/lab.ipynb")
    assert provenance.notebook_path(None) == {
        "path": "/home/u/lab.ipynb",
        "source": "JPY_SESSION_NAME",
    }
    monkeypatch.setenv("MLNB_NOTEBOOK", "pipeline/step.ipynb")
    assert provenance.notebook_path(vscode) == {
        "path": "pipeline/step.ipynb",
        "source": "MLNB_NOTEBOOK",
    }


def test_papermill_parameters_are_read_from_the_injected_cell() -> None:
    history = [
        "import mlnb",
        '# Parameters\nlr = 0.5\nname = "wide"\nlayers = [1, 2]\nf = dict(a=1)\n',
        "x = 1",
    ]
    shell = SimpleNamespace(history_manager=SimpleNamespace(input_hist_raw=history))
    assert provenance.papermill_parameters(shell) == {
        "lr": 0.5,
        "name": "wide",
        "layers": [1, 2],
        "f": "dict(a=1)",
    }
    assert provenance.papermill_parameters(SimpleNamespace()) is None


def test_a_failing_part_is_recorded_and_the_rest_kept(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> dict:
        raise RuntimeError("no metadata")

    monkeypatch.setattr(provenance, "package_versions", broken)
    record = mlnb.start("partial", system_interval=None).finish()
    assert record.provenance["packages"] == {"error": "RuntimeError: no metadata"}
    assert record.provenance["python"]["version"]


@pytest.fixture
def gpus() -> list[dict]:
    found = gpu_info()
    if not found:
        pytest.skip("no NVIDIA GPU visible through NVML")
    return found


@pytest.mark.gpu
def test_gpu_names_driver_and_metrics_are_recorded(home: Path, gpus: list[dict]) -> None:
    assert all(g["name"] and g["driver"] and g["memory_total_bytes"] > 0 for g in gpus)
    run = mlnb.start("gpu", system_interval=0.2)
    time.sleep(1.0)
    record = run.finish()
    assert [g["name"] for g in record.provenance["gpus"]] == [g["name"] for g in gpus]
    assert 0 <= record.summary["sys/gpu0/utilization_percent"] <= 100
    assert record.summary["sys/gpu0/memory_used_mb"] >= 0
