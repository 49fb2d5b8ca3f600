"""The what-if example notebook shows what the README says it shows."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "example_notebooks" / "05_whatif.ipynb"

pytestmark = pytest.mark.kernel


def test_whatif_example_outputs(tmp_path, cell_text):
    import nbformat
    import papermill

    output = tmp_path / "05.ipynb"
    papermill.execute_notebook(
        str(EXAMPLE),
        str(output),
        kernel_name="python3",
        cwd=str(EXAMPLE.parent),
        progress_bar=False,
    )
    cells = [c for c in nbformat.read(output, as_version=4).cells if c.cell_type == "code"]
    text = "\n".join(cell_text(c) for c in cells)
    assert "Usage: %whatif [--categorical COLUMN [COLUMN ...]]" in text
    assert any(
        "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        for c in cells
        for o in c.outputs
    )
    assert "change in P(benign)" in text
    assert "worst_area = 5000 is outside the training range [223.6, 4254]" in text
    assert "features that differ: 30" in text
    assert "P(benign) (228, 20)" in text
    assert "to_wit() needs witwidget, which needs tensorflow and is not installed" in text
    assert (
        "UsageError: %whatif: no variable named 'X_validation' in the notebook for the data" in text
    )
