"""Processes by pid through psutil, as the GPU attribution needs them: parent, command line, owner.

Every read answers None (or ``[]``) for a pid that exited between the driver's read and
this one, or that this user may not inspect, instead of raising.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class ProcessLookup:
    """Parents, command lines and owners of pids through psutil; a vanished pid reads as None."""

    def __init__(self) -> None:
        import psutil

        self.psutil = psutil
        self._cache: dict[int, Any] = {}

    def _process(self, pid: int) -> Any:
        if pid not in self._cache:
            try:
                self._cache[pid] = self.psutil.Process(pid)
            except (self.psutil.Error, ValueError):
                self._cache[pid] = None
        return self._cache[pid]

    def _read(self, pid: int, read: Callable[[Any], Any]) -> Any:
        process = self._process(pid)
        if process is None:
            return None
        try:
            return read(process)
        except self.psutil.Error:  # exited between reads, or not ours to inspect
            return None

    def exists(self, pid: int) -> bool:
        """Whether ``pid`` is a process in this pid namespace."""
        return bool(self.psutil.pid_exists(pid))

    def parent(self, pid: int) -> int | None:
        """The parent's pid (None for init, a vanished pid or one not visible)."""
        ppid = self._read(pid, lambda p: p.ppid())
        return ppid if ppid else None

    def argv(self, pid: int) -> list[str]:
        """The command line, ``[]`` when not visible."""
        return self._read(pid, lambda p: p.cmdline()) or []

    def user(self, pid: int) -> str | None:
        """The owner's user name, where visible."""
        return self._read(pid, lambda p: p.username())

    def name(self, pid: int) -> str | None:
        """The process name, where visible."""
        return self._read(pid, lambda p: p.name())
