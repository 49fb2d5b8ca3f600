"""A full disk: when the store is created, while a run logs, at finish — one sentence, no point lost.

Where this process may mount (root), the store lives on a real 2 MiB tmpfs that a ballast file
fills, so SQLite itself answers "database or disk is full". Elsewhere the same tests inject
``sqlite3.OperationalError("database or disk is full")`` into the store's writes (through
mlnb's own error mapping). ``disk.how`` says which one ran.
"""

from __future__ import annotations

import errno
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from mlnb.exceptions import StoreError
from mlnb.runs import database, session
from mlnb.runs.store import Store
from tests.helpers import mount_works

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*background work failed:mlnb.exceptions.MlnbWarning"
)

FULL = r"the disk holding the run store .* is full \(database or disk is full\)"


class Disk:
    """``fill()`` uses up the disk under ``folder``; ``free()`` gives the space back."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = folder
        self.ballast = folder / "ballast"
        self.full = False
        self.how = "tmpfs" if mount_works() else "injected"
        if self.how == "tmpfs":
            folder.mkdir()
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], check=True
            )
        else:
            folder.mkdir()
            self._inject(monkeypatch)

    def _inject(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def failing(original):
            def method(db, *args):
                if self.full:
                    error = sqlite3.OperationalError("database or disk is full")
                    return db._guard(lambda: _raise(error))
                return original(db, *args)

            return method

        monkeypatch.setattr(database.Database, "_write", failing(database.Database._write))
        monkeypatch.setattr(database.Database, "_migrate", failing(database.Database._migrate))

    def fill(self) -> None:
        self.full = True
        if self.how == "tmpfs":
            with self.ballast.open("ab") as handle:
                try:
                    while True:
                        handle.write(b"\0" * 65536)
                        handle.flush()
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC

    def free(self) -> None:
        self.full = False
        self.ballast.unlink(missing_ok=True)

    def close(self) -> None:
        if self.how == "tmpfs":
            subprocess.run(["umount", "-l", str(self.folder)], check=True)


def _raise(error: BaseException) -> None:
    raise error


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Disk]:
    found = Disk(tmp_path / "disk", monkeypatch)
    monkeypatch.setenv("MLNB_HOME", str(found.folder / "store"))
    try:
        yield found
    finally:
        found.free()
        for run in session.live_runs():
            run.finish()
        for store in session._stores.values():
            store.close()
        session._stores.clear()
        found.close()


def test_a_store_created_on_a_full_disk_is_one_sentence_and_reads_as_empty(disk, capsys):
    import mlnb.runs
    from mlnb.cli import main

    disk.fill()
    with pytest.raises(StoreError, match=FULL + r" — free some space and try again\.") as caught:
        mlnb.runs.start("first", system_interval=None)
    assert "\n" not in str(caught.value)
    if disk.how == "tmpfs":  # what SQLite left: the zero-length file of item 4
        assert (disk.folder / "store" / "runs.db").stat().st_size == 0
    assert main(["runs", "ls"]) == 0  # an empty file reads as an empty store
    assert capsys.readouterr().out.startswith("no runs in ")
    disk.free()
    run = mlnb.runs.start("first", system_interval=None)
    assert run.finish().status == "finished"


def test_run_start_magic_on_a_full_disk_is_a_usage_error(disk, shell):
    disk.fill()
    with pytest.raises(UsageError, match=FULL):
        shell.run_line_magic("run_start", "probe --no-live --system-interval 0")
    assert session.active_run() is None


def test_finish_on_a_full_disk_keeps_every_point_and_can_be_retried(disk):
    import mlnb.runs

    run = mlnb.runs.start("filling", system_interval=None)
    for step in range(6000):
        run.log({"loss": 1.0 / (step + 1), "acc": step / 6000}, step=step)
    disk.fill()
    with pytest.raises(StoreError) as caught:
        run.finish()
    message = str(caught.value)
    assert re.fullmatch(
        rf"run 'filling' \({run.id}\) is not finished: {FULL} — free some space and try again; "
        r"its 12000 unsaved point\(s\) are kept in memory — fix that, then call run\.finish\(\) "
        r"\(or %run_stop\) again to save them\.",
        message,
    ), message
    assert run.status == "running" and mlnb.runs.active_run() is run
    with pytest.raises(
        StoreError, match="is not finished"
    ):  # still full: still refused, still kept
        run.finish()
    disk.free()
    record = run.finish()
    assert record.status == "finished"
    with Store(readonly=True) as store:
        assert store.count_metrics(run.id) == 12000
    assert mlnb.runs.active_run() is None


def test_run_stop_magic_on_a_full_disk_says_how_to_save_the_run(disk, shell):
    shell.run_line_magic("run_start", "magic --no-live --system-interval 0")
    run = session.active_run()
    for step in range(500):
        run.log({"loss": float(step)}, step=step)
    disk.fill()
    with pytest.raises(
        UsageError, match=r"is not finished: .* call run\.finish\(\) \(or %run_stop\) again"
    ):
        shell.run_line_magic("run_stop", "")
    disk.free()
    shell.run_line_magic("run_stop", "")
    with Store(readonly=True) as store:
        assert store.get_run(run.id).status == "finished" and store.count_metrics(run.id) == 500
