"""mlnb's jupyter_server endpoints: auth, GPU status, runs, ids, path traversal."""

from __future__ import annotations

import json

import pytest
import tornado.httpclient

pytestmark = pytest.mark.usefixtures("store_home")


async def get(jp_fetch, *path, **params):
    response = await jp_fetch("mlnb", "api", *path, params=params or None, method="GET")
    return json.loads(response.body.decode())


async def test_version(jp_fetch):
    import mlnb

    reply = await get(jp_fetch, "version")
    assert reply["version"] == mlnb.__version__


async def test_every_endpoint_refuses_requests_without_a_valid_token(jp_fetch):
    for path in ("version", "gpu", "runs", "runs/abc123", "runs/abc123/metrics"):
        for auth in ("", "token not-the-token"):
            with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
                await jp_fetch("mlnb", "api", *path.split("/"), headers={"Authorization": auth})
            assert caught.value.code == 403, (path, auth)


async def test_gpu_without_a_gpu_shows_host_ram(jp_fetch, monkeypatch):
    monkeypatch.setenv("MLNB_GPU_BACKEND", "host")
    reply = await get(jp_fetch, "gpu")
    assert reply["gpu_available"] is False
    (host,) = reply["devices"]
    assert host["kind"] == "host" and host["memory_total"] > 0
    assert "no GPU found" in reply["message"]


async def test_gpu_with_the_fake_backend(jp_fetch, monkeypatch):
    spec = [{"name": "Fake H100", "total": 80 * 2**30, "used": 3 * 2**30, "utilization": 45}]
    monkeypatch.setenv("MLNB_GPU_BACKEND", "fake")
    monkeypatch.setenv("MLNB_GPU_FAKE", json.dumps({"devices": spec}))
    reply = await get(jp_fetch, "gpu")
    assert reply["gpu_available"] is True
    (device,) = reply["devices"]
    assert device["name"] == "Fake H100" and device["kind"] == "gpu"
    assert device["memory_total"] == 80 * 2**30


async def test_empty_store_lists_no_runs_and_says_how_to_start(jp_fetch):
    reply = await get(jp_fetch, "runs")
    assert reply["runs"] == [] and reply["total"] == 0
    assert "%run_start" in reply["message"]


async def test_runs_list_one_run_and_metrics(jp_fetch, store_home, log_run):
    first = log_run(store_home, "baseline")
    log_run(store_home, "<img src=x onerror=alert(1)>", project="other")
    reply = await get(jp_fetch, "runs")
    assert reply["total"] == 2
    names = [r["name"] for r in reply["runs"]]
    assert names == ["<img src=x onerror=alert(1)>", "baseline"]  # newest first, as data
    only = await get(jp_fetch, "runs", project="demo")
    assert [r["name"] for r in only["runs"]] == ["baseline"]
    assert only["runs"][0]["summary"]["loss"] == pytest.approx(0.2)
    detail = await get(jp_fetch, "runs", first.id)
    assert detail["config"] == {"lr": 0.1} and detail["status"] == "finished"
    metrics = await get(jp_fetch, "runs", first.id, "metrics")
    series = {m["name"]: m for m in metrics["metrics"]}
    assert series["loss"]["steps"] == [0, 1, 2, 3, 4]
    assert series["weird"]["values"] == ["nan"]


async def test_a_live_run_is_listed_as_running(jp_fetch, store_home, log_run):
    run = log_run(store_home, "live", finish=False)
    try:
        run.flush()
        reply = await get(jp_fetch, "runs")
        assert reply["runs"][0]["status"] == "running"
    finally:
        run.finish()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("..%2F..%2Fetc%2Fpasswd", 400),
        ("%2Fetc%2Fpasswd", 400),
        ("abc%24", 400),
        ("..", 400),
        ("deadbeef0000", 404),
    ],
)
async def test_bad_and_unknown_run_ids(jp_fetch, raw, code):
    for suffix in ((), ("metrics",)):
        with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
            await jp_fetch("mlnb", "api", "runs", raw, *suffix, method="GET")
        assert caught.value.code == code
        body = json.loads(caught.value.response.body.decode())
        assert body["message"].endswith(".")


