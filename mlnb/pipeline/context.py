"""What the engine knows about one run beyond what papermill passes: :class:`RunContext`.

The context carries the run's record and pipeline section (filled in as cells run),
which kernel to start and where from, the time limits, and the outcome once it is
settled. :func:`standalone_context` builds one for a run papermill drives itself
(``papermill --engine mlnb``).
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb.pipeline import lifecycle
from mlnb.pipeline.kernels import KernelKind, KernelSource
from mlnb.pipeline.section import SECTION_KEY, PipelineSection
from mlnb.runs.external import ended_record
from mlnb.runs.records import RunRecord, new_run_id

if TYPE_CHECKING:
    from nbformat import NotebookNode

ENGINE_NAME = "mlnb"


@dataclass
class RunContext:
    """Everything the engine needs beyond what papermill passes.

    Attributes:
        record: the run's record as begun (status ``running``).
        section: its pipeline section, which the engine fills in (values, failing cell).
        kind: which kernel to start (name, working directory, seed; seed None: not pinned).
        kernels: where kernels come from (fresh, or a warm spare).
        kernelspec: the output notebook's ``metadata.kernelspec`` (empty: kept as it is).
        language: the kernel's language (the seed is pinned in Python kernels only).
        timeout: whole-run limit in seconds (None: no limit).
        execution_timeout: per-cell limit in seconds (papermill's; None: no limit).
        start_retries: how often a kernel that does not answer is replaced.
        prewarm_next: whether to boot a spare kernel for a following run.
        owned: the engine began the record itself (papermill drove it), so it ends it too.
    """

    record: RunRecord
    section: PipelineSection
    kind: KernelKind
    kernels: KernelSource = field(default_factory=KernelSource)
    kernelspec: dict[str, Any] = field(default_factory=dict)
    language: str = "python"
    timeout: float | None = None
    execution_timeout: int | None = None
    start_retries: int = 2
    prewarm_next: bool = True
    owned: bool = False
    #: a file whose appearance stops the run (see :func:`request_stop`); None: never asked
    stop_file: str | None = None
    started: float = field(default_factory=time.monotonic)
    #: which limit the running cell is under: "run" or "cell"
    binding: str = "cell"
    #: how the run ended, ``(status, error)``, once known (the first outcome settled wins)
    outcome: tuple[str, str | None] | None = None
    #: the modules the notebook imports (a warm kernel source loads them ahead)
    imports: tuple[str, ...] = ()

    def settle(self, status: str, error: str | None = None) -> None:
        """Record how the run ended, unless an earlier, more exact outcome was recorded."""
        if self.outcome is None:
            self.outcome = (status, error)

    def current(self) -> RunRecord:
        """The record as it stands now, with the section filled in so far."""
        provenance = {SECTION_KEY: self.section.to_dict()}
        if self.outcome is None:
            return dataclasses.replace(
                self.record, provenance={**self.record.provenance, **provenance}
            )
        status, error = self.outcome
        return ended_record(self.record, status, error=error, provenance=provenance)

    def remaining(self) -> int | None:
        """Seconds left before the whole-run timeout (at least 1), or None."""
        if self.timeout is None:
            return None
        return max(1, int(self.timeout - (time.monotonic() - self.started) + 0.999))

    def cell_timeout(self, cell: Any = None) -> int | None:
        """The limit for the next cell: the per-cell one or what is left of the run's."""
        left = self.remaining()
        if left is not None and (self.execution_timeout is None or left <= self.execution_timeout):
            self.binding = "run"
            return left
        self.binding = "cell"
        return self.execution_timeout

    def timeout_error(self) -> str:
        """Why a timed-out run stopped, naming the limit that fired."""
        if self.binding == "run" and self.timeout is not None:
            return f"TimeoutError: stopped after the {self.timeout:g} s timeout"
        return f"CellTimeoutError: a cell ran longer than the {self.execution_timeout} s execution timeout"


def standalone_context(
    nb: NotebookNode, kernel_name: str, input_path: Any, output_path: str | None
) -> RunContext:
    """The context of a run papermill drives itself (``papermill --engine mlnb``): the seed
    from ``MLNB_SEED`` (else drawn), the working directory papermill changed into, and a
    record begun in the run store."""
    import papermill

    from mlnb.seed import resolve_seed

    seed, _ = resolve_seed(None)
    notebook = str(input_path) if isinstance(input_path, (str, os.PathLike)) else ""
    sha256 = snapshot = None
    if notebook and notebook != "-" and Path(notebook).is_file():
        sha256, stored = lifecycle.store_snapshot(Path(notebook).read_bytes())
        snapshot = str(stored) if stored else None
    params = dict(nb.metadata.get("papermill", {}).get("parameters") or {})
    language = notebook_language(nb)
    section = PipelineSection(
        notebook=notebook,
        output=output_path or "",
        params=params,
        seed=seed,
        kernel=kernel_name,
        cwd=os.getcwd(),
        snapshot=snapshot,
        notebook_sha256=sha256,
        papermill={"parameters": params, "version": papermill.__version__, "engine": ENGINE_NAME},
    )
    record = lifecycle.begin(section, [], new_run_id(), required=False)
    return RunContext(
        record, section, KernelKind(kernel_name, os.getcwd(), seed), language=language, owned=True
    )


def notebook_language(nb: NotebookNode) -> str:
    """The notebook's language from its metadata (``python`` when it names none)."""
    metadata = nb.get("metadata", {})
    return str(
        metadata.get("language_info", {}).get("name")
        or metadata.get("kernelspec", {}).get("language")
        or "python"
    )
