"""mlnb's jupyter_server extension: authenticated JSON endpoints for the lab extension.

Enabled on install through ``etc/jupyter/jupyter_server_config.d/mlnb.json``. Every
handler is an ``APIHandler`` with ``@tornado.web.authenticated``; run ids are checked
against a strict pattern and only the run store is ever read, so no request can name
a path on disk.
"""

from __future__ import annotations

from typing import Any


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register mlnb's handlers on the Jupyter server (called by jupyter_server)."""
    from mlnb.server.gpukernels import setup_gpu_kernel_handlers
    from mlnb.server.handlers import setup_route_handlers

    setup_route_handlers(server_app.web_app)
    setup_gpu_kernel_handlers(server_app.web_app)
    server_app.log.info("mlnb server extension loaded: /mlnb/api/{version,gpu,gpu/kernels,runs}")
