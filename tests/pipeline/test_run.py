"""mlnb.pipeline.run in real kernels: records, seeds, failures, timeouts, crashes, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from mlnb.exceptions import RunCrashedError, RunFailedError, RunKilledError
from mlnb.pipeline.record import read
from mlnb.pipeline.run import run
from mlnb.pipeline.section import section_of
from mlnb.runs.session import get_run
from tests.helpers import START_TIMEOUT

pytestmark = pytest.mark.kernel

TRAIN = [
    "import random, mlnb\nmlnb.record('score', lr * epochs)\nmlnb.record('draw', random.random())",
    "import numpy as np\nmlnb.record('np_draw', float(np.random.rand()))",
]


def _metadata(path):
    return _load(path)["metadata"]


def _load(path):
    import nbformat

    return nbformat.read(str(path), as_version=4)


def test_run_injects_params_pins_the_seed_and_records_everything(notebook, tmp_path):
    path = notebook(
        "train.ipynb",
        TRAIN,
        parameters="lr = 0.1\nepochs = 2",
        kernelspec={"name": "other", "display_name": "Other", "language": "python"},
    )
    first = run(
        path,
        {"lr": 1},
        tmp_path / "out" / "a.ipynb",
        seed=7,
        kernel="python3",
        start_timeout=START_TIMEOUT,
    )
    second = run(
        path,
        {"lr": 1},
        tmp_path / "out" / "b.ipynb",
        seed=7,
        kernel="python3",
        start_timeout=START_TIMEOUT,
    )
    assert (
        first.status == "finished"
        and section_of(first).params == {"lr": 1.0}
        and section_of(first).seed == 7
    )
    assert section_of(first).values["score"] == 2.0
    import random

    import numpy as np

    random.seed(7)
    np.random.seed(7)
    assert section_of(first).values["draw"] == section_of(second).values["draw"] == random.random()
    assert (
        section_of(first).values["np_draw"]
        == section_of(second).values["np_draw"]
        == float(np.random.rand())
    )
    meta = _metadata(section_of(first).output)
    assert meta["kernelspec"]["name"] == "python3"  # --kernel also sets the kernelspec
    assert (
        meta["mlnb"]["run"]["status"] == "finished"
        and meta["mlnb"]["run"]["provenance"]["pipeline"]["values"]["score"] == 2.0
    )
    assert read(section_of(first).output) == section_of(first).values
    stored = get_run(first.id)
    assert stored.status == "finished" and os.path.exists(section_of(stored).snapshot)


def test_failing_cell_keeps_output_marks_the_cell_and_records_failed(notebook, tmp_path):
    path = notebook(
        "fail.ipynb", ["import mlnb\nmlnb.record('before', 1)", "1 / 0", "print('never')"]
    )
    out = tmp_path / "fail-out.ipynb"
    with pytest.raises(RunFailedError) as info:
        run(path, output=out, seed=1, start_timeout=START_TIMEOUT)
    record = info.value.record
    assert str(info.value) == (
        f"{path} failed in cell 3 (In [4]): ZeroDivisionError: division by zero — the output notebook "
        f"{out} (run {record.id}) has the failing cell marked."
    )
    assert (
        record.status == "failed"
        and section_of(record).cell_index == 2
        and section_of(record).values == {"before": 1}
    )
    nb = _load(out)
    marked = [c for c in nb["cells"] if "mlnb-error" in c["metadata"].get("tags", [])]
    assert len(marked) == 1 and marked[0]["source"] == "1 / 0"
    assert nb["metadata"]["mlnb"]["run"]["error"] == "ZeroDivisionError: division by zero"


def test_timeout_stops_the_kernel_and_keeps_partial_output(notebook, tmp_path):
    path = notebook(
        "slow.ipynb",
        [
            "import os\nprint('pid', os.getpid(), flush=True)",
            "import time\nfor i in range(600):\n    print(i, flush=True)\n    time.sleep(0.1)",
        ],
    )
    out = tmp_path / "slow-out.ipynb"
    started = time.monotonic()
    with pytest.raises(
        RunKilledError,
        match="stopped in cell 3: TimeoutError: stopped after the 8 s timeout; the kernel is stopped",
    ):
        run(path, output=out, seed=1, timeout=8, start_timeout=START_TIMEOUT)
    assert time.monotonic() - started < 40
    nb = _load(out)
    pid = int(nb["cells"][2]["outputs"][0]["text"].split()[1])
    printed = "".join(o.get("text", "") for o in nb["cells"][3]["outputs"])
    assert "0\n" in printed  # the cell's output so far was saved
    assert nb["metadata"]["mlnb"]["run"]["status"] == "killed"
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_dead_kernel_is_crashed_and_sys_exit_zero_is_success(notebook, tmp_path):
    crash = notebook(
        "crash.ipynb",
        ["print('a')", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "print('never')"],
    )
    with pytest.raises(RunCrashedError) as info:
        run(crash, output=tmp_path / "crash-out.ipynb", seed=1, start_timeout=START_TIMEOUT)
    assert info.value.record.status == "crashed" and section_of(info.value.record).cell_index == 2
    assert "the kernel running" in str(info.value) and "died in cell 3" in str(info.value)
    assert _metadata(tmp_path / "crash-out.ipynb")["mlnb"]["run"]["status"] == "crashed"
    done = notebook(
        "exit.ipynb",
        ["import mlnb; mlnb.record('v', 2)", "import sys; sys.exit(0)", "print('never')"],
    )
    record = run(done, output=tmp_path / "exit-out.ipynb", seed=1, start_timeout=START_TIMEOUT)
    assert record.status == "finished" and section_of(record).values == {"v": 2}


def test_ctrl_c_on_the_cli_kills_the_run_and_its_kernel(notebook, tmp_path):
    path = notebook(
        "loop.ipynb",
        [
            "import os\nprint('pid', os.getpid(), flush=True)",
            "import time\nwhile True:\n    time.sleep(0.1)",
        ],
    )
    out = tmp_path / "loop-out.ipynb"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlnb.cli",
            "run",
            str(path),
            str(out),
            "--seed",
            "1",
            "--start-timeout",
            str(START_TIMEOUT),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + START_TIMEOUT
    pid = None
    while time.monotonic() < deadline and pid is None:
        time.sleep(0.5)
        if out.exists():
            try:
                cells = _load(out)["cells"]
                text = "".join(o.get("text", "") for o in cells[2].get("outputs", []))
                pid = int(text.split()[1]) if text.startswith("pid") else None
            except Exception:  # a notebook caught half-written: try again
                pass
    assert pid is not None, "the kernel never reported its pid"
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "mlnb: interrupted; run" in err and "is recorded as killed" in err
    run_meta = _metadata(out)["mlnb"]["run"]
    assert run_meta["status"] == "killed"
    assert get_run(run_meta["id"]).status == "killed"
    time.sleep(1)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
