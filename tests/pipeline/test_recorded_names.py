"""The names a notebook records and their types, read from its code."""

from __future__ import annotations

import nbformat

from mlnb.pipeline.recorded_names import recorded_names


def _nb(*sources: str) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.cells.append(nbformat.v4.new_markdown_cell("mlnb.record('not_code', 1)"))
    return nb


def test_names_and_types_from_the_recorded_expressions():
    nb = _nb(
        "import mlnb\nimport scrapbook as sb\nrows = int(n * 0.75)\nname = f'run {rows}'",
        "mlnb.record('rows', rows)\nmlnb.record('acc', model.score(X, y))\nmlnb.record('name', name)",
        "mlnb.record('ok', acc > 0.5)\nmlnb.record('sizes', [1, 2])\nmlnb.record('cfg', {'a': 1})",
        "sb.glue('loss', 0.25)\nmlnb.record('n', len(data))\nmlnb.record('r', round(x, 2))",
        "mlnb.record(key, 1)\nmlnb.record('broken'",  # a computed name; a cell that does not parse
        "%matplotlib inline\nfrom mlnb import record\nrecord('flag', True)",
    )
    assert recorded_names(nb) == {
        "rows": "int",
        "acc": "float",
        "name": "str",
        "ok": "bool",
        "sizes": "list",
        "cfg": "dict",
        "loss": "float",
        "n": "int",
        "r": "float",
        "flag": "bool",
    }


def test_a_notebook_that_records_nothing():
    assert recorded_names(_nb("x = 1")) == {}
