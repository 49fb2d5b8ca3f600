"""Code the engine runs silently in the kernel before the first cell: the seed, the run's id.

Silent executions add no cell, no output and use no execution count, so the output
notebook's ``In [N]`` numbers stay papermill's.
"""

from __future__ import annotations

import logging
from typing import Any

from mlnb.pipeline.context import RunContext
from mlnb.pipeline.seeding import seed_code

log = logging.getLogger(__name__)


def pin_seed(client: Any, context: RunContext) -> None:
    """Run the seed code silently: no cell, no output, no execution count used."""
    if not context.language.lower().startswith("python"):
        log.warning(
            "mlnb: the seed is pinned in Python kernels only; this %s kernel is left alone.",
            context.language,
        )
        context.section.seed = None
        return
    seed = context.kind.seed
    assert seed is not None
    content = silent(client, seed_code(seed))
    if content.get("status") != "ok":
        log.warning(
            "mlnb: pinning seed %s failed in the kernel: %s: %s",
            seed,
            content.get("ename"),
            content.get("evalue"),
        )


def silent(client: Any, code: str) -> dict[str, Any]:
    """Run ``code`` in the kernel silently (no cell, no output, no execution count used)."""
    from jupyter_core.utils import ensure_async, run_sync

    async def execute() -> Any:
        msg_id = await ensure_async(client.kc.execute(code, silent=True, store_history=False))
        return await client.async_wait_for_reply(msg_id)

    reply = run_sync(execute)()
    return dict((reply or {}).get("content", {}))


def expose_run(client: Any, context: RunContext) -> None:
    """Tell a Python kernel which run it executes, so ``mlnb.log`` writes there."""
    if not context.language.lower().startswith("python"):
        return
    from mlnb.runs.database import default_home
    from mlnb.runs.trial import exposure_code

    content = silent(client, exposure_code(context.record.id, str(default_home())))
    if content.get("status") != "ok":
        log.warning("mlnb: cannot name the run in the kernel: %s", content.get("evalue"))
