"""Which runs belong to this process: a forked child must not log to or finish its parent's runs.

``Run.log()`` is called in tight loops, so it reads a flag (``run._forked``) that
:func:`_after_fork` sets in a forked child, instead of asking the operating system
for the process id each call; ``flush()`` and ``finish()`` still compare the
process id (which also covers a fork that skipped Python's fork hooks).
"""

from __future__ import annotations

import os
import weakref
from typing import Any

from mlnb.exceptions import RunsError

#: every Run created in this process; a forked child marks them as not its own
_runs_of_this_process: weakref.WeakSet[Any] = weakref.WeakSet()


def track(run: Any) -> None:
    """Remember ``run`` so that a forked child marks it as its parent's."""
    run._forked = False
    _runs_of_this_process.add(run)


def _after_fork() -> None:
    """In a forked child: every run the parent created belongs to the parent."""
    for run in list(_runs_of_this_process):
        run._forked = True


if hasattr(os, "register_at_fork"):  # POSIX; elsewhere there is no fork
    os.register_at_fork(after_in_child=_after_fork)


def foreign_process_error(run: Any, action: str) -> RunsError:
    """The sentence for a fork that tries to ``action`` (log to, write, finish) its parent's run."""
    return RunsError(
        f"cannot {action} run {run.name!r} ({run.id}) from process {os.getpid()}: it "
        f"belongs to process {run.owner_pid}, which started it (this one is a fork) — "
        "start a run in this process with `mlnb.start(..., active=False)`."
    )
