"""Notebooks as parameterized, reproducible pipeline steps (built on papermill).

``run`` executes one notebook with its seed pinned and records the run; ``record``
and ``read`` carry values out of a notebook; ``step_init``/``inspect`` turn a
finished notebook into a step; ``sweep`` and ``tune`` run many trials in parallel
processes (or Ray); ``run_pipeline`` executes a DAG of steps with caching;
``rerun`` replays a recorded run and reports what changed; ``compile_kfp`` and
``compile_kfp_component`` write Kubeflow Pipelines packages (kfp imported only then).

Each verb lives in the module of the same name — ``from mlnb.pipeline.run import
run``, ``from mlnb.pipeline.sweep import sweep`` (``tune``, ``rerun`` likewise) — and
is not re-exported here, because a package attribute named like a submodule is
replaced by the module once that is imported. The names below resolve lazily, so
``import mlnb.pipeline`` (done inside every run's kernel) imports neither
papermill nor nbformat.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "RunTask": "mlnb.pipeline.run:RunTask",
    "RunRecord": "mlnb.runs.records:RunRecord",
    "PipelineSection": "mlnb.pipeline.section:PipelineSection",
    "section_of": "mlnb.pipeline.section:section_of",
    "RunSink": "mlnb.pipeline.sinks:RunSink",
    "run_sinks": "mlnb.pipeline.sinks:run_sinks",
    "find_run": "mlnb.pipeline.rerun:find_run",
    "read": "mlnb.pipeline.record:read",
    "notebook_parameters": "mlnb.pipeline.parameters:notebook_parameters",
    "step_init": "mlnb.pipeline.step:step_init",
    "inspect": "mlnb.pipeline.step:inspect",
    "run_pipeline": "mlnb.pipeline.dag:run_pipeline",
    "pipeline_status": "mlnb.pipeline.dag:pipeline_status",
    "executors": "mlnb.pipeline.backends:executors",
    "compile_kfp": "mlnb.pipeline.kfp_compile:compile_kfp",
    "compile_kfp_component": "mlnb.pipeline.kfp_compile:compile_kfp_component",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module_name, _, attribute = _LAZY[name].partition(":")
        value = getattr(importlib.import_module(module_name), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mlnb.pipeline' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