async def test_id_prefixes_and_names_are_not_looked_up_over_the_api(jp_fetch, store_home, log_run):
    run = log_run(store_home, "named")
    for ref in (run.id[:6], "named"):
        with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
            await jp_fetch("mlnb", "api", "runs", ref, method="GET")
        assert caught.value.code == 404


async def test_a_corrupt_store_is_a_message_not_a_500(jp_fetch, store_home):
    store_home.mkdir(parents=True, exist_ok=True)
    (store_home / "runs.db").write_bytes(b"this is not a database" * 100)
    reply = await get(jp_fetch, "runs")
    assert reply["runs"] == [] and reply["message"]
    assert (store_home / "runs.db").read_bytes().startswith(b"this is not")  # untouched


async def _error(jp_fetch, *path, **params):
    with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
        await jp_fetch("mlnb", "api", *path, params=params or None, method="GET")
    return caught.value.code, json.loads(caught.value.response.body.decode())["message"]


async def test_list_parameters_are_checked_not_bent(jp_fetch, store_home, log_run):
    log_run(store_home, "one")
    statuses = "running, finished, failed, killed, crashed, pruned"
    assert await _error(jp_fetch, "runs", status="bogus") == (
        400,
        f"status must be one of {statuses}, got 'bogus'.",
    )
    for bad in ("0", "-3", "5001", "ten", "nan"):
        assert await _error(jp_fetch, "runs", limit=bad) == (
            400,
            f"limit must be a whole number from 1 to 5000, got {bad!r}.",
        )
    assert (await _error(jp_fetch, "runs", offset="-1"))[0] == 400
    reply = await get(jp_fetch, "runs", project="nothing-here")
    assert reply["runs"] == [] and reply["total"] == 0
    assert (
        reply["message"] == f"no runs with project 'nothing-here' among the 1 runs in {store_home}."
    )
    reply = await get(jp_fetch, "runs", status="failed")
    assert reply["message"] == f"no runs with status 'failed' among the 1 runs in {store_home}."
    assert "start one" not in reply["message"]


async def test_pages_come_newest_first_with_the_total(jp_fetch, store_home, log_run):
    for name in ("a", "b", "c"):
        log_run(store_home, name)
    first = await get(jp_fetch, "runs", limit="2")
    second = await get(jp_fetch, "runs", limit="2", offset="2")
    assert [r["name"] for r in first["runs"]] == ["c", "b"] and first["total"] == 3
    assert [r["name"] for r in second["runs"]] == ["a"] and second["total"] == 3


async def test_an_id_with_a_trailing_newline_is_a_bad_id(jp_fetch, store_home, log_run):
    run = log_run(store_home, "nl")
    for suffix in ((), ("metrics",)):
        code, message = await _error(jp_fetch, "runs", f"{run.id}\n", *suffix)  # sent as %0A
        assert code == 400 and message.startswith("not a run id")


async def test_one_run_has_its_artifacts_cell_log_and_metric_times(
    jp_fetch, store_home, log_run, jp_root_dir
):
    run = log_run(store_home, "detailed", finish=False)
    weights = jp_root_dir / "weights.txt"
    weights.write_text("w")
    run.log_artifact(weights, "model/weights.txt")
    run.finish()
    detail = await get(jp_fetch, "runs", run.id)
    (artifact,) = [a for a in detail["artifacts"] if a["name"] == "model/weights.txt"]
    assert artifact["size"] == 1
    assert artifact["kind"] == "file" and artifact["created"] > 0
    assert artifact["path"] is None  # stored under the run store, outside the server's root
    assert detail["cells"] == []  # logged from a script: no notebook cells
    metrics = await get(jp_fetch, "runs", run.id, "metrics")
    loss = next(m for m in metrics["metrics"] if m["name"] == "loss")
    assert len(loss["times"]) == len(loss["steps"]) == 5
    assert loss["times"] == sorted(loss["times"]) and loss["times"][0] >= detail["start_time"]
