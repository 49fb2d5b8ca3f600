"""One exception family for everything a user can get wrong.

Every error mlnb raises on purpose is an :class:`MlnbError` whose message is one
sentence the user can act on. Magics turn these into IPython ``UsageError``
messages, so the user sees the sentence and no traceback from inside mlnb.
"""

from __future__ import annotations

from typing import Any, Protocol


class TextReport(Protocol):
    """A report an error carries (an ``mlnb.display.Report``): it renders as text."""

    def text(self) -> str: ...


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


class WhatIfError(InvalidArgumentError):
    """A model, data set or edit the what-if explorer cannot work with."""


class PredictError(WhatIfError):
    """The user's model (or predict function) raised while predicting."""

    def __init__(self, error: BaseException, n_rows: int) -> None:
        self.error = error
        self.n_rows = n_rows
        detail = str(error).strip().splitlines()[0] if str(error).strip() else "no message"
        super().__init__(
            f"the model's predict raised {type(error).__name__} on {n_rows} row(s): {detail.rstrip('.')}."
        )


class PredictionShapeError(WhatIfError):
    """Predict returned an array whose shape does not fit the batch or the task."""

    def __init__(self, got: tuple[int, ...], expected: str) -> None:
        self.got = got
        self.expected = expected
        super().__init__(f"the model's predict returned shape {got}; expected {expected}.")


class FeatureMismatchError(WhatIfError):
    """The data's columns do not match the feature names the model was fitted on."""

    def __init__(self, missing: list[str], extra: list[str]) -> None:
        self.missing = missing
        self.extra = extra
        parts = []
        if missing:
            parts.append(f"the data lacks {_names(missing)}")
        if extra:
            parts.append(f"has {_names(extra)} the model never saw")
        super().__init__(
            f"the data's columns do not match the model's feature_names_in_: {' and '.join(parts)}."
        )


class WitUnavailableError(MissingDependencyError):
    """``to_wit()`` was called but ``witwidget`` (and so TensorFlow) is not installed."""

    def __init__(self) -> None:
        MlnbError.__init__(
            self,
            "to_wit() needs witwidget, which needs tensorflow and is not installed — "
            'run `pip install "mlnb[wit]"`, or keep using mlnb\'s WhatIf panel, which needs neither.',
        )
        self.package = "witwidget"
        self.feature = "to_wit()"
        self.extra = "wit"


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"{shown}{more}"


class DataError(MlnbError):
    """Data handed to :mod:`mlnb.data` that it cannot profile, validate or compare."""


class EmptyDataError(DataError, ValueError):
    """A frame with no rows or no columns."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"{what} {reason} — there is nothing to profile or compare.")


class DataTypeError(DataError, TypeError):
    """An object that is neither a pandas DataFrame/Series nor a 1-D or 2-D numpy array."""

    def __init__(self, what: str, got: str) -> None:
        self.what = what
        self.got = got
        super().__init__(
            f"{what} must be a pandas DataFrame (or a Series, or a 1-D/2-D numpy array), got {got}."
        )


class ColumnMismatchError(DataError, ValueError):
    """Reference and current data share no column, or a named column does not exist."""


class DataCheckFailedError(DataError):
    """A strict check found anomalies or drift: raised so a notebook step (and its pipeline) fails."""

    def __init__(self, summary: str) -> None:
        self.summary = summary
        super().__init__(f"strict data check failed: {summary}")


class SchemaFileError(DataError):
    """A schema file that is missing, not valid JSON, or not a schema this mlnb can read."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"schema file {path} {reason}")


# --- run logging (mlnb.runs) ---------------------------------------------------


class RunsError(MlnbError):
    """Something about a logged run or the run store the user can fix."""


class StoreError(RunsError):
    """The run store cannot be opened or written (read-only, corrupt, newer schema, busy)."""

    def __init__(self, path: object, message: str) -> None:
        self.path = path
        super().__init__(message)


class NoActiveRunError(RunsError):
    """``mlnb.log`` (or another call that needs a run) was used with no active run."""

    def __init__(self, action: str = "log") -> None:
        self.action = action
        super().__init__(
            f"cannot {action}: no run is active — start one with `run = mlnb.start('name')` "
            "or `%run_start name`, or log to a run object with `run.log(...)`."
        )


class RunActiveError(RunsError):
    """A second run was started while another one is the active run."""

    def __init__(self, active_name: str, active_id: str) -> None:
        self.active_name = active_name
        self.active_id = active_id
        super().__init__(
            f"run {active_name!r} ({active_id}) is still active — finish it with `mlnb.finish()` "
            "(or `%run_stop`), or pass replace=True (`%run_start --replace`) to finish it and "
            "start the new one, or active=False to keep both as separate run objects."
        )


class RunNotFoundError(RunsError):
    """No run in the store matches the id, id prefix or name the user gave."""

    def __init__(self, ref: str, home: object, ambiguous: tuple[str, ...] = ()) -> None:
        self.ref = ref
        self.ambiguous = ambiguous
        if ambiguous:
            message = (
                f"{ref!r} matches {len(ambiguous)} runs ({', '.join(ambiguous[:5])}) — "
                "give more of the run id."
            )
        else:
            message = f"no run {ref!r} in the run store at {home} — `mlnb runs ls` lists the runs."
        super().__init__(message)


class MetricValueError(RunsError, InvalidArgumentError):
    """A metric name, value or step that cannot be logged."""


class LivePlotError(RunsError):
    """A live plot could not be drawn (the message says why); the run itself is unaffected."""


class GpuBackendError(MlnbError):
    """A GPU backend named in ``MLNB_GPU_BACKEND`` / ``MLNB_GPU_FAKE`` cannot be used as asked."""


class CudaUnavailableError(MlnbError):
    """A feature that needs a CUDA device (``%gpu_timeline``) was asked for where torch sees none."""


class SnapshotError(MlnbError, ValueError):
    """A memory snapshot that is not in the shape ``torch.cuda.memory._snapshot()`` produces."""


class BatchVariableError(InvalidArgumentError):
    """``--retry-batch NAME`` names a variable that is missing or not a positive whole number."""

    def __init__(self, name: str, value: object = None, *, missing: bool = False) -> None:
        self.name = name
        self.value = value
        if missing:
            message = f"--retry-batch {name}: there is no variable {name!r} — set it (e.g. `{name} = 64`) before the cell runs."
        else:
            message = f"--retry-batch {name}: {name} must be a positive whole number, got {value!r} ({type(value).__name__})."
        super().__init__(message)


class OutOfMemoryError(MlnbError):
    """Work ran out of (GPU or host) memory; the report says what was asked and what is free.

    Raised *instead of* the original out-of-memory error, whose traceback was dropped so
    the tensors it kept alive could be freed.
    """

    def __init__(self, message: str, report: TextReport | None = None) -> None:
        self.report = report
        super().__init__(message)


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


# --- reproducibility check (mlnb.checking) ---------------------------------------------


class CheckError(MlnbError):
    """A notebook ``mlnb check`` cannot check (empty, another language, bad options)."""


class EmptyNotebookError(CheckError):
    """A notebook with no code to run."""

    def __init__(self, path: object) -> None:
        self.path = path
        super().__init__(f"{path} has no code cells, so there is nothing to check.")


class UnsupportedLanguageError(CheckError):
    """A notebook written for a kernel of another language than Python."""

    def __init__(self, path: object, language: str) -> None:
        self.path = path
        self.language = language
        super().__init__(
            f"{path} is a {language} notebook; mlnb check supports Python notebooks only."
        )
