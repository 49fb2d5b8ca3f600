"""What a Kubeflow pipeline built from mlnb notebooks holds, worked out without kfp.

A pipeline file (or one notebook) becomes a plan: one component per step with its
typed parameters, the files it reads and writes as artifacts (each read wired to
the upstream step that writes it), the names it records as outputs, and its
notebook embedded (gzip + base64, outputs stripped) or fetched from a URI the
user gives. Everything a Kubeflow pod could not use — an absolute path, a path
outside the pipeline's folder, a parameter value no pipeline input can hold —
is refused here, in one sentence, before kfp is even imported.
"""

from __future__ import annotations

import base64
import gzip
import json
import keyword
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from mlnb.exceptions import PipelineCompileError
from mlnb.pipeline.dag import notebook_content_hash
from mlnb.pipeline.dagspec import PipelineSpec, Step, load_spec
from mlnb.pipeline.recorded_names import recorded_names

KFP_TYPES = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}
RESERVED_OUTPUTS = ("recorded", "metrics", "executed_notebook")
EMBED_LIMIT = 1 << 20  # bytes of a file no step writes that may ride inside the pipeline


@dataclass(frozen=True)
class ParameterInput:
    """A notebook parameter as a component input (and, in a pipeline, a pipeline input)."""

    name: str
    type_name: str
    default: Any
    pipeline_name: str = ""


@dataclass(frozen=True)
class FileArtifact:
    """A file a step reads or writes, as a component artifact.

    ``producer``/``producer_output``: the component and output it comes from; both
    None for a file no step writes (then ``embedded`` holds it, or the user wires it).
    """

    path: str
    name: str
    producer: str | None = None
    producer_output: str | None = None
    embedded: str | None = None


@dataclass
class ComponentPlan:
    """One notebook step as a Kubeflow component."""

    step: str
    function: str
    notebook: str
    source: Path
    embedded: str | None
    uri: str | None
    description: str
    cells_sha256: str = ""
    params: list[ParameterInput] = field(default_factory=list)
    inputs: list[FileArtifact] = field(default_factory=list)
    outputs: list[FileArtifact] = field(default_factory=list)
    recorded: dict[str, str] = field(default_factory=dict)
    seed: int = 0
    kernel: str | None = None
    timeout: float | None = None
    after: list[str] = field(default_factory=list)


@dataclass
class PipelinePlan:
    """A pipeline file as Kubeflow components, in topological order."""

    name: str
    description: str
    components: list[ComponentPlan]


def identifier(text: str, prefix: str = "step") -> str:
    """``text`` as a Python identifier (KFP names inputs, outputs and components by them)."""
    name = re.sub(r"\W+", "_", text).strip("_") or prefix
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"{prefix}_{name}"
    return name


def pipeline_name(text: str) -> str:
    """``text`` as a KFP pipeline name: lowercase letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:128] or "mlnb-pipeline"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


def kfp_type(value: Any, where: str) -> str:
    """The KFP parameter type holding ``value`` (str, int, float, bool, list or dict).

    Raises:
        PipelineCompileError: None, a date, NaN/infinity, or anything not JSON data.
    """
    type_name = KFP_TYPES.get(type(value))
    problem = None
    if type_name is None:
        problem = "None" if value is None else f"a {type(value).__name__}"
    elif type_name == "float" and not math.isfinite(value):
        problem = f"{value!r}"
    elif type_name in ("list", "dict"):
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            problem = f"a {type_name} holding something that is not JSON data"
    if problem is not None:
        raise PipelineCompileError(
            f"{where} is {problem}, which no Kubeflow pipeline input can hold — give it a str, int, float, bool, list or dict value, or leave it out so the notebook's default applies."
        )
    return type_name  # type: ignore[return-value]


def relative_path(text: str, where: str, root: str) -> str:
    """A step's file as a POSIX path relative to the pipeline's folder.

    Raises:
        PipelineCompileError: an absolute path, or one that leaves the folder.
    """
    if os.path.isabs(text) or PureWindowsPath(text).is_absolute() or text.startswith("~"):
        raise PipelineCompileError(
            f"{where} {text} is an absolute path, which does not exist inside a Kubeflow pod — write it relative to {root} and keep the file in that folder."
        )
    parts: list[str] = []
    for part in PurePosixPath(text.replace("\\", "/")).parts:
        if part == "..":
            if not parts:
                raise PipelineCompileError(
                    f"{where} {text} lies outside the folder of {root} — move the file into that folder and write its path relative to {root}."
                )
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def embed_notebook(path: Path) -> str:
    """The notebook without outputs, gzip-compressed and base64-encoded."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    raw = json.dumps(nb, indent=1, ensure_ascii=False).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, mtime=0)).decode("ascii")


