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

import os
import sqlite3
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mlnb.exceptions import InvalidArgumentError, MlnbWarning, RunNotFoundError, RunsError
from mlnb.runs import liveness, points
from mlnb.runs.database import ENV_HOME, SCHEMA_VERSION, Database, default_home
from mlnb.runs.records import (
    STATUSES,
    ArtifactRow,
    CellRow,
    MetricRow,
    RunRecord,
    dumps,
    loads,
    loads_finite,
)

__all__ = ["ENV_HOME", "SCHEMA_VERSION", "Store", "default_home"]

#: statuses a list can filter by (``crashed`` includes runs whose process died while running)
_STATUS_SQL = {
    "running": ("status = 'running'",),
    "crashed": ("status IN ('crashed', 'running')",),
}

#: SQLite's integers are 64-bit: a larger LIMIT or OFFSET (2**63 from a user) is clamped to this
_SQL_MAX = 2**62

_RUN_COLUMNS = (
    "id, name, project, status, started, ended, heartbeat, pid, pid_started, host, "
    "config, tags, summary, provenance, error"
)


class Store(Database):
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

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        *,
        readonly: bool = False,
        busy_timeout: float | None = None,
        warn_damage: bool = True,
    ) -> None:
        #: the damaged rows reads came across, one sentence each
        self.damage_notes: list[str] = []
        #: warn (MlnbWarning) about damaged rows; the lab server turns this off, reads the notes
        self.warn_damage = warn_damage
        super().__init__(home, readonly=readonly, busy_timeout=busy_timeout)

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
        """Runs, newest first, filtered by project, tags (all must match), status and name.

        Raises:
            InvalidArgumentError: ``limit`` is not a positive whole number, or a status
                is not one of :data:`~mlnb.runs.records.STATUSES`.
        """
        _check_limit(limit)
        wanted_status = {status} if isinstance(status, str) else set(status or ())
        for state in wanted_status:
            _check_status(state)
        clauses, params = [], []
        if project is not None:
            clauses.append("project = ?")
            params.append(project)
        if name is not None:
            clauses.append("name = ?")
            params.append(name)
        sql_limit = ""
        if wanted_status and not wanted_status & {"running", "crashed"}:
            clauses.append(f"status IN ({','.join('?' * len(wanted_status))})")
            params.extend(sorted(wanted_status))
        if limit and not tags and not wanted_status & {"running", "crashed"}:
            sql_limit = f" LIMIT {min(int(limit), _SQL_MAX)}"
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._read(
            f"SELECT {_RUN_COLUMNS} FROM runs {where} ORDER BY started DESC{sql_limit}", params
        )
        records = [self._record(row) for row in rows]
        records = [
            r
            for r in records
            if set(tags) <= set(r.tags) and (not wanted_status or r.status in wanted_status)
        ]
        return records[:limit] if limit else records

    def count_runs(self) -> int:
        """How many runs the store holds."""
        rows = self._read("SELECT count(*) FROM runs")
        return int(rows[0][0]) if rows else 0

    def list_summaries(
        self,
        *,
        project: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """A light listing for tables (the lab's Runs panel): no config or provenance parsed.

        Only the page asked for is read (the ``runs_by_started``/``runs_by_status``
        indexes keep that fast on 100,000 runs); ``total`` is counted in SQL.

        Returns:
            (rows, total): at most ``limit`` dicts from ``offset`` on, newest first, each
            with ``id, name, project, status, started, ended, duration, host, tags,
            summary`` (NaN and infinities as strings), ``notebook`` and ``output`` paths
            from the provenance, and ``error``; ``total`` counts every match.

        Raises:
            InvalidArgumentError: a bad ``limit``, ``offset`` or ``status``.
        """
        _check_limit(limit)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidArgumentError(f"offset must be a whole number ≥ 0, got {offset!r}.")
        if status is not None:
            _check_status(status)
        clauses, params = [], []
        if project is not None:
            clauses.append("project = ?")
            params.append(project)
        live_filter = status in ("running", "crashed")
        if status is not None:
            clauses.extend(_STATUS_SQL.get(status, ("status = ?",)))
            if not live_filter:
                params.append(status)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        columns = (
            "id, name, project, status, started, ended, heartbeat, pid, pid_started, host,"
            " tags, summary, json_extract(provenance, '$.notebook.path'),"
            " json_extract(provenance, '$.pipeline.output_path'), error"
        )
        if live_filter:
            # few runs are 'running' in the table: read them all, then page
            rows = self._read(f"SELECT {columns} FROM runs {where} ORDER BY started DESC", params)
            entries = [self._summary_row(row) for row in rows]
            entries = [e for e in entries if e[0]["status"] == status]
            total = len(entries)
            entries = entries[offset : offset + limit if limit else None]
        else:
            page = f" LIMIT {min(int(limit), _SQL_MAX) if limit else -1} OFFSET {min(offset, _SQL_MAX)}"
            rows = self._read(
                f"SELECT {columns} FROM runs {where} ORDER BY started DESC{page}", params
            )
            entries = [self._summary_row(row) for row in rows]
            counted = self._read(f"SELECT count(*) FROM runs {where}", params)
            total = int(counted[0][0]) if counted else 0
        found = [entry for entry, _summary in entries]
        summaries = [summary for _entry, summary in entries]
        for entry, summary in zip(found, self._summaries(found, summaries), strict=True):
            entry["summary"] = summary
        return found, total

    def _summary_row(self, row: tuple[Any, ...]) -> tuple[dict[str, Any], str]:
        run_id, name, proj, state, started, ended, heartbeat, pid, pid_started, host = row[:10]
        tags, summary, notebook, output, error = row[10:]
        if state == "running":
            reason = liveness.dead_reason(pid, pid_started, host, heartbeat)
            if reason is not None:
                state, ended, error = "crashed", heartbeat or started, reason
        end = ended or heartbeat or time.time()
        entry = {
            "id": run_id,
            "name": name,
            "project": proj,
            "status": state,
            "started": started,
            "ended": ended,
            "duration": max(0.0, end - started),
            "host": host,
            "tags": [] if tags == "[]" else self._field(tags, [], run_id, "tags"),
            "notebook": notebook if isinstance(notebook, str) else None,
            "output": output if isinstance(output, str) else None,
            "error": error,
        }
        return entry, summary or "{}"

    def _summaries(self, found: list[dict[str, Any]], texts: list[str]) -> list[Any]:
        # one JSON parse for every summary: per-row json.loads was most of a 5,000-run listing
        try:
            parsed = loads_finite(f"[{','.join(texts)}]", [])
            if len(parsed) == len(texts) and all(isinstance(p, dict) for p in parsed):
                return list(parsed)
        except ValueError:
            pass
        return [
            self._field(text, {}, entry["id"], "summary", finite=True)
            for entry, text in zip(found, texts, strict=True)
        ]

    def _field(
        self, text: Any, default: Any, run_id: str, column: str, *, finite: bool = False
    ) -> Any:
        """A JSON column of one run; a damaged one reads as ``default`` with a warning."""
        try:
            value = (loads_finite if finite else loads)(text, default)
        except (ValueError, TypeError):
            value = None
        if value is not None and type(value) is type(default):
            return value
        self._damaged(
            f"run {run_id}: its stored {column} is damaged (not valid JSON) and is shown "
            f"empty; the run can still be shown and removed (`mlnb runs rm {run_id}`)."
        )
        return default

    def _damaged(self, note: str) -> None:
        """Say once that a row is damaged: an MlnbWarning, and in :attr:`damage_notes`."""
        if note in self.damage_notes:
            return
        self.damage_notes.append(note)
        if self.warn_damage:
            warnings.warn(note, MlnbWarning, stacklevel=4)

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
        damaged: dict[str, int] = {}
        for key, *blobs in self._read(sql + " ORDER BY key, rowid", params):
            chunk = (blobs[0], blobs[1], blobs[2], blobs[3])
            if points.intact(chunk):
                by_key.setdefault(key, []).append(chunk)
            else:
                damaged[key] = damaged.get(key, 0) + 1
        if damaged:
            listed = ", ".join(f"{key!r} ({n})" for key, n in sorted(damaged.items()))
            self._damaged(
                f"run {run_id}: {sum(damaged.values())} stored chunk(s) of points cannot be "
                f"decoded and are left out: {listed}; the other points are shown."
            )
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
        return [
            ArtifactRow(
                name, path, kind_, size, sha256, created, self._field(meta, {}, run_id, "meta")
            )
            for name, path, kind_, size, sha256, created, meta in rows
        ]

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
            config=self._field(config, {}, run_id, "config"),
            tags=tuple(self._field(tags, [], run_id, "tags")),
            summary=self._field(summary, {}, run_id, "summary"),
            provenance=self._field(provenance, {}, run_id, "provenance"),
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


def _check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidArgumentError(f"limit must be a whole number ≥ 1, got {limit!r}.")


def _check_status(status: object) -> None:
    if status not in STATUSES:
        raise InvalidArgumentError(f"status must be one of {', '.join(STATUSES)}, got {status!r}.")
