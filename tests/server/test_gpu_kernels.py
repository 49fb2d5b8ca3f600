"""``/mlnb/api/gpu/kernels``: real kernels of a real jupyter_server, the fake GPU reporting their pids.

The fake backend's spec lives in a file (``MLNB_GPU_FAKE=@spec.json``) written once the
kernels are up, listing their real pids (``while_alive``: dropped when the process exits,
as the driver does). A DataLoader-like child of one kernel counts towards its notebook;
a process the server does not own is "another process" with its user.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest
import tornado.httpclient

from tests.helpers import GIB, child_env, sleeper

pytestmark = pytest.mark.usefixtures("store_home")


@pytest.fixture
def fake_spec(tmp_path, monkeypatch):
    """``write(processes)``: the fake GPU's spec file, one 80 GiB device with these processes."""
    path = tmp_path / "fake-gpu.json"
    monkeypatch.setenv("MLNB_GPU_BACKEND", "fake")
    monkeypatch.setenv("MLNB_GPU_FAKE", f"@{path}")
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])  # kernels import this checkout

    def write(processes: list[dict]) -> None:
        device = {"name": "Fake H100", "total": 80 * GIB, "used": 0, "processes": processes}
        path.write_text(json.dumps({"devices": [device]}))
        os.utime(path, ns=(time.time_ns(), time.time_ns()))

    write([])
    return write


async def fetch(jp_fetch, *path, method="GET", body=None, params=None):
    kwargs = {"method": method, "params": params}
    if body is not None or method == "POST":
        kwargs["body"] = json.dumps(body or {})
    response = await jp_fetch("mlnb", "api", *path, **kwargs)
    return json.loads(response.body.decode())


async def start_session(jp_fetch, path: str) -> str:
    reply = await jp_fetch(
        "api",
        "sessions",
        method="POST",
        body=json.dumps(
            {"path": path, "name": path, "type": "notebook", "kernel": {"name": "python3"}}
        ),
    )
    return json.loads(reply.body.decode())["kernel"]["id"]


