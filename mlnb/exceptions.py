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
