"""Reading one run from the store: its record, metric points, cell log and artifacts.

:class:`RunReader` is the read side of :class:`~mlnb.runs.store.Store`. A damaged
row does not hide the others: a field that is not valid JSON reads as empty and a
metric chunk that cannot be decoded is skipped, each with an
:class:`~mlnb.exceptions.MlnbWarning` naming the run (and a note in
:attr:`RunReader.damage_notes`), so the run can still be listed, shown and removed.
A run left ``running`` by a process that died reads as ``crashed``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

from mlnb.exceptions import MlnbWarning, RunNotFoundError
from mlnb.runs import liveness, points
from mlnb.runs.database import Database
from mlnb.runs.records import ArtifactRow, CellRow, MetricRow, RunRecord, loads, loads_finite

#: the runs table's columns, in the order :meth:`RunReader._record` reads them
RUN_COLUMNS = (
    "id, name, project, status, started, ended, heartbeat, pid, pid_started, host, "
    "config, tags, summary, provenance, error"
)


class RunReader(Database):
    """Reads single runs; see :class:`~mlnb.runs.store.Store` for the arguments."""

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
        """One run by id, name (the newest run of that name), or unique id prefix.

        A name comes before an id prefix: a run named ``1`` or ``bad`` is found by that
        name even when other runs' ids start with those characters.

        Raises:
            RunNotFoundError: ``ref`` is blank, nothing matches, or an id prefix matches
                several runs.
        """
        if not isinstance(ref, str) or not ref.strip():
            raise RunNotFoundError(ref, self.home, blank=True)
        rows = self._read(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (ref,))
        if not rows:
            rows = self._read(
                f"SELECT {RUN_COLUMNS} FROM runs WHERE name = ? ORDER BY started DESC LIMIT 1",
                (ref,),
            )
        if not rows:
            rows = self._read(
                f"SELECT {RUN_COLUMNS} FROM runs WHERE id LIKE ? ESCAPE '\\'",
                (ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",),
            )
            if len(rows) > 1:
                raise RunNotFoundError(ref, self.home, tuple(row[0] for row in rows))
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
