"""Moving one run from a store on another machine into this one.

A run executed on a cluster node (a Ray worker, a Slurm job) is recorded in a store on
that node's scratch disk — SQLite must never be shared over a network file system, and the
node must not touch the driver's files. :func:`export_run` packs the run (its record, its
logged points and its cell log) as plain JSON-able data; the driver hands that to
:func:`import_run`, which writes it into its own store as if the run had happened here.
"""

from __future__ import annotations

import os
from typing import Any

from mlnb.runs import points
from mlnb.runs.records import CellRow, RunRecord
from mlnb.runs.session import open_store


def export_run(run_id: str, home: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Run ``run_id`` of the store at ``home`` (default ``$MLNB_HOME``) as JSON-able data:
    ``{"record": {...}, "metrics": [[key, step, value, time, cell], ...], "cells": [[...]]}``."""
    store = open_store(home)
    return {
        "record": store.get_run(run_id).to_dict(),
        "metrics": [list(row) for row in store.metrics(run_id)],
        "cells": [list(row) for row in store.cells(run_id)],
    }


def import_run(
    data: dict[str, Any], record: RunRecord, home: str | os.PathLike[str] | None = None
) -> RunRecord:
    """Write a run :func:`export_run` packed into the store at ``home``, as ``record`` (the
    packed record with this machine's paths put in by the caller); returns ``record``.

    Raises:
        RunsError: the store already holds a run with this id.
        StoreError: the store cannot be written.
    """
    by_key: dict[str, points.Chunk] = {}
    for key, step, value, when, cell in data.get("metrics", []):
        chunk = by_key.setdefault(key, points.new_chunk())
        chunk.steps.append(int(step))
        chunk.values.append(float(value))
        chunk.times.append(float(when))
        chunk.cells.append(points.NO_CELL if cell is None else int(cell))
    store = open_store(home)
    store.create_run(record, None)
    store.append(
        record.id,
        chunks=by_key,
        cells=[CellRow(*row) for row in data.get("cells", [])],
    )
    return record
