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
never overwrites the file. A damaged row does not hide the others: a field that
is not valid JSON reads as empty and a metric chunk that cannot be decoded is
skipped, each with an :class:`~mlnb.exceptions.MlnbWarning` naming the run, so
the run can still be listed, shown and removed.

Public read API (used by the CLI, the magics, pipelines and the lab panel):
:meth:`Store.list_runs`, :meth:`Store.get_run`, :meth:`Store.metrics`,
:meth:`Store.metric_keys`, :meth:`Store.cells`, :meth:`Store.artifacts`.

Environment variables:
    MLNB_HOME: the store folder (default ``./.mlnb``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from mlnb.exceptions import RunsError
from mlnb.runs import points
from mlnb.runs.database import ENV_HOME, SCHEMA_VERSION, default_home
from mlnb.runs.listing import RunListing
from mlnb.runs.reading import RUN_COLUMNS
from mlnb.runs.records import ArtifactRow, CellRow, RunRecord, dumps

__all__ = ["ENV_HOME", "SCHEMA_VERSION", "Store", "default_home"]


class Store(RunListing):
    """A run store folder: runs, their metric points, cell logs and artifacts.

    Thread-safe; cheap to open; close it or use it as a context manager.

    Args:
        home: the store folder (default: ``$MLNB_HOME`` or ``./.mlnb``).
        readonly: open for reading only; a missing store then reads as empty instead
            of being created.
        busy_timeout: seconds a reader waits for a store another process holds.
        warn_damage: warn about damaged rows (they are always in :attr:`damage_notes`).

    Raises:
        StoreError: the folder is read-only, the file is not a run store, or its
            schema is newer than this mlnb.
    """

    def __enter__(self) -> Store:
        return self

    # --- writing (used by Run) -------------------------------------------------

    def create_run(self, record: RunRecord, pid_started: float | None) -> None:
        """Insert a new run.

        Raises:
            RunsError: the store already has a run with this id.
        """
        if self._read("SELECT 1 FROM runs WHERE id = ?", (record.id,)):
            raise RunsError(
                f"the run store {self.home} already has a run with id {record.id!r} — "
                "a run id is used once; let mlnb choose a new one."
            )
        self._write(
            lambda c: c.execute(
                f"INSERT INTO runs ({RUN_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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

    def runs_to_delete(self, refs: Iterable[str], *, force: bool = False) -> list[RunRecord]:
        """The runs ``refs`` name (ids, id prefixes or names), checked before deleting them.

        Raises:
            RunNotFoundError: a reference matches no run.
            RunsError: a run is still running and ``force`` is false.
        """
        records = [self.get_run(ref) for ref in refs]
        running = [r for r in records if r.status == "running"]
        if running and not force:
            raise RunsError(
                f"run {running[0].name!r} ({running[0].id}) is still running — finish it first, or pass --force."
            )
        return records

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
