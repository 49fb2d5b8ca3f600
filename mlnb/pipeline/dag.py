"""``mlnb pipeline PIPELINE.yaml``: notebook steps in dependency order, unchanged ones skipped.

A pipeline file names its steps, each with a notebook, params, inputs, outputs and
upstream steps::

    seed: 0                 # pinned in every step (default 0, so caching is stable)
    output_dir: runs        # executed notebooks + pipeline-state.json (default runs)
    steps:
      prepare: {notebook: prepare.ipynb, params: {n: 200}, outputs: [data.csv]}
      train:   {notebook: train.ipynb, upstream: [prepare], inputs: [data.csv], outputs: [model.pkl]}

Paths are relative to the file; notebooks run with the file's folder as working
directory. A step's cache key hashes its notebook's cells (not outputs), params,
seed, the bytes of its inputs and of its upstream steps' outputs. A step whose key
matches its last finished run, and whose outputs are still as it wrote them, is
skipped; ``force`` re-runs everything. Steps run in topological order, as many at
once as ``jobs`` allows, on the executors of :mod:`mlnb.pipeline.backends`.
Nothing here imports papermill or nbformat until a step actually has to run.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlnb.exceptions import PipelineSpecError
from mlnb.pipeline.dagspec import PipelineSpec, Step, load_spec
from mlnb.pipeline.section import section_of, values_of
from mlnb.runs.records import RunRecord

STATE_NAME = "pipeline-state.json"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


class FileHashes:
    """SHA-256 of files, re-hashed only when size or modification time changed."""

    def __init__(self, known: Mapping[str, list[Any]] | None = None) -> None:
        self.known: dict[str, list[Any]] = dict(known or {})

    def get(self, path: Path) -> str | None:
        """The file's hash, or None when it does not exist."""
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        key = str(path)
        cached = self.known.get(key)
        if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
            return cached[2]
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        self.known[key] = [stat.st_size, stat.st_mtime_ns, digest.hexdigest()]
        return digest.hexdigest()


def notebook_content_hash(path: Path) -> str:
    """Hash of a notebook's cell types and sources — outputs and metadata do not count."""
    with open(path, encoding="utf-8") as handle:
        nb = json.load(handle)
    cells = [
        (
            c.get("cell_type"),
            "".join(c["source"]) if isinstance(c.get("source"), list) else c.get("source"),
        )
        for c in nb.get("cells", [])
    ]
    return hashlib.sha256(_canonical(cells).encode()).hexdigest()


@dataclass
class StepState:
    """What a step's last run left behind (stored in ``pipeline-state.json``)."""

    key: str
    parts: dict[str, Any]
    outputs: dict[str, str | None]
    status: str
    run_id: str | None = None
    output_notebook: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


class PipelineState:
    """``pipeline-state.json``: each step's last run and the file-hash cache."""

    def __init__(self, path: Path) -> None:
        self.path = path
        data: dict[str, Any] = {}
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:  # a torn file: start clean rather than trust it
                data = {}
        self.steps = {k: StepState(**v) for k, v in data.get("steps", {}).items()}
        self.hashes = FileHashes(data.get("hashes"))

    def save(self) -> None:
        """Write atomically (a crash never leaves half a state file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "steps": {k: vars(v) for k, v in self.steps.items()},
            "hashes": self.hashes.known,
        }
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
        os.replace(tmp, self.path)


def key_parts(spec: PipelineSpec, step: Step, state: PipelineState) -> dict[str, Any]:
    """Everything a step's result depends on, as hashes."""
    upstream_outputs = {
        name: {p: state.hashes.get(spec.resolve(p)) for p in spec.steps[name].outputs}
        for name in step.upstream
    }
    return {
        "notebook": notebook_content_hash(spec.resolve(step.notebook)),
        "params": step.params,
        "seed": step.seed,
        "inputs": {p: state.hashes.get(spec.resolve(p)) for p in step.inputs},
        "upstream": upstream_outputs,
    }


def cache_key(parts: Mapping[str, Any]) -> str:
    """The hash of the parts."""
    return hashlib.sha256(_canonical(parts).encode()).hexdigest()


