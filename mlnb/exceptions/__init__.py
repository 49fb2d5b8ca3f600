"""One exception family for everything a user can get wrong.

Every error mlnb raises on purpose is an :class:`MlnbError` whose message is one
sentence the user can act on. Magics turn these into IPython ``UsageError``
messages, so the user sees the sentence and no traceback from inside mlnb.

The family lives in one module per area (``base``, ``whatif``, ``data``, ``runs``,
``gpu``, ``pipeline``, ``checking``); every name is re-exported here, so
``from mlnb.exceptions import X`` works for every name of the family.
"""

from __future__ import annotations

from mlnb.exceptions.base import (
    InvalidArgumentError,
    MissingDependencyError,
    MlnbError,
    MlnbWarning,
    NotInNotebookError,
    SeedError,
    TextReport,
)
from mlnb.exceptions.checking import (
    CheckError,
    EmptyNotebookError,
    UnsupportedLanguageError,
)
from mlnb.exceptions.data import (
    ColumnMismatchError,
    DataCheckFailedError,
    DataError,
    DataTypeError,
    EmptyDataError,
    SchemaFileError,
)
from mlnb.exceptions.gpu import (
    BatchVariableError,
    CudaUnavailableError,
    GpuBackendError,
    OutOfMemoryError,
    SnapshotError,
)
from mlnb.exceptions.pipeline import (
    BackendUnreachableError,
    InvalidNotebookError,
    KernelNotFoundError,
    KernelStartError,
    MalformedParameterError,
    MetricNotRecordedError,
    NoParametersCellError,
    NotebookNotFoundError,
    NotebookRunError,
    ParametersCellError,
    ParameterTypeError,
    ParameterValueError,
    ParameterWarning,
    PipelineCompileError,
    PipelineError,
    PipelineRunNotFoundError,
    PipelineSpecError,
    RunCrashedError,
    RunFailedError,
    RunKilledError,
    StoredNotebookError,
    UnknownParameterError,
)
from mlnb.exceptions.runs import (
    LivePlotError,
    MetricValueError,
    NoActiveRunError,
    RunActiveError,
    RunNotFoundError,
    RunsError,
    StoreError,
)
from mlnb.exceptions.whatif import (
    FeatureMismatchError,
    PredictError,
    PredictionShapeError,
    WhatIfError,
    WitUnavailableError,
)

__all__ = [
    "BackendUnreachableError",
    "BatchVariableError",
    "CheckError",
    "ColumnMismatchError",
    "CudaUnavailableError",
    "DataCheckFailedError",
    "DataError",
    "DataTypeError",
    "EmptyDataError",
    "EmptyNotebookError",
    "FeatureMismatchError",
    "GpuBackendError",
    "InvalidArgumentError",
    "InvalidNotebookError",
    "KernelNotFoundError",
    "KernelStartError",
    "LivePlotError",
    "MalformedParameterError",
    "MetricNotRecordedError",
    "MetricValueError",
    "MissingDependencyError",
    "MlnbError",
    "MlnbWarning",
    "NoActiveRunError",
    "NoParametersCellError",
    "NotInNotebookError",
    "NotebookNotFoundError",
    "NotebookRunError",
    "OutOfMemoryError",
    "ParameterTypeError",
    "ParameterValueError",
    "ParameterWarning",
    "ParametersCellError",
    "PipelineCompileError",
    "PipelineError",
    "PipelineRunNotFoundError",
    "PipelineSpecError",
    "PredictError",
    "PredictionShapeError",
    "RunActiveError",
    "RunCrashedError",
    "RunFailedError",
    "RunKilledError",
    "RunNotFoundError",
    "RunsError",
    "SchemaFileError",
    "SeedError",
    "SnapshotError",
    "StoreError",
    "StoredNotebookError",
    "TextReport",
    "UnknownParameterError",
    "UnsupportedLanguageError",
    "WhatIfError",
    "WitUnavailableError",
]
