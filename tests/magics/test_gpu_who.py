"""``%gpu`` in a real kernel separates this kernel's GPU memory from other kernels' and processes'.

The fake GPU's spec is a file the kernel itself writes (``MLNB_GPU_FAKE=@path``), listing
its own pid, a worker it started, and a process it does not own (started by the test).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import GIB


@pytest.mark.kernel
def test_gpu_shows_this_kernel_apart_from_other_processes(kernel, cell_text, tmp_path, monkeypatch):
    spec = tmp_path / "fake.json"
    spec.write_text(json.dumps({"devices": [{"name": "Fake L4", "total": 24 * GIB}]}))
    monkeypatch.setenv("MLNB_GPU_BACKEND", "fake")
    monkeypatch.setenv("MLNB_GPU_FAKE", f"@{spec}")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        nb = kernel(
            [
                "%load_ext mlnb",
                "import json, os, subprocess, sys\n"
                "worker = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
                "procs = [{'pid': os.getpid(), 'used': 2**30}, {'pid': worker.pid, 'used': 2**29},\n"
                f"         {{'pid': {stranger.pid}, 'used': 3 * 2**30}}]\n"
                f"spec = {{'devices': [{{'name': 'Fake L4', 'total': 24 * 2**30, 'processes': procs}}]}}\n"
                f"open({str(spec)!r}, 'w').write(json.dumps(spec))",
                "%gpu",
                "worker.kill(); worker.wait()",
            ]
        )
    finally:
        stranger.kill()
        stranger.wait()
    out = cell_text(nb.cells[2])
    assert "fake:0  Fake L4" in out, out
    rows = [line for line in out.splitlines() if line.startswith("0: Fake L4")]
    assert "this kernel" in rows[0] and "1.5 GiB" in rows[0]  # the kernel and its worker, first
    assert "another process (python" in rows[1] and "3.0 GiB" in rows[1]
    assert len(rows) == 2
