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


class GpuBackendError(MlnbError):
    """A GPU backend named in ``MLNB_GPU_BACKEND`` / ``MLNB_GPU_FAKE`` cannot be used as asked."""


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

    def __init__(self, message: str, report: object = None) -> None:
        self.report = report
        super().__init__(message)
