"""Where a pipeline run's record goes besides the run store: the run sinks.

The run store (:mod:`mlnb.runs`) always has every pipeline run: :func:`mlnb.pipeline.run`
writes it there through :mod:`mlnb.runs.external`. Every registered
:class:`RunSink` also gets the record when the run starts and when it ends. One
sink is always on:

* ``notebook`` writes the record into the output notebook's metadata
  (``metadata.mlnb.run``), so the executed notebook carries its own provenance.

Further sinks (a tracking server, a message queue) register in :data:`run_sinks`,
as papermill's engines do in its engine registry.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

from mlnb.pipeline.section import METADATA_KEY, section_of
from mlnb.runs.records import RunRecord

log = logging.getLogger(__name__)


@runtime_checkable
class RunSink(Protocol):
    """Somewhere run records go. ``write`` is called when a run starts and when it ends."""

    def write(self, record: RunRecord) -> None:
        """Store ``record`` (the same id may arrive again with a later status)."""


class RunSinks:
    """The registry of run sinks: name → factory taking no arguments."""

    def __init__(self) -> None:
        self._factories: dict[str, Callable[[], RunSink]] = {}

    def register(self, name: str, factory: Callable[[], RunSink]) -> None:
        """Add (or replace) a sink; every later run writes to it."""
        self._factories[name] = factory

    def unregister(self, name: str) -> bool:
        """Remove a sink; returns whether it was registered."""
        return self._factories.pop(name, None) is not None

    def names(self) -> list[str]:
        """Registered sink names, in registration order."""
        return list(self._factories)

    def emit(self, record: RunRecord) -> None:
        """Write ``record`` to every sink; a failing sink is logged, never fatal to the run."""
        for name, factory in self._factories.items():
            try:
                factory().write(record)
            except Exception as exc:  # a broken sink must not lose the run itself
                log.warning("mlnb: run sink %r could not write run %s: %s", name, record.id, exc)


class NotebookSink:
    """Writes the record into the output notebook's ``metadata.mlnb.run``."""

    def write(self, record: RunRecord) -> None:
        """Rewrite the output notebook's metadata with ``record`` (if the notebook exists)."""
        output = section_of(record).output
        path = Path(output)
        if record.status == "running" or output in ("-", "") or not path.is_file():
            return  # the engine writes it live; "-" went to stdout
        with open(path, encoding="utf-8") as handle:
            nb = json.load(handle)
        nb.setdefault("metadata", {}).setdefault(METADATA_KEY, {})["run"] = record.to_dict()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(nb, handle, indent=1, ensure_ascii=False)
            handle.write("\n")
        os.replace(tmp, path)


run_sinks = RunSinks()
run_sinks.register("notebook", NotebookSink)
