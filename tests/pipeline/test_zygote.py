"""The zygote process: what it loads, what makes forking unsafe, the protocol end to end."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from mlnb.pipeline import zygote
from mlnb.pipeline.forking import ForkedProcess, Zygote

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux")


def test_modules_that_print_warn_or_fail_are_unfit(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "mlnb_probe_quiet.py").write_text("VALUE = 1\n")
    (site / "mlnb_probe_loud.py").write_text("print('hello')\n")
    (site / "mlnb_probe_warns.py").write_text("import warnings\nwarnings.warn('w')\n")
    (site / "mlnb_probe_fails.py").write_text("raise ImportError('no')\n")
    monkeypatch.syspath_prepend(str(site))
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")  # the modules are installed, not the notebook's own
    names = ["mlnb_probe_quiet", "mlnb_probe_loud", "mlnb_probe_warns", "mlnb_probe_fails"]
    try:
        unfit = zygote.load([*names, "not_installed_anywhere"])
        assert unfit == names[1:]
        assert "mlnb_probe_quiet" in sys.modules
    finally:
        for name in names:
            sys.modules.pop(name, None)


def test_modules_in_the_working_folder_are_left_to_the_kernel(tmp_path, monkeypatch):
    (tmp_path / "mlnb_probe_local.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert not zygote.outside_folder("mlnb_probe_local")
    assert zygote.load(["mlnb_probe_local"]) == [] and "mlnb_probe_local" not in sys.modules
    assert zygote.outside_folder("json")


def test_a_python_thread_makes_forking_unsafe():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="probe-thread", daemon=True)
    thread.start()
    try:
        reason = zygote.unsafe_reason()
    finally:
        stop.set()
        thread.join()
    assert reason is not None and "probe-thread" in reason


def test_a_zygote_forks_children_that_run_ipykernel_and_are_reaped(tmp_path):
    parent = Zygote(str(tmp_path), dict(os.environ), ["json"], timeout=120)
    try:
        parent.wait_ready()
        assert parent.unsafe is None and parent.unfit == []
        pid = parent.fork(["ipykernel_launcher", "--version"], dict(os.environ), str(tmp_path))
        assert pid not in (parent.pid, os.getpid())
        # ipykernel's entry point printed its version and exited; the OS reaped it
        assert ForkedProcess(pid).wait(timeout=60) == 0
    finally:
        parent.close()
    assert parent.process.returncode == 0  # end of input ends the zygote
