"""The SQLite run store: round trips, schema migrations, locks, and stores that cannot be used."""

from __future__ import annotations

import math
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlnb.exceptions import InvalidArgumentError, RunNotFoundError, RunsError, StoreError
from mlnb.runs import database, liveness
from mlnb.runs.records import RunRecord
from mlnb.runs.schema import MIGRATIONS, SCHEMA_VERSION
from mlnb.runs.store import Store


def test_values_names_and_steps_round_trip_exactly(home: Path) -> None:
    import mlnb

    run = mlnb.start("edge", system_interval=None)
    run.log({"nan": math.nan, "inf": math.inf, "-inf": -math.inf}, step=0)
    run.log({"train/loss": 0.5, "with space": 1, "métrique ü/δ": 2.5}, step=2**53 + 1)
    run.log({"train/loss": 0.25}, step=2**63 - 1)
    run.finish()
    with Store(home, readonly=True) as store:
        rows = {(r.key, r.step): r.value for r in store.metrics(run.id)}
        summary = store.get_run(run.id).summary
    assert math.isnan(rows[("nan", 0)])
    assert rows[("inf", 0)] == math.inf and rows[("-inf", 0)] == -math.inf
    assert rows[("train/loss", 2**53 + 1)] == 0.5  # 2**53 + 1 is not a float: stored exactly
    assert rows[("train/loss", 2**63 - 1)] == 0.25
    assert rows[("with space", 2**53 + 1)] == 1.0
    assert rows[("métrique ü/δ", 2**53 + 1)] == 2.5
    assert math.isnan(summary["nan"]) and summary["-inf"] == -math.inf


def test_new_store_has_versioned_schema(home: Path) -> None:
    with Store(home) as store:
        assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
    conn = sqlite3.connect(home / "runs.db")
    versions = [
        row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY version")
    ]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_old_store_is_migrated_in_place(home: Path) -> None:
    home.mkdir(parents=True)
    conn = sqlite3.connect(home / "runs.db")
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for statement in filter(str.strip, MIGRATIONS[0].split(";")):
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (1)")
    conn.execute(
        "INSERT INTO runs (id, name, project, status, started) VALUES ('abc', 'old', 'p', 'finished', 1.0)"
    )
    conn.commit()
    conn.close()
    with Store(home) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.get_run("abc").name == "old"  # data kept
    indexes = {
        row[0]
        for row in sqlite3.connect(home / "runs.db").execute(
            "SELECT name FROM sqlite_master WHERE type='index'"
        )
    }
    assert "metric_chunks_by_run_key" in indexes


def test_newer_schema_is_refused(home: Path) -> None:
    Store(home).close()
    conn = sqlite3.connect(home / "runs.db")
    conn.execute("INSERT INTO schema_version VALUES (99)")
    conn.commit()
    conn.close()
    with pytest.raises(
        StoreError, match=r"schema version 99, newer than this mlnb understands .* upgrade mlnb"
    ):
        Store(home)


def test_corrupt_file_gives_one_sentence_and_is_left_untouched(home: Path) -> None:
    home.mkdir(parents=True)
    junk = b"this is not sqlite at all " * 200
    (home / "runs.db").write_bytes(junk)
    with pytest.raises(StoreError) as caught:
        Store(home)
    assert str(caught.value) == (
        f"{home / 'runs.db'} is not a readable run store (file is not a database); mlnb left it "
        "untouched — move it aside or set MLNB_HOME to another folder."
    )
    assert (home / "runs.db").read_bytes() == junk
    with pytest.raises(StoreError, match="is not a readable run store"):
        Store(home, readonly=True)


def test_foreign_sqlite_file_is_not_taken_over(home: Path) -> None:
    home.mkdir(parents=True)
    conn = sqlite3.connect(home / "runs.db")
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(
        StoreError, match="is a SQLite file but not an mlnb run store; mlnb left it untouched"
    ):
        Store(home)
    tables = [
        r[0] for r in sqlite3.connect(home / "runs.db").execute("SELECT name FROM sqlite_master")
    ]
    assert tables == ["photos"]


@pytest.fixture
def read_only_store(tmp_path: Path) -> Iterator[Path]:
    """An existing store whose folder and file cannot be written (chattr +i as root, chmod otherwise)."""
    folder = tmp_path / "ro"
    with Store(folder) as store:
        store.create_run(
            RunRecord("kept01", "kept", "p", "finished", 1.0, 2.0, 2.0, None, None), None
        )
    paths = [folder / "runs.db", folder]
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("root ignores permissions and chattr is missing")
        for path in paths:
            subprocess.run(["chattr", "+i", str(path)], check=True)
    else:
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield folder
    finally:
        for path in reversed(paths):
            if os.geteuid() == 0:
                subprocess.run(["chattr", "-i", str(path)], check=True)
            else:
                path.chmod(0o755 if path.is_dir() else 0o644)


