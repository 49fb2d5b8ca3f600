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
    # until an edit, the editor is the row (issue 13): row 10 is index label 421
    assert "row 10 of 228 (0 to 227), index label 421" in text
    assert "change in P(benign)  none (no feature edited)" in text
    assert "benign (P(benign) = 0.821, threshold 0.500)" in text
    assert "mean_radius        14.6900" in text and "worst_concavity     0.3219" in text
    assert "14.69 [10]" in text  # the value shown, typed back, finds its row
    assert (
        "per-slice thresholds by mean_radius, not the slider: original in slice 3: ≤ 15.84" in text
    )
    assert "benign (P(benign) = 0.987, threshold 0.535)" in text
    # the outputs committed with the notebook are the ones it produces
    committed = [c for c in nbformat.read(EXAMPLE, as_version=4).cells if c.cell_type == "code"]
    assert len(committed) == len(cells)
    for mine, fresh in zip(committed, cells, strict=True):
        assert _stable(cell_text(mine)) == _stable(cell_text(fresh)), mine.source
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


def _stable(text: str) -> str:
    """Cell text without what changes on every run (widget ids, kernel warnings)."""
    import re

    text = re.sub(r"model_id': '[0-9a-f]+'", "model_id': …", text)
    return re.sub(r"(WhatIf|Output)\(.*", r"\1(…)", text)
