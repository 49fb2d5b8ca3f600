"""The run store's SQLite schema, as an ordered list of migrations.

A store's version is the number of migrations it has applied, recorded in the
``schema_version`` table. Opening a store applies the missing ones inside one
``BEGIN IMMEDIATE`` transaction (so two processes opening a new store at once
cannot both create it); a store from a newer mlnb is refused, never downgraded.
Add a migration by appending a script to :data:`MIGRATIONS`; never edit one
that has shipped.
"""

from __future__ import annotations

import sqlite3

_V1 = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, project TEXT NOT NULL, status TEXT NOT NULL,
    started REAL NOT NULL, ended REAL, heartbeat REAL, pid INTEGER, pid_started REAL,
    host TEXT, config TEXT NOT NULL DEFAULT '{}', tags TEXT NOT NULL DEFAULT '[]',
    summary TEXT NOT NULL DEFAULT '{}', provenance TEXT NOT NULL DEFAULT '{}', error TEXT
);
CREATE TABLE metric_chunks (
    run_id TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL,
    first_step INTEGER NOT NULL, last_step INTEGER NOT NULL, last_value BLOB NOT NULL,
    steps BLOB NOT NULL, vals BLOB NOT NULL, times BLOB NOT NULL, cells BLOB NOT NULL
);
CREATE TABLE cells (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, execution_count INTEGER, source TEXT NOT NULL,
    hash TEXT NOT NULL, started REAL NOT NULL, ended REAL, status TEXT NOT NULL, error TEXT,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE artifacts (
    run_id TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL,
    size INTEGER NOT NULL, sha256 TEXT NOT NULL, created REAL NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (run_id, path)
);
"""
_V2 = """
CREATE INDEX metric_chunks_by_run_key ON metric_chunks (run_id, key);
CREATE INDEX runs_by_project ON runs (project, started);
"""
_V3 = """
CREATE INDEX runs_by_started ON runs (started);
CREATE INDEX runs_by_status ON runs (status, started);
"""
#: schema migrations in order; the store's version is how many of them it has applied
MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3)
SCHEMA_VERSION = len(MIGRATIONS)

_expected: dict[int, dict[str, set[str]]] = {}


def version(conn: sqlite3.Connection) -> int | None:
    """The schema version of an open database: 0 if empty, None if it is some other database."""
    # one statement, one snapshot: two separate reads could see no table, then another
    # process's freshly created store, and call that store foreign
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master").fetchall()}
    if "schema_version" not in names:
        return None if names else 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def columns(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """Table name → its column names."""
    rows = conn.execute(
        "SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p "
        "WHERE m.type = 'table'"
    ).fetchall()
    found: dict[str, set[str]] = {}
    for table, column in rows:
        found.setdefault(table, set()).add(column)
    return found


def damage(conn: sqlite3.Connection, current: int) -> str | None:
    """What a store at version ``current`` lacks (a table, a column), or None if nothing.

    One query over ``sqlite_master``: cheap enough for every open.
    """
    expected = _expected.get(current)
    if expected is None:
        scratch = sqlite3.connect(":memory:")
        try:
            migrate(scratch, 0, until=current)
            expected = _expected[current] = columns(scratch)
        finally:
            scratch.close()
    found = columns(conn)
    for table, wanted in expected.items():
        if table not in found:
            return f"table {table} is missing"
        missing = sorted(wanted - found[table])
        if missing:
            return f"table {table} lacks column {', '.join(missing)}"
    return None


def migrate(conn: sqlite3.Connection, current: int, *, until: int = SCHEMA_VERSION) -> int:
    """Apply the migrations after ``current`` (inside the caller's transaction); returns the new version."""
    if current == 0:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for number, script in enumerate(MIGRATIONS[current:until], start=current + 1):
        for statement in filter(str.strip, script.split(";")):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    return until