async def run_in(jp_serverapp, kernel_id: str, code: str) -> str:
    """Run ``code`` in the kernel; its printed text."""
    client = jp_serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    printed: list[str] = []

    def keep(message: dict) -> None:
        if message["header"]["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        if message["header"]["msg_type"] == "error":
            printed.append("\n".join(message["content"]["traceback"]))

    try:
        await client.wait_for_ready(timeout=120)
        await client.execute_interactive(code, timeout=120, output_hook=keep)
    finally:
        client.stop_channels()
    return "".join(printed)


def kernel_pid(jp_serverapp, kernel_id: str) -> int:
    return jp_serverapp.kernel_manager.get_kernel(kernel_id).provisioner.pid


def bars_by_label(reply: dict) -> dict[str, dict]:
    (device,) = reply["devices"]
    return {bar["label"]: bar for bar in device["bars"]}


@pytest.fixture
def stranger():
    """A process this server does not own."""
    with sleeper() as process:
        yield process


async def test_two_kernels_their_worker_and_another_process(
    jp_fetch, jp_serverapp, fake_spec, stranger
):
    first = await start_session(jp_fetch, "train_a.ipynb")
    second = await start_session(jp_fetch, "nested/train_b.ipynb")
    worker = int(
        await run_in(
            jp_serverapp,
            first,
            "import subprocess, sys\n"
            "w = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
            "print(w.pid)",
        )
    )
    pid_a, pid_b = kernel_pid(jp_serverapp, first), kernel_pid(jp_serverapp, second)
    fake_spec(
        [
            {"pid": pid_a, "used": GIB, "while_alive": True},
            {"pid": worker, "used": GIB // 2, "while_alive": True},
            {"pid": pid_b, "used": 2 * GIB, "while_alive": True},
            {"pid": stranger.pid, "used": 3 * GIB, "while_alive": True},
        ]
    )
    reply = await fetch(jp_fetch, "gpu", "kernels")
    assert reply["pids_visible"] is True and reply["notes"] == []
    bars = bars_by_label(reply)
    assert set(bars) == {"train_a.ipynb", "nested/train_b.ipynb", "another process"}
    assert bars["train_a.ipynb"]["used"] == GIB + GIB // 2
    assert sorted(bars["train_a.ipynb"]["pids"]) == sorted([pid_a, worker])
    assert bars["train_a.ipynb"]["kernel_id"] == first
    assert bars["nested/train_b.ipynb"]["used"] == 2 * GIB
    assert bars["nested/train_b.ipynb"]["idle_seconds"] is not None
    other = bars["another process"]
    assert other["pids"] == [stranger.pid] and other["user"] and other["kind"] == "process"
    # largest first
    assert [b["used"] for b in reply["devices"][0]["bars"]] == [3 * GIB, 2 * GIB, GIB + GIB // 2]

    shut = await fetch(jp_fetch, "gpu", "kernels", second, "shutdown", method="POST")
    assert shut["message"] == "shut down."
    after = bars_by_label(await fetch(jp_fetch, "gpu", "kernels"))
    assert "nested/train_b.ipynb" not in after and "train_a.ipynb" in after
    await run_in(jp_serverapp, first, "w.kill(); w.wait()")


async def test_free_and_interrupt_run_in_the_kernel(jp_fetch, jp_serverapp, fake_spec):
    kernel_id = await start_session(jp_fetch, "free_me.ipynb")
    await run_in(jp_serverapp, kernel_id, "%load_ext mlnb")
    freed = await fetch(jp_fetch, "gpu", "kernels", kernel_id, "free", method="POST")
    assert freed["message"].startswith("mlnb: dropped"), freed
    assert "gc collected" in freed["message"]
    interrupted = await fetch(jp_fetch, "gpu", "kernels", kernel_id, "interrupt", method="POST")
    assert interrupted["message"] == "interrupted."


async def test_idle_time_is_reported(jp_fetch, jp_serverapp, fake_spec):
    kernel_id = await start_session(jp_fetch, "idle.ipynb")
    await run_in(jp_serverapp, kernel_id, "x = 1")
    fake_spec([{"pid": kernel_pid(jp_serverapp, kernel_id), "used": GIB, "while_alive": True}])
    reply = await fetch(jp_fetch, "gpu", "kernels")
    bar = bars_by_label(reply)["idle.ipynb"]
    assert bar["idle_seconds"] >= 0
    # the default threshold (10 minutes) is not reached by a kernel started seconds ago
    assert bar["idle_holding"] is False
    flagged = bars_by_label(await fetch(jp_fetch, "gpu", "kernels", params={"idle_after": "0"}))
    assert flagged["idle.ipynb"]["idle_holding"] is True


async def test_pids_hidden_by_a_container_fall_back_to_the_kernels_reports(
    jp_fetch, jp_serverapp, fake_spec
):
    kernel_id = await start_session(jp_fetch, "in_container.ipynb")
    # the kernel's own fake GPU: 2 GiB allocated; mlnb loaded writes its self-report
    out = await run_in(
        jp_serverapp,
        kernel_id,
        "%load_ext mlnb\n"
        "from mlnb.gpu.backends.fake import fake_gpu\n"
        "block = fake_gpu().allocate(2 * 1024**3)\n"
        "print('ok')",
    )
    assert out.strip() == "ok", out
    await run_in(jp_serverapp, kernel_id, "pass")  # the report after a cell
    # the driver lists host pids nobody here has
    fake_spec([{"pid": 999_999_001, "used": 3 * GIB}, {"pid": 999_999_002, "used": GIB}])
    reply = await fetch(jp_fetch, "gpu", "kernels")
    assert reply["pids_visible"] is False
    assert any("pid namespace" in note for note in reply["notes"])
    bar = bars_by_label(reply)["in_container.ipynb"]
    assert bar["used"] == 2 * GIB and bar["source"] == "self-report"
    assert bar["pids"] == [kernel_pid(jp_serverapp, kernel_id)]


async def test_bad_requests_are_one_sentence(jp_fetch, fake_spec):
    for path, code, words in (
        (("gpu", "kernels", "no-such-kernel", "shutdown"), 404, "no kernel"),
        (("gpu", "kernels", "abc", "explode"), 400, "action must be one of"),
        (("gpu", "kernels", "a.b", "free"), 400, "not a kernel id"),
    ):
        with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
            await fetch(jp_fetch, *path, method="POST")
        assert caught.value.code == code
        assert words in json.loads(caught.value.response.body.decode())["message"]
    with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
        await fetch(jp_fetch, "gpu", "kernels", params={"idle_after": "soon"})
    assert caught.value.code == 400
    assert (
        "idle_after must be seconds" in json.loads(caught.value.response.body.decode())["message"]
    )
    for auth in ("", "token not-the-token"):
        with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
            await jp_fetch("mlnb", "api", "gpu", "kernels", headers={"Authorization": auth})
        assert caught.value.code == 403


async def test_listing_does_not_stall_the_server(jp_fetch, fake_spec, monkeypatch):
    """A slow driver read delays only the GPU request, not Jupyter's others."""
    from mlnb.server import gpukernels

    real = gpukernels.attribution_payload

    def slow(refs, idle_after):
        time.sleep(1.5)
        return real(refs, idle_after)

    monkeypatch.setattr(gpukernels, "attribution_payload", slow)
    listing = asyncio.ensure_future(fetch(jp_fetch, "gpu", "kernels"))
    await asyncio.sleep(0.1)
    await jp_fetch("api", "status")
    assert not listing.done()  # answered while the GPU read was still going
    assert (await listing)["devices"]
