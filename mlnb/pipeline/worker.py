"""A local worker process: ``python -m mlnb.pipeline.worker`` runs tasks sent on stdin.

The protocol is one JSON object per line: the parent writes ``{"key": K, "task":
{...RunTask fields...}}``; the worker answers ``{"key": K, "record": {...}}`` on its
original stdout. Anything the run prints goes to stderr, so stray output can never
corrupt the protocol. End of input ends the worker, which stops its spare kernel.

A separate interpreter (not ``multiprocessing``) so that sweeps work from scripts
without an ``if __name__ == "__main__"`` guard and from inside a Jupyter kernel.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO


def serve(tasks: TextIO, results: TextIO) -> None:
    """Run every task read from ``tasks``, writing each record to ``results``."""
    from mlnb.pipeline.executor import lost_record
    from mlnb.pipeline.kernel_pool import WarmKernelSource, expected_kind
    from mlnb.pipeline.kernels import KernelSource
    from mlnb.pipeline.run import RunTask, last_record
    from mlnb.runs.records import RunRecord

    cold = KernelSource(warm=True)
    warm = WarmKernelSource()

    def answer(key: Any, record: RunRecord) -> None:
        results.write(json.dumps({"key": key, "record": record.to_dict()}, default=str) + "\n")
        results.flush()

    try:
        for line in tasks:
            if not line.strip():
                continue
            message = json.loads(line)
            fields = message["task"]
            try:
                task = RunTask(**fields)
                seed = task.seed if task.pin_seed else None
                expected = expected_kind(task.notebook, task.kernel, task.cwd, seed)
                if task.warm and expected is not None and (seed is not None or not task.pin_seed):
                    warm.prepare(*expected)  # loads while this run is being planned
                record = task.execute(warm if task.warm else cold)
            except KeyboardInterrupt:
                latest = last_record()
                if latest is not None:
                    answer(message["key"], latest)
                break
            except Exception as exc:  # a task that could not start fails alone
                record = lost_record(fields, "failed", f"{type(exc).__name__}: {exc}")
            answer(message["key"], record)
    finally:
        cold.close()
        warm.close()


def main() -> None:
    """Keep the protocol on the real stdout; send everything else to stderr."""
    from mlnb.pipeline.lean import skip_unused_optional_imports

    skip_unused_optional_imports()
    results = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.stdin, results)
    # every answer is flushed and every run recorded: leave without tearing down the
    # libraries a run loaded (papermill, nbclient, pyarrow ...), as multiprocessing's
    # children do — on a busy machine that teardown costs the sweep a second per worker
    results.close()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
