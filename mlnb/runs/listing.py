"""Listing runs: filtered lists of records, and light pages of summaries for tables.

:class:`RunListing` is the listing side of :class:`~mlnb.runs.store.Store`:
:meth:`RunListing.list_runs` for Python users and the CLI, and
:meth:`RunListing.list_summaries` for the lab's Runs panel, which reads only the
page it shows.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import Any

from mlnb.exceptions import InvalidArgumentError
from mlnb.runs import liveness
from mlnb.runs.reading import RUN_COLUMNS, RunReader
from mlnb.runs.records import STATUSES, RunRecord, loads_finite

#: statuses a list can filter by (``crashed`` includes runs whose process died while running)
_STATUS_SQL = {
    "running": ("status = 'running'",),
    "crashed": ("status IN ('crashed', 'running')",),
}

#: SQLite's integers are 64-bit: a larger LIMIT or OFFSET (2**63 from a user) is clamped to this
_SQL_MAX = 2**62


class RunListing(RunReader):
    """Lists runs; see :class:`~mlnb.runs.store.Store` for the arguments."""

    def list_runs(
        self,
        *,
        project: str | None = None,
        tags: Sequence[str] = (),
        status: str | Sequence[str] | None = None,
        name: str | None = None,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first, filtered by project, tags (all must match; a string is one tag),
        status and name.

        Raises:
            InvalidArgumentError: ``limit`` is not a positive whole number, or a status
                is not one of :data:`~mlnb.runs.records.STATUSES`.
        """
        _check_limit(limit)
        wanted_tags = {tags} if isinstance(tags, str) else set(tags)  # one tag, not its letters
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
        if limit and not wanted_tags and not wanted_status & {"running", "crashed"}:
            sql_limit = f" LIMIT {min(int(limit), _SQL_MAX)}"
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._read(
            f"SELECT {RUN_COLUMNS} FROM runs {where} ORDER BY started DESC{sql_limit}", params
        )
        records = [self._record(row) for row in rows]
        records = [
            r
            for r in records
            if wanted_tags <= set(r.tags) and (not wanted_status or r.status in wanted_status)
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
        # a damaged summary fails the joint parse: then each is read alone, and only it is lost
        with contextlib.suppress(ValueError):
            parsed = loads_finite(f"[{','.join(texts)}]", [])
            if len(parsed) == len(texts) and all(isinstance(p, dict) for p in parsed):
                return list(parsed)
        return [
            self._field(text, {}, entry["id"], "summary", finite=True)
            for entry, text in zip(found, texts, strict=True)
        ]


def _check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidArgumentError(f"limit must be a whole number ≥ 1, got {limit!r}.")


def _check_status(status: object) -> None:
    if status not in STATUSES:
        raise InvalidArgumentError(f"status must be one of {', '.join(STATUSES)}, got {status!r}.")