def stale_reasons(
    spec: PipelineSpec, step: Step, state: PipelineState, parts: Mapping[str, Any]
) -> list[str]:
    """Why ``step`` must run again (empty: it can be served from cache)."""
    last = state.steps.get(step.name)
    if last is None:
        return ["never ran"]
    reasons = []
    if last.status != "finished":
        reasons.append(f"its last run {last.status}")
    old = last.parts
    if old.get("notebook") != parts["notebook"]:
        reasons.append(f"notebook {step.notebook} changed")
    changed = sorted(
        k
        for k in set(old.get("params", {})) | set(parts["params"])
        if old.get("params", {}).get(k, "—") != parts["params"].get(k, "—")
    )
    reasons += [
        f"param {k} changed: {old.get('params', {}).get(k, '—')!r} → {parts['params'].get(k, '—')!r}"
        for k in changed
    ]
    if old.get("seed") != parts["seed"]:
        reasons.append(f"seed changed: {old.get('seed')} → {parts['seed']}")
    for path, digest in parts["inputs"].items():
        if digest is None:
            reasons.append(f"input {path} is missing")
        elif old.get("inputs", {}).get(path) != digest:
            reasons.append(f"input {path} changed")
    for name, outputs in parts["upstream"].items():
        for path, digest in outputs.items():
            if old.get("upstream", {}).get(name, {}).get(path) != digest:
                reasons.append(f"upstream {name}'s output {path} changed")
    for path, digest in last.outputs.items():
        now = state.hashes.get(spec.resolve(path))
        if now is None:
            reasons.append(f"output {path} is missing")
        elif now != digest:
            reasons.append(f"output {path} was modified")
    return reasons


