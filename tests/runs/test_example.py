"""The run-logging example notebook runs top to bottom under papermill, as a pipeline step would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlnb.runs import Store
from tests.helpers import REPO

pytestmark = pytest.mark.kernel
NOTEBOOK = REPO / "example_notebooks" / "03_run_logging.ipynb"


def test_run_logging_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cell_text, child_env
) -> None:
    import nbformat
    import papermill

    for name, value in child_env(MLNB_HOME=str(tmp_path / "store")).items():
        monkeypatch.setenv(name, value)
    source = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, source)
    output = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(source),
        str(output),
        parameters={"epochs": 2},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    nb = nbformat.read(output, as_version=4)
    assert nb.cells[0].source.startswith("# Run logging") and nb.cells[1].source == "%load_ext mlnb"
    text = "\n".join(cell_text(c) for c in nb.cells if c.cell_type == "code")
    assert "mlnb: started run 'small' (" in text and "in project 'digits-demo'" in text
    assert "mlnb: run 'small' (" in text and "finished after" in text
    assert "papermill  epochs=2\n" in text
    assert "best checkpoint at step" in text
    with Store(tmp_path / "store", readonly=True) as store:
        runs = store.list_runs(project="digits-demo")
        assert [r.name for r in runs] == ["wide", "small"]
        assert {r.status for r in runs} == {"finished"}
        assert runs[0].provenance["papermill"] == {"epochs": 2}
        assert runs[0].provenance["seed"]["seed"] == 0
        assert len(store.artifacts(runs[0].id, kind="checkpoint")) == 2
        cells = store.cells(runs[1].id)
        assert [c.source.splitlines()[0] for c in cells] == [
            "small = {'hidden': 16, 'lr': 3e-3, 'epochs': epochs}",
            "train(mlnb.active_run(), **small)",
            "%run_stop",
        ]