def embed_file(path: Path, where: str) -> str:
    """A small input file, gzip-compressed and base64-encoded.

    Raises:
        PipelineCompileError: the file is missing or over :data:`EMBED_LIMIT`.
    """
    if not path.is_file():
        raise PipelineCompileError(
            f"{where} {path.name} is written by no step and does not exist — add the step that writes it to the pipeline, or create the file."
        )
    size = path.stat().st_size
    if size > EMBED_LIMIT:
        raise PipelineCompileError(
            f"{where} {path.name} is written by no step and is {size / 1e6:.1f} MB, over the 1 MB a compiled pipeline embeds — add a step that downloads it, or bake it into the image."
        )
    return base64.b64encode(gzip.compress(path.read_bytes(), mtime=0)).decode("ascii")


def _component(
    step: Step, notebook: Path, relative: str, uri: str | None, origin: str
) -> ComponentPlan:
    function = identifier(step.name)
    return ComponentPlan(
        step=step.name,
        function=function,
        notebook=relative,
        source=notebook,
        embedded=None if uri else embed_notebook(notebook),
        uri=f"{uri.rstrip('/')}/{relative}" if uri else None,
        cells_sha256=notebook_content_hash(notebook),
        description=f"Runs notebook {relative} ({origin}) with mlnb and papermill.",
        seed=step.seed,
        kernel=step.kernel,
        timeout=step.timeout,
    )


def _add_outputs(plan: ComponentPlan, paths: list[str], where: str, root: str) -> set[str]:
    taken = set(RESERVED_OUTPUTS)
    for text in paths:
        path = relative_path(text, f"{where}: output", root)
        plan.outputs.append(FileArtifact(path, _unique(identifier(path, "file"), taken)))
    return taken


def _add_recorded(plan: ComponentPlan, nb: dict[str, Any], taken: set[str]) -> None:
    for name, type_name in recorded_names(nb).items():
        if name.isidentifier() and not keyword.iskeyword(name) and name not in taken:
            taken.add(name)
            plan.recorded[name] = type_name


def _ancestors(spec: PipelineSpec, name: str) -> set[str]:
    found: set[str] = set()
    todo = list(spec.steps[name].upstream)
    while todo:
        upstream = todo.pop()
        if upstream not in found:
            found.add(upstream)
            todo.extend(spec.steps[upstream].upstream)
    return found


def _producer(spec: PipelineSpec, step: Step, path: str, where: str) -> str | None:
    """The step (nearest in topological order) whose output is ``path``; None: no step's."""
    root = spec.path.name
    writers = [
        s
        for s in spec.order
        if path in (relative_path(p, where, root) for p in spec.steps[s].outputs)
    ]
    before = [s for s in writers if s in _ancestors(spec, step.name)]
    if before:
        return before[-1]
    others = [s for s in writers if s != step.name]
    if others:
        raise PipelineCompileError(
            f"{where} {path} is written by step {others[0]!r}, which {step.name!r} does not come after — add {others[0]!r} to the upstream of {step.name!r}."
        )
    return None


def _add_params(
    plan: ComponentPlan, step: Step, where: str, taken: set[str], pipeline_inputs: dict[str, str]
) -> None:
    """The step's params as typed component inputs, each also a pipeline input ``<step>_<param>``."""
    for key, value in step.params.items():
        type_name = kfp_type(value, f"{where}: parameter {key!r}")
        if key in taken:
            raise PipelineCompileError(
                f"{where}: parameter {key!r} has the name of one of the component's outputs — rename the parameter."
            )
        public = f"{plan.function}_{key}"
        if public in pipeline_inputs:
            raise PipelineCompileError(
                f"{where}: parameter {key!r} becomes the pipeline input {public!r}, which {pipeline_inputs[public]} already is — rename the step or the parameter."
            )
        pipeline_inputs[public] = f"parameter {key!r} of step {step.name!r}"
        plan.params.append(ParameterInput(key, type_name, value, public))
        taken.add(key)


