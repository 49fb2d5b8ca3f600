"""Writes 02_gpu_memory.ipynb (run: python example_notebooks/make_02_gpu_memory.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat

md = nbformat.v4.new_markdown_cell
code = nbformat.v4.new_code_cell


def failing(source: str) -> nbformat.NotebookNode:
    """A cell that is meant to fail (papermill carries on after it)."""
    cell = code(source)
    cell.metadata["tags"] = ["raises-exception"]
    return cell


cells = [
    md(
        "# GPU memory: who holds it, free it, survive out-of-memory\n\n"
        "The loop this replaces: `GPUtil.showUtilization()`, `torch.cuda.empty_cache()`, `del`, "
        "`torch.no_grad()` and guesswork after an OOM — where the failed cell's traceback keeps the "
        "tensors alive, so `empty_cache()` alone frees nothing.\n\n"
        "This notebook runs on any machine. **Without a GPU it says so** and shows the CPU "
        "fallbacks (host RAM, CPU tensors, the CPU allocator's real out-of-memory error); the last "
        "section switches to mlnb's *simulated* GPU to show the batch-size retry."
    ),
    code("%load_ext mlnb"),
    md(
        "## Devices and the allocator\n`%gpu` is one row per device — or one sentence and host RAM when there is none."
    ),
    code("%gpu"),
    code("%gpu memory"),
    md(
        "## Who holds memory\nA small model, its optimizer, and a classic mistake: "
        "keeping every loss tensor (each keeps its autograd graph alive)."
    ),
    code(
        "import torch\n"
        "torch.manual_seed(0)\n"
        "model = torch.nn.Sequential(torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10))\n"
        "optimizer = torch.optim.Adam(model.parameters())\n"
        "features = torch.randn(256, 512)\n"
        "losses = []\n"
        "for step in range(5):\n"
        "    loss = model(features).pow(2).mean()\n"
        "    optimizer.zero_grad(); loss.backward(); optimizer.step()\n"
        "    losses.append(model(features).sum())  # a graph-carrying tensor per step\n"
        "first_rows = features[:8]  # a view: shares the storage of `features`"
    ),
    code("%gpu who"),
    md(
        "## Per-cell tracking\nOne line after each cell: GPU and RAM delta and peak, wall time. The peak catches memory that is gone by the end of the cell."
    ),
    code("%gpu_track on"),
    code(
        "scratch = torch.ones(64, 1024, 1024)  # 256 MiB, gone at the end of the cell\ndel scratch"
    ),
    code("%gpu_track off"),
    md(
        "## After an out-of-memory error\n"
        "`train_step` builds 200 MB of activations and then asks the CPU allocator for a petabyte: "
        "a **real** `DefaultCPUAllocator: can't allocate memory` error. When a cell fails, IPython "
        "keeps its traceback in `sys.last_traceback`, and the traceback keeps `activations` alive. "
        "(This notebook records the traceback exactly as IPython does for a failed cell, so that it "
        "runs unattended — papermill stops at a cell with an error output.)"
    ),
    code(
        "import sys, weakref\n"
        "def train_step():\n"
        "    activations = torch.ones(50_000_000)  # 200 MB\n"
        "    global activations_ref\n"
        "    activations_ref = weakref.ref(activations)\n"
        "    return torch.empty(2**50, dtype=torch.uint8)  # the allocator refuses\n"
        "try:\n"
        "    train_step()\n"
        "except RuntimeError as exc:\n"
        "    print(str(exc)[:120])\n"
        "    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, exc.__traceback__  # as IPython does\n"
        "    del exc"
    ),
    code("print('activations still alive:', activations_ref() is not None)"),
    code("%gpu free"),
    code("print('activations still alive:', activations_ref() is not None)"),
    md(
        "## `%%oom_guard`\nThe same failure inside the guard: the traceback is released at once and a "
        "short report says what was asked, who holds memory and what to try (note the `.item()` advice "
        "for `losses`). Any other error passes through untouched."
    ),
    failing("%%oom_guard\ntrain_step()"),
    md(
        "## Simulated GPU: retry with a smaller batch\n"
        "There is no GPU here, so this section switches to mlnb's fake backend — a simulated 16 GiB "
        "device with a caching allocator that raises torch's own `CUDA out of memory` error when full."
    ),
    code(
        "import json, os\n"
        "os.environ['MLNB_GPU_BACKEND'] = 'fake'\n"
        "os.environ['MLNB_GPU_FAKE'] = json.dumps({'devices': [{'name': 'Simulated GPU', 'total': 16 * 2**30, "
        "'used': 2**30, 'utilization': 35}]})\n"
        "from mlnb.gpu.backends.fake import fake_gpu\n"
        "gpu = fake_gpu()\n"
        "weights = gpu.allocate(3 * 2**30)  # a 3 GiB model on the simulated device"
    ),
    code("%gpu"),
    code("bs = 512"),
    code(
        "%%oom_guard --retry-batch bs --min 8\n"
        "activations = gpu.allocate(bs * 96 * 2**20)  # 96 MiB a sample\n"
        "del activations\n"
        "bs"
    ),
    code(
        "from mlnb.gpu import find_batch_size\n"
        "fit = find_batch_size(lambda batch: gpu.allocate(batch * 96 * 2**20).nbytes, start=512)\n"
        "fit.batch_size, fit.tried"
    ),
    code("%gpu memory"),
    md(
        "The allocator keeps what it freed as cache (`reserved`); `%gpu free` gives it back to the driver."
    ),
    code("del fit\n%gpu free"),
    md(
        "## Live panel\nA memory bar and a utilisation sparkline per device, updated by a background thread while other cells run; the Stop button (or `%gpu_panel --stop`) ends the updates and leaves the last reading on screen."
    ),
    code("%gpu_panel --interval 0.5"),
    code("import time\ntime.sleep(2)  # other work: the panel above keeps updating meanwhile"),
    code("%gpu_panel --stop"),
]

notebook = nbformat.v4.new_notebook(cells=cells)
notebook.metadata["kernelspec"] = {
    "name": "python3",
    "display_name": "Python 3",
    "language": "python",
}
notebook.metadata["language_info"] = {"name": "python"}
target = Path(__file__).with_name("02_gpu_memory.ipynb")
nbformat.validate(notebook)
nbformat.write(notebook, target)
print(f"wrote {target}")
