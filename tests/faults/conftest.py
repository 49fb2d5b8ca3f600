"""The store-damage matrix's fixtures: one real template store, copied and damaged per test.

``damaged`` (parametrized indirectly by damage name) yields a :class:`Damaged`: the store folder
(``MLNB_HOME``), the template's run ids, and the damage in force (a read-only mount, a process
holding the lock) until the test ends. Timeouts are cut so a locked store answers in well under
a second.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import LockedStore, ReadOnly, log_run


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"mlnb.server": True}}}


@dataclass
class Template:
    folder: Path
    ids: tuple[str, str]


@dataclass
class Damaged:
    name: str
    home: Path  # what MLNB_HOME is set to
    ids: tuple[str, str]
    how: str = ""  # how a read-only folder was made, for the report

    @property
    def db(self) -> Path:
        return self.home / "runs.db"


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """A real store: runs ``alpha`` and ``beta``, finished, with points, checkpointed to one file."""
    from mlnb.runs import session

    folder = tmp_path_factory.mktemp("template") / "store"
    alpha = log_run(folder, "alpha", points=40)
    beta = log_run(folder, "beta", points=40)
    for store in list(session._stores.values()):
        store.close()
    session._stores.clear()
    assert sorted(p.name for p in folder.iterdir()) == ["artifacts", "runs.db"] or sorted(
        p.name for p in folder.iterdir()
    ) == ["runs.db"]
    return Template(folder, (alpha.id, beta.id))


def _sql(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    for statement in statements:
        conn.execute(statement)
    conn.close()


def _garbage(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _truncated(d: Damaged) -> None:
    data = d.db.read_bytes()
    d.db.write_bytes(data[: max(4096, len(data) // 3)])


def _damaged_pages(d: Damaged) -> None:
    data = d.db.read_bytes()
    d.db.write_bytes(data[:4096] + _garbage(len(data) - 4096, 1))


def _replace_with_folder(d: Damaged) -> None:
    d.db.unlink()
    d.db.mkdir()


def _foreign(d: Damaged) -> None:
    d.db.unlink()
    _sql(d.db, "CREATE TABLE photos (id INTEGER, path TEXT)", "INSERT INTO photos VALUES (1, 'a')")


#: damage name → what it does to a copy of the template
DAMAGES: dict[str, Callable[[Damaged], None]] = {
    "truncated": _truncated,
    "zero-length": lambda d: d.db.write_bytes(b""),
    "garbage": lambda d: d.db.write_bytes(_garbage(20_000, 0)),
    "damaged pages": _damaged_pages,
    "garbage WAL": lambda d: (d.home / "runs.db-wal").write_bytes(_garbage(40_000, 2)),
    "newer schema": lambda d: _sql(d.db, "INSERT INTO schema_version VALUES (99)"),
    "dropped table": lambda d: _sql(d.db, "DROP TABLE metric_chunks"),
    "dropped column": lambda d: _sql(d.db, "ALTER TABLE runs DROP COLUMN summary"),
    "bad JSON row": lambda d: _sql(
        d.db, f"UPDATE runs SET config = '{{not json', summary = '[1,' WHERE id = '{d.ids[0]}'"
    ),
    "bad metric blob": lambda d: _sql(
        d.db,
        "UPDATE metric_chunks SET vals = x'010203' WHERE rowid = (SELECT min(rowid) FROM "
        f"metric_chunks WHERE run_id = '{d.ids[0]}' AND key = 'loss')",
    ),
    "directory instead of file": _replace_with_folder,
    "foreign SQLite file": _foreign,
    "read-only folder": lambda d: None,  # made read-only after the copy, see `damaged`
    "MLNB_HOME a file": lambda d: None,  # MLNB_HOME points at a file, see `damaged`
    "locked by another process": lambda d: None,  # a process holds it, see `damaged`
}


@pytest.fixture
def damaged(
    request: pytest.FixtureRequest,
    template: Template,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Damaged]:
    """A copy of the template with the damage ``request.param`` in force; MLNB_HOME set to it."""
    from mlnb.runs import database, session
    from mlnb.server import data

    monkeypatch.setattr(database, "READ_BUSY_TIMEOUT", 0.2)
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(database, "RETRY_SECONDS", 0.3)
    monkeypatch.setattr(data, "BUSY_TIMEOUT", 0.2)
    name = request.param
    home = tmp_path / "store"
    shutil.copytree(template.folder, home)
    d = Damaged(name, home, template.ids)
    DAMAGES[name](d)
    monkeypatch.chdir(tmp_path)
    with ExitStack() as stack:
        if name == "MLNB_HOME a file":
            d.home = tmp_path / "not-a-folder.txt"
            d.home.write_text("a file, not a store\n")
        elif name == "read-only folder":
            d.how = stack.enter_context(ReadOnly(home)).how
        elif name == "locked by another process":
            stack.enter_context(LockedStore(d.db))
        monkeypatch.setenv("MLNB_HOME", str(d.home))
        try:
            yield d
        finally:
            for run in session.live_runs():
                try:
                    run.finish()
                except Exception:  # a store the test broke may refuse it
                    pass
            for store in session._stores.values():
                store.close()
            session._stores.clear()