@dataclass
class StepResult:
    """How one step went: ``ran``, ``cached``, ``failed``, ``blocked``; why; its run record."""

    name: str
    status: str
    reasons: list[str] = field(default_factory=list)
    record: RunRecord | None = None
    values: dict[str, Any] = field(default_factory=dict)
    parts: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class PipelineResult:
    """Every step's result, in topological order."""

    steps: list[StepResult]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether every step ran or was served from cache."""
        return all(s.status in ("ran", "cached") for s in self.steps)

    def text(self) -> str:
        """A table: step, status, why, seconds, recorded values."""
        from mlnb import display

        rows = []
        for s in self.steps:
            duration = s.record.duration if s.record is not None else None
            values = ", ".join(f"{k}={display.format_value(v)}" for k, v in s.values.items())
            rows.append(
                [
                    s.name,
                    s.status,
                    "; ".join(s.reasons) or "—",
                    display.human_duration(duration),
                    values or "—",
                ]
            )
        return display.text_table(["step", "status", "why", "time", "recorded"], rows)

    def footer(self) -> str:
        """One line: what is stale (a status report) or what ran, was cached, failed."""
        stale = [s.name for s in self.steps if s.status == "stale"]
        if all(s.status in ("stale", "up to date") for s in self.steps):  # a status report
            return f"{len(stale)} of {len(self.steps)} steps stale" + (
                f": {', '.join(stale)}" if stale else "; nothing to run."
            )
        counts = {
            s: sum(r.status == s for r in self.steps)
            for s in ("ran", "cached", "failed", "blocked")
        }
        return ", ".join(f"{n} {s}" for s, n in counts.items() if n) + f" in {self.seconds:.2f} s"


def pipeline_status(path: str | os.PathLike[str]) -> PipelineResult:
    """Which steps are stale and why, without running anything.

    A step whose upstream is stale is stale too (its inputs may change).
    """
    spec = load_spec(path)
    state = PipelineState(spec.output_dir / STATE_NAME)
    results: dict[str, StepResult] = {}
    for name in spec.order:
        step = spec.steps[name]
        reasons = [
            f"upstream {u} is stale" for u in step.upstream if results[u].status != "up to date"
        ]
        if not reasons:
            reasons = stale_reasons(spec, step, state, key_parts(spec, step, state))
        results[name] = StepResult(name, "stale" if reasons else "up to date", reasons)
    return PipelineResult([results[n] for n in spec.order])


def run_pipeline(
    path: str | os.PathLike[str],
    *,
    force: bool = False,
    jobs: int | None = None,
    backend: str = "local",
    address: str | None = None,
    start_timeout: int = 120,
    backend_options: Mapping[str, Any] | None = None,
) -> PipelineResult:
    """Run the stale steps of a pipeline in dependency order; skip the rest.

    Args:
        path: the pipeline YAML.
        force: run every step, cached or not.
        jobs: steps at once (default: the file's ``jobs``, else 1).
        backend: ``local``, ``ray`` or ``slurm`` (see :mod:`mlnb.pipeline.backends`).
        address: Ray cluster address.
        backend_options: the backend's own settings (``ray_resources``, ``slurm_partition``...).
        start_timeout: seconds to wait for each kernel.

    Returns:
        A :class:`PipelineResult`. Steps after a failed one are ``blocked``; other
        branches still run.

    Raises:
        PipelineSpecError: the file is malformed, has a cycle or a missing upstream.
    """
    from mlnb.pipeline.options import check_options

    check_options(jobs=jobs, start_timeout=start_timeout, **dict(backend_options or {}))
    started = time.perf_counter()
    spec = load_spec(path)
    state = PipelineState(spec.output_dir / STATE_NAME)
    results: dict[str, StepResult] = {}
    waiting = list(spec.order)
    executor = None
    try:
        while waiting or (executor is not None and executor.pending()):
            progressed = False
            for name in list(waiting):
                step = spec.steps[name]
                found = [results.get(u) for u in step.upstream]
                upstream = [r for r in found if r is not None]
                if len(upstream) < len(found) or any(r.status == "running" for r in upstream):
                    continue
                waiting.remove(name)
                progressed = True
                bad = [r.name for r in upstream if r.status in ("failed", "blocked")]
                if bad:
                    results[name] = StepResult(
                        name, "blocked", [f"upstream {', '.join(bad)} did not finish"]
                    )
                    continue
                parts = key_parts(spec, step, state)
                reasons = ["--force"] if force else stale_reasons(spec, step, state, parts)
                if not reasons:
                    last = state.steps[name]
                    results[name] = StepResult(name, "cached", [], values=last.values)
                    continue
                if executor is None:
                    executor = _start(spec, backend, jobs, address, backend_options)
                results[name] = StepResult(name, "running", reasons, parts=parts)
                executor.submit(name, spec.task(step, start_timeout))
            if executor is not None and executor.pending() and not progressed:
                name, record = executor.next_result()
                _settle(spec, state, results[name], record)
                state.save()
            elif not progressed and waiting:
                raise PipelineSpecError(
                    "pipeline is stuck: some steps wait on steps that never end."
                )
    finally:
        if executor is not None:
            executor.close()
    state.save()
    return PipelineResult([results[n] for n in spec.order], time.perf_counter() - started)


def _start(
    spec: PipelineSpec,
    backend: str,
    jobs: int | None,
    address: str | None,
    options: Mapping[str, Any] | None,
) -> Any:
    from mlnb.pipeline.backends import executors

    for name in spec.order:  # check every step's parameters before any kernel starts
        spec.check_parameters(spec.steps[name])
    return executors.create(backend, jobs=jobs or spec.jobs, address=address, options=options)


def _settle(
    spec: PipelineSpec, state: PipelineState, result: StepResult, record: RunRecord | None
) -> None:
    """Record a finished step; a missing declared output makes it failed."""
    step = spec.steps[result.name]
    result.record = record
    if record is None or record.status != "finished":
        result.status = "failed"
        if record is None:
            result.reasons = ["cancelled"]
        else:  # a run that was killed or crashed may have no error text
            result.reasons = [record.error or f"its run {record.status}"]
    else:
        missing = [p for p in step.outputs if not spec.resolve(p).exists()]
        result.status = "failed" if missing else "ran"
        if missing:
            result.reasons = [
                f"it finished but did not write its declared output {', '.join(missing)}"
            ]
        result.values = dict(values_of(record))
    outputs = {p: state.hashes.get(spec.resolve(p)) for p in step.outputs}
    state.steps[result.name] = StepState(
        key=cache_key(result.parts),
        parts=result.parts,
        outputs=outputs,
        status="finished" if result.status == "ran" else "failed",
        run_id=record.id if record is not None else None,
        output_notebook=section_of(record).output if record is not None else None,
        values=result.values,
    )
