"""The GPU magics: in a real ipykernel (the fake backend stands in for the missing GPU), what loading
them costs, and %unload_ext removing the tracking hooks and stopping panels."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.helpers import FAKE_SPEC

HEAVY = ("torch", "ipywidgets", "pandas", "matplotlib", "papermill")


def _texts(nb, cell_text):
    return [cell_text(cell).strip() for cell in nb.cells]


@pytest.mark.kernel
def test_free_releases_a_tensor_held_by_the_last_traceback(kernel, cell_text):
    nb = kernel(
        [
            "%load_ext mlnb",
            "import gc, weakref, torch\n"
            "def train_step():\n"
            "    activations = torch.ones(200_000_000, dtype=torch.uint8)  # 190 MiB\n"
            "    global ref\n"
            "    ref = weakref.ref(activations)\n"
            "    raise RuntimeError('CUDA out of memory. Tried to allocate 2.00 GiB')\n"
            "train_step()",
            "gc.collect(); print('alive:', ref() is not None)",
            "%gpu free",
            "print('alive:', ref() is not None)",
        ],
        allow_errors=True,
    )
    out = _texts(nb, cell_text)
    assert "RuntimeError: CUDA out of memory" in out[1]
    assert out[2].strip() == "alive: True"
    assert out[3].startswith("mlnb: dropped the last traceback (")
    assert "those references reached 190.7 MiB of tensors." in out[3]
    reclaimed = re.search(r"\(([\d.]+) MiB reclaimed\)", out[3])
    assert reclaimed and float(reclaimed.group(1)) > 150, out[3]
    assert out[4].strip() == "alive: False"


@pytest.fixture
def fake_env(monkeypatch):
    monkeypatch.setenv("MLNB_GPU_BACKEND", "fake")
    monkeypatch.setenv("MLNB_GPU_FAKE", json.dumps(FAKE_SPEC))


@pytest.mark.kernel
def test_oom_guard_retry_and_bad_inputs(kernel, fake_env, cell_text):
    nb = kernel(
        [
            "%load_ext mlnb",
            "bs = 256\nattempts = []",
            "%%oom_guard --retry-batch bs --min 4\n"
            "attempts.append(bs)\n"
            "if bs > 16:\n"
            "    raise RuntimeError(f'CUDA out of memory. Tried to allocate {bs} MiB')\n"
            "f'fitted {bs}'",
            "print(bs, attempts)",
            "%%oom_guard --retry-batch missing\nran = True",
            "bs = 'sixty-four'",
            "%%oom_guard --retry-batch bs\nran = True",
            "print('ran' in globals())",
            "n = 32\ncalls = []",
            "%%oom_guard --retry-batch n\ncalls.append(n)\nraise ValueError('bad label')",
            "print(n, calls)",
            "n = 8",
            "%%oom_guard --retry-batch n --min 16\ncalls.append(n)",
            "%%oom_guard\nfrom mlnb.gpu.backends.fake import fake_gpu\nkept = fake_gpu().allocate(2**32)\nx = fake_gpu().allocate(2**40)",
            "%%oom_guard --retry-batch n --min 2\nraise RuntimeError('CUDA out of memory.')",
            "print(n)",
        ],
        allow_errors=True,
    )
    out = _texts(nb, cell_text)
    assert [line for line in out[2].splitlines() if line] == [
        "mlnb: out of memory with bs=256; retrying with bs=128.",
        "mlnb: out of memory with bs=128; retrying with bs=64.",
        "mlnb: out of memory with bs=64; retrying with bs=32.",
        "mlnb: out of memory with bs=32; retrying with bs=16.",
        "mlnb: the cell fitted with bs=16 (tried 256, 128, 64, 32, 16).",
        "'fitted 16'",
    ]
    assert out[3].strip() == "16 [256, 128, 64, 32, 16]"
    assert out[4] == (
        "UsageError: --retry-batch missing: there is no variable 'missing' — set it (e.g. `missing = 64`) before the cell runs."
    )
    assert (
        out[6]
        == "UsageError: --retry-batch bs: bs must be a positive whole number, got 'sixty-four' (str)."
    )
    assert out[7].strip() == "False"  # refused before running the cell
    assert "ValueError: bad label" in out[9] and "mlnb" not in out[9]
    assert out[10].strip() == "32 [32]"  # a non-OOM error is not retried
    assert out[12] == "UsageError: --retry-batch n: n is 8, already below --min 16."
    report = out[13]
    assert report.startswith("mlnb: out of memory (CUDA); it tried to allocate 1024.00 GiB.")
    assert "now: cuda:0 11.0 GiB free, 4.0 GiB allocated" in report
    assert "top holders: kept 4.0 GiB." in report
    assert (
        "UsageError: out of memory (CUDA) — the traceback was released; see the report above."
        in report
    )
    assert "batch sizes tried: 8, 4, 2." in out[14]
    assert (
        "UsageError: out of memory even at batch size 2 (tried 8, 4, 2). n is back to 8; see the report above."
        in out[14]
    )
    assert "retrying with n=2." in out[14] and "with n=2; retrying" not in out[14]
    assert out[15].strip() == "8"


@pytest.mark.kernel
def test_status_tracking_panel_and_who(kernel, fake_env, cell_text):
    nb = kernel(
        [
            "%load_ext mlnb",
            "%gpu",
            "%gpu_track on",
            "from mlnb.gpu.backends.fake import fake_gpu\nblock = fake_gpu().allocate(2**29)",
            "%gpu_track off",
            "%gpu_track sideways",
            "%gpu who",
            "%gpu_panel --interval 0.1",
            "import threading, time\ntime.sleep(0.5)\n"
            "print([t.name for t in threading.enumerate() if t.name == 'mlnb-gpu-panel'])",
            "%gpu_panel --stop",
            "print([t.name for t in threading.enumerate() if t.name == 'mlnb-gpu-panel'])",
            "%gpu_panel --interval 0",
        ],
        allow_errors=True,
    )
    out = _texts(nb, cell_text)
    assert "fake:0  Fake H100  1.0 GiB" in out[1]
    assert out[2].splitlines()[0].startswith("mlnb: cell tracking is on")
    assert out[3].startswith("mlnb: GPU +512.0 MiB (peak +512.0 MiB, 512.0 MiB allocated) | RAM ")
    assert out[4].startswith("mlnb: cell tracking is off.")
    assert out[5] == (
        "UsageError: argument state: invalid choice: 'sideways' (choose from 'on', 'off'). Usage: %gpu_track [{on,off}]"
    )
    assert "block     FakeBlock  512.0 MiB" in out[6]
    widget_outputs = [
        o
        for o in nb.cells[7].outputs
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widget_outputs
    assert out[8].strip() == "['mlnb-gpu-panel']"
    assert out[9].strip() == "mlnb: stopped 1 panel(s)."
    assert out[10].strip() == "[]"
    assert (
        out[11]
        == "UsageError: panel interval must be a number of seconds from 0.05 to 3600, got 0.0."
    )


@pytest.mark.kernel
def test_no_gpu_says_so_in_one_line(kernel, monkeypatch, cell_text):
    from mlnb.gpu.backends import BackendUnavailable
    from mlnb.gpu.backends.nvml import NvmlBackend

    try:
        NvmlBackend()
    except BackendUnavailable:
        pass
    else:
        pytest.skip("this machine has a working NVIDIA driver")
    monkeypatch.setenv("MLNB_GPU_BACKEND", "auto")
    nb = kernel(["%load_ext mlnb", "%gpu", "%gpu memory"], allow_errors=True)
    out = _texts(nb, cell_text)
    assert out[1].startswith("mlnb: no GPU found (NVML is off: ")
    assert out[1].splitlines()[0].endswith("; showing host RAM instead.")
    assert "host    host RAM" in out[1]
    assert out[2].startswith("mlnb: no GPU allocator in use")


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
