"""Compile a pipeline file (or one notebook) to Kubeflow Pipelines v2 with the kfp SDK.

``compile_kfp("pipeline.yaml", "pipeline.kfp.yaml")`` plans the pipeline
(:mod:`mlnb.pipeline.kfp_plan`), writes each step as a lightweight Python
component — a function whose body calls :func:`mlnb.pipeline.kfp_step.run_step` —
hands it to ``kfp.dsl.component``, wires the components in a ``kfp.dsl.pipeline``
and lets ``kfp.compiler.Compiler`` write the YAML. kfp builds every byte of the
IR; mlnb only writes Python. kfp is imported here, when compiling, never by
``import mlnb``.
"""

from __future__ import annotations

import inspect
import linecache
import os
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlnb.exceptions import MissingDependencyError, PipelineCompileError
from mlnb.pipeline.kfp_plan import ComponentPlan, PipelinePlan, plan_notebook, plan_pipeline

TARGETS = ("kfp", "kfp-component")
DEFAULT_IMAGE = "python:3.11"
MLNB_PACKAGE = "mlnb[kfp]"
MODEL_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".onnx", ".h5", ".keras", ".safetensors")  # fmt: skip


KFP_ANNOTATIONS: dict[str, type] = {
    "str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict,
}  # fmt: skip


def import_kfp() -> Any:
    """The kfp package, or one sentence naming the extra to install."""
    import importlib

    try:  # by name: kfp ships no type information for mypy to read
        kfp = importlib.import_module("kfp")
        importlib.import_module("kfp.compiler")
        importlib.import_module("kfp.dsl")
    except ImportError:
        raise MissingDependencyError("kfp", "compiling to Kubeflow Pipelines", "kfp") from None
    return kfp


def _artifact_class(path: str) -> str:
    return "Model" if path.lower().endswith(MODEL_SUFFIXES) else "Dataset"


def component_source(plan: ComponentPlan) -> str:
    """The Python source of the step's component function (kfp embeds it in the IR)."""
    args = [
        f"    {a.name}: Input[{_artifact_class(a.path)}]," for a in plan.inputs if not a.embedded
    ]
    args += [f"    {a.name}: Output[{_artifact_class(a.path)}]," for a in plan.outputs]
    args += ["    executed_notebook: Output[Artifact],", "    metrics: Output[Metrics],"]
    args += [f"    {p.name}: {p.type_name} = {p.default!r}," for p in plan.params]
    fields = [f"({name!r}, {type_name})" for name, type_name in plan.recorded.items()]
    fields.append("('recorded', dict)")
    returns = "NamedTuple('Outputs', [" + ", ".join(fields) + "])"
    call = {
        "step": repr(plan.step),
        "notebook": repr(plan.notebook),
        "embedded": repr(plan.embedded),
        "uri": repr(plan.uri),
        "cells_sha256": repr(plan.cells_sha256),
        "params": "{" + ", ".join(f"{p.name!r}: {p.name}" for p in plan.params) + "}",
        "defaults": repr({p.name: p.default for p in plan.params}),
        "seed": repr(plan.seed),
        "kernel": repr(plan.kernel),
        "timeout": repr(plan.timeout),
        "inputs": "{"
        + ", ".join(f"{a.path!r}: {a.name}.path" for a in plan.inputs if not a.embedded)
        + "}",
        "embedded_inputs": repr({a.path: a.embedded for a in plan.inputs if a.embedded}),
        "outputs": "{" + ", ".join(f"{a.path!r}: {a.name}.path" for a in plan.outputs) + "}",
        "executed": "executed_notebook.path",
        "metrics": "metrics",
    }
    lines = [
        f"def {plan.function}(",
        *args,
        f") -> {returns}:",
        f"    {plan.description!r}",
        "    from mlnb.pipeline.kfp_step import run_step as _mlnb_run_step",
        "    from mlnb.pipeline.kfp_step import typed_outputs as _mlnb_typed_outputs",
        "",
        "    _mlnb_values = _mlnb_run_step(",
        *(f"        {key}={value}," for key, value in call.items()),
        "    )",
        f"    return _mlnb_typed_outputs({plan.step!r}, _mlnb_values, {plan.recorded!r})",
    ]
    return "\n".join(lines) + "\n"


