"""example_notebooks/06_data_validation.ipynb runs top to bottom and finds the shift."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "example_notebooks" / "06_data_validation.ipynb"


@pytest.mark.kernel
def test_example_notebook_finds_the_shift(tmp_path: Path, cell_text) -> None:
    import papermill

    output = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(output), kernel_name="python3", cwd=str(tmp_path), progress_bar=False
    )
    nb = nbformat.read(output, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].source == "%load_ext mlnb"
    texts = {c.source.splitlines()[0]: cell_text(c) for c in code}
    anomalies = texts["%validate serving --schema schema.json"]
    assert anomalies.startswith("5 anomalies in 5 columns (165 rows checked).")
    assert "mean smoothness         missing_rate" in anomalies
    assert "mean radius             out_of_range" in anomalies
    control = texts["%drift train holdout --numeric-threshold 0.2 --no-widget"]
    assert control.startswith("no drift: 0 of 11 columns drift")
    found = texts["%drift train serving --numeric-threshold 0.2 --schema schema.json -o report"]
    assert found.splitlines()[1].startswith("drift: ")
    drifted = texts["from mlnb import data as mdata"].splitlines()[0]
    assert "'mean radius'" in drifted and "'diagnosis'" in drifted
    assert (tmp_path / "schema.json").exists()
