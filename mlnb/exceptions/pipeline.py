"""Errors of :mod:`mlnb.pipeline`: papermill runs, steps, sweeps, tuning and DAGs."""

from __future__ import annotations

from typing import Any

from mlnb.exceptions.base import InvalidArgumentError, MlnbError, MlnbWarning
from mlnb.exceptions.runs import RunNotFoundError


class PipelineError(MlnbError):
    """Root of the errors of ``mlnb.pipeline``: runs, steps, sweeps, tuning and DAGs."""


class NotebookNotFoundError(PipelineError, FileNotFoundError):
    """A notebook path that does not exist."""

    def __init__(self, path: object) -> None:
        self.path = path
        super().__init__(f"notebook {path} does not exist.")


class InvalidNotebookError(PipelineError):
    """A file that is not valid notebook JSON (nbformat's reason, shortened)."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path} is not a valid notebook: {reason}")


class NoParametersCellError(PipelineError):
    """Parameters were passed to a notebook that has no cell tagged ``parameters``."""

    def __init__(self, path: object, names: tuple[str, ...] = ()) -> None:
        self.path = path
        self.names = names
        passed = f" so {', '.join(names)} cannot be set" if names else ""
        super().__init__(
            f"{path} has no cell tagged `parameters`{passed} — run `mlnb step init {path} --write` to make one."
        )


class UnknownParameterError(InvalidArgumentError):
    """A parameter name the notebook's ``parameters`` cell does not define."""

    def __init__(self, path: object, name: str, known: tuple[str, ...]) -> None:
        self.path = path
        self.name = name
        self.known = known
        listing = ", ".join(known) if known else "none"
        super().__init__(f"{path} has no parameter {name!r}; its parameters are: {listing}.")


class ParameterTypeError(InvalidArgumentError):
    """A parameter value whose type differs from the default's in the ``parameters`` cell."""

    def __init__(self, name: str, expected: str, default: object, value: object) -> None:
        self.name = name
        self.expected = expected
        self.default = default
        self.value = value
        super().__init__(
            f"parameter {name!r} is {expected} (default {_short(default)}), got {type(value).__name__} {_short(value)}."
        )


def _short(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters (a 100 kB string stays one line)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class MalformedParameterError(InvalidArgumentError):
    """A ``-p``/``-y``/``-f`` parameter argument that cannot be parsed."""


class ParameterValueError(MalformedParameterError):
    """A parameter value that is not JSON data (bytes from YAML's ``!!binary``, a date, a set):
    refused before a kernel starts, since papermill would inject its ``repr`` as code."""


class ParametersCellError(PipelineError):
    """A ``parameters`` cell that does not parse, so its parameters cannot be known."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"the parameters cell of {path} does not parse ({reason}), so its parameters cannot be listed or checked — fix that cell."
        )


class ParameterWarning(MlnbWarning):
    """A parameter mlnb would refuse with ``--strict`` but papermill injects (and so does mlnb by default)."""


class StoredNotebookError(PipelineError):
    """A recorded run's stored notebook is missing or is not the notebook that ran (SHA-256 differs)."""


class KernelNotFoundError(PipelineError):
    """A kernel name that is not installed."""

    def __init__(self, name: str, installed: tuple[str, ...]) -> None:
        self.name = name
        self.installed = installed
        super().__init__(
            f"no kernel named {name!r} is installed; installed kernels: {', '.join(installed) or 'none'}."
        )


class BackendUnreachableError(PipelineError):
    """A cluster (``--backend ray --address ...``) that does not answer, or a Ray that did not start."""


class KernelStartError(PipelineError):
    """A kernel that did not start, even after retrying."""


class NotebookRunError(PipelineError):
    """A run that did not finish; ``record`` holds its run record (status, cell, output path)."""

    def __init__(self, message: str, record: Any) -> None:
        self.record = record
        super().__init__(message)


class RunFailedError(NotebookRunError):
    """A cell raised: the output notebook is kept with the failing cell marked."""


class RunKilledError(NotebookRunError):
    """A run stopped by its timeout or by Ctrl-C: kernel stopped, partial output kept."""


class RunCrashedError(NotebookRunError):
    """The kernel died during the run (often out of memory): output kept as far as it got."""


class PipelineSpecError(PipelineError):
    """A pipeline YAML, search space or sweep definition that cannot be used as written."""


#: the name the pipeline's not-found error had; runs are looked up in one place now
PipelineRunNotFoundError = RunNotFoundError


class MetricNotRecordedError(PipelineError):
    """A tuning metric that no trial recorded with ``mlnb.record``."""


class PipelineCompileError(PipelineError):
    """A pipeline or notebook that cannot be compiled for another engine (Kubeflow Pipelines)."""
