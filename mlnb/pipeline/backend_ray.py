"""The Ray executor: each trial or step is a Ray task that carries its own files.

``--backend ray`` starts a local Ray with ``jobs`` CPUs, or joins a cluster
(``--address HOST:PORT``, or a Ray already initialised in this process). A task takes its
notebook and working folder with it (:class:`~mlnb.pipeline.remote.Parcel`, through Ray's
object store), runs in a scratch folder of whichever node Ray picks — or of the nodes that
hold ``ray_resources`` (``{"mlnb_worker": 1}`` pins tasks to nodes started with
``--resources '{"mlnb_worker": 2}'``) — and sends back its output notebook, the files it
wrote and its run, which land in the driver's folder and run store
(:func:`~mlnb.pipeline.remote.land`). No node reads the driver's paths; each run records the
node it ran on (``provenance["node"]``: Ray node id, host name, address).

An address that does not answer is refused within :data:`CONNECT_SECONDS` with one
sentence (``ray.init`` itself keeps retrying for minutes).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Hashable, Mapping
from dataclasses import asdict
from typing import Any

from mlnb.exceptions import BackendUnreachableError, InvalidArgumentError, MissingDependencyError
from mlnb.pipeline.executor import lost_record
from mlnb.pipeline.remote import Parcel, land, pack, run_parcel
from mlnb.pipeline.run import RunTask
from mlnb.runs.records import RunRecord

#: how long an ``--address`` may take to answer before it is called unreachable
CONNECT_SECONDS = 10.0


def import_ray(feature: str = "--backend ray") -> Any:
    """The ``ray`` module, or one sentence naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("ray", feature, "ray") from None
    return ray


def check_reachable(address: str) -> None:
    """Refuse a ``host:port`` (or ``ray://host:port``) nothing answers on.

    Raises:
        BackendUnreachableError: no connection within :data:`CONNECT_SECONDS`.
        InvalidArgumentError: the address has no port.
    """
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise InvalidArgumentError(
            f"--address {address} must be HOST:PORT (the head node's GCS port, 6379 by default) or ray://HOST:PORT."
        )
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise BackendUnreachableError(
            f"no Ray cluster answers at {address} ({reason}) — start one there with `ray start --head`, or leave out --address to start a local Ray."
        ) from None


def connect(address: str | None, jobs: int) -> tuple[Any, bool]:
    """Join the cluster at ``address`` (or the Ray this process already runs), else start a
    local Ray with ``jobs`` CPUs; returns ``(ray, whether this call started it)``."""
    ray = import_ray()
    if address:
        check_reachable(address)
    if ray.is_initialized():
        return ray, False
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    if address:
        options["address"] = address
    else:  # a new Ray of our own, never a cluster that happens to run on this machine
        options.update(address="local", num_cpus=jobs)
    options["runtime_env"] = {"env_vars": worker_environment()}
    try:
        ray.init(**options)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, TimeoutError...
        ray.shutdown()  # whatever half-started
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        where = f"join the Ray cluster at {address}" if address else "start a local Ray"
        raise BackendUnreachableError(f"could not {where} ({reason}).") from None
    return ray, True


def worker_environment() -> dict[str, str]:
    """What Ray workers need from this process: its import path (never its run store —
    a node records into a scratch store of its own)."""
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": path} if path else {}


def parse_resources(text: str | Mapping[str, Any] | None) -> dict[str, float]:
    """``'{"mlnb_worker": 1}'`` (or a mapping) → custom resources every task asks for.

    Raises:
        InvalidArgumentError: not a JSON object of names → positive numbers.
    """
    if text is None or text == "":
        return {}
    try:
        data = json.loads(text) if isinstance(text, str) else dict(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
        for k, v in data.items()
    ):
        raise InvalidArgumentError(
            f"--ray-resources must be a JSON object of resource names to positive numbers, like '{{\"mlnb_worker\": 1}}', got {text!r}."
        )
    return {k: float(v) for k, v in data.items()}


def node_identity() -> dict[str, Any]:
    """This Ray node's id (host name and address are added by :func:`run_parcel`)."""
    import ray

    return {"backend": "ray", "node_id": ray.get_runtime_context().get_node_id()}


def run_on_node(parcel: Parcel) -> dict[str, Any]:
    """Body of a Ray task: run the parcel in this node's scratch folder."""
    return run_parcel(parcel, node_identity())


class RayExecutor:
    """Runs each task as a Ray task (one CPU, plus ``ray_resources``) that carries its files."""

    def __init__(
        self,
        jobs: int = 1,
        address: str | None = None,
        ray_resources: str | Mapping[str, Any] | None = None,
        **_: Any,
    ) -> None:
        resources = parse_resources(ray_resources)
        self._ray, self._owns_ray = connect(address, jobs)
        self._remote = self._ray.remote(num_cpus=1, resources=resources or None)(run_on_node)
        self._refs: dict[Any, tuple[Hashable, RunTask]] = {}

    def submit(self, key: Hashable, task: RunTask) -> None:
        """Pack the task's files and start it on the cluster."""
        self._refs[self._remote.remote(pack(task))] = (key, task)

    def pending(self) -> int:
        """Tasks not returned yet."""
        return len(self._refs)

    def next_result(self) -> tuple[Hashable, RunRecord | None]:
        """The next task to finish, landed in this machine's folder and run store."""
        ready, _ = self._ray.wait(list(self._refs), num_returns=1)
        key, task = self._refs.pop(ready[0])
        try:
            payload = self._ray.get(ready[0])
        except self._ray.exceptions.TaskCancelledError:
            return key, None
        except self._ray.exceptions.RayError as exc:
            detail = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else ""
            return key, lost_record(asdict(task), "crashed", f"{type(exc).__name__}: {detail}")
        return key, land(payload, task)

    def cancel_pending(self) -> None:
        """Cancel the tasks Ray has not started."""
        for ref in list(self._refs):
            with contextlib.suppress(Exception):
                self._ray.cancel(ref, force=False)

    def close(self) -> None:
        """Shut down the local Ray this executor started."""
        if self._owns_ray:
            self._ray.shutdown()
