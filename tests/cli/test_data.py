"""``mlnb data``: exit statuses and one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlnb.cli import main


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    ref = tmp_path / "ref.csv"
    cur = tmp_path / "cur.parquet"
    pd.DataFrame({"x": rng.normal(size=2000), "city": rng.choice(["a", "b"], 2000)}).to_csv(
        ref, index=False
    )
    pd.DataFrame(
        {"x": rng.normal(size=2000) + 1, "city": rng.choice(["a", "b", "c"], 2000)}
    ).to_parquet(cur)
    return ref, cur


def test_infer_validate_and_drift(files: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    ref, cur = files
    schema = tmp_path / "schema.json"
    assert main(["data", "validate", str(ref), "--infer", str(schema)]) == 0
    assert capsys.readouterr().out == f"mlnb: wrote the schema of 2 columns to {schema}.\n"
    assert main(["data", "validate", str(ref), "--schema", str(schema), "--strict"]) == 0
    assert main(["data", "validate", str(cur), "--schema", str(schema)]) == 0
    assert main(["data", "validate", str(cur), "--schema", str(schema), "--strict"]) == 1
    assert "city    out_of_domain" in capsys.readouterr().out
    assert main(["data", "drift", str(ref), str(cur), "--strict"]) == 1
    assert capsys.readouterr().out.startswith("drift: 2 of 2 columns drift (x, city)")
    assert main(["data", "drift", str(ref), str(ref), "--strict"]) == 0
    assert capsys.readouterr().out.startswith("no drift: 0 of 2 columns drift")
    assert main(["data", "profile", str(ref)]) == 0
    assert capsys.readouterr().out.startswith("2,000 rows × 2 columns")


def test_bad_files_are_one_line(tmp_path: Path, capsys) -> None:
    odd = tmp_path / "data.txt"
    odd.write_text("x")
    assert main(["data", "profile", str(odd)]) == 2
    assert capsys.readouterr().err == (
        f"mlnb: cannot tell how to read {odd}: use a file ending in .csv, .tsv, .parquet, .json, .jsonl, .feather.\n"
    )
    assert main(["data", "profile", str(tmp_path / "nope.csv")]) == 2
    assert capsys.readouterr().err == f"mlnb: there is no file {tmp_path / 'nope.csv'}.\n"
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["data", "profile", str(empty)]) == 2
    assert (
        capsys.readouterr().err
        == f"mlnb: could not read {empty} as csv: No columns to parse from file\n"
    )
    header_only = tmp_path / "header.csv"
    header_only.write_text("a,b\n")
    assert main(["data", "profile", str(header_only)]) == 2
    assert capsys.readouterr().err == (
        f"mlnb: {header_only} has no rows (its 2 columns are empty) — there is nothing to profile or compare.\n"
    )


def test_strict_drift_exits_1_on_values_past_the_reference_range(tmp_path: Path, capsys) -> None:
    """The review's cases: a constant 1.0 → 1000.0, a cap of 100 whose capped rows become
    1e6, a 0/1 flag whose 1s become 7s — each alone must fail `--strict`."""
    rng = np.random.default_rng(3)
    n = 1000
    capped = np.minimum(rng.normal(80, 20, n), 100.0)
    flag = (rng.random(n) < 0.3).astype(int)
    ref = pd.DataFrame({"const": np.ones(n), "capped": capped, "flag": flag})
    ref.to_csv(tmp_path / "ref.csv", index=False)
    changed = {
        "const": np.full(n, 1000.0),
        "capped": np.where(capped >= 100.0, 1e6, capped),
        "flag": np.where(flag == 1, 7, 0),
    }
    for name, values in changed.items():
        path = tmp_path / f"{name}.csv"
        ref.assign(**{name: values}).to_csv(path, index=False)
        for method in ("distance", "ks", "psi"):
            args = ["data", "drift", str(tmp_path / "ref.csv"), str(path), "--strict"]
            assert main([*args, "--method", method]) == 1, (name, method)
            assert capsys.readouterr().out.startswith(f"drift: 1 of 3 columns drift ({name})")
    same = ["data", "drift", str(tmp_path / "ref.csv"), str(tmp_path / "ref.csv"), "--strict"]
    assert main([*same, "--stattest", "chisquare", "--alpha", "0.01"]) == 0
    assert main([*same, "--method", "ks", "--numeric-threshold", "0.2"]) == 2
    assert capsys.readouterr().err.startswith(
        "mlnb: numeric_threshold does not apply: method 'ks' judges numeric columns"
    )


@pytest.fixture
def parquet_files(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(1)
    ref, cur = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    pd.DataFrame({"x": rng.normal(size=5000), "city": rng.choice(["a", "b"], 5000)}).to_parquet(ref)
    pd.DataFrame({"x": rng.normal(size=5000) + 1, "city": rng.choice(["a", "b"], 5000)}).to_parquet(
        cur
    )
    return ref, cur


def test_stream_shows_the_report_and_progress(parquet_files: tuple[Path, Path], capsys) -> None:
    ref, cur = parquet_files
    assert main(["data", "drift", str(ref), str(cur), "--stream", "--strict"]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("drift: 1 of 2 columns drift (x)")
    assert "note: streamed: numeric bins and quantiles come from quantile sketches" in captured.out
    # in a log: a line at most every 10 s, and the last state
    assert captured.err.startswith(
        "mlnb: streaming drift: 2/2 columns done, 20,000/20,000 values read (100%), "
    )
    assert captured.err.count("\n") == 1
    assert main(["data", "profile", str(ref), "--stream", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("5,000 rows × 2 columns") and captured.err == ""


def test_big_parquet_files_stream_without_being_asked(
    parquet_files: tuple[Path, Path], capsys, monkeypatch
) -> None:
    from mlnb.data import files

    ref, cur = parquet_files
    assert main(["data", "drift", str(ref), str(cur)]) == 0
    assert "streamed" not in capsys.readouterr().out
    monkeypatch.setattr(files, "STREAM_ABOVE_BYTES", 0)
    assert main(["data", "drift", str(ref), str(cur)]) == 0
    captured = capsys.readouterr()
    assert "note: streamed:" in captured.out and "mlnb: streaming drift" in captured.err


def test_stream_refuses_files_that_are_not_parquet(
    files: tuple[Path, Path], parquet_files: tuple[Path, Path], capsys
) -> None:
    csv, _ = files
    _, cur = parquet_files
    assert main(["data", "drift", str(csv), str(cur), "--stream"]) == 2
    assert capsys.readouterr().err == (
        f"mlnb: --stream reads Parquet files only; {csv} is not one (drop --stream to read it with pandas).\n"
    )


def test_progress_line_redraws_on_a_terminal_and_throttles_in_a_log(monkeypatch) -> None:
    import io

    from mlnb.cli.data import ProgressLine
    from mlnb.data.stream import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    clock = iter([0.0, 0.1, 0.5, 0.6, 30.0, 31.0])
    monkeypatch.setattr("mlnb.cli.data.time.monotonic", lambda: next(clock))
    screen = Terminal()
    line = ProgressLine("streaming drift", screen)  # start: 0.0
    line(Progress(0, 4, 10, 100, "x"))  # 0.1: too soon
    line(Progress(0, 4, 20, 100, "x"))  # 0.5: drawn
    line(Progress(4, 4, 100, 100, "done"))  # 0.6: the last state, always drawn
    line.close()
    assert screen.getvalue() == (
        "\rmlnb: streaming drift: 0/4 columns done, 20/100 values read (20%), 0 s\x1b[K"
        "\rmlnb: streaming drift: 4/4 columns done, 100/100 values read (100%), 1 s\x1b[K\n"
    )
    log = io.StringIO()
    line = ProgressLine("streaming drift", log)  # start: 30.0
    line(Progress(1, 4, 50, 100, "done"))  # 31.0: within 10 s in a log
    line.close()
    assert log.getvalue() == ""


def test_csv_and_parquet_of_the_same_data_give_the_same_verdicts(tmp_path: Path, capsys) -> None:
    # CSV keeps datetimes as ISO text: they are read back as datetimes, as Parquet keeps them
    n = 300
    frame = pd.DataFrame(
        {
            "when": pd.date_range("2024-01-01", periods=n, freq="h"),
            "utc": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "x": np.arange(n, dtype=float),
            "code": ["2024-01-01", "soon"] * (n // 2),  # not every value a date: text
        }
    )
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "a.parquet")
    assert (
        main(["data", "drift", str(tmp_path / "a.csv"), str(tmp_path / "a.parquet"), "--strict"])
        == 0
    )
    assert capsys.readouterr().out.startswith("no drift: 0 of 4 columns drift")
    assert main(["data", "profile", str(tmp_path / "a.csv")]) == 0
    kinds = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()[3:7]}
    assert kinds == {"when": "datetime", "utc": "datetime", "x": "numeric", "code": "categorical"}


def test_compressed_text_files_are_read_and_a_directory_is_named(tmp_path: Path, capsys) -> None:
    # pandas reads data.csv.gz / .jsonl.bz2 by the compression's extension; so does mlnb
    pd.DataFrame({"x": [1.0, 2.0, 3.0]}).to_csv(tmp_path / "data.csv.gz", index=False)
    pd.DataFrame({"x": [1.0, 2.0]}).to_json(tmp_path / "d.jsonl.bz2", orient="records", lines=True)
    assert main(["data", "profile", str(tmp_path / "data.csv.gz")]) == 0
    assert capsys.readouterr().out.startswith("3 rows × 1 columns")
    assert main(["data", "profile", str(tmp_path / "d.jsonl.bz2")]) == 0
    assert capsys.readouterr().out.startswith("2 rows × 1 columns")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert main(["data", "profile", str(folder)]) == 2
    assert capsys.readouterr().err == f"mlnb: {folder} is a directory, not a data file.\n"


def test_output_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    # `mlnb data profile big.csv --json | head -1`: the reader leaves early; no traceback
    import os
    import subprocess
    import sys

    path = tmp_path / "wide.csv"
    pd.DataFrame(np.random.default_rng(0).normal(size=(50, 300))).add_prefix("c").to_csv(
        path, index=False
    )
    script = "import sys; from mlnb.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(
        [sys.executable, "-c", script, "data", "profile", str(path), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # as head does after its line
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "BrokenPipeError" not in err