def test_read_only_folder_gives_one_sentence(
    read_only_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlnb

    monkeypatch.setenv("MLNB_HOME", str(read_only_store))
    before = (read_only_store / "runs.db").read_bytes()
    with pytest.raises(StoreError) as caught:
        mlnb.start("x", system_interval=None)
    assert str(caught.value) == (
        f"the run store folder {read_only_store} is read-only — set MLNB_HOME to a writable "
        "folder; nothing was written (`mlnb runs ls` can still read it)."
    )
    assert (read_only_store / "runs.db").read_bytes() == before
    with Store(read_only_store, readonly=True) as store:  # looking is still possible
        assert [r.name for r in store.list_runs()] == ["kept"]


def _add_finished_runs(store: Store, runs: list[tuple[str, str, float]]) -> None:
    """``(id, name, started)`` rows as finished runs of project ``p``."""
    for run_id, name, started in runs:
        store.create_run(
            RunRecord(run_id, name, "p", "finished", started, started, None, None, None), None
        )


def test_get_run_by_id_prefix_and_name(home: Path) -> None:
    with Store(home) as store:
        _add_finished_runs(
            store, [("aaa111", "base", 1.0), ("aaa222", "base", 2.0), ("bbb333", "other", 3.0)]
        )
        assert store.get_run("bbb").id == "bbb333"
        assert store.get_run("base").id == "aaa222"  # the newest run of that name
        with pytest.raises(
            RunNotFoundError,
            match=r"'aaa' matches 2 runs \(aaa111, aaa222\) — give more of the run id\.",
        ):
            store.get_run("aaa")
        with pytest.raises(
            RunNotFoundError,
            match=r"no run 'zzz' in the run store at .* — `mlnb runs ls` lists the runs\.",
        ):
            store.get_run("zzz")


def test_a_name_that_looks_like_an_id_prefix_finds_that_run(home: Path) -> None:
    """Names such as ``1`` or ``bad`` are hex: the run of that name wins over id prefixes."""
    with Store(home) as store:
        _add_finished_runs(
            store, [("1aa111", "x", 1.0), ("1bb222", "y", 2.0), ("bad333", "1", 3.0)]
        )
        assert store.get_run("1").id == "bad333"
        assert store.get_run("1a").id == "1aa111"
        assert store.get_run("bad333").id == "bad333"
        with pytest.raises(
            RunNotFoundError,
            match=r"^a run is named by its id, an id prefix or its name, got ''\.$",
        ):
            store.get_run("")
        with pytest.raises(RunNotFoundError, match=r"got '  '\.$"):
            store.get_run("  ")


def test_run_of_a_dead_process_reads_as_crashed(home: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    with Store(home) as store:
        store.create_run(
            RunRecord(
                "dead01",
                "lost",
                "p",
                "running",
                10.0,
                None,
                12.0,
                dead.pid,
                liveness.host(),
            ),
            None,
        )
        record = store.get_run("dead01")
        assert record.status == "crashed"
        assert (
            f"(pid {dead.pid} on" in record.error
            and "ended without finishing the run" in record.error
        )
        assert record.ended == 12.0  # the last heartbeat
    row = (
        sqlite3.connect(home / "runs.db")
        .execute("SELECT status FROM runs WHERE id='dead01'")
        .fetchone()
    )
    assert row == ("crashed",)


def test_a_held_write_lock_is_waited_for(home: Path) -> None:
    store = Store(home)
    store.create_run(RunRecord("r1", "r", "p", "running", 1.0, None, None, os.getpid(), "h"), None)
    holder = sqlite3.connect(home / "runs.db", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(1.0, lambda: holder.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    store.append("r1", heartbeat=5.0)  # blocks until the other writer commits, no error
    assert time.monotonic() - started >= 0.9
    release.join()
    store.close()


def test_lock_held_too_long_is_one_sentence(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(database, "RETRY_SECONDS", 0.3)
    store = Store(home)
    holder = sqlite3.connect(home / "runs.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(
            StoreError,
            match=r"stayed locked by another process for 0.3 s — nothing was lost in memory",
        ):
            store.append("nope", heartbeat=1.0)
    finally:
        holder.execute("ROLLBACK")
        store.close()


def test_missing_store_reads_as_empty_without_creating_it(tmp_path: Path) -> None:
    with Store(tmp_path / "none", readonly=True) as store:
        assert store.list_runs() == [] and store.count_metrics() == 0
    assert not (tmp_path / "none").exists()


def test_a_foreign_wal_free_sqlite_file_is_never_switched_to_wal(home: Path) -> None:
    home.mkdir(parents=True)
    conn = sqlite3.connect(home / "runs.db")
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    before = (home / "runs.db").read_bytes()
    assert before[18:20] == b"\x01\x01"  # rollback journal, not WAL
    for readonly in (False, True):
        with pytest.raises(StoreError, match="mlnb left it untouched"):
            Store(home, readonly=readonly)
    assert (home / "runs.db").read_bytes() == before
    assert sorted(p.name for p in home.iterdir()) == ["runs.db"]


def test_a_duplicate_run_id_is_one_sentence(home: Path) -> None:
    record = RunRecord("dup000000001", "a", "p", "finished", 1.0, 2.0, 2.0, None, None)
    with Store(home) as store:
        store.create_run(record, None)
        with pytest.raises(RunsError) as caught:
            store.create_run(record, None)
        assert str(caught.value) == (
            f"the run store {home} already has a run with id 'dup000000001' — a run id is used "
            "once; let mlnb choose a new one."
        )
        assert [r.name for r in store.list_runs()] == ["a"]


def test_a_bad_row_is_listed_shown_and_removable(home: Path, capsys) -> None:
    from mlnb.cli import main
    from mlnb.exceptions import MlnbWarning

    with Store(home) as store:
        for run_id, name, started in (("bad000000001", "bad", 2.0), ("good00000001", "good", 1.0)):
            store.create_run(
                RunRecord(run_id, name, "p", "finished", started, 3.0, 3.0, None, None), None
            )
    conn = sqlite3.connect(home / "runs.db")
    conn.execute("UPDATE runs SET config = '{oops', tags = 'nope' WHERE id = 'bad000000001'")
    conn.commit()
    conn.close()
    with Store(home, readonly=True) as store, pytest.warns(MlnbWarning) as warned:
        records = store.list_runs()
    assert [(r.name, r.config, r.tags) for r in records] == [("bad", {}, ()), ("good", {}, ())]
    assert str(warned[0].message) == (
        "run bad000000001: its stored config is damaged (not valid JSON) and is shown empty; "
        "the run can still be shown and removed (`mlnb runs rm bad000000001`)."
    )
    assert main(["runs", "--home", str(home), "ls"]) == 0
    out, err = capsys.readouterr()
    assert "bad" in out and "good" in out
    assert err.startswith("mlnb: run bad000000001: its stored config is damaged")
    assert main(["runs", "--home", str(home), "rm", "bad000000001"]) == 0
    with Store(home, readonly=True) as store:
        assert [r.name for r in store.list_runs()] == ["good"]


def test_a_wal_store_in_a_read_only_folder_is_read_whole(tmp_path: Path) -> None:
    """Item 3: a store left with its write-ahead log (a killed writer) and no shared index, in
    a folder this process cannot write: SQLite cannot open the log there, so mlnb reads a
    private copy — every run, including those only in the log."""
    from tests.helpers import PYTHON, REPO, ReadOnly, file_states

    folder = tmp_path / "ro"
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[2])\n"
        "from mlnb.runs.store import Store\n"
        "from mlnb.runs.records import RunRecord\n"
        "s = Store(sys.argv[1])\n"
        "s.create_run(RunRecord('walrun000001', 'in-the-log', 'p', 'finished', 1.0, 2.0, 2.0,"
        " None, None), None)\n"
        "print('ready', flush=True); time.sleep(60)\n"
    )
    writer = subprocess.Popen(
        [PYTHON, "-c", code, str(folder), str(REPO)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout.readline().strip() == "ready"
    writer.kill()
    writer.wait()
    (folder / "runs.db-shm").unlink()
    assert (folder / "runs.db-wal").stat().st_size > 0
    before = file_states(folder)
    with ReadOnly(folder):
        with Store(folder, readonly=True) as store:
            assert [r.name for r in store.list_runs()] == ["in-the-log"]
        assert file_states(folder) == before


def test_huge_limits_are_clamped_not_passed_to_sqlite(home: Path) -> None:
    with Store(home) as store:
        store.create_run(
            RunRecord("big000000001", "b", "p", "finished", 1.0, 2.0, 2.0, None, None), None
        )
        assert [r.name for r in store.list_runs(limit=2**63)] == ["b"]
        rows, total = store.list_summaries(limit=2**63, offset=2**63)
        assert rows == [] and total == 1
        with pytest.raises(
            InvalidArgumentError, match=r"limit must be a whole number ≥ 1, got 0\."
        ):
            store.list_runs(limit=0)
        with pytest.raises(InvalidArgumentError, match=r"status must be one of .*, got 'bogus'\."):
            store.list_runs(status="bogus")
