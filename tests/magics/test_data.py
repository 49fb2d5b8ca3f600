"""%profile, %validate and %drift (with --log) in a real ipykernel, and what loading them costs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel

SETUP = """
import numpy as np, pandas as pd
rng = np.random.default_rng(0)
train = pd.DataFrame({"x": rng.normal(0, 1, 3000), "city": rng.choice(["a", "b", "c"], 3000)})
serving = train.assign(x=train["x"] + 1.0)
"""


def test_magics_in_a_kernel(kernel, tmp_path: Path, cell_text) -> None:
    schema = tmp_path / "schema.json"
    nb = kernel(
        [
            "builtin = set(get_ipython().magics_manager.magics['line'])",
            "%load_ext mlnb",
            SETUP,
            "%profile train",
            "%drift train serving -o report",
            "print(report.drifted, type(report).__name__)",
            f"%validate train --infer {schema}",
            f"%validate serving --schema {schema}",
            "%drift train serving --threshold x=0.9 --no-widget",
            "print(sorted({'profile', 'validate', 'drift'} & builtin))",
        ],
        cwd=str(tmp_path),
    )
    texts = [cell_text(c) for c in nb.cells]
    outputs = nb.cells[3].outputs
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert texts[3].startswith("train: 3,000 rows × 2 columns")
    assert texts[4].splitlines()[:2] == [
        "serving vs train: 3,000 rows × 2 columns",
        "drift: 1 of 2 columns drift (x) — reference 3,000 rows, current 3,000 rows.",
    ]
    assert texts[5].strip() == "['x'] DriftReport"
    assert texts[6].startswith(f"mlnb: wrote the schema of 2 columns to {schema}")
    assert json.loads(schema.read_text())["version"] == 1
    assert texts[7].startswith("1 anomaly in 1 column (3,000 rows checked).")
    assert "out_of_range" in texts[7]
    assert texts[8].startswith("no drift: 0 of 2 columns drift")
    assert texts[9].strip() == "[]"  # no IPython/ipykernel line magic of these names exists


def test_bad_input_is_one_line_in_a_kernel(kernel, tmp_path: Path, cell_text) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    nb = kernel(
        [
            "%load_ext mlnb",
            SETUP + "empty = train.iloc[:0]",
            "%drift train nope",
            "%profile empty",
            f"%validate train --schema {bad}",
            "%validate train",
            "%drift train serving --threshold x",
            "%drift train serving --numeric-threshold 3",
        ],
        allow_errors=True,
    )
    errors = [cell_text(c).strip() for c in nb.cells[2:]]
    assert errors == [
        "UsageError: there is no variable `nope` in this notebook.",
        "UsageError: `empty` has no rows (its 2 columns are empty) — there is nothing to profile or compare.",
        f"UsageError: schema file {bad} is not valid JSON (line 1, column 2: Expecting property name "
        f"enclosed in double quotes) — fix it, or infer a new one with `%validate DF --infer {bad}`.",
        "UsageError: %validate needs exactly one of --schema PATH (check) or --infer PATH (write a schema).",
        "UsageError: --threshold takes COLUMN=VALUE, like --threshold age=0.3; got 'x'.",
        "UsageError: numeric_threshold must be a number from 0 to 1, got 3.0.",
    ]


def test_loading_the_magics_imports_nothing_heavy() -> None:
    code = (
        "import sys, mlnb.magics.data; "
        "print(sorted(m for m in ('pandas', 'matplotlib', 'ipywidgets', 'torch', 'mlnb.data') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("magic", ["profile", "validate", "drift"])
def test_help_shows_the_options(shell, capsys, magic: str) -> None:
    shell.run_line_magic(magic, "--help")
    out = capsys.readouterr().out
    assert out.startswith(f"Usage: %{magic} ")
    assert "-o NAME, --out NAME" in out


@pytest.mark.kernel
def test_drift_log_flag_in_a_kernel(kernel, tmp_path, cell_text):
    nb = kernel(
        [
            f"import os; os.environ['MLNB_HOME'] = {str(tmp_path)!r}\n%load_ext mlnb",
            "import numpy as np, pandas as pd, mlnb\n"
            "ref = pd.DataFrame({'x': np.random.default_rng(0).normal(size=500)})\n"
            "cur = ref + 1",
            "%drift ref cur --no-widget --log",
            "run = mlnb.start('checks', system_interval=None)",
            "%drift ref cur --no-widget --log",
            "mlnb.finish()\nprint(sorted(mlnb.runs.open_store().metric_keys(run.id)))",
        ],
        allow_errors=True,
    )
    assert cell_text(nb.cells[2]).startswith(
        "UsageError: cannot log the data check: no run is active — start one with"
    )
    assert "mlnb: logged " in cell_text(nb.cells[4]) and "to run 'checks'" in cell_text(nb.cells[4])
    assert "'drift/x'" in cell_text(nb.cells[5])
