"""The parent's side of :mod:`mlnb.pipeline.zygote`: start one, ask it for kernels.

:class:`Zygote` runs ``python -m mlnb.pipeline.zygote`` for one kind of kernel (the
same interpreter, environment — ``PYTHONHASHSEED`` can only be set at start — and
working directory) and asks it to fork kernels. :class:`ForkProvisioner` is a
jupyter_client provisioner that launches the kernel command through a zygote instead
of ``Popen`` when the command is this interpreter's ``-m ipykernel_launcher`` (anything
else starts the usual way), so nbclient and papermill talk to the forked kernel
exactly as to any other. :class:`ForkedProcess` gives the manager what it needs of a
``Popen`` (poll, wait, signals) for a process that is the zygote's child, not ours.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import select
import signal
import subprocess
import sys
import threading
from typing import Any

from jupyter_client.provisioning import LocalProvisioner

from mlnb.exceptions import KernelStartError

log = logging.getLogger(__name__)

#: the kernel command a zygote can stand in for: this interpreter running ipykernel's launcher
LAUNCHER = ["-m", "ipykernel_launcher"]
#: kernel commands already reported as started the usual way (said once per process)
_SAID_COLD: set[str] = set()
#: how long a kill waits to see the forked kernel gone
KILL_WAIT_SECONDS = 1.0


def fork_supported() -> str | None:
    """Why forking kernels is not possible on this system, or None."""
    if not hasattr(os, "fork") or not sys.platform.startswith("linux"):
        return f"forking kernels needs Linux (this is {sys.platform})"
    return None


class Zygote:
    """One ``python -m mlnb.pipeline.zygote`` process with ``modules`` pre-loaded.

    It loads in the background; :meth:`wait_ready` (called by the first :meth:`fork`)
    waits for it to say whether forking is safe.
    """

    def __init__(self, cwd: str, env: dict[str, str], modules: list[str], timeout: float) -> None:
        self.modules = list(modules)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlnb.pipeline.zygote", *self.modules],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            start_new_session=True,  # Ctrl-C in the terminal reaches mlnb, not the zygote
        )
        self._lock = threading.Lock()
        self.timeout = timeout
        self.pid = self.process.pid
        self.unsafe: str | None = None
        self.unfit: list[str] = []
        self._ready = False

    def wait_ready(self) -> None:
        """Wait until the zygote has loaded; sets :attr:`unsafe` and :attr:`unfit`.

        Raises:
            KernelStartError: it exited or did not answer within its timeout.
        """
        if self._ready:
            return
        ready = self._receive(self.timeout)
        self.unsafe = ready.get("unsafe")
        self.unfit = list(ready.get("unfit") or [])
        self._ready = True

    def _receive(self, timeout: float) -> dict[str, Any]:
        stdout = self.process.stdout
        assert stdout is not None
        readable, _, _ = select.select([stdout], [], [], timeout)
        line = stdout.readline() if readable else ""
        if not line:
            self.close()
            why = "did not answer" if not readable else "exited"
            raise KernelStartError(f"the kernel zygote {why} (see the messages above).")
        message: dict[str, Any] = json.loads(line)
        return message

    def fork(self, argv: list[str], env: dict[str, str], cwd: str, timeout: float = 30) -> int:
        """Fork a kernel running ``argv`` (``sys.argv`` of the kernel); returns its pid."""
        request = json.dumps({"argv": argv, "env": env, "cwd": cwd})
        with self._lock:
            stdin = self.process.stdin
            assert stdin is not None
            try:
                stdin.write(request + "\n")
                stdin.flush()
            except OSError as exc:
                raise KernelStartError(f"the kernel zygote is gone ({exc}).") from None
            answer = self._receive(timeout)
        if "pid" not in answer:
            raise KernelStartError(f"the kernel zygote could not fork: {answer.get('error')}")
        return int(answer["pid"])

    def alive(self) -> bool:
        """Whether the zygote process still runs."""
        return self.process.poll() is None

    def close(self) -> None:
        """End the zygote (end of its input), killing it if it does not go at once."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):  # the zygote already died: its pipe is broken
                self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


class ForkedProcess:
    """What a kernel manager needs of ``Popen`` for a kernel forked by a zygote.

    The zygote ignores ``SIGCHLD``, so the OS reaps its children as they exit and a
    signal-0 probe says whether the kernel still runs; its exit status is not known
    (``-SIGKILL`` after :meth:`kill`, else 0).
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """None while the kernel runs, else its (approximate) exit status."""
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
            except PermissionError:  # the pid now belongs to someone else's process
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Block until the kernel is gone."""
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        """Signal the kernel (a gone kernel is not an error)."""
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        """Kill the kernel now."""
        self.send_signal(signal.SIGKILL)
        self.returncode = self.returncode if self.returncode is not None else -signal.SIGKILL

    def terminate(self) -> None:
        """Ask the kernel to end."""
        self.send_signal(signal.SIGTERM)


def forkable(cmd: list[str]) -> bool:
    """Whether a zygote can stand in for ``cmd``: this very interpreter running ipykernel."""
    return (
        len(cmd) >= 3
        and os.path.abspath(cmd[0]) == os.path.abspath(sys.executable)
        and cmd[1:3] == LAUNCHER
    )


def launcher_argv(cmd: list[str]) -> list[str]:
    """``sys.argv`` as ``python -m ipykernel_launcher ARGS`` would set it."""
    import importlib.util

    spec = importlib.util.find_spec("ipykernel_launcher")
    origin = spec.origin if spec is not None and spec.origin else "ipykernel_launcher"
    return [origin, *cmd[3:]]


class ForkProvisioner(LocalProvisioner):
    """Launches kernels through a :class:`Zygote` (the usual way for other commands)."""

    zygote: Zygote | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        """Fork the kernel from the zygote; everything else is the local provisioner's."""
        zygote = self.zygote
        if zygote is not None and not forkable(cmd) and cmd[0] not in _SAID_COLD:
            _SAID_COLD.add(cmd[0])
            log.warning(
                "mlnb: warm kernels are off for %s (not this interpreter's ipykernel); "
                "kernels start the usual way.",
                " ".join(cmd[:3]),
            )
        if zygote is None or not zygote.alive() or not forkable(cmd):
            return await super().launch_kernel(cmd, **kwargs)
        env = dict(kwargs.get("env") or os.environ)
        env["JPY_PARENT_PID"] = str(zygote.pid)  # the kernel exits when the zygote goes
        cwd = str(kwargs.get("cwd") or os.getcwd())
        pid = zygote.fork(launcher_argv(cmd), env, cwd)
        self.process = ForkedProcess(pid)  # type: ignore[assignment]  # duck-types Popen
        self.pid = pid
        self.pgid = pid  # the child started its own session
        self.cwd = cwd
        return self.connection_info

    async def kill(self, restart: bool = False) -> None:
        """Kill the kernel and see it gone (the OS reaps a forked kernel at once), so the
        manager's first check finds it stopped instead of sleeping 0.1 s to look again."""
        await super().kill(restart=restart)
        await self._gone(KILL_WAIT_SECONDS)

    async def wait(self) -> int | None:
        """Wait for the kernel to go, looking every few milliseconds."""
        process = self.process
        if not isinstance(process, ForkedProcess):
            return int(await super().wait() or 0)
        await self._gone(math.inf)
        self.process = None
        return process.returncode

    async def _gone(self, limit: float) -> None:
        import asyncio
        import time

        process = self.process
        end = time.monotonic() + limit
        while isinstance(process, ForkedProcess) and process.poll() is None:
            if time.monotonic() > end:
                return
            await asyncio.sleep(0.005)
