"""The running Jupyter servers' kernels and notebooks, for ``mlnb gpu who --all`` in a terminal.

Servers are found the way ``jupyter server list`` finds them: the ``jpserver-<pid>.json``
files jupyter_server writes in the Jupyter runtime directory (URL and token), kept only
while that pid runs. Each is asked for ``/api/sessions`` (notebook paths) and
``/api/kernels`` (last activity, state) with its token. The REST API gives no pids, so
:func:`mlnb.gpu.attribution.attribute` recognises a kernel process by the connection file
on its command line (``kernel-<id>.json``). A server that refuses the token or does not
answer becomes a note, never an error: the driver's table is still worth showing.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mlnb.gpu.attribution import KernelRef

#: seconds to wait for each server's answer
TIMEOUT = 5.0


@dataclass(frozen=True)
class ServerInfo:
    """One running Jupyter server as its runtime file describes it."""

    url: str
    token: str
    pid: int | None
    root_dir: str | None = None


@dataclass
class ServerKernels:
    """The kernels found on every server, and a sentence for each server that did not answer."""

    kernels: list[KernelRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    servers: int = 0


def runtime_dir() -> Path:
    """The Jupyter runtime directory (``JUPYTER_RUNTIME_DIR`` or the platform default)."""
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir())


def running_servers(directory: Path | None = None) -> list[ServerInfo]:
    """Every server with a runtime file whose process is alive (unreadable files skipped)."""
    import psutil

    base = directory or runtime_dir()
    found = []
    for path in sorted(base.glob("jpserver-*.json")):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            server = ServerInfo(
                url=str(info["url"]),
                token=str(info.get("token", "")),
                pid=int(info["pid"]) if info.get("pid") is not None else None,
                root_dir=info.get("root_dir"),
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if server.pid is not None and not psutil.pid_exists(server.pid):
            continue  # a server that died without removing its file
        found.append(server)
    return found


def _get(server: ServerInfo, path: str, timeout: float) -> Any:
    request = urllib.request.Request(
        server.url.rstrip("/") + "/" + path,
        headers={"Authorization": f"token {server.token}"} if server.token else {},
    )
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        return json.load(reply)


def _timestamp(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def kernels_of(server: ServerInfo, timeout: float = TIMEOUT) -> list[KernelRef]:
    """The server's kernels with their notebook paths.

    Raises:
        OSError: the server refused the token or did not answer (``urllib``'s errors).
        ValueError: it answered something that is not the Jupyter REST API.
    """
    sessions = _get(server, "api/sessions", timeout)
    kernels = _get(server, "api/kernels", timeout)
    path_of = {s["kernel"]["id"]: s.get("path") for s in sessions if s.get("kernel")}
    return [
        KernelRef(
            kernel_id=k["id"],
            path=path_of.get(k["id"]),
            name=k.get("name"),
            last_activity=_timestamp(k.get("last_activity")),
            execution_state=k.get("execution_state"),
            server=server.url,
        )
        for k in kernels
    ]


def _why(server: ServerInfo, exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError) and exc.code in (401, 403):
        return f"the Jupyter server at {server.url} refused its token (HTTP {exc.code}); its notebooks are not named."
    if isinstance(exc, urllib.error.HTTPError):
        return f"the Jupyter server at {server.url} answered HTTP {exc.code}; its notebooks are not named."
    reason = getattr(exc, "reason", None) or exc
    return f"the Jupyter server at {server.url} could not be reached ({reason}); its notebooks are not named."


def all_kernels(servers: list[ServerInfo] | None = None, timeout: float = TIMEOUT) -> ServerKernels:
    """The kernels of every running server (or of ``servers``), with a note per failure."""
    servers = running_servers() if servers is None else servers
    result = ServerKernels(servers=len(servers))
    if not servers:
        result.notes.append(
            f"no running Jupyter server found (no live jpserver-*.json in {runtime_dir()}); "
            "kernels are shown by id, without notebook names."
        )
    for server in servers:
        try:
            result.kernels.extend(kernels_of(server, timeout))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            result.notes.append(_why(server, exc))
    return result
