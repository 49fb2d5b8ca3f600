"""A real Jupyter server (or JupyterLab) in a child process, for tests that need one over HTTP."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class JupyterProcess:
    """A running server: its process, base URL and token."""

    process: subprocess.Popen
    base: str
    token: str

    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        """Call the server's REST API with the token; the parsed JSON reply."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base}/{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            text = reply.read()
        return json.loads(text) if text else None

    def start_session(self, path: str) -> str:
        """Open a notebook session with a python3 kernel; the kernel id."""
        session = self.api(
            "api/sessions",
            "POST",
            {"path": path, "name": path, "type": "notebook", "kernel": {"name": "python3"}},
        )
        return session["kernel"]["id"]


def kernel_pid(server_pid: int, kernel_id: str, timeout: float = 60) -> int:
    """The process of ``kernel_id`` among the server's children (by its connection file)."""
    import psutil

    deadline = time.time() + timeout
    while time.time() < deadline:
        for child in psutil.Process(server_pid).children(recursive=True):
            try:
                if f"kernel-{kernel_id}.json" in " ".join(child.cmdline()):
                    return child.pid
            except psutil.Error:
                continue
        time.sleep(0.2)
    raise AssertionError(f"no process for kernel {kernel_id}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def jupyter(
    app: str, root: Path, env: dict[str, str], extra: list[str] = (), timeout: float = 120
) -> Iterator[JupyterProcess]:
    """Run ``python -m <app>`` (``jupyter_server`` or ``jupyterlab``) on localhost with a token."""
    port, token = free_port(), uuid.uuid4().hex
    log_path = root / f"{app}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                app,
                "--no-browser",
                f"--port={port}",
                "--ServerApp.ip=127.0.0.1",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                "--ServerApp.allow_root=True",
                *extra,
            ],
            env=env,
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = JupyterProcess(process, f"http://127.0.0.1:{port}", token)
        deadline = time.time() + timeout
        try:
            while True:
                try:
                    server.api("api/status")
                    break
                except OSError as exc:
                    if time.time() > deadline or process.poll() is not None:
                        raise RuntimeError(f"{app} did not start:\n{log_path.read_text()}") from exc
                    time.sleep(0.5)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
