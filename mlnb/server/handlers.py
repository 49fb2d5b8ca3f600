"""Route handlers under ``/mlnb/api``: version, GPU status, runs, one run, its metrics."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from mlnb import __version__
from mlnb.server import data

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
MAX_LIMIT = 100_000


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

    def run_id(self, raw: str) -> str | None:
        if not RUN_ID.match(raw) or ".." in raw:
            self.reply({"message": "not a run id: ids are letters, digits, '-', '_' and '.'."}, 400)
            return None
        return raw


class VersionHandler(MlnbHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.reply({"version": __version__, "store": data.store_location()})


class GpuHandler(MlnbHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.reply(data.gpu_snapshot())


class RunsHandler(MlnbHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        try:
            limit = int(self.get_query_argument("limit", "1000"))
        except ValueError:
            self.reply({"message": "limit must be a whole number."}, 400)
            return
        limit = max(1, min(limit, MAX_LIMIT))
        started = time.perf_counter()
        payload = data.list_runs(
            limit=limit,
            project=self.get_query_argument("project", None),
            status=self.get_query_argument("status", None),
            root=self.root,
        )
        payload["elapsed_ms"] = round((time.perf_counter() - started) * 1e3, 2)
        self.reply(payload)


class RunHandler(MlnbHandler):
    @tornado.web.authenticated
    def get(self, raw_id: str) -> None:
        run_id = self.run_id(raw_id)
        if run_id is None:
            return
        run = data.get_run(run_id, root=self.root)
        if run is None:
            self.reply({"message": f"no run {run_id} in the store."}, 404)
            return
        self.reply(run)


class RunMetricsHandler(MlnbHandler):
    @tornado.web.authenticated
    def get(self, raw_id: str) -> None:
        run_id = self.run_id(raw_id)
        if run_id is None:
            return
        metrics = data.run_metrics(run_id)
        if metrics is None:
            self.reply({"message": f"no run {run_id} in the store."}, 404)
            return
        self.reply({"run_id": run_id, "metrics": metrics})


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
