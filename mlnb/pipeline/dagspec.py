"""Read and check a pipeline YAML: steps, paths, upstream links, topological order.

Every problem is one sentence naming the step and the key: an unknown key, a
missing notebook, an upstream that is not a step, a cycle (the cycle is spelled
out, ``train → evaluate → train``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlnb.exceptions import PipelineSpecError

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
            check_parameters(load_notebook(path), step.params, step.notebook)
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
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise PipelineSpecError(f"{where}: seed must be a whole number, got {seed!r}.")
    return Step(
        name=name,
        notebook=raw["notebook"],
        params=params,
        inputs=_as_list(raw.get("inputs"), f"{where}: inputs"),
        outputs=_as_list(raw.get("outputs"), f"{where}: outputs"),
        upstream=_as_list(raw.get("upstream"), f"{where}: upstream"),
        seed=seed,
        kernel=raw.get("kernel", defaults["kernel"]),
        timeout=raw.get("timeout"),
    )


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
        if not (path.parent / step.notebook).is_file():
            raise PipelineSpecError(
                f"{source}, step {step.name!r}: notebook {step.notebook} does not exist."
            )
    jobs = data.get("jobs", 1)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise PipelineSpecError(
            f"{source}: jobs must be a whole number of at least 1, got {jobs!r}."
        )
    output_dir = (path.parent / str(data.get("output_dir", "runs"))).resolve()
    return PipelineSpec(path, steps, order, output_dir, jobs)
