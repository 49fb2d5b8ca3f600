"""Item 8: the runs list on a store of 100,000 runs reads one page through an index.

The store is written with one ``executemany`` (realistic rows: config, summary, provenance), then
the list route is timed: the panel's poll (``limit=1000``), the largest page (``limit=5000``),
a later page (``offset``), and a filtered count. ``limit`` above the cap is refused.
"""

from __future__ import annotations

import json
import time

import pytest
import tornado.httpclient

from tests.helpers import store_with_runs

N_RUNS = 100_000


@pytest.fixture(scope="module")
def big_store(tmp_path_factory):
    home = tmp_path_factory.mktemp("big") / "store"
    store_with_runs(home, N_RUNS)
    return home


async def _timed(jp_fetch, **params):
    started = time.perf_counter()
    response = await jp_fetch("mlnb", "api", "runs", params=params, method="GET")
    return time.perf_counter() - started, json.loads(response.body.decode()), len(response.body)


async def test_listing_100000_runs_reads_one_page(jp_fetch, big_store, monkeypatch):
    monkeypatch.setenv("MLNB_HOME", str(big_store))
    await _timed(jp_fetch, limit="1")  # warm the page cache
    poll, first, size = await _timed(jp_fetch, limit="1000")
    assert first["total"] == N_RUNS and len(first["runs"]) == 1000
    assert first["runs"][0]["name"] == f"run-{N_RUNS - 1}"  # newest first
    biggest, _page, big_size = await _timed(jp_fetch, limit="5000")
    later, second, _ = await _timed(jp_fetch, limit="1000", offset="1000")
    assert second["runs"][0]["name"] == f"run-{N_RUNS - 1001}"
    failed, only_failed, _ = await _timed(jp_fetch, limit="1000", status="failed")
    assert only_failed["total"] == len(range(0, N_RUNS, 97))
    print(
        f"\n100,000 runs: poll (limit=1000) {poll * 1e3:.0f} ms, {size / 1e6:.2f} MB; "
        f"limit=5000 {biggest * 1e3:.0f} ms, {big_size / 1e6:.2f} MB; offset=1000 "
        f"{later * 1e3:.0f} ms; status=failed {failed * 1e3:.0f} ms"
    )
    assert poll < 0.5 and later < 0.5 and failed < 0.5, (poll, later, failed)
    with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
        await jp_fetch("mlnb", "api", "runs", params={"limit": "100000"}, method="GET")
    assert caught.value.code == 400
    assert json.loads(caught.value.response.body)["message"] == (
        "limit must be a whole number from 1 to 5000, got '100000'."
    )
