"""Loading stays light; %unload_ext removes the tracking hooks and stops panels."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "ipywidgets", "pandas", "matplotlib", "papermill")


def test_gpu_modules_and_magics_import_nothing_heavy():
    code = (
        "import mlnb.gpu, mlnb.magics.gpu, json, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'mlnb')\n"
        "assert 'gpu' in ip.magics_manager.magics['line']\n"
        "ip.run_line_magic('gpu', 'status')\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_unload_removes_hooks_and_stops_panels(shell, monkeypatch):
    from mlnb.gpu import backends
    from mlnb.gpu.panel import THREAD_NAME
    from mlnb.magics import loaded_magics

    monkeypatch.setenv("MLNB_GPU_BACKEND", "fake")
    backends.reset()
    before = {e: len(shell.events.callbacks[e]) for e in ("pre_run_cell", "post_run_cell")}
    shell.run_line_magic("gpu_track", "on")
    shell.run_line_magic("gpu_panel", "--interval 0.05")
    assert {e: len(shell.events.callbacks[e]) for e in before} == {
        e: n + 1 for e, n in before.items()
    }
    (gpu_magics,) = [m for m in loaded_magics(shell) if type(m).__name__ == "GpuMagics"]
    panel = gpu_magics.panels[0]
    shell.run_line_magic("unload_ext", "mlnb")
    # every hook mlnb registered (tracking here, other capabilities' too) is gone
    assert not [
        cb
        for e in before
        for cb in shell.events.callbacks[e]
        if hasattr(cb, "__wrapped_callback__")
    ]
    assert not panel.running
    import threading

    assert [t for t in threading.enumerate() if t.name == THREAD_NAME] == []
    shell.run_line_magic("load_ext", "mlnb")  # the fixture unloads it again
    backends.reset()


def test_top_level_lazy_names():
    import mlnb
    import mlnb.gpu

    assert mlnb.find_batch_size is mlnb.gpu.find_batch_size
    assert mlnb.oom_guard is mlnb.gpu.oom_guard
