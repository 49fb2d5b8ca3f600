"""Run views: the cell log shows enough of each cell to recognise it; git's failures in plain words."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import mlnb
from mlnb.display import CELL_STYLE, TABLE_STYLE
from mlnb.runs import views
from mlnb.runs.views import cell_excerpt


def test_a_cell_is_shown_by_its_first_meaningful_lines() -> None:
    source = "import time\nimport mlnb\n\n# train\nfor i in range(40):\n    mlnb.log({'loss': i})\n    time.sleep(0.05)\n"  # fmt: skip
    assert cell_excerpt(source) == "for i in range(40): ↵ mlnb.log({'loss': i}) (+4 lines)"
    assert cell_excerpt("import time") == "import time"  # a cell of imports shows them
    assert cell_excerpt("from a import b\nfrom c import d") == "from a import b ↵ from c import d"
    long = "model = build(" + ", ".join(f"p{i}={i}" for i in range(40)) + ")"
    assert len(cell_excerpt(long)) == 90 and cell_excerpt(long).endswith("…")
    assert cell_excerpt("") == ""


def test_run_details_show_cells_and_a_clean_git_reason(home: Path) -> None:
    run = mlnb.start("shown", system_interval=None)
    run.open_cell("import numpy as np\nx = np.arange(3)\nprint(x)", 3, 0.0)
    run.close_cell(True)
    record = run.finish()
    store = run.store
    shown = views.run_details(record, store)
    assert "x = np.arange(3) ↵ print(x) (+1 line)" in shown.text()
    assert "not a git repository" in shown.text() and "fatal:" not in shown.text()
    old_style = dataclasses.replace(
        record,
        provenance={"git": {"available": False, "reason": "fatal: not a git repository (or any)"}},
    )
    assert "fatal" not in views.run_details(old_style, store).text()  # runs recorded before
    html = shown.html()
    assert html.count(f'style="{TABLE_STYLE}"') == html.count("<table")
    assert f'<td style="{CELL_STYLE}">' in html and "text-align:right" not in html
