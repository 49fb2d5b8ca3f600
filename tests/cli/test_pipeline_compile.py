"""``mlnb pipeline compile SOURCE --to kfp|kfp-component -o OUT``: writes a package kfp reads;
bad input is one ``mlnb:`` line and exit 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlnb.cli import main
from tests.helpers import extra

EXAMPLE = Path(__file__).resolve().parents[2] / "example_notebooks" / "04_pipeline"


def test_compile_pipeline_and_component(tmp_path, capsys):
    extra("kfp")
    from kfp.components import load_component_from_file

    folder = tmp_path / "ex"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("runs", "*.csv", "*.pkl"))
    out = tmp_path / "pipeline.kfp.yaml"
    argv = ["pipeline", "compile", str(folder / "pipeline.yaml"), "--to", "kfp", "-o", str(out)]
    assert main([*argv, "--image", "reg/mlnb:1", "--name", "Demo Pipeline"]) == 0
    assert capsys.readouterr().out.strip() == f"mlnb: wrote {out} (kfp)"
    loaded = load_component_from_file(str(out))
    assert loaded.name == "demo-pipeline" and set(loaded.component_spec.inputs) == {
        "prepare_n_samples",
        "train_C",
    }
    component = tmp_path / "train.component.yaml"
    argv = ["pipeline", "compile", str(folder / "train.ipynb"), "--to", "kfp-component"]
    argv += ["-o", str(component), "--input-file", "data/train.csv", "--output-file", "data/model.pkl"]  # fmt: skip
    assert main([*argv, "--package", "mlnb[kfp]==0.9", "--package", "scikit-learn"]) == 0
    train = load_component_from_file(str(component))
    assert set(train.component_spec.inputs) == {"C", "max_iter", "save_model", "data_train_csv"}
    assert {"data_model_pkl", "val_acc", "train_acc", "recorded", "metrics"} <= set(
        train.component_spec.outputs
    )
    assert "scikit-learn" in component.read_text() and "mlnb[kfp]==0.9" in component.read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--to", "argo", "-o", "x.yaml"],
            "unknown compile target 'argo'; known targets: kfp, kfp-component.",
        ),
        (
            ["--to", "kfp"],
            "usage: mlnb pipeline compile PIPELINE.yaml --to kfp -o pipeline.kfp.yaml",
        ),
    ],
)
def test_bad_compile_lines(tmp_path, cli_err, argv, message):
    code, err = cli_err(["pipeline", "compile", str(tmp_path / "pipeline.yaml"), *argv])
    assert code == 2 and err.startswith(f"mlnb: {message}") and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--to", "kfp", "-o", "p.yaml"], "--to belongs to `mlnb pipeline compile SOURCE"),
        (["status", "--image", "x"], "--image belongs to `mlnb pipeline compile SOURCE"),
        (["compile", "--to", "kfp", "-o", "p.yaml", "--input-file", "a.csv"], "--input-file and"),
        (["compile", "--to", "kfp-component", "-o", "c.yaml", "--name", "n"], "--name is for"),
    ],
)
def test_compile_options_out_of_place(tmp_path, cli_err, argv, message):
    """`mlnb pipeline p.yaml --to kfp` (compile forgotten) must not run the pipeline."""
    path = str(tmp_path / "pipeline.yaml")
    words = [*argv[:1], path, *argv[1:]] if argv[0] in ("status", "compile") else [path, *argv]
    code, err = cli_err(["pipeline", *words])
    assert code == 2 and err.startswith(f"mlnb: {message}") and len(err.splitlines()) == 1


def test_absolute_step_path_from_the_command_line(tmp_path, cli_err):
    extra("kfp")
    notebook = tmp_path / "nb.ipynb"
    notebook.write_text(
        json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    (tmp_path / "pipeline.yaml").write_text(f"steps:\n  a: {{notebook: {notebook}}}\n")
    argv = ["pipeline", "compile", str(tmp_path / "pipeline.yaml"), "--to", "kfp", "-o", "p.yaml"]
    code, err = cli_err(argv)
    assert (
        code == 2 and "is an absolute path" in err and "write it relative to pipeline.yaml" in err
    )


def test_the_cli_and_import_mlnb_do_not_import_kfp():
    code = "import sys, mlnb, mlnb.pipeline\nfrom mlnb.cli import build_parser\nbuild_parser()\nprint('kfp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
