"""A kernel client that knows a kernel is ready as soon as it is, not 0.2 s later.

jupyter_client's ``wait_for_ready`` gets the kernel's ``kernel_info_reply``, then
drains IOPub until nothing has arrived for 0.2 s — the wait is spent on every run.
:class:`ReadyClient` drains IOPub until the ``idle`` status of its own ``kernel_info``
request, which the kernel publishes after everything before it: the same messages are
discarded and the same proof that IOPub is connected is had, without the silence.
Warm kernels (:mod:`mlnb.pipeline.kernel_pool`) use it; nbclient calls it unchanged.
"""

from __future__ import annotations

import math
import time
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient


def _is_idle_after(message: dict[str, Any], msg_id: str) -> bool:
    return (
        message.get("msg_type") == "status"
        and message.get("content", {}).get("execution_state") == "idle"
        and message.get("parent_header", {}).get("msg_id") == msg_id
    )


class ReadyClient(AsyncKernelClient):
    """An asyncio kernel client whose ``wait_for_ready`` ends at the kernel's ``idle``."""

    async def _idle_seen(self, msg_id: str, wait: float) -> bool:
        """Drain IOPub until the ``idle`` status of request ``msg_id`` (False: not in ``wait`` s)."""
        end = time.monotonic() + wait
        while (left := end - time.monotonic()) > 0:
            try:
                message = await self.iopub_channel.get_msg(timeout=left)
            except Empty:
                return False
            if _is_idle_after(message, msg_id):
                return True
        return False

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        """Return once the kernel answered ``kernel_info`` and its IOPub is drained.

        Raises:
            RuntimeError: the kernel died, or did not answer within ``timeout`` seconds
                (jupyter_client's messages, which nbclient and mlnb's engine expect).
        """
        deadline = time.monotonic() + (math.inf if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            answered = reply is not None and reply.get("msg_type") == "kernel_info_reply"
            if answered and await self._idle_seen(reply["parent_header"].get("msg_id", ""), 1.0):
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
