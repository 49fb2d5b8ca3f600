"""One exception family for everything a user can get wrong.

Every error mlnb raises on purpose is an :class:`MlnbError` whose message is one
sentence the user can act on. Magics turn these into IPython ``UsageError``
messages, so the user sees the sentence and no traceback from inside mlnb.
"""

from __future__ import annotations


class MlnbError(Exception):
    """Root of every user-facing mlnb error."""


class MlnbWarning(UserWarning):
    """Warnings mlnb emits (a skipped library, a hook that failed and was disabled)."""


class InvalidArgumentError(MlnbError, ValueError):
    """A value the user passed is out of bounds or of the wrong kind."""


class SeedError(InvalidArgumentError):
    """A seed that is not a whole number in ``[0, 2**32 - 1]``."""

    def __init__(self, value: object, reason: str | None = None) -> None:
        self.value = value
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"seed must be a whole number from 0 to 4294967295, got {value!r}{detail}."
        )


class MissingDependencyError(MlnbError, ImportError):
    """An optional dependency a feature needs is not installed."""

    def __init__(self, package: str, feature: str, extra: str | None = None) -> None:
        self.package = package
        self.feature = feature
        self.extra = extra
        hint = f'pip install "mlnb[{extra}]"' if extra else f"pip install {package}"
        super().__init__(f"{feature} needs {package}, which is not installed — run `{hint}`.")


class NotInNotebookError(MlnbError):
    """A feature that needs an IPython shell was used outside one."""


# --- pipeline (papermill runs, sweeps, tuning, DAGs) -------------------------------------


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
            f"parameter {name!r} is {expected} (default {default!r}), got {type(value).__name__} {value!r}."
        )


class MalformedParameterError(InvalidArgumentError):
    """A ``-p``/``-y``/``-f`` parameter argument that cannot be parsed."""


class KernelNotFoundError(PipelineError):
    """A kernel name that is not installed."""

    def __init__(self, name: str, installed: tuple[str, ...]) -> None:
        self.name = name
        self.installed = installed
        super().__init__(
            f"no kernel named {name!r} is installed; installed kernels: {', '.join(installed) or 'none'}."
        )


class KernelStartError(PipelineError):
    """A kernel that did not start, even after retrying."""


class NotebookRunError(PipelineError):
    """A run that did not finish; ``record`` holds its run record (status, cell, output path)."""

    def __init__(self, message: str, record: object) -> None:
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


class RunNotFoundError(PipelineError):
    """A run id that no ``pipeline-runs.jsonl`` index knows."""


class MetricNotRecordedError(PipelineError):
    """A tuning metric that no trial recorded with ``mlnb.record``."""