def _function(source: str, name: str, kfp: Any) -> Callable[..., Any]:
    """``source`` executed into a function whose source ``inspect`` can read back."""
    filename = f"<mlnb-kfp-component {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    dsl = kfp.dsl
    namespace: dict[str, Any] = {
        "NamedTuple": typing.NamedTuple,
        "Input": dsl.Input,
        "Output": dsl.Output,
        "Artifact": dsl.Artifact,
        "Dataset": dsl.Dataset,
        "Model": dsl.Model,
        "Metrics": dsl.Metrics,
    }
    # our own generated source; dont_inherit: no `from __future__ import annotations` from here
    exec(compile(source, filename, "exec", dont_inherit=True), namespace)
    function: Callable[..., Any] = namespace[name]
    return function


def _packages(
    plans: list[ComponentPlan], image: str | None, packages: list[str] | None
) -> list[str]:
    """What each pod pip-installs: given packages; without an image, mlnb and what the notebooks import."""
    if packages is not None:
        return list(packages)
    if image is not None:
        return []
    from mlnb.pipeline.loading import load_notebook
    from mlnb.pipeline.step import imported_packages

    found: dict[str, str] = {}
    for plan in plans:
        found.update(imported_packages(load_notebook(plan.source)))
    pinned = [f"{d}=={v}" for d, v in sorted(found.items()) if v != "not installed" and d != "mlnb"]
    return [MLNB_PACKAGE, *pinned]


def build_component(plan: ComponentPlan, image: str, packages: list[str], kfp: Any) -> Any:
    """The step as a kfp lightweight Python component."""
    function = _function(component_source(plan), plan.function, kfp)
    return kfp.dsl.component(
        function,
        base_image=image,
        packages_to_install=packages or None,
        install_kfp_package=False,
    )


def build_pipeline(plan: PipelinePlan, image: str, packages: list[str], kfp: Any) -> Any:
    """The pipeline: pipeline inputs are the steps' parameters, its outputs what each step recorded."""
    components = {c.function: build_component(c, image, packages, kfp) for c in plan.components}
    params = [p for c in plan.components for p in c.params]
    outputs = typing.NamedTuple(  # type: ignore[misc]
        "Outputs", [(c.function, dict) for c in plan.components]
    )

    def pipeline(*args: Any, **kwargs: Any) -> Any:
        # kfp passes the pipeline inputs as channels, positionally (by name is accepted too)
        given = dict(zip((p.pipeline_name for p in params), args, strict=False)) | kwargs
        tasks: dict[str, Any] = {}
        for component in plan.components:
            arguments = {p.name: given[p.pipeline_name] for p in component.params}
            for artifact in component.inputs:
                if artifact.producer is not None:
                    producer = tasks[artifact.producer]
                    arguments[artifact.name] = producer.outputs[artifact.producer_output]
            task = components[component.function](**arguments)
            task.set_display_name(component.step)
            for upstream in component.after:
                task.after(tasks[upstream])
            tasks[component.function] = task
        return outputs(*(tasks[c.function].outputs["recorded"] for c in plan.components))

    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    pipeline.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                p.pipeline_name, kind, default=p.default, annotation=KFP_ANNOTATIONS[p.type_name]
            )
            for p in params
        ],
        return_annotation=outputs,
    )
    pipeline.__name__ = plan.name.replace("-", "_")
    pipeline.__doc__ = plan.description
    return kfp.dsl.pipeline(name=plan.name, description=plan.description)(pipeline)


