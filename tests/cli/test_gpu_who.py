"""``mlnb gpu who --all`` in a terminal: a real ``jupyter server`` with two notebook kernels, found
through its runtime file and token; the fake GPU reports the kernels' real pids.

Bad inputs: no server running, a server whose token is wrong, one that does not answer,
NVML missing, and a pid that exits between the driver's read and psutil's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psutil
import pytest

from mlnb.gpu import attribution
from mlnb.gpu.backends.records import DeviceStatus, ProcessUsage
from tests.helpers import GIB, child_env, sleeper
from tests.jupyter_process import jupyter, kernel_pid

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def mlnb_cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "mlnb.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("who-root")
    runtime = tmp_path_factory.mktemp("who-runtime")
    spec = root / "fake-gpu.json"
    spec.write_text(json.dumps({"devices": [{"name": "Fake A100", "total": 40 * GIB}]}))
    env = child_env(
        JUPYTER_RUNTIME_DIR=str(runtime),
        JUPYTER_CONFIG_DIR=str(root / ".jupyter-config"),
        MLNB_GPU_BACKEND="fake",
        MLNB_GPU_FAKE=f"@{spec}",
    )
    with jupyter("jupyter_server", root, env) as running:
        kernels = {path: running.start_session(path) for path in ("one.ipynb", "two/two.ipynb")}
        pids = {path: kernel_pid(running.process.pid, kid) for path, kid in kernels.items()}
        spec.write_text(
            json.dumps(
                {
                    "devices": [
                        {
                            "name": "Fake A100",
                            "total": 40 * GIB,
                            "processes": [
                                {"pid": pids["one.ipynb"], "used": GIB, "while_alive": True},
                                {
                                    "pid": pids["two/two.ipynb"],
                                    "used": 2 * GIB,
                                    "while_alive": True,
                                },
                            ],
                        }
                    ]
                }
            )
        )
        yield {"server": running, "env": env, "runtime": runtime, "pids": pids, "kernels": kernels}


def test_who_all_names_both_notebooks_with_their_memory(server):
    code, out = mlnb_cli("gpu", "who", "--all", "--json", env=server["env"])
    assert code == 0, out
    payload = json.loads(out)
    assert payload["notes"] == [] and payload["pids_visible"] is True
    (device,) = payload["devices"]
    bars = {bar["path"]: bar for bar in device["bars"]}
    assert bars["one.ipynb"]["used"] == GIB and bars["two/two.ipynb"]["used"] == 2 * GIB
    assert bars["one.ipynb"]["pids"] == [server["pids"]["one.ipynb"]]
    assert bars["two/two.ipynb"]["kernel_id"] == server["kernels"]["two/two.ipynb"]
    assert bars["one.ipynb"]["idle_seconds"] is not None  # from the server's last_activity

    code, flagged = mlnb_cli("gpu", "who", "--all", "--idle-after", "0", env=server["env"])
    assert code == 0 and flagged.count("(idle, holding memory)") == 2

    code, table = mlnb_cli("gpu", "who", "--all", env=server["env"])
    assert code == 0
    lines = table.splitlines()
    assert lines[0].split() == ["device", "who", "memory", "pids", "idle", "user"]
    assert "two/two.ipynb" in lines[2] and "2.0 GiB" in lines[2]  # largest first
    assert "one.ipynb" in lines[3] and "1.0 GiB" in lines[3]


def test_who_without_all_shows_kernels_by_id(server):
    code, out = mlnb_cli("gpu", "who", env=server["env"])
    assert code == 0
    assert f"kernel {server['kernels']['one.ipynb'][:8]}" in out
    assert "one.ipynb" not in out  # no server asked, no notebook names


def test_no_server_running_is_one_note(server, tmp_path):
    env = dict(server["env"], JUPYTER_RUNTIME_DIR=str(tmp_path))
    code, out = mlnb_cli("gpu", "who", "--all", env=env)
    assert code == 0 and "Traceback" not in out
    assert "no running Jupyter server found" in out
    assert f"kernel {server['kernels']['one.ipynb'][:8]}" in out  # still attributed by id


def _runtime_file(folder, info: dict) -> None:
    (folder / f"jpserver-{info['pid']}.json").write_text(json.dumps(info))


def test_wrong_token_and_unreachable_server_are_notes(server, tmp_path):
    running = server["server"]
    _runtime_file(
        tmp_path, {"url": running.base + "/", "token": "not-the-token", "pid": running.process.pid}
    )
    # a live pid whose runtime file points at a port nobody listens on
    from tests.jupyter_process import free_port

    _runtime_file(
        tmp_path, {"url": f"http://127.0.0.1:{free_port()}/", "token": "x", "pid": os.getpid()}
    )
    env = dict(server["env"], JUPYTER_RUNTIME_DIR=str(tmp_path))
    code, out = mlnb_cli("gpu", "who", "--all", env=env)
    assert code == 0 and "Traceback" not in out
    assert f"the Jupyter server at {running.base}/ refused its token (HTTP 403)" in out
    assert "could not be reached" in out


def test_stale_runtime_file_is_ignored(tmp_path):
    from mlnb.gpu.jupyter_servers import running_servers

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _runtime_file(tmp_path, {"url": "http://127.0.0.1:1/", "token": "t", "pid": dead.pid})
    (tmp_path / "jpserver-garbage.json").write_text("{not json")
    assert running_servers(tmp_path) == []


def test_nvml_missing_is_one_sentence(tmp_path):
    env = child_env(MLNB_GPU_BACKEND="nvml", JUPYTER_RUNTIME_DIR=str(tmp_path))
    code, out = mlnb_cli("gpu", "who", env=env)
    assert code == 0 and "Traceback" not in out
    if "NVML is off" not in out:
        pytest.skip("this machine has a working NVIDIA driver")
    assert out.startswith("mlnb: no GPU found (NVML is off:")


def test_a_pid_that_vanished_between_reads():
    """The driver listed it; by psutil's read it is gone: another process, no user, no crash."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with sleeper() as alive:
        device = DeviceStatus(
            0,
            "Fake",
            "fake",
            total=8 * GIB,
            processes=(
                ProcessUsage(alive.pid, "python", GIB),
                ProcessUsage(gone.pid, "python", GIB),
            ),
        )
        result = attribution.attribute([device], [])
    assert result.pids_visible is True
    bars = {bar.pids[0]: bar for bar in result.devices[0].bars}
    assert bars[gone.pid].kind == "process" and bars[gone.pid].user is None
    assert bars[alive.pid].user == psutil.Process().username()


def test_all_without_who_is_one_sentence(cli_err):
    code, err = cli_err(["gpu", "memory", "--all"])
    assert code == 2
    assert (
        err
        == "mlnb: --all goes with `mlnb gpu who` (every Jupyter server's notebooks), not `memory`."
    )
    code, err = cli_err(["gpu", "who", "--idle-after", "-5"])
    assert code == 2
    assert err == "mlnb: --idle-after must be a number of seconds, 0 or more, got -5.0."
