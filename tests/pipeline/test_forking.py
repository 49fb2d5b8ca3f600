"""The parent's side of a zygote: which commands it can stand in for, and forked processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from mlnb.exceptions import KernelStartError
from mlnb.pipeline.forking import ForkedProcess, Zygote, forkable, launcher_argv

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux")


def test_only_this_interpreters_ipykernel_launcher_is_forked():
    assert forkable([sys.executable, "-m", "ipykernel_launcher", "-f", "c.json"])
    assert not forkable(["/usr/bin/python3-other", "-m", "ipykernel_launcher", "-f", "c.json"])
    assert not forkable([sys.executable, "-m", "some_other_kernel", "-f", "c.json"])
    assert not forkable(["R", "--slave"])
    argv = launcher_argv([sys.executable, "-m", "ipykernel_launcher", "-f", "c.json"])
    assert argv[0].endswith("ipykernel_launcher.py") and argv[1:] == ["-f", "c.json"]


def test_a_forked_process_is_watched_signalled_and_seen_gone():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    process = ForkedProcess(child.pid)
    assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    child.wait(timeout=10)  # reaped here, as the zygote's OS reaps its children
    assert process.wait(timeout=5) == 0 and process.poll() == 0
    process.kill()  # a gone process is no error


def test_a_zygote_that_cannot_start_says_so(tmp_path):
    broken = tmp_path / "site" / "mlnb"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('a broken mlnb')\n")
    env = {**os.environ, "PYTHONPATH": str(broken.parent)}
    zygote = Zygote(str(tmp_path), env, [], timeout=120)
    with pytest.raises(KernelStartError, match="the kernel zygote exited"):
        zygote.wait_ready()
    assert zygote.process.poll() is not None
