"""Read and check a pipeline YAML: steps, paths, upstream links, topological order.

Every problem is one sentence naming the step and the key: an unknown key, a
missing notebook, an upstream that is not a step, a cycle (the cycle is spelled
out, ``train → evaluate → train``), a seed, timeout or kernel that cannot work — all found
when the file is read, so a cached step cannot hide them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlnb.exceptions import (
    InvalidArgumentError,
    KernelNotFoundError,
    PipelineSpecError,
    SeedError,
)
from mlnb.pipeline.loading import check_kernel
from mlnb.pipeline.options import check_option
from mlnb.seed import validate_seed

STEP_KEYS = ("notebook", "params", "inputs", "outputs", "upstream", "seed", "kernel", "timeout")
TOP_KEYS = ("steps", "seed", "output_dir", "jobs", "kernel")
DEFAULT_SEED = 0


@dataclass
class Step:
    """One step: a notebook with parameters, files it reads and writes, steps it follows."""

    name: str
    notebook: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    upstream: list[str] = field(default_factory=list)
    seed: int = DEFAULT_SEED
    kernel: str | None = None
    timeout: float | None = None


@dataclass
class PipelineSpec:
    """A checked pipeline file."""

    path: Path
    steps: dict[str, Step]
    order: list[str]
    output_dir: Path
    jobs: int = 1

    @property
    def root(self) -> Path:
        """The folder paths are relative to (and notebooks run in)."""
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        """A path of the file, made absolute."""
        return (self.root / relative).resolve()

    def task(self, step: Step, start_timeout: int) -> Any:
        """The :class:`~mlnb.pipeline.run.RunTask` for a step."""
        from mlnb.pipeline.run import RunTask

        return RunTask(
            notebook=str(self.resolve(step.notebook)),
            params=dict(step.params),
            output=str(self.output_dir / f"{step.name}.ipynb"),
            seed=step.seed,
            kernel=step.kernel,
            cwd=str(self.root),
            timeout=step.timeout,
            start_timeout=start_timeout,
            tags=["pipeline", f"step:{step.name}"],
        )

    def check_parameters(self, step: Step) -> None:
        """Refuse a step's unknown or mistyped parameters before anything runs."""
        from mlnb.exceptions import MlnbError
        from mlnb.pipeline.loading import load_notebook
        from mlnb.pipeline.parameters import check_parameters

        path = self.resolve(step.notebook)
        try:
            check_parameters(load_notebook(path), step.params, step.notebook, strict=True)
        except MlnbError as exc:
            raise PipelineSpecError(f"{self.path.name}, step {step.name!r}: {exc}") from None


def _as_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise PipelineSpecError(f"{where} must be a list of strings, got {value!r}.")


def _read_step(name: str, raw: Any, source: str, defaults: dict[str, Any]) -> Step:
    where = f"{source}, step {name!r}"
    if not isinstance(raw, dict):
        raise PipelineSpecError(f"{where} must be a mapping with at least `notebook:`.")
    unknown = sorted(set(raw) - set(STEP_KEYS))
    if unknown:
        raise PipelineSpecError(
            f"{where} has unknown key {unknown[0]!r}; known keys: {', '.join(STEP_KEYS)}."
        )
    if not isinstance(raw.get("notebook"), str):
        raise PipelineSpecError(f"{where} needs `notebook: PATH.ipynb`.")
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        raise PipelineSpecError(f"{where}: params must be a mapping like `lr: 0.1`.")
    seed = raw.get("seed", defaults["seed"])
    try:
        validate_seed(seed)
    except SeedError:
        raise PipelineSpecError(
            f"{where}: seed must be a whole number from 0 to 4294967295, got {seed!r}."
        ) from None
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise PipelineSpecError(f"{where}: seed must be a whole number, got {seed!r}.")
    timeout = raw.get("timeout")
    kernel = raw.get("kernel", defaults["kernel"])
    try:
        check_option("timeout", timeout, f"{where}: ")
    except InvalidArgumentError as exc:
        raise PipelineSpecError(str(exc)) from None
    if kernel is not None:
        if not isinstance(kernel, str):
            raise PipelineSpecError(f"{where}: kernel must be a kernel name, got {kernel!r}.")
        try:
            check_kernel(kernel)
        except KernelNotFoundError as exc:
            raise PipelineSpecError(f"{where}: {exc}") from None
    return Step(
        name=name,
        notebook=raw["notebook"],
        params=params,
        inputs=_as_list(raw.get("inputs"), f"{where}: inputs"),
        outputs=_as_list(raw.get("outputs"), f"{where}: outputs"),
        upstream=_as_list(raw.get("upstream"), f"{where}: upstream"),
        seed=seed,
        kernel=kernel,
        timeout=timeout,
    )


