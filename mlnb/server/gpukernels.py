"""``/mlnb/api/gpu/kernels``: whose GPU memory is it, per device and notebook, and actions on kernels.

``GET`` returns :meth:`mlnb.gpu.attribution.Attribution.as_dict` for this server's
kernels (``?idle_after=SECONDS`` sets when an idle kernel holding memory is flagged); ``POST /mlnb/api/gpu/kernels/<kernel_id>/<action>`` with action ``interrupt``,
``shutdown`` or ``free`` (runs :func:`mlnb.gpu.free` in that kernel). The kernel list
comes from the server's own kernel and session managers on the event loop (cheap, in
memory); the driver and psutil reads run in a worker thread, so a slow NVML call never
stalls Jupyter's other requests.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import tornado.web
from jupyter_core.utils import ensure_async
from jupyter_server.utils import url_path_join

from mlnb.gpu.attribution import IDLE_AFTER, KernelRef
from mlnb.server.handlers import MlnbHandler

log = logging.getLogger(__name__)
KERNEL_ID = re.compile(r"[0-9A-Za-z-]{1,64}")
ACTIONS = ("interrupt", "shutdown", "free")
#: seconds ``free`` waits for the kernel's reply (a busy kernel runs it after its cell)
FREE_TIMEOUT = 30.0
FREE_EXPRESSION = "__import__('mlnb.gpu', fromlist=['free']).free().text()"


def _timestamp(value: Any) -> float | None:
    return value.timestamp() if hasattr(value, "timestamp") else None


async def kernel_refs(kernel_manager: Any, session_manager: Any) -> list[KernelRef]:
    """This server's kernels with their pids, notebook paths and last activity."""
    sessions = await ensure_async(session_manager.list_sessions())
    path_of = {s["kernel"]["id"]: s.get("path") for s in sessions if s.get("kernel")}
    refs = []
    for kernel_id in list(kernel_manager.list_kernel_ids()):
        try:
            kernel = kernel_manager.get_kernel(kernel_id)
        except KeyError:  # shut down meanwhile
            continue
        provisioner = getattr(kernel, "provisioner", None)
        pid = getattr(provisioner, "pid", None)
        refs.append(
            KernelRef(
                kernel_id=kernel_id,
                pid=int(pid) if isinstance(pid, int) else None,
                path=path_of.get(kernel_id),
                name=getattr(kernel, "kernel_name", None),
                last_activity=_timestamp(getattr(kernel, "last_activity", None)),
                execution_state=getattr(kernel, "execution_state", None),
            )
        )
    return refs


def attribution_payload(refs: list[KernelRef], idle_after: float = IDLE_AFTER) -> dict[str, Any]:
    """The attribution as JSON; a reader failure becomes a ``message`` (blocking: run in a thread)."""
    from mlnb.gpu import backends
    from mlnb.gpu.attribution import attribute
    from mlnb.gpu.status import status

    try:
        report = status()
    except Exception as exc:  # the view must keep working whatever the readers do
        log.warning("mlnb: GPU status failed", exc_info=True)
        return {"devices": [], "notes": [], "pids_visible": True, "message": str(exc)}
    selection = backends.active()
    payload = attribute(report.devices, refs, idle_after=idle_after).as_dict()
    payload["message"] = report.no_gpu_sentence() or ""
    payload["backend"] = ",".join(b.name for b in selection.backends)
    return payload


class GpuKernelsHandler(MlnbHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        raw = self.get_query_argument("idle_after", str(IDLE_AFTER))
        try:
            idle_after = float(raw)
        except ValueError:
            idle_after = -1.0
        if not idle_after >= 0:
            self.reply({"message": f"idle_after must be seconds, 0 or more, got {raw!r}."}, 400)
            return
        refs = await kernel_refs(self.kernel_manager, self.session_manager)
        self.reply(await self.blocking(lambda: attribution_payload(refs, idle_after)))


class GpuKernelActionHandler(MlnbHandler):
    @tornado.web.authenticated
    async def post(self, kernel_id: str, action: str) -> None:
        if not KERNEL_ID.fullmatch(kernel_id):
            self.reply({"message": "not a kernel id."}, 400)
            return
        if action not in ACTIONS:
            self.reply(
                {"message": f"action must be one of {', '.join(ACTIONS)}, got {action!r}."}, 400
            )
            return
        if kernel_id not in self.kernel_manager:
            self.reply(
                {"message": f"no kernel {kernel_id} on this server (shut down already?)."}, 404
            )
            return
        if action == "interrupt":
            manager = self.kernel_manager
            await ensure_async(manager.interrupt_kernel(kernel_id))  # type: ignore[func-returns-value]
            self.reply({"kernel_id": kernel_id, "action": action, "message": "interrupted."})
        elif action == "shutdown":
            await ensure_async(self.kernel_manager.shutdown_kernel(kernel_id))
            self.reply({"kernel_id": kernel_id, "action": action, "message": "shut down."})
        else:
            message = await run_free(self.kernel_manager.get_kernel(kernel_id))
            self.reply({"kernel_id": kernel_id, "action": action, "message": message})


async def run_free(kernel: Any, timeout: float = FREE_TIMEOUT) -> str:
    """Run ``mlnb.gpu.free()`` in the kernel; its report, or why there is none."""
    client = kernel.client()
    client.start_channels()
    try:
        msg_id = client.execute(
            "pass", silent=False, store_history=False, user_expressions={"report": FREE_EXPRESSION}
        )
        reply = await asyncio.wait_for(_reply_to(client, msg_id), timeout)
    except asyncio.TimeoutError:
        return (
            f"the kernel did not answer within {timeout:.0f} s (busy?); free() runs when its "
            "current cell ends."
        )
    finally:
        client.stop_channels()
    expression = reply["content"].get("user_expressions", {}).get("report", {})
    if expression.get("status") != "ok":
        return f"free() failed in the kernel: {expression.get('ename', '?')}: {expression.get('evalue', '')}"
    text = expression.get("data", {}).get("text/plain", "")
    try:
        import ast

        return str(ast.literal_eval(text))
    except (ValueError, SyntaxError):
        return text


async def _reply_to(client: Any, msg_id: str) -> dict[str, Any]:
    while True:
        message = await ensure_async(client.get_shell_msg())
        if message.get("parent_header", {}).get("msg_id") == msg_id:
            return message


def setup_gpu_kernel_handlers(web_app: Any) -> None:
    """Add the GPU-by-kernel routes to the server's tornado application."""
    base = url_path_join(web_app.settings["base_url"], "mlnb", "api", "gpu", "kernels")
    web_app.add_handlers(
        ".*$",
        [
            (base, GpuKernelsHandler),
            (url_path_join(base, r"([^/]+)", r"([^/]+)"), GpuKernelActionHandler),
        ],
    )
