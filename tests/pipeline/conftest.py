"""Fixtures for the pipeline tests (``notebook``: tests/conftest.py; ``START_TIMEOUT``: tests/helpers.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

from tests.helpers import REPO

if TYPE_CHECKING:
    from mlnb.runs.records import RunRecord


@pytest.fixture(autouse=True)
def _mlnb_importable_in_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels and worker processes inherit PYTHONPATH: make sure it has this checkout."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(REPO) not in paths:
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), *paths]))


@pytest.fixture(autouse=True)
def _run_store_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every run also goes to the run store: keep it in this test's folder."""
    home = tmp_path / ".mlnb-store"
    monkeypatch.setenv("MLNB_HOME", str(home))
    return home


@pytest.fixture
def pipeline_record(tmp_path: Path) -> Callable[..., RunRecord]:
    """``pipeline_record(run_id="abc123", status="finished")``: the run record of a pipeline
    run of nb.ipynb (params lr=0.1, seed 3, output ``tmp_path/out.ipynb``); ``"running"``
    gives the record as it begins."""
    from mlnb.pipeline.section import PipelineSection
    from mlnb.runs.external import ended_record
    from mlnb.runs.records import RunRecord

    def make(run_id: str = "abc123", status: str = "finished") -> RunRecord:
        section = PipelineSection(
            notebook="nb.ipynb", output=str(tmp_path / "out.ipynb"), params={"lr": 0.1}, seed=3
        )
        begun = RunRecord(
            run_id,
            "nb",
            "pipeline",
            "running",
            1.0,
            None,
            None,
            None,
            None,
            config={"lr": 0.1},
            provenance={"pipeline": section.to_dict()},
        )
        return begun if status == "running" else ended_record(begun, status, ended=2.0)

    return make


#: installed in every Python process of the Ray worker node (its PYTHONPATH leads with the
#: folder holding this file): any path opened under the test session's temp folder that is
#: not the worker's own scratch is a read of the driver's files — logged, then refused
_AUDIT_SITECUSTOMIZE = """
import os, sys
_FORBIDDEN = {forbidden!r}
_ALLOWED = {allowed!r}
_LOG = {log!r}
_EVENTS = {{"open", "os.listdir", "os.scandir", "os.chdir", "os.mkdir", "os.rename", "os.remove", "sqlite3.connect"}}

def _mlnb_audit(event, args):
    if event not in _EVENTS or not args:
        return
    path = args[0]
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    elif hasattr(path, "__fspath__"):
        path = os.fspath(path)
    if not isinstance(path, str):
        return
    full = os.path.abspath(path)
    inside = full + os.sep
    if inside.startswith(_FORBIDDEN) and not inside.startswith(_ALLOWED):
        with open(_LOG, "a", encoding="utf-8") as handle:
            handle.write(f"{{os.getpid()}} {{event}} {{full}}\\n")
        raise PermissionError(f"a Ray worker node opened the driver's path {{full}}")

sys.addaudithook(_mlnb_audit)
"""


@pytest.fixture(scope="session")
def ray_two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A real two-node Ray cluster on this machine (``ray.cluster_utils.Cluster``): a head
    node and a worker node with ``{"mlnb_worker": 2}``, one CPU each, each with its own
    scratch folder (``TMPDIR``). The worker node's processes — kernels included — refuse and
    log (``violations``) any path opened under this session's temp folder outside their
    scratch: the tests' notebooks, outputs and run stores all live there. Shut down at the end.
    """
    from tests.helpers import extra, skip_unless_required

    ray = extra("ray")
    from ray.cluster_utils import Cluster

    base = tmp_path_factory.getbasetemp().resolve()
    head_scratch = tmp_path_factory.mktemp("ray-head-scratch")
    worker_scratch = tmp_path_factory.mktemp("ray-worker-scratch")
    audit = tmp_path_factory.mktemp("ray-worker-audit")
    violations = audit / "violations.log"
    (audit / "sitecustomize.py").write_text(
        _AUDIT_SITECUSTOMIZE.format(
            forbidden=str(base) + os.sep,
            allowed=(str(worker_scratch) + os.sep, str(audit) + os.sep),
            log=str(violations),
        ),
        encoding="utf-8",
    )
    paths = [str(REPO), *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
    pythonpath = os.pathsep.join(dict.fromkeys(paths))
    try:
        cluster = Cluster(
            initialize_head=True,
            head_node_args={
                "num_cpus": 1,
                "env_vars": {"TMPDIR": str(head_scratch), "PYTHONPATH": pythonpath},
            },
        )
        worker = cluster.add_node(
            num_cpus=1,
            resources={"mlnb_worker": 2},
            env_vars={
                "TMPDIR": str(worker_scratch),
                "PYTHONPATH": os.pathsep.join([str(audit), pythonpath]),
            },
        )
        ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
    except Exception as exc:  # seen on an overloaded 2-core box: ray issue #62883
        ray.shutdown()
        skip_unless_required(
            f"a two-node Ray did not start here ({str(exc).splitlines()[0][:120]})"
        )
    try:
        yield SimpleNamespace(
            ray=ray,
            address=cluster.address,
            worker_node_id=worker.node_id,
            head_node_id=cluster.head_node.node_id,
            worker_scratch=worker_scratch,
            violations=violations,
        )
    finally:
        ray.shutdown()
        cluster.shutdown()
