"""The SQLite side of the run store: opening, migrating, and never saying "database is locked".

:class:`Database` owns one WAL-mode connection shared by a process's threads.
Every write is one ``BEGIN IMMEDIATE`` transaction; SQLite waits on a busy lock
(``busy_timeout``) and :meth:`Database._retry` retries on top for up to
:data:`RETRY_SECONDS`. Readers wait at most :data:`READ_BUSY_TIMEOUT` seconds for
a store another process holds exclusively, then say so. Every SQLite error —
a read-only folder, a file that is not a database, damaged pages, a missing
table, a newer schema, a full disk — becomes one :class:`~mlnb.exceptions.StoreError`
sentence, and the file is never overwritten: a writer checks that the file is an
mlnb store *before* it switches it to WAL mode, and a reader never creates the
store or changes its journal mode. A store in a folder that cannot be written is
read as it is, write-ahead log included (from a private copy when SQLite cannot
share the log's index there).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from mlnb import config
from mlnb.exceptions import StoreError
from mlnb.runs import schema

ENV_HOME = config.HOME.env
DB_NAME = "runs.db"
BUSY_TIMEOUT_MS = 10_000
#: how long a write keeps retrying a locked store before giving up with a StoreError
RETRY_SECONDS = 120.0
#: seconds a reader waits for a store another process holds exclusively (the lab server: less)
READ_BUSY_TIMEOUT = 5.0

T = TypeVar("T")

SCHEMA_VERSION = schema.SCHEMA_VERSION


def default_home() -> Path:
    """The store folder: ``$MLNB_HOME`` or ``./.mlnb``."""
    return config.home()


def _is_transient(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Database:
    """A run store's SQLite file. Thread-safe; cheap to open; close it or use it as a context manager.

    Args:
        home: the store folder (default: :func:`default_home`).
        readonly: open for reading only; a missing store then reads as empty instead
            of being created, and nothing in the folder is changed.
        busy_timeout: seconds a reader waits for a store held exclusively by another
            process (default :data:`READ_BUSY_TIMEOUT`).

    Raises:
        StoreError: the folder is read-only (writers), the file is not a run store or
            is damaged, its schema is newer than this mlnb, or it stayed locked.
    """

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        *,
        readonly: bool = False,
        busy_timeout: float | None = None,
    ):
        self.home = Path(home).expanduser().absolute() if home else default_home()
        self.path = self.home / DB_NAME
        self.readonly = readonly
        self.pid = os.getpid()  # a connection must not be used across fork
        self._busy_timeout = READ_BUSY_TIMEOUT if busy_timeout is None else busy_timeout
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._snapshot: Path | None = None
        self._check_paths()
        if readonly:
            if self.path.exists():
                self._conn = self._guard(self._connect_readonly)
        else:
            self._ensure_writable_folder()
            self._conn = self._guard(self._connect)
            self._guard(lambda: self._retry(self._migrate))

    # --- opening ---------------------------------------------------------------

    @property
    def artifacts_dir(self) -> Path:
        """Where run artifacts live: ``<home>/artifacts``."""
        return self.home / "artifacts"

    def _check_paths(self) -> None:
        if self.home.exists() and not self.home.is_dir():
            raise StoreError(
                self.home,
                f"{ENV_HOME} points at {self.home}, which is a file, not a folder — set "
                f"{ENV_HOME} to a folder for the run store.",
            )
        if self.path.is_dir():
            raise StoreError(
                self.path,
                f"{self.path} is a folder, not a run store file; mlnb left it untouched — "
                f"move it aside or set {ENV_HOME} to another folder.",
            )

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
        try:
            # is it an mlnb store (or empty)? asked before anything can change the file
            self._retry(lambda: self._checked_version(conn))
            self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        return conn

    def _checked_version(self, conn: sqlite3.Connection) -> int:
        """The schema version, after refusing a foreign, newer or damaged store."""
        version = self._version(conn)
        if version > SCHEMA_VERSION:
            raise self._newer_schema_error(version)
        if version:
            problem = schema.damage(conn, version)
            if problem:
                raise StoreError(
                    self.path,
                    f"the run store {self.path} is damaged ({problem}); mlnb left it untouched "
                    f"— move it aside or set {ENV_HOME} to another folder.",
                )
        return version

    def _connect_readonly(self) -> sqlite3.Connection | None:
        """A read-only connection, or None for an empty file (a store never written: it reads
        as empty, like a missing one — e.g. the zero-length file a full disk leaves)."""
        conn = self._open_uri(self.path, "mode=ro")
        try:
            if self._checked_version(conn) == 0:
                conn.close()
                return None
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            text = str(exc).lower()
            if "unable to open" not in text and "readonly" not in text:
                raise
        # a WAL store in a folder this process cannot write: SQLite cannot share the
        # log's index, so read the store as it is from a private copy of file and log
        wal = self.path.with_name(DB_NAME + "-wal")
        if not (wal.exists() and wal.stat().st_size):
            conn = self._open_uri(self.path, "mode=ro&immutable=1")
        else:
            self._snapshot = Path(tempfile.mkdtemp(prefix="mlnb-store-"))
            shutil.copyfile(self.path, self._snapshot / DB_NAME)
            shutil.copyfile(wal, self._snapshot / wal.name)
            conn = self._open_uri(self._snapshot / DB_NAME, "mode=rw")
        try:
            version = self._checked_version(conn)
        except BaseException:
            conn.close()
            raise
        if version == 0:
            conn.close()
            return None
        return conn

    def _open_uri(self, path: Path, options: str) -> sqlite3.Connection:
        conn = sqlite3.connect(
            f"{path.as_uri()}?{options}",
            uri=True,
            timeout=self._busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
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
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = self._checked_version(conn)
                if version < SCHEMA_VERSION:
                    schema.migrate(conn, version)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        """The schema version of the file (0 for a store that does not exist yet)."""
        conn = self._conn
        if conn is None:
            return 0
        with self._lock:
            return self._guard(lambda: self._version(conn))

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._snapshot is not None:
                shutil.rmtree(self._snapshot, ignore_errors=True)
                self._snapshot = None

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- error mapping and retries ---------------------------------------------

    def _guard(self, fn: Callable[[], T]) -> T:
        """Run ``fn``; turn every SQLite error into one StoreError sentence.

        Writers' "locked"/"busy" errors pass through to :meth:`_retry`, which waits.
        """
        try:
            return fn()
        except sqlite3.Error as exc:
            if (
                not self.readonly
                and isinstance(exc, sqlite3.OperationalError)
                and _is_transient(exc)
            ):
                raise
            raise self._store_error(exc) from None

    def _store_error(self, exc: sqlite3.Error) -> StoreError:
        """The one sentence for a SQLite error on this store."""
        text = str(exc).lower()
        where = self.path
        if "locked" in text or "busy" in text:
            return StoreError(
                where,
                f"the run store {where} is locked by another process (it held the store "
                f"for more than {self._busy_timeout:g} s); nothing was read or changed — "
                "try again when that process is done.",
            )
        if "full" in text:
            return StoreError(
                where,
                f"the disk holding the run store {self.home} is full ({exc}) — free some "
                "space and try again.",
            )
        if not self.readonly and ("readonly" in text or "read-only" in text):
            return self._read_only_error()
        if "unable to open" in text:
            return StoreError(
                where,
                f"cannot open the run store {where} ({exc}) — check that the folder exists "
                f"and is readable, or set {ENV_HOME} to another folder.",
            )
        if "no such table" in text or "no such column" in text or "has no column" in text:
            return StoreError(
                where,
                f"the run store {where} is damaged ({exc}); mlnb left it untouched — move "
                f"it aside or set {ENV_HOME} to another folder.",
            )
        if isinstance(exc, sqlite3.IntegrityError):
            return StoreError(where, f"the run store {where} refused the request ({exc}).")
        return StoreError(
            where,
            f"{where} is not a readable run store ({exc}); mlnb left it untouched — move "
            f"it aside or set {ENV_HOME} to another folder.",
        )

    def _retry(self, fn: Callable[[], T]) -> T:
        """Run ``fn``, retrying while another process holds the write lock."""
        deadline = time.monotonic() + RETRY_SECONDS
        delay = 0.005
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_transient(exc) or self.readonly:
                    raise  # a reader does not wait longer than its busy timeout
                if time.monotonic() > deadline:
                    raise StoreError(
                        self.path,
                        f"the run store {self.path} stayed locked by another process for "
                        f"{RETRY_SECONDS:g} s — nothing was lost in memory; retry, or stop "
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
