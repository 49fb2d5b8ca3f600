"""Errors of :mod:`mlnb.gpu`: backends, CUDA, memory snapshots and running out of memory."""

from __future__ import annotations

from mlnb.exceptions.base import InvalidArgumentError, MlnbError, TextReport


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
