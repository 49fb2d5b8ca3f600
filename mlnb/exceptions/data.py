"""Errors of :mod:`mlnb.data`: data it cannot profile, validate or compare."""

from __future__ import annotations

from mlnb.exceptions.base import MlnbError


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
