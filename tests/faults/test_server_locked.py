"""Item 6: a store locked by another process delays only the request that reads it.

The handlers read the store in a worker thread with a 1 s busy timeout, so Jupyter's own
``/api/status`` answers at once while ``/mlnb/api/runs`` waits for the lock, and the runs
request ends with the one sentence instead of hanging for SQLite's 10 s default.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
import urllib.request

import pytest

from tests.helpers import LockedStore, log_run


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"mlnb.server": True}}}


def _get(url: str, headers: dict[str, str]) -> tuple[float, dict]:
    """A blocking GET from another thread: its latency is the server's, not this loop's."""
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as reply:
        body = json.loads(reply.read().decode())
    return time.perf_counter() - started, body


async def test_jupyter_stays_responsive_while_the_store_is_locked(
    jp_fetch, jp_http_port, jp_base_url, jp_auth_header, tmp_path, monkeypatch
):
    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"

    async def _timed(*path: str) -> tuple[float, dict]:
        return await asyncio.to_thread(_get, base + "/".join(path), jp_auth_header)

    home = tmp_path / "store"
    monkeypatch.setenv("MLNB_HOME", str(home))
    log_run(home, "kept")
    from mlnb.runs import session

    for store in session._stores.values():
        store.close()
    session._stores.clear()
    quiet, _ = await _timed("api", "status")

    def both() -> tuple[tuple[float, dict], tuple[float, dict]]:
        # all of it off the server's event loop: the loop is what is being measured
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            runs = pool.submit(_get, base + "mlnb/api/runs", jp_auth_header)
            time.sleep(0.1)  # the runs request is now waiting for the lock
            status = pool.submit(_get, base + "api/status", jp_auth_header)
            return status.result(), runs.result()

    with LockedStore(home / "runs.db"):
        (status_latency, status), (runs_latency, listing) = await asyncio.to_thread(both)
    print(
        f"\n/api/status: {quiet * 1e3:.1f} ms unlocked, {status_latency * 1e3:.1f} ms while "
        f"/mlnb/api/runs waited {runs_latency * 1e3:.0f} ms on the locked store"
    )
    assert "started" in status
    assert status_latency < 0.5, f"/api/status waited {status_latency:.2f} s behind the store"
    assert listing["runs"] == [] and "is locked by another process" in listing["message"]
    assert runs_latency < 5, f"/mlnb/api/runs took {runs_latency:.1f} s"
