"""mlnb.pipeline.run in real kernels: records, seeds, failures, timeouts, crashes, Ctrl-C, a strict
data check failing its step; every run lands in mlnb.runs' store (config, summary, provenance)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from mlnb.cli import main
from mlnb.exceptions import (
    InvalidArgumentError,
    RunCrashedError,
    RunFailedError,
    RunKilledError,
)
from mlnb.pipeline.record import read
from mlnb.pipeline.run import run, summary_of
from mlnb.pipeline.section import section_of
from mlnb.runs.session import get_run
from mlnb.runs.store import Store
from tests.helpers import START_TIMEOUT

GATE_SETUP = """
import numpy as np, pandas as pd, mlnb
rng = np.random.default_rng(0)
train = pd.DataFrame({"x": rng.normal(0, 1, 2000), "city": rng.choice(["a", "b"], 2000)})
serving = train.assign(x=train["x"] + shift)
"""


TRAIN = [
    "import random, mlnb\nmlnb.record('score', lr * epochs)\nmlnb.record('draw', random.random())",
    "import numpy as np\nmlnb.record('np_draw', float(np.random.rand()))",
]


def _metadata(path):
    return _load(path)["metadata"]


def _load(path):
    import nbformat

    return nbformat.read(str(path), as_version=4)


@pytest.mark.kernel
def test_run_injects_params_pins_the_seed_and_records_everything(
    notebook, tmp_path, _run_store_in_tmp
):
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
        and section_of(first).params == {"lr": 1}  # papermill's typing: an int stays an int
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
    snapshot = section_of(stored).snapshot
    assert stored.status == "finished" and os.path.exists(snapshot)
    # the copy is kept in the run store's folder by its hash; nothing is left beside the output
    assert snapshot == str(
        _run_store_in_tmp / "notebooks" / f"{section_of(stored).notebook_sha256}.ipynb"
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.ipynb", "b.ipynb"]
    # the seed is pinned without a cell: execution counts start at 1, as with papermill
    counts = [c.get("execution_count") for c in _load(section_of(first).output)["cells"]]
    assert counts == [1, 2, 3, 4]


@pytest.mark.kernel
def test_failing_cell_keeps_output_marks_the_cell_and_records_failed(notebook, tmp_path):
    path = notebook(
        "fail.ipynb", ["import mlnb\nmlnb.record('before', 1)", "1 / 0", "print('never')"]
    )
    out = tmp_path / "fail-out.ipynb"
    with pytest.raises(RunFailedError) as info:
        run(path, output=out, seed=1, start_timeout=START_TIMEOUT)
    record = info.value.record
    assert str(info.value) == (
        f"{path} failed in cell 3 (In [3]): ZeroDivisionError: division by zero — the output notebook "
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


@pytest.mark.kernel
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
    pid = int(nb["cells"][1]["outputs"][0]["text"].split()[1])
    printed = "".join(o.get("text", "") for o in nb["cells"][2]["outputs"])
    assert "0\n" in printed  # the cell's output so far was saved
    # the kernel was interrupted before it was stopped: the cell says where it stopped
    assert [o["ename"] for o in nb["cells"][2]["outputs"] if o["output_type"] == "error"] == [
        "KeyboardInterrupt"
    ]
    assert nb["metadata"]["mlnb"]["run"]["status"] == "killed"
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.mark.kernel
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


@pytest.mark.kernel
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
                text = "".join(o.get("text", "") for o in cells[1].get("outputs", []))
                pid = int(text.split()[1]) if text.startswith("pid") else None
            except Exception:  # a notebook caught half-written: try again
                pass
    assert pid is not None, "the kernel never reported its pid"
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "mlnb: interrupted; run" in err and "is recorded as killed" in err
    assert "Task exception was never retrieved" not in err and "Traceback" not in err
    run_meta = _metadata(out)["mlnb"]["run"]
    assert run_meta["status"] == "killed"
    assert get_run(run_meta["id"]).status == "killed"
    time.sleep(1)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.mark.kernel
def test_strict_drift_fails_the_step_and_stops_before_training(notebook, tmp_path):
    path = notebook(
        "gate.ipynb",
        [
            "%load_ext mlnb",
            GATE_SETUP,
            "%drift train serving --strict --no-widget",
            "mlnb.record('trained', True)",
        ],
        parameters="shift = 0.0",
    )
    clean = run(path, {"shift": 0.0}, tmp_path / "clean.ipynb", seed=0, start_timeout=START_TIMEOUT)
    assert clean.status == "finished" and section_of(clean).values == {"trained": True}
    shifted = run(
        path,
        {"shift": 1.0},
        tmp_path / "shifted.ipynb",
        seed=0,
        start_timeout=START_TIMEOUT,
        raise_on_failure=False,
    )
    assert shifted.status == "failed" and section_of(shifted).values == {}
    assert "strict data check failed: drift: 1 of 2 columns drift (x)" in shifted.error
    assert section_of(shifted).cell_index == 3  # the %drift cell, after the injected parameters


def test_summary_keeps_numbers_and_short_text_and_describes_the_rest():
    values = {"acc": 0.9, "n": 3, "ok": True, "note": "fine", "bad": float("nan"), "arr": [1, 2]}
    assert summary_of(values) == {
        "acc": 0.9,
        "n": 3,
        "ok": True,
        "note": "fine",
        "bad": "nan",
        "arr": "<list>",
    }


@pytest.mark.kernel
def test_a_run_is_stored_with_config_summary_provenance_and_its_notebook(
    notebook, tmp_path, capsys
):
    path = notebook(
        "train.ipynb",
        ["import mlnb\nmlnb.record('acc', lr * 2)\nmlnb.record('note', 'done')"],
        parameters="lr = 0.1",
    )
    record = run(
        path, {"lr": 0.25}, tmp_path / "out" / "t.ipynb", seed=5, start_timeout=START_TIMEOUT
    )
    with Store(readonly=True) as store:
        stored = store.get_run(record.id)
        artifacts = store.artifacts(record.id)
    assert (stored.name, stored.project, stored.status) == ("train", "pipeline", "finished")
    assert stored.config == {"lr": 0.25} and stored.summary == {"acc": 0.5, "note": "done"}
    assert stored.provenance["seed"]["seed"] == 5 and "pipeline" in stored.tags
    assert stored.provenance["pipeline"]["snapshot"] == section_of(record).snapshot
    assert stored == record  # what run() returns is the stored record
    assert stored.ended is not None and stored.ended >= stored.started
    assert [(a.kind, a.name) for a in artifacts] == [("notebook", "t.ipynb")]
    # the lab's Runs panel opens the executed notebook, the input when there is none
    from mlnb.server.data import list_runs

    listed = list_runs(limit=10, root=tmp_path)["runs"]
    assert [(r["id"], r["output_path"], r["notebook_path"]) for r in listed] == [
        (record.id, "out/t.ipynb", "train.ipynb")
    ]
    # the CLI of mlnb.runs shows it
    assert main(["runs", "list"]) == 0
    assert record.id in capsys.readouterr().out


@pytest.mark.kernel
def test_a_failed_run_is_stored_failed_with_the_error(notebook, tmp_path):
    path = notebook("bad.ipynb", ["raise ValueError('nope')"])
    record = run(
        path, output=tmp_path / "b.ipynb", raise_on_failure=False, start_timeout=START_TIMEOUT
    )
    with Store(readonly=True) as store:
        stored = store.get_run(record.id)
    assert stored.status == "failed" and "ValueError: nope" in stored.error


@pytest.mark.kernel
def test_execute_notebook_mirrors_papermill_and_still_records(notebook, tmp_path, monkeypatch):
    """`mlnb.pipeline.run.execute_notebook` takes papermill's keywords, returns the executed
    notebook and raises papermill's PapermillExecutionError; the run is recorded all the same."""
    from papermill.exceptions import PapermillExecutionError

    from mlnb.pipeline.run import execute_notebook

    monkeypatch.chdir(tmp_path)  # cwd=None is the current folder, as in papermill
    path = notebook("e.ipynb", ["import os\nprint(os.getcwd())\nprint(a * 2)"], parameters="a = 1")
    nb = execute_notebook(
        str(path), "e-out.ipynb", parameters={"a": 21}, kernel_name="python3", progress_bar=False,
        report_mode=True, execution_timeout=60, seed=3,
    )  # fmt: skip
    assert nb.cells[2].outputs[0].text == f"{tmp_path}\n42\n"
    run_meta = nb.metadata.mlnb.run
    assert (
        get_run(run_meta["id"]).status == "finished" and run_meta["provenance"]["seed"]["seed"] == 3
    )
    assert nb.cells[0].metadata.jupyter.source_hidden is True
    bad = notebook("bad.ipynb", ["raise ValueError('nope')"])
    with pytest.raises(PapermillExecutionError, match="nope"):
        execute_notebook(str(bad), "bad-out.ipynb", progress_bar=False)
    # a NotebookNode in, as papermill takes it; the store keeps its content by hash
    import nbformat

    node = nbformat.read(str(path), as_version=4)
    again = execute_notebook(node, "node-out.ipynb", parameters={"a": 5}, progress_bar=False)
    assert again.cells[2].outputs[0].text.endswith("10\n")
    stored = section_of(get_run(again.metadata.mlnb.run["id"]))
    assert nbformat.reads(Path(stored.snapshot).read_text(), as_version=4).cells[1].source == (
        node.cells[1].source
    )
    # papermill fills parameters into the output path: the run records the path it wrote
    templated = execute_notebook(
        str(path), "out-{a}.ipynb", parameters={"a": 7}, progress_bar=False
    )
    assert section_of(get_run(templated.metadata.mlnb.run["id"])).output.endswith("out-7.ipynb")
    assert (tmp_path / "out-7.ipynb").exists()
    with pytest.raises(InvalidArgumentError, match=r"placeholder .* \(missing parameter 'zz'\)"):
        execute_notebook(str(path), "out-{zz}.ipynb", progress_bar=False)
    # an unknown keyword is refused before any kernel starts
    with pytest.raises(InvalidArgumentError, match="unknown keyword 'bogus'"):
        execute_notebook(str(path), "never.ipynb", bogus=1)
    assert not (tmp_path / "never.ipynb").exists()
