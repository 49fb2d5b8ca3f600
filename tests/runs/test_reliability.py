"""Reliability with real processes: many writers at once, and a kernel killed with SIGKILL.

The figures (wall times) are printed; run with ``-s`` to see them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from mlnb.runs import Store
from tests.helpers import PYTHON

WRITER = """
import sys, mlnb
run = mlnb.start(f"writer-{sys.argv[1]}", project="stress", system_interval=None)
for step in range(10_000):
    run.log({"loss": step * 0.5}, step=step)
run.finish()
print("done")
"""


def test_eight_processes_write_80000_points_at_once(home: Path, child_env) -> None:
    started = time.perf_counter()
    writers = [
        subprocess.Popen(
            [PYTHON, "-c", WRITER, str(i)],
            env=child_env(MLNB_HOME=str(home)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    outputs = [w.communicate(timeout=240) for w in writers]
    elapsed = time.perf_counter() - started
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
        assert "locked" not in err.lower() and out.strip() == "done"
    with Store(home, readonly=True) as store:
        records = store.list_runs(project="stress")
        assert len(records) == 8 and {r.status for r in records} == {"finished"}
        assert store.count_metrics() == 80_000
        for record in records:
            steps = [r.step for r in store.metrics(record.id)]
            assert steps == list(range(10_000))
    print(
        f"\n8 processes x 10,000 points: 80,000 stored in {elapsed:.2f} s wall (process start included)"
    )


KERNEL_CODE = """
import os, time, mlnb
run = mlnb.start("doomed", system_interval=None)
print(run.id, os.getpid(), flush=True)
step = 0
while True:
    run.log({"t": time.time()}, step=step)
    step += 1
    time.sleep(0.001)
"""


def test_kernel_killed_with_sigkill_reads_as_crashed_with_its_points(home: Path, child_env) -> None:
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=child_env(MLNB_HOME=str(home)), cwd=str(home.parent))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        client.execute(KERNEL_CODE)
        run_id, pid = None, None
        deadline = time.monotonic() + 60
        while run_id is None and time.monotonic() < deadline:
            message = client.get_iopub_msg(timeout=60)
            if message["msg_type"] == "stream":
                run_id, pid = message["content"]["text"].split()
        assert run_id is not None
        time.sleep(3.0)
        killed_at = time.time()
        os.kill(int(pid), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while manager.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    with Store(home) as store:
        record = store.get_run(run_id)
        rows = store.metrics(run_id, ["t"])
    assert record.status == "crashed"
    assert f"(pid {pid} on" in record.error
    steps = [r.step for r in rows]
    assert steps == list(range(len(steps)))  # no gaps: a prefix of what was logged
    # steps were logged in order with their wall time as value: the stored points are a
    # gap-free prefix, so if the last one is at most 1 s old, every older point is there
    last_stored = rows[-1].value
    assert last_stored >= killed_at - 1.0
    print(
        f"\nSIGKILL: {len(rows)} points stored; last stored point logged {killed_at - last_stored:.2f} s before the kill"
    )
