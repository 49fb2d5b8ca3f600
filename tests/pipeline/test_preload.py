"""Which imports a zygote may load ahead: read from the cells, kernel-sensitive ones left out."""

from __future__ import annotations

import nbformat

from mlnb.pipeline.preload import import_names, notebook_imports, preloadable, sensitive


def test_import_lines_are_read_without_running_anything():
    source = (
        "import numpy as np, os.path\n"
        "from sklearn.linear_model import Ridge\n"
        "    import json  # indented, inside a block\n"
        "from . import local\n"
        "x = 'import not_a_module'\n"
        "%matplotlib inline\n"
    )
    assert import_names(source) == ["numpy", "os.path", "sklearn.linear_model", "json", "."]


def test_modules_that_must_see_the_kernel_are_left_to_it():
    assert sensitive("matplotlib.pyplot") and sensitive("tqdm.auto") and sensitive("tensorflow")
    assert not sensitive("tqdm") and not sensitive("matplotlibx")
    names = ["numpy", "matplotlib.pyplot", "numpy", ".", "__future__", "ray", "pandas"]
    assert preloadable(names) == ["numpy", "pandas"]


def test_notebook_imports_reads_code_cells_only():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("import markdown_is_not_code"),
        nbformat.v4.new_code_cell("import numpy\nimport matplotlib.pyplot as plt"),
        nbformat.v4.new_code_cell("from scipy import stats"),
    ]
    assert notebook_imports(nb) == ["numpy", "scipy"]