def _output_path(output: str | os.PathLike[str]) -> Path:
    path = Path(output)
    if path.suffix not in (".yaml", ".yml"):
        raise PipelineCompileError(
            f"the compiled file {path} must end in .yaml or .yml (kfp writes YAML)."
        )
    if path.is_dir():
        raise PipelineCompileError(f"the compiled file {path} is a folder — name a .yaml file.")
    return path


def compile_kfp(
    pipeline: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    image: str | None = None,
    notebook_uri: str | None = None,
    packages: list[str] | None = None,
    name: str | None = None,
) -> Path:
    """Compile a pipeline file to a Kubeflow Pipelines v2 package (YAML).

    Args:
        pipeline: the pipeline YAML (as ``mlnb pipeline`` runs it).
        output: the package to write (``.yaml``).
        image: the container image every step runs in; it must hold mlnb (with
            kfp), ipykernel and what the notebooks import. Default
            :data:`DEFAULT_IMAGE`, with ``mlnb[kfp]`` and the notebooks' imports
            (pinned to the versions here) pip-installed when each pod starts.
        notebook_uri: fetch notebooks from ``URI/<path relative to the pipeline file>``
            at run time instead of embedding them.
        packages: pip requirements each pod installs (replaces the default list).
        name: the pipeline's name (default: the file's stem, or its folder's name
            when the file is ``pipeline.yaml``).

    Returns:
        The path written.

    Raises:
        MissingDependencyError: kfp is not installed.
        PipelineSpecError, PipelineCompileError: a file mlnb or Kubeflow cannot run.
    """
    kfp = import_kfp()
    target = _output_path(output)
    plan = plan_pipeline(pipeline, notebook_uri=notebook_uri, name=name)
    pods = _packages(plan.components, image, packages)
    built = build_pipeline(plan, image or DEFAULT_IMAGE, pods, kfp)
    target.parent.mkdir(parents=True, exist_ok=True)
    kfp.compiler.Compiler().compile(pipeline_func=built, package_path=str(target))
    return target


def compile_kfp_component(
    notebook: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    image: str | None = None,
    notebook_uri: str | None = None,
    packages: list[str] | None = None,
    inputs: list[str] | tuple[str, ...] = (),
    outputs: list[str] | tuple[str, ...] = (),
    seed: int = 0,
) -> Path:
    """Compile one notebook to a reusable Kubeflow component (YAML).

    Its inputs are the notebook's parameters (typed, with their defaults) and
    ``inputs`` as input artifacts; its outputs the values it records, a Metrics
    artifact, the executed notebook and ``outputs`` as artifacts. Load it with
    ``kfp.components.load_component_from_file``. ``image``, ``notebook_uri`` and
    ``packages`` as in :func:`compile_kfp`.

    Raises:
        MissingDependencyError: kfp is not installed.
        NotebookNotFoundError, InvalidNotebookError, PipelineCompileError: a notebook
            or file list that cannot be compiled.
    """
    kfp = import_kfp()
    target = _output_path(output)
    plan = plan_notebook(
        notebook, notebook_uri=notebook_uri, inputs=inputs, outputs=outputs, seed=seed
    )
    component = build_component(
        plan, image or DEFAULT_IMAGE, _packages([plan], image, packages), kfp
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    kfp.compiler.Compiler().compile(component, package_path=str(target))
    return target


def compile_to(
    target: str, source: str | os.PathLike[str], output: str | os.PathLike[str], **options: Any
) -> Path:
    """``mlnb pipeline compile SOURCE --to TARGET -o OUTPUT``: one of :data:`TARGETS`.

    Raises:
        PipelineCompileError: an unknown target.
    """
    if target == "kfp":
        return compile_kfp(source, output, **options)
    if target == "kfp-component":
        return compile_kfp_component(source, output, **options)
    raise PipelineCompileError(
        f"unknown compile target {target!r}; known targets: {', '.join(TARGETS)}."
    )
