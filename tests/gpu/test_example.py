"""example_notebooks/02_gpu_memory.ipynb runs top to bottom in a real kernel (papermill)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "example_notebooks" / "02_gpu_memory.ipynb"

pytestmark = pytest.mark.kernel


def test_gpu_memory_notebook_runs(tmp_path, monkeypatch, cell_text):
    papermill = pytest.importorskip("papermill")
    monkeypatch.delenv("MLNB_GPU_BACKEND", raising=False)
    monkeypatch.delenv("MLNB_GPU_FAKE", raising=False)
    nbformat.validate(nbformat.read(NOTEBOOK, as_version=4))
    out = tmp_path / "02_gpu_memory.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), kernel_name="python3", cwd=str(NOTEBOOK.parent), progress_bar=False
    )
    cells = [c for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"]
    outputs = [(c.source, cell_text(c)) for c in cells]

    def output_of(prefix: str, nth: int = 0) -> str:
        return [text for source, text in outputs if source.startswith(prefix)][nth]

    assert cells[0].source == "%load_ext mlnb"
    assert "DefaultCPUAllocator: can't allocate memory" in output_of("import sys, weakref")
    assert "optimizer" in output_of("%gpu who") and "first_rows" in output_of("%gpu who")
    peak = re.search(r"peak \+([\d.]+) MiB", output_of("scratch = torch.ones"))
    assert peak and float(peak.group(1)) >= 250  # the 256 MiB gone by the cell's end is caught
    assert (
        output_of("print('activations still alive:'", 0).strip() == "activations still alive: True"
    )
    assert "those references reached 190.7 MiB of tensors." in output_of("%gpu free")
    assert (
        output_of("print('activations still alive:'", 1).strip() == "activations still alive: False"
    )
    assert "`losses` holds 5 tensors that carry autograd graphs" in output_of(
        "%%oom_guard\ntrain_step()"
    )
    assert "the cell fitted with bs=128 (tried 512, 256, 128)." in output_of(
        "%%oom_guard --retry-batch bs"
    )
    assert "12.0 GiB given back to the driver" in output_of("del fit")
    assert output_of("%gpu_panel --stop").strip() == "mlnb: stopped 1 panel(s)."
    panel_outputs = next(c.outputs for c in cells if c.source.startswith("%gpu_panel --interval"))
    assert any(
        "application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in panel_outputs
    )
