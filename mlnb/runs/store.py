"""The run store: one SQLite file (WAL mode) under ``MLNB_HOME``, artifacts in files beside it.

Layout::

    $MLNB_HOME/            (default ./.mlnb/, like MLflow's ./mlruns/)
        runs.db            runs, metric_chunks, cells, artifacts, schema_version
        artifacts/<run id>/...

Many processes may write one store at once: every write is one ``BEGIN IMMEDIATE``
transaction, SQLite waits on a busy lock (``busy_timeout``) and mlnb retries on
top, so "database is locked" never reaches the user. A store that cannot be
used — a read-only folder, a file that is not a SQLite database, a schema from a
newer mlnb — raises one :class:`~mlnb.exceptions.StoreError` sentence and mlnb
never overwrites the file.

Public read API (used by the CLI, the magics, pipelines and the lab panel):
:meth:`Store.list_runs`, :meth:`Store.get_run`, :meth:`Store.metrics`,
:meth:`Store.metric_keys`, :meth:`Store.cells`, :meth:`Store.artifacts`.

Environment variables:
    MLNB_HOME: the store folder (default ``./.mlnb``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from mlnb.exceptions import RunNotFoundError, StoreError
from mlnb.runs import liveness, points, schema
from mlnb.runs.records import ArtifactRow, CellRow, MetricRow, RunRecord, dumps, loads

ENV_HOME = "MLNB_HOME"
DB_NAME = "runs.db"
BUSY_TIMEOUT_MS = 10_000
#: how long a write keeps retrying a locked store before giving up with a StoreError
RETRY_SECONDS = 120.0

T = TypeVar("T")

MIGRATIONS = schema.MIGRATIONS
SCHEMA_VERSION = schema.SCHEMA_VERSION

_RUN_COLUMNS = (
    "id, name, project, status, started, ended, heartbeat, pid, pid_started, host, "
    "config, tags, summary, provenance, error"
)


def default_home() -> Path:
    """The store folder: ``$MLNB_HOME`` or ``./.mlnb``."""
    return Path(os.environ.get(ENV_HOME) or ".mlnb").expanduser().absolute()


def _is_transient(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Store:
    """A run store folder. Thread-safe; cheap to open; close it or use it as a context manager.

    Args:
        home: the store folder (default: :func:`default_home`).
        readonly: open for reading only; a missing store then reads as empty instead
            of being created.

    Raises:
        StoreError: the folder is read-only, the file is not a run store, or its
            schema is newer than this mlnb.
    """

    def __init__(self, home: str | os.PathLike[str] | None = None, *, readonly: bool = False):
        self.home = Path(home).expanduser().absolute() if home else default_home()
        self.path = self.home / DB_NAME
        self.readonly = readonly
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        if readonly:
            if self.path.exists():
                self._conn = self._guard(self._connect_readonly)
        else:
            self._ensure_writable_folder()
            self._conn = self._guard(self._connect)
            self._retry(self._migrate)

    # --- opening ---------------------------------------------------------------

    @property
    def artifacts_dir(self) -> Path:
        """Where run artifacts live: ``<home>/artifacts``."""
        return self.home / "artifacts"

    def _ensure_writable_folder(self) -> None:
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                self.home,
                f"cannot create the run store folder {self.home} ({exc.strerror or exc}) — "
                f"set {ENV_HOME} to a writable folder.",
            ) from None
        if not os.access(self.home, os.W_OK | os.X_OK):
            raise self._read_only_error()

    def _read_only_error(self) -> StoreError:
        return StoreError(
            self.home,
            f"the run store folder {self.home} is read-only — set {ENV_HOME} to a writable "
            "folder; nothing was written (`mlnb runs ls` can still read it).",
        )

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _connect_readonly(self) -> sqlite3.Connection:
        try:
            conn = self._open_uri("mode=ro")
            version = self._version(conn)
        except sqlite3.OperationalError as exc:
            if "unable to open" not in str(exc).lower() or os.access(self.home, os.W_OK):
                raise
            # a WAL store in a folder we cannot write: read the file as it was last checkpointed
            conn = self._open_uri("mode=ro&immutable=1")
            version = self._version(conn)
        if version > SCHEMA_VERSION:
            raise self._newer_schema_error(version)
        return conn

    def _open_uri(self, options: str) -> sqlite3.Connection:
        conn = sqlite3.connect(
            f"{self.path.as_uri()}?{options}",
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return conn

    def _version(self, conn: sqlite3.Connection) -> int:
        version = schema.version(conn)
        if version is None:
            raise StoreError(
                self.path,
                f"{self.path} is a SQLite file but not an mlnb run store; mlnb left it "
                f"untouched — move it aside or set {ENV_HOME} to another folder.",
            )
        return version

    def _newer_schema_error(self, version: int) -> StoreError:
        return StoreError(
            self.path,
            f"the run store {self.path} has schema version {version}, newer than this mlnb "
            f"understands ({SCHEMA_VERSION}) — upgrade mlnb to read it.",
        )

    def _migrate(self) -> None:
        conn = self._conn
        assert conn is not None
        with self._lock:
            self._guard(lambda: conn.execute("BEGIN IMMEDIATE"))
            try:
                version = self._guard(lambda: self._version(conn))
                if version > SCHEMA_VERSION:
                    raise self._newer_schema_error(version)
                schema.migrate(conn, version)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        """The schema version of the file (0 for a store that does not exist yet)."""
        if self._conn is None:
            return 0
        with self._lock:
            return self._guard(lambda: self._version(self._conn))  # type: ignore[arg-type]

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- error mapping and retries ---------------------------------------------

    def _guard(self, fn: Callable[[], T]) -> T:
        """Run ``fn``; turn SQLite's unusable-file errors into one StoreError sentence."""
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if "readonly" in text or "read-only" in text:
                raise self._read_only_error() from None
            if "unable to open" in text:
                raise StoreError(
                    self.path,
                    f"cannot open the run store {self.path} ({exc}) — check that the folder "
                    f"exists and is readable, or set {ENV_HOME} to another folder.",
                ) from None
            raise
        except sqlite3.DatabaseError as exc:
            text = str(exc).lower()
            if "not a database" in text or "malformed" in text or "corrupt" in text:
                raise StoreError(
                    self.path,
                    f"{self.path} is not a readable run store ({exc}); mlnb left it untouched "
                    f"— move it aside or set {ENV_HOME} to another folder.",
                ) from None
            raise

    def _retry(self, fn: Callable[[], T]) -> T:
        """Run ``fn``, retrying while another process holds the write lock."""
        deadline = time.monotonic() + RETRY_SECONDS
        delay = 0.005
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_transient(exc):
                    raise
                if time.monotonic() > deadline:
                    raise StoreError(
                        self.path,
                        f"the run store {self.path} stayed locked by another process for "
                        f"{RETRY_SECONDS:.0f} s — nothing was lost in memory; retry, or stop "
                        "the process that holds it.",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.25)

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` in one IMMEDIATE transaction, retried while the store is busy."""
        if self.readonly or self._conn is None:
            raise StoreError(
                self.path, f"the run store {self.home} was opened read-only; nothing was written."
            )

        def attempt() -> T:
            conn = self._conn
            assert conn is not None
            with self._lock:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(conn)
                    conn.execute("COMMIT")
                    return result
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise

        return self._guard(lambda: self._retry(attempt))

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._conn is None:
            return []
        conn = self._conn

        def attempt() -> list[tuple[Any, ...]]:
            with self._lock:
                return conn.execute(sql, params).fetchall()

        return self._guard(lambda: self._retry(attempt))

    # --- writing (used by Run) -------------------------------------------------

    def create_run(self, record: RunRecord, pid_started: float | None) -> None:
        """Insert a new run."""
        self._write(
            lambda c: c.execute(
                f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    record.id,
                    record.name,
                    record.project,
                    record.status,
                    record.started,
                    record.ended,
                    record.heartbeat,
                    record.pid,
                    pid_started,
                    record.host,
                    dumps(record.config),
                    dumps(list(record.tags)),
                    dumps(record.summary),
                    dumps(record.provenance),
                    record.error,
                ),
            )
        )

    def append(
        self,
        run_id: str,
        chunks: Mapping[str, points.Chunk] | None = None,
        cells: Iterable[CellRow] = (),
        **fields: Any,
    ) -> None:
        """Write metric points, cell records and run fields of one flush.

        Args:
            run_id: the run.
            chunks: metric name → its packed points (see :mod:`mlnb.runs.points`).
            cells: cell records to insert or replace.
            **fields: run columns to update (``heartbeat``, ``status``, ``summary``...);
                dict/list values are stored as JSON.
        """
        rows = [
            (
                run_id,
                key,
                len(c),
                c.steps[0],
                c.steps[-1],
                points.encode(c.values[-1:]),
                points.encode(c.steps),
                points.encode(c.values),
                points.encode(c.times),
                points.encode(c.cells),
            )
            for key, c in (chunks or {}).items()
            if len(c)
        ]
        cell_rows = [(run_id, *cell) for cell in cells]
        updates = {
            k: dumps(v) if isinstance(v, (dict, list, tuple)) else v for k, v in fields.items()
        }

        def write(conn: sqlite3.Connection) -> None:
            if rows:
                conn.executemany("INSERT INTO metric_chunks VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
            if cell_rows:
                conn.executemany(
                    "INSERT OR REPLACE INTO cells VALUES (?,?,?,?,?,?,?,?,?)", cell_rows
                )
            if updates:
                assignments = ", ".join(f"{name} = ?" for name in updates)
                conn.execute(
                    f"UPDATE runs SET {assignments} WHERE id = ?", (*updates.values(), run_id)
                )

        self._write(write)

    def add_artifact(self, run_id: str, artifact: ArtifactRow) -> None:
        """Record a file stored under :attr:`artifacts_dir`."""
        self._write(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO artifacts VALUES (?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    artifact.name,
                    artifact.path,
                    artifact.kind,
                    artifact.size,
                    artifact.sha256,
                    artifact.created,
                    dumps(artifact.meta),
                ),
            )
        )

    def remove_artifact(self, run_id: str, path: str) -> None:
        """Forget an artifact record (the caller deletes the file)."""
        self._write(
            lambda c: c.execute(
                "DELETE FROM artifacts WHERE run_id = ? AND path = ?", (run_id, path)
            )
        )

    def delete_run(self, run_id: str) -> None:
        """Delete a run's rows and its artifact folder."""
        import shutil

        def write(conn: sqlite3.Connection) -> None:
            for table, column in (
                ("metric_chunks", "run_id"),
                ("cells", "run_id"),
                ("artifacts", "run_id"),
                ("runs", "id"),
            ):
                conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (run_id,))

        self._write(write)
        shutil.rmtree(self.artifacts_dir / run_id, ignore_errors=True)

    # --- reading (the public read API) -----------------------------------------

    def list_runs(
        self,
        *,
        project: str | None = None,
        tags: Sequence[str] = (),
        status: str | Sequence[str] | None = None,
        name: str | None = None,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first, filtered by project, tags (all must match), status and name."""
        clauses, params = [], []
        if project is not None:
            clauses.append("project = ?")
            params.append(project)
        if name is not None:
            clauses.append("name = ?")
            params.append(name)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._read(f"SELECT {_RUN_COLUMNS} FROM runs {where} ORDER BY started DESC", params)
        records = [self._record(row) for row in rows]
        wanted_status = {status} if isinstance(status, str) else set(status or ())
        records = [
            r
            for r in records
            if set(tags) <= set(r.tags) and (not wanted_status or r.status in wanted_status)
        ]
        return records[:limit] if limit else records

    def get_run(self, ref: str) -> RunRecord:
        """One run by id, unique id prefix, or name (the newest run of that name).

        Raises:
            RunNotFoundError: nothing matches, or an id prefix matches several runs.
        """
        rows = self._read(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (ref,))
        if not rows:
            rows = self._read(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE id LIKE ? ESCAPE '\\'",
                (ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",),
            )
            if len(rows) > 1:
                raise RunNotFoundError(ref, self.home, tuple(row[0] for row in rows))
        if not rows:
            rows = self._read(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE name = ? ORDER BY started DESC LIMIT 1",
                (ref,),
            )
        if not rows:
            raise RunNotFoundError(ref, self.home)
        return self._record(rows[0])

    def metrics(self, run_id: str, keys: Sequence[str] | None = None) -> list[MetricRow]:
        """A run's metric points as rows, ordered by key, then step, then logging order.

        Values are floats and keep NaN, ``inf`` and ``-inf``; steps are exact ints.
        """
        sql = "SELECT key, steps, vals, times, cells FROM metric_chunks WHERE run_id = ?"
        params: list[Any] = [run_id]
        if keys:
            sql += f" AND key IN ({','.join('?' * len(keys))})"
            params += list(keys)
        by_key: dict[str, list[tuple[bytes, bytes, bytes, bytes]]] = {}
        for key, *blobs in self._read(sql + " ORDER BY key, rowid", params):
            by_key.setdefault(key, []).append(tuple(blobs))  # type: ignore[arg-type]
        return [row for key, chunks in by_key.items() for row in points.rows(key, chunks)]

    def metric_keys(self, run_id: str) -> list[str]:
        """The names of the metrics a run logged, sorted."""
        rows = self._read(
            "SELECT DISTINCT key FROM metric_chunks WHERE run_id = ? ORDER BY key", (run_id,)
        )
        return [row[0] for row in rows]

    def count_metrics(self, run_id: str | None = None) -> int:
        """How many metric points are stored (for one run, or in the whole store)."""
        if run_id is None:
            rows = self._read("SELECT coalesce(sum(n), 0) FROM metric_chunks")
        else:
            rows = self._read(
                "SELECT coalesce(sum(n), 0) FROM metric_chunks WHERE run_id = ?", (run_id,)
            )
        return int(rows[0][0]) if rows else 0

    def cells(self, run_id: str) -> list[CellRow]:
        """The cell log of a run, in the order the cells ran."""
        rows = self._read(
            "SELECT seq, execution_count, source, hash, started, ended, status, error "
            "FROM cells WHERE run_id = ? ORDER BY seq",
            (run_id,),
        )
        return [CellRow(*row) for row in rows]

    def artifacts(self, run_id: str, kind: str | None = None) -> list[ArtifactRow]:
        """A run's artifacts (optionally of one kind: ``file``, ``git-diff``, ``checkpoint``)."""
        sql = "SELECT name, path, kind, size, sha256, created, meta FROM artifacts WHERE run_id = ?"
        params: list[Any] = [run_id]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        rows = self._read(sql + " ORDER BY created", params)
        return [ArtifactRow(*row[:6], loads(row[6], {})) for row in rows]

    def _record(self, row: tuple[Any, ...]) -> RunRecord:
        (
            run_id,
            name,
            project,
            status,
            started,
            ended,
            heartbeat,
            pid,
            pid_started,
            host,
            config,
            tags,
            summary,
            provenance,
            error,
        ) = row
        if status == "running":
            reason = liveness.dead_reason(pid, pid_started, host, heartbeat)
            if reason is not None:
                status, ended, error = "crashed", heartbeat or started, reason
                if not self.readonly:
                    self._mark_crashed(run_id, ended, reason)
        return RunRecord(
            id=run_id,
            name=name,
            project=project,
            status=status,
            started=started,
            ended=ended,
            heartbeat=heartbeat,
            pid=pid,
            host=host,
            config=loads(config, {}),
            tags=tuple(loads(tags, [])),
            summary=loads(summary, {}),
            provenance=loads(provenance, {}),
            error=error,
        )

    def _mark_crashed(self, run_id: str, ended: float, reason: str) -> None:
        self._write(
            lambda c: c.execute(
                "UPDATE runs SET status = 'crashed', ended = ?, error = ? "
                "WHERE id = ? AND status = 'running'",
                (ended, reason, run_id),
            )
        )
