"""Errors of run logging (:mod:`mlnb.runs`): the run store and the runs in it."""

from __future__ import annotations

from mlnb.exceptions.base import InvalidArgumentError, MlnbError


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

    def __init__(
        self, ref: str, home: object, ambiguous: tuple[str, ...] = (), *, blank: bool = False
    ) -> None:
        self.ref = ref
        self.ambiguous = ambiguous
        if blank:
            message = f"a run is named by its id, an id prefix or its name, got {ref!r}."
        elif ambiguous:
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
