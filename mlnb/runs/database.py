"""The SQLite side of the run store: opening, migrating, and never saying "database is locked".

:class:`Database` owns one WAL-mode connection shared by a process's threads.
Every write is one ``BEGIN IMMEDIATE`` transaction; SQLite waits on a busy lock
(``busy_timeout``) and :meth:`Database._retry` retries on top for up to
:data:`RETRY_SECONDS`. SQLite's errors for files that cannot be used (read-only,
not a database, from a newer mlnb) become one :class:`~mlnb.exceptions.StoreError`
sentence, and the file is never overwritten.
"""

from __future__ import annotations

import os
import sqlite3
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

    def __enter__(self) -> Database:
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
