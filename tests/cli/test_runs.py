"""``mlnb runs ls | show | compare | rm | export``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mlnb
from mlnb.cli import main


@pytest.fixture
def two_runs(home: Path) -> list[str]:
    ids = []
    for name, lr in (("small", 0.01), ("large", 0.1)):
        run = mlnb.start(name, project="cli", config={"lr": lr}, system_interval=None)
        for step in range(10):
            run.log({"loss": lr * (10 - step), "acc": step / 10}, step=step)
        run.finish()
        ids.append(run.id)
    return ids


def test_ls_show_compare(
    two_runs: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["runs", "ls"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:6] == ["id", "name", "project", "status", "started", "duration"]
    assert lines[2].split()[1] == "large" and lines[3].split()[1] == "small"
    assert main(["runs", "ls", "--json", "--status", "finished"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in listed] == ["large", "small"] and listed[0]["config"] == {"lr": 0.1}
    assert main(["runs", "show", "small"]) == 0
    shown = capsys.readouterr().out
    assert ["name", "small"] in [line.split() for line in shown.splitlines()]
    assert ["lr", "0.01"] in [line.split() for line in shown.splitlines()]
    out = tmp_path / "curves.png"
    assert main(["runs", "compare", "small", "large", "--metric", "loss", "--out", str(out)]) == 0
    compared = capsys.readouterr().out
    small, large = (f"({run_id[:6]})" for run_id in two_runs)
    assert compared.splitlines()[0].split() == ["metric", "small", small, "large", large]
    assert compared.splitlines()[2].split()[:3] == ["loss", "0.01", "0.1"]
    assert out.read_bytes().startswith(b"\x89PNG")


def test_rm_and_export(
    two_runs: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["runs", "export", "--to", "tensorboard", str(tmp_path / "tb")]) == 0
    assert capsys.readouterr().out.count("exported") == 2
    uri = f"sqlite:///{tmp_path / 'm.db'}"
    assert main(["runs", "export", "--to", "mlflow", "--tracking-uri", uri, "--run", "small"]) == 0
    assert "exported small" in capsys.readouterr().out
    assert main(["runs", "rm", "small"]) == 0
    assert capsys.readouterr().out.startswith("removed small (")
    assert main(["runs", "ls", "--json"]) == 0
    assert [r["name"] for r in json.loads(capsys.readouterr().out)] == ["large"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["runs", "show", "nope"], "mlnb: no run 'nope' in the run store at"),
        (
            ["runs", "export", "--to", "mlflow"],
            "mlnb: --to mlflow needs --tracking-uri URI (e.g. sqlite:///mlflow.db).",
        ),
        (
            ["runs", "export", "--to", "tensorboard"],
            "mlnb: --to tensorboard needs a folder: mlnb runs export --to tensorboard DIR.",
        ),
        (
            ["runs"],
            "mlnb: say what to do: mlnb runs ls | show | compare | rm | export | importance.",
        ),
    ],
)
def test_cli_errors_are_one_line_exit_2(
    two_runs: list[str], capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_rm_refuses_a_running_run(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = mlnb.start("busy", system_interval=None)
    assert main(["runs", "rm", "busy"]) == 2
    assert (
        capsys.readouterr().err
        == f"mlnb: run 'busy' ({run.id}) is still running — finish it first, or pass --force.\n"
    )


def test_ls_on_a_corrupt_store_is_one_line(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "runs.db").write_bytes(b"garbage" * 100)
    done = subprocess.run(
        [sys.executable, "-m", "mlnb.cli", "runs", "ls"],  # MLNB_HOME, PYTHONPATH: fixtures
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert (
        done.stderr
        == f"mlnb: {home / 'runs.db'} is not a readable run store (file is not a database); mlnb left it untouched — move it aside or set MLNB_HOME to another folder.\n"
    )


def test_compare_out_is_checked_before_anything_is_drawn(
    two_runs: list[str], cli_err, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-folder" / "curves.png"
    assert cli_err(["runs", "compare", *two_runs, "--out", str(missing)]) == (
        2,
        f"mlnb: --out {missing}: the folder {missing.parent} does not exist — create it first.",
    )
    code, err = cli_err(["runs", "compare", *two_runs, "--out", str(tmp_path / "curves.xyz")])
    assert code == 2 and err.startswith(
        f"mlnb: --out {tmp_path / 'curves.xyz'}: cannot tell the image type from '.xyz' — end "
        "the name with one of "
    )
    assert ".png" in err and ".pdf" in err and err.endswith(".")
    code, err = cli_err(["runs", "compare", *two_runs, "--out", "/proc/curves.png"])
    assert code == 2 and err.startswith("mlnb: --out /proc/curves.png: cannot write it (")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]  # nothing written


def test_export_to_a_bad_target_is_one_line(two_runs: list[str], cli_err, tmp_path: Path) -> None:
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    assert cli_err(["runs", "export", "--to", "tensorboard", str(a_file)]) == (
        2,
        f"mlnb: {a_file} is a file; TensorBoard needs a folder to write to.",
    )
    code, err = cli_err(["runs", "export", "--to", "tensorboard", "/proc/tb"])
    assert code == 2 and err.startswith("mlnb: cannot create the TensorBoard folder /proc/tb (")
    pytest.importorskip("mlflow")
    code, err = cli_err(["runs", "export", "--to", "mlflow", "--tracking-uri", "bogus://nowhere"])
    assert code == 2 and err.startswith(
        "mlnb: cannot open the MLflow tracking store 'bogus://nowhere': "
    ), err
    assert "See https" not in err  # MLflow's first sentence only
    assert "\n" not in err and err.endswith(".")


def test_ls_limit_below_one_is_refused(two_runs: list[str], cli_err) -> None:
    for value in ("0", "-1"):
        assert cli_err(["runs", "ls", "--limit", value]) == (
            2,
            f"mlnb: --limit must be a whole number ≥ 1, got {value}.",
        )