def _add_inputs(
    plan: ComponentPlan,
    spec: PipelineSpec,
    step: Step,
    taken: set[str],
    components: dict[str, ComponentPlan],
) -> None:
    """The files the step reads: wired to the upstream output that writes each, else embedded."""
    where = f"{spec.path.name}, step {step.name!r}: input"
    for text in step.inputs:
        path = relative_path(text, where, spec.path.name)
        name = _unique(identifier(path, "file"), taken)
        producer = _producer(spec, step, path, where)
        if producer is None:
            plan.inputs.append(
                FileArtifact(path, name, embedded=embed_file(spec.resolve(path), where))
            )
            continue
        source = components[producer]
        output = next(o.name for o in source.outputs if o.path == path)
        plan.inputs.append(FileArtifact(path, name, source.function, output))


def plan_pipeline(
    path: str | os.PathLike[str], *, notebook_uri: str | None = None, name: str | None = None
) -> PipelinePlan:
    """Check a pipeline file and plan its Kubeflow pipeline.

    Raises:
        PipelineSpecError: the file itself is malformed (see :func:`load_spec`).
        PipelineCompileError: a step Kubeflow cannot run as written.
    """
    spec = load_spec(path)
    root = spec.path.name
    components: dict[str, ComponentPlan] = {}
    pipeline_inputs: dict[str, str] = {}
    for step_name in spec.order:
        step = spec.steps[step_name]
        where = f"{root}, step {step.name!r}"
        relative = relative_path(step.notebook, f"{where}: notebook", root)
        notebook = spec.resolve(relative)
        plan = _component(step, notebook, relative, notebook_uri, f"step {step.name} of {root}")
        if plan.function in (c.function for c in components.values()):
            raise PipelineCompileError(
                f"{where}: its name becomes the component name {plan.function!r}, which another step already has — rename one of them."
            )
        taken = _add_outputs(plan, step.outputs, where, root)
        _add_params(plan, step, where, taken, pipeline_inputs)
        spec.check_parameters(step)  # unknown or mistyped params: refused as `mlnb pipeline` does
        _add_inputs(plan, spec, step, taken, components)
        _add_recorded(plan, json.loads(notebook.read_text(encoding="utf-8")), taken)
        wired = {a.producer for a in plan.inputs}
        plan.after = [
            components[u].function for u in step.upstream if components[u].function not in wired
        ]
        components[step_name] = plan
    default = spec.root.name if spec.path.stem == "pipeline" else spec.path.stem
    return PipelinePlan(
        name=pipeline_name(name or default),
        description=f"mlnb pipeline {root}: {' → '.join(spec.order)}.",
        components=[components[n] for n in spec.order],
    )


def plan_notebook(
    path: str | os.PathLike[str],
    *,
    notebook_uri: str | None = None,
    inputs: list[str] | tuple[str, ...] = (),
    outputs: list[str] | tuple[str, ...] = (),
    seed: int = 0,
) -> ComponentPlan:
    """Plan a reusable component from one notebook.

    Its inputs are the notebook's parameters whose defaults a KFP input can hold
    (the others keep their default), plus ``inputs`` as input artifacts; it
    writes ``outputs`` (paths relative to the notebook's folder) as artifacts.

    Raises:
        NotebookNotFoundError, InvalidNotebookError: the notebook cannot be read.
        PipelineCompileError: an absolute path or one outside the notebook's folder.
    """
    from mlnb.pipeline.loading import load_notebook
    from mlnb.pipeline.parameters import notebook_parameters

    notebook = Path(path).resolve()
    nb = load_notebook(notebook)
    where = notebook.name
    step = Step(name=notebook.stem, notebook=notebook.name, seed=seed)
    plan = _component(step, notebook, notebook.name, notebook_uri, f"component {notebook.name}")
    taken = _add_outputs(plan, list(outputs), where, where)
    for param in notebook_parameters(nb) or []:
        if param.literal and param.name not in taken:
            try:
                type_name = kfp_type(param.default, param.name)
            except PipelineCompileError:
                continue  # None or another default no input can hold: the notebook keeps it
            taken.add(param.name)
            plan.params.append(ParameterInput(param.name, type_name, param.default))
    for text in inputs:
        file_path = relative_path(text, f"{where}: input", where)
        plan.inputs.append(FileArtifact(file_path, _unique(identifier(file_path, "file"), taken)))
    _add_recorded(plan, dict(nb), taken)
    return plan