def _check_json(path: Path, where: str) -> None:
    """Refuse a notebook file that is not a JSON object (the cache key reads its cells)."""
    import json

    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise PipelineSpecError(f"{where} is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise PipelineSpecError(
            f"{where} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."
        ) from None
    except (OSError, RecursionError) as exc:
        raise PipelineSpecError(f"{where} cannot be read ({type(exc).__name__}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells", []), list):
        raise PipelineSpecError(f"{where} is JSON but not a notebook (no list of cells).")


def topological_order(steps: dict[str, Step], source: str) -> list[str]:
    """Steps so that each comes after its upstream ones (file order among equals).

    Raises:
        PipelineSpecError: an upstream that is not a step, or a cycle.
    """
    for step in steps.values():
        for upstream in step.upstream:
            if upstream not in steps:
                raise PipelineSpecError(
                    f"{source}: step {step.name!r} lists upstream {upstream!r}, which is not a step (steps: {', '.join(steps)})."
                )
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = [*trail[trail.index(name) :], name]
            raise PipelineSpecError(f"{source} has a cycle: {' → '.join(cycle)}.")
        state[name] = "visiting"
        for upstream in steps[name].upstream:
            visit(upstream, [*trail, name])
        state[name] = "done"
        order.append(name)

    for name in steps:
        visit(name, [])
    return order


def load_spec(path: str | os.PathLike[str]) -> PipelineSpec:
    """Read and check a pipeline file.

    Raises:
        PipelineSpecError: a missing or malformed file, a missing notebook, an unknown
            key, an upstream that is not a step, or a cycle.
    """
    import yaml

    path = Path(path).resolve()
    source = path.name
    if not path.is_file():
        raise PipelineSpecError(f"pipeline file {path} does not exist.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise PipelineSpecError(f"{source} is not valid YAML{at}.") from None
    if not isinstance(data, dict) or not isinstance(data.get("steps"), dict) or not data["steps"]:
        raise PipelineSpecError(
            f"{source} needs a `steps:` mapping of step name → notebook, params, ..."
        )
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise PipelineSpecError(
            f"{source} has unknown key {unknown[0]!r}; known keys: {', '.join(TOP_KEYS)}."
        )
    defaults = {"seed": data.get("seed", DEFAULT_SEED), "kernel": data.get("kernel")}
    steps = {str(n): _read_step(str(n), raw, source, defaults) for n, raw in data["steps"].items()}
    order = topological_order(steps, source)
    for step in steps.values():
        notebook = path.parent / step.notebook
        if not notebook.is_file():
            raise PipelineSpecError(
                f"{source}, step {step.name!r}: notebook {step.notebook} does not exist."
            )
        _check_json(notebook, f"{source}, step {step.name!r}: notebook {step.notebook}")
    jobs = data.get("jobs", 1)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise PipelineSpecError(
            f"{source}: jobs must be a whole number of at least 1, got {jobs!r}."
        )
    output_dir = (path.parent / str(data.get("output_dir", "runs"))).resolve()
    return PipelineSpec(path, steps, order, output_dir, jobs)
