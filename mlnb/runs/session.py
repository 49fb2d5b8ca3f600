"""This process's runs: starting one, the *active* run behind ``mlnb.log``, finishing at exit.

Two runs at once are supported as run objects: ``a = start("a")`` then
``b = start("b", active=False)``; each logs through its own ``log``. Only one run
is *active* (the one ``mlnb.log`` and the magics use): starting another active
run while one is running is refused with a sentence naming the way out
(``replace=True`` finishes the old one first).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from mlnb.exceptions import NoActiveRunError, RunActiveError
from mlnb.runs.records import RunRecord
from mlnb.runs.run import Run
from mlnb.runs.store import Store, default_home
from mlnb.runs.values import exception_summary

#: default seconds between system-metric samples (None or 0 turns sampling off)
SYSTEM_INTERVAL = 10.0

_lock = threading.RLock()
_active: Run | None = None
_live: dict[str, Run] = {}
_stores: dict[Path, Store] = {}
_uncaught: BaseException | None = None
_exit_hooks_installed = False


def open_store(home: str | os.PathLike[str] | None = None) -> Store:
    """The (shared, thread-safe) store of this process for ``home`` (default ``$MLNB_HOME``)."""
    path = Path(home).expanduser().absolute() if home else default_home()
    with _lock:
        found = _stores.get(path)
        if found is None or found._conn is None or found.pid != os.getpid():  # not across fork
            found = _stores[path] = Store(path)
        return found


def get_run(ref: str, home: str | os.PathLike[str] | None = None) -> RunRecord:
    """The run ``ref`` names — an id, a unique id prefix, or the newest run of that name —
    read from the store at ``home`` (default ``$MLNB_HOME``) without creating one.

    Raises:
        RunNotFoundError: no run matches, or an id prefix matches several.
        StoreError: the store cannot be read.
    """
    with Store(home, readonly=True) as store:
        return store.get_run(ref)


def start(
    name: str | None = None,
    *,
    project: str | None = None,
    config: Mapping[str, Any] | None = None,
    tags: list[str] | tuple[str, ...] = (),
    home: str | os.PathLike[str] | None = None,
    system_interval: float | None = SYSTEM_INTERVAL,
    replace: bool = False,
    active: bool = True,
) -> Run:
    """Start a run and (by default) make it the active run that ``mlnb.log`` writes to.

    Args:
        name: a name to find it by (default ``run-<id>``); names may repeat.
        project: groups runs in tables and exports (default ``"default"``).
        config: the run's parameters; values JSON cannot hold are stored as their
            repr with an :class:`~mlnb.exceptions.MlnbWarning`.
        tags: labels to filter by.
        home: the store folder (default ``$MLNB_HOME`` or ``./.mlnb``).
        system_interval: seconds between CPU/RAM/disk/network/GPU samples logged as
            ``sys/...`` metrics; None or 0 turns them off.
        replace: finish the currently active run first instead of refusing.
        active: make it the active run; False keeps it a plain run object, so
            several runs can log side by side.

    Returns:
        The :class:`~mlnb.runs.run.Run` (a context manager: it finishes on exit,
        ``failed`` with the exception summary if the block raised).

    Raises:
        RunActiveError: another run is active and neither ``replace`` nor
            ``active=False`` was given.
    """
    global _active
    if system_interval:  # checked before the run exists, so a bad value leaves no run behind
        from mlnb.runs.sysmetrics import check_interval

        check_interval(system_interval)
    with _lock:
        current = active_run()
        if active and current is not None:
            if not replace:
                raise RunActiveError(current.name, current.id)
            current.finish()
        run = Run(open_store(home), name, project=project, config=config, tags=tags)
        _live[run.id] = run
        if active:
            _active = run
        _install_exit_hooks()
    from mlnb.runs import cells, sysmetrics

    run.on_finish(lambda: forget(run), after_flush=True)
    cells.attach(run)
    if system_interval:
        sysmetrics.start_sampler(run, system_interval)
    return run


def active_run() -> Run | None:
    """The active run, or None."""
    run = _active
    if run is None or run.status != "running" or run.owner_pid != os.getpid():
        return None  # a forked child does not inherit the parent's active run
    return run


def require_active(action: str = "log") -> Run:
    """The active run, or :class:`NoActiveRunError` naming how to start one."""
    run = active_run()
    if run is None:
        raise NoActiveRunError(action)
    return run


def log(data: Mapping[str, Any], step: int | None = None) -> None:
    """Log to the active run: ``mlnb.log({"loss": 0.3}, step=i)``; see :meth:`Run.log`.

    With no active run, in a notebook mlnb's pipeline executes, the points go to the
    pipeline's run of it (see :mod:`mlnb.runs.trial`).

    Raises:
        NoActiveRunError: no run is active (e.g. after ``%run_stop``); with the
            extension loaded the cell shows just its sentence (see
            :class:`mlnb.magics.runs.OneLineErrors`).
    """
    run = _active
    if run is None or run.status != "running":
        from mlnb.runs.trial import current_trial

        trial = current_trial()  # a kernel the pipeline runs: log to the pipeline's run
        if trial is None:
            raise NoActiveRunError("log")
        trial.log(data, step)
        return
    run.log(data, step)


def log_many(data: Mapping[str, Any], steps: Any = None) -> int:
    """Log whole arrays to the active run: ``mlnb.log_many({"loss": losses}, steps=steps)``;
    see :meth:`Run.log_many`.

    Raises:
        NoActiveRunError: no run is active.
    """
    run = _active
    if run is None or run.status != "running":
        raise NoActiveRunError("log")
    return run.log_many(data, steps)


def finish(status: str = "finished", error: str | None = None) -> RunRecord:
    """Finish the active run; returns its stored record."""
    return require_active("finish").finish(status, error)


def live_runs() -> list[Run]:
    """Runs of this process that are still running."""
    return [run for run in list(_live.values()) if run.status == "running"]


def forget(run: Run) -> None:
    """Drop a finished run from this process's registry (called when it finishes)."""
    global _active
    with _lock:
        _live.pop(run.id, None)
        if _active is run:
            _active = None


def _install_exit_hooks() -> None:
    global _exit_hooks_installed
    if _exit_hooks_installed:
        return
    _exit_hooks_installed = True
    atexit.register(_finish_at_exit)
    previous = sys.excepthook

    def remember_uncaught(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        global _uncaught
        _uncaught = exc
        previous(exc_type, exc, tb)

    sys.excepthook = remember_uncaught


def _finish_at_exit() -> None:
    """Flush and finish every running run when the interpreter exits normally."""
    for run in live_runs():
        if run.owner_pid != os.getpid():
            continue  # a forked child exiting must not finish its parent's run
        try:
            if _uncaught is None:
                run.finish("finished")
            elif isinstance(_uncaught, KeyboardInterrupt):
                run.finish("killed", "KeyboardInterrupt")
            else:
                run.finish("failed", exception_summary(_uncaught))
        except Exception as exc:  # at exit there is no one left to raise to
            print(f"mlnb: could not finish run {run.name!r}: {exc}", file=sys.stderr)
