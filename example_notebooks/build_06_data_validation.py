"""Write 06_data_validation.ipynb (run: python example_notebooks/build_06_data_validation.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    new_markdown_cell(
        "# Data validation and drift\n\n"
        "Before training on new data, check that it looks like the data the model was built on "
        "(TFDV's job, here for pandas and without TensorFlow): profile it, infer a schema and "
        "validate new data against it, and measure per-column drift between training and serving.\n\n"
        "The data is scikit-learn's bundled breast-cancer set (569 rows): the ten *mean* features "
        "and the diagnosis. `train` is a random half. `serving` comes from the other half, as a "
        "referral clinic would see it — mostly malignant cases — measured by a scanner whose "
        "radius reads 30% high, with a few smoothness values lost."
    ),
    new_code_cell("%load_ext mlnb"),
    new_code_cell(
        "import numpy as np\n"
        "import pandas as pd\n"
        "from sklearn.datasets import load_breast_cancer\n"
        "\n"
        "bunch = load_breast_cancer(as_frame=True)\n"
        "data = bunch.frame.iloc[:, :10].copy()\n"
        "data['diagnosis'] = np.where(bunch.target == 0, 'malignant', 'benign')\n"
        "\n"
        "rng = np.random.default_rng(0)\n"
        "order = rng.permutation(len(data))\n"
        "train = data.iloc[order[:285]].reset_index(drop=True)\n"
        "holdout = data.iloc[order[285:]].reset_index(drop=True)  # same population: no drift expected\n"
        "\n"
        "keep = (holdout['diagnosis'] == 'malignant') | (rng.random(len(holdout)) < 0.35)\n"
        "serving = holdout[keep].reset_index(drop=True)\n"
        "serving['mean radius'] *= 1.3                      # scanner calibration\n"
        "serving.loc[:4, 'mean smoothness'] = np.nan         # lost values\n"
        "len(train), len(holdout), len(serving)"
    ),
    new_markdown_cell(
        "## Profile\n`%profile DF` shows every column's statistics in the overview panel "
        "(choose a column in the dropdown for its detailed plot)."
    ),
    new_code_cell("%profile train"),
    new_markdown_cell(
        "## Schema and anomalies\n`--infer` writes what `train` looks like as JSON you can edit "
        "(widen a range, add a domain value); `--schema` checks new data against it. The ranges "
        "come from 285 rows, so a few values just past them are normal — the radius ones are not."
    ),
    new_code_cell("%validate train --infer schema.json"),
    new_code_cell("%validate serving --schema schema.json"),
    new_markdown_cell(
        "## Drift\nNumeric columns: Jensen-Shannon distance (base 2, in [0, 1]) on the reference's "
        "decile bins; categorical columns: L-infinity distance. The default threshold is 0.1, but "
        "with under 300 rows a side sampling alone gives about 0.11 (the `noise` column) — so the "
        "numeric threshold is raised to 0.2 here. First the control: a random holdout does not drift."
    ),
    new_code_cell("%drift train holdout --numeric-threshold 0.2 --no-widget"),
    new_code_cell("%drift train serving --numeric-threshold 0.2 --schema schema.json -o report"),
    new_code_cell(
        "report.to_frame()[['statistic', 'value', 'threshold', 'drift', 'n_reference', 'n_current', 'noise']]"
    ),
    new_markdown_cell(
        "## The same from Python\nEvery magic has a plain-function twin in `mlnb.data`; "
        "`to_metrics()` gives flat name → float figures for a run log."
    ),
    new_code_cell(
        "from mlnb import data as mdata\n"
        "\n"
        "panel = mdata.overview(serving, train, schema='schema.json', numeric_threshold=0.2)\n"
        "panel.selector.value = 'mean radius'   # what choosing it in the dropdown does\n"
        "print(panel.drift.drifted)\n"
        "panel"
    ),
    new_code_cell("{k: round(v, 3) for k, v in report.to_metrics().items()}"),
]


def build() -> nbformat.NotebookNode:
    nb = new_notebook(cells=CELLS)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


if __name__ == "__main__":
    target = Path(__file__).with_name("06_data_validation.ipynb")
    nbformat.write(build(), target)
    print(f"wrote {target}")
