"""The root of the family: :class:`MlnbError`, :class:`MlnbWarning` and the errors every area shares."""

from __future__ import annotations

from typing import Protocol


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
