"""Route handlers under ``/mlnb/api``: version, GPU status, runs, one run, its metrics.

Every read of the store or the GPU runs in a thread (:meth:`MlnbHandler.blocking`),
never on the server's event loop: a store locked by another process delays only the
request that reads it, never Jupyter's other requests.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado.ioloop import IOLoop

from mlnb import __version__
from mlnb.runs.records import STATUSES
from mlnb.server import data

RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
#: the most runs one list request returns (page with ``offset`` for more)
MAX_LIMIT = 5_000
T = TypeVar("T")


class MlnbHandler(APIHandler):
    """Base: JSON replies with a one-sentence ``message`` on errors."""

    @property
    def root(self) -> Path | None:
        root = self.settings.get("server_root_dir")
        return Path(root).expanduser() if root else None

    def reply(self, payload: dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload, allow_nan=False))

    async def blocking(self, fn: Callable[[], T]) -> T:
        """``fn()`` in a worker thread, so the event loop keeps serving other requests."""
        return await IOLoop.current().run_in_executor(None, fn)

    def run_id(self, raw: str) -> str | None:
        if not RUN_ID.fullmatch(raw) or ".." in raw:
            self.reply({"message": "not a run id: ids are letters, digits, '-', '_' and '.'."}, 400)
            return None
        return raw


class VersionHandler(MlnbHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.reply({"version": __version__, "store": data.store_location()})


class GpuHandler(MlnbHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        self.reply(await self.blocking(data.gpu_snapshot))


def _whole(text: str, name: str, low: int, high: int) -> int | str:
    """``text`` as a whole number in [low, high], or the sentence saying why not."""
    try:
        value = int(text.strip())
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        return f"{name} must be a whole number from {low} to {high}, got {text!r}."
    return value


class RunsHandler(MlnbHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        limit = _whole(self.get_query_argument("limit", "1000"), "limit", 1, MAX_LIMIT)
        offset = _whole(self.get_query_argument("offset", "0"), "offset", 0, 2**62)
        status = self.get_query_argument("status", None) or None
        for problem in (limit, offset):
            if isinstance(problem, str):
                self.reply({"message": problem}, 400)
                return
        if status is not None and status not in STATUSES:
            self.reply(
                {"message": f"status must be one of {', '.join(STATUSES)}, got {status!r}."}, 400
            )
            return
        assert isinstance(limit, int) and isinstance(offset, int)
        started = time.perf_counter()
        payload = await self.blocking(
            lambda: data.list_runs(
                limit=limit,
                offset=offset,
                project=self.get_query_argument("project", None),
                status=status,
                root=self.root,
            )
        )
        payload["elapsed_ms"] = round((time.perf_counter() - started) * 1e3, 2)
        self.reply(payload)


class RunHandler(MlnbHandler):
    @tornado.web.authenticated
    async def get(self, raw_id: str) -> None:
        run_id = self.run_id(raw_id)
        if run_id is None:
            return
        root = self.root
        try:
            run = await self.blocking(lambda: data.get_run(run_id, root=root))
        except data.StoreUnavailable as exc:
            self.reply({"message": exc.message}, 503)
            return
        if run is None:
            self.reply({"message": f"no run {run_id} in the store."}, 404)
            return
        self.reply(run)


class RunMetricsHandler(MlnbHandler):
    @tornado.web.authenticated
    async def get(self, raw_id: str) -> None:
        run_id = self.run_id(raw_id)
        if run_id is None:
            return
        try:
            metrics = await self.blocking(lambda: data.run_metrics(run_id))
        except data.StoreUnavailable as exc:
            self.reply({"message": exc.message}, 503)
            return
        if metrics is None:
            self.reply({"message": f"no run {run_id} in the store."}, 404)
            return
        self.reply({"run_id": run_id, **metrics})


def setup_route_handlers(web_app: Any) -> None:
    """Add mlnb's routes to the server's tornado application."""
    base = url_path_join(web_app.settings["base_url"], "mlnb", "api")
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "version"), VersionHandler),
            (url_path_join(base, "gpu"), GpuHandler),
            (url_path_join(base, "runs"), RunsHandler),
            (url_path_join(base, "runs", r"([^/]+)"), RunHandler),
            (url_path_join(base, "runs", r"([^/]+)", "metrics"), RunMetricsHandler),
        ],
    )
