"""What a pipeline run adds to its run record: the ``pipeline`` section of the provenance.

A notebook executed by :func:`mlnb.pipeline.run` (alone, as a sweep trial, a tuning
trial or a DAG step) is an ordinary run of :mod:`mlnb.runs`: one
:class:`~mlnb.runs.records.RunRecord` with its id, status, times, config (the
parameters), summary (the recorded values) and tags. What only a pipeline run has
— the notebook and its stored copy, the output notebook, the seed, kernel and
folder it ran with, the failing cell, the full recorded values — sits in
``record.provenance["pipeline"]`` as a :class:`PipelineSection`, which
:func:`section_of` reads back.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mlnb import display
from mlnb.exceptions import PipelineError
from mlnb.runs.records import RunRecord

#: the provenance key of the section, and the output notebook's metadata key (``metadata.mlnb``)
SECTION_KEY = "pipeline"
METADATA_KEY = "mlnb"


@dataclass
class PipelineSection:
    """The pipeline's part of a run record (filled in while the notebook runs).

    Attributes:
        notebook: the input notebook's path, as given.
        output: the output notebook's path.
        params: the parameters injected by papermill (after type checks).
        seed: the seed pinned inside the kernel.
        kernel: the kernel the notebook ran in.
        cwd: the working directory of the kernel.
        cell_index: 0-based index, in the input notebook, of the cell that failed or was stopped.
        execution_count: that cell's ``In [N]`` number in the output notebook.
        values: name → value for everything ``mlnb.record`` (or scrapbook) recorded.
        snapshot: path of the stored copy of the input notebook (what ``rerun`` runs).
        notebook_sha256: hash of the input notebook's bytes.
        papermill: papermill's own metadata of the run (parameters, version, ...).
        rerun_of: the run id this one re-executes, if any.
    """

    notebook: str
    output: str
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    kernel: str = "python3"
    cwd: str | None = None
    cell_index: int | None = None
    execution_count: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    snapshot: str | None = None
    notebook_sha256: str | None = None
    papermill: dict[str, Any] = field(default_factory=dict)
    rerun_of: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field, plus ``output_path`` (the absolute output,
        which the JupyterLab Runs panel opens)."""
        return {**asdict(self), "output_path": str(Path(self.output).resolve())}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineSection:
        """The section stored by :meth:`to_dict`; unknown keys (other versions) are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def section_of(record: RunRecord) -> PipelineSection:
    """The pipeline section of ``record``.

    Raises:
        PipelineError: the run was not executed by the pipeline (logged by hand).
    """
    data = record.provenance.get(SECTION_KEY)
    if not isinstance(data, dict):
        raise PipelineError(
            f"run {record.id} ({record.name}) was not run by mlnb's pipeline, so it has no notebook to replay — "
            "`mlnb runs show` shows what it has."
        )
    return PipelineSection.from_dict(data)


def is_pipeline_run(record: RunRecord) -> bool:
    """Whether ``record`` was executed by the pipeline."""
    return isinstance(record.provenance.get(SECTION_KEY), dict)


def values_of(record: RunRecord) -> dict[str, Any]:
    """The values the notebook recorded (empty for a run that is not a pipeline run)."""
    return section_of(record).values if is_pipeline_run(record) else {}


def outcome_text(record: RunRecord) -> str:
    """What ``mlnb run`` prints: the outcome line, then a table of the recorded values."""
    section = section_of(record)
    if record.status == "finished":
        head = (
            f"mlnb: run {record.id} finished in {display.human_duration(record.duration)} "
            f"-> {section.output} (seed {section.seed})"
        )
    else:
        head = f"mlnb: {summary_line(record)}"
    if not section.values:
        return head
    return head + "\n" + display.text_table(["recorded", "value"], list(section.values.items()))


def summary_line(record: RunRecord) -> str:
    """One line: id, status, failing cell, duration, notebook, output, error, recorded values."""
    section = section_of(record)
    duration = f" in {record.duration:.2f} s" if record.ended is not None else ""
    values = ", ".join(f"{k}={_short(v)}" for k, v in section.values.items())
    where = f" (cell {section.cell_index + 1})" if section.cell_index is not None else ""
    text = (
        f"run {record.id} {record.status}{where}{duration}: {section.notebook} -> {section.output}"
    )
    if record.error:
        text += f" — {record.error}"
    return text + (f"; recorded {values}" if values else "")


def _short(value: Any) -> str:
    text = f"{value:.6g}" if isinstance(value, float) else json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."
