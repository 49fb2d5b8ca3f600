"""Hand runs to MLflow or TensorBoard when a team outgrows one machine.

Exporters sit in a small registry (:data:`EXPORTERS`, :func:`register`): an
exporter is a callable ``(store, records, target) -> list[ExportResult]``.

* ``mlflow``: one MLflow run per mlnb run in the experiment named after the
  project, through :class:`mlflow.MlflowClient` on any tracking URI (a
  ``sqlite:///...`` file works offline). Params are the flattened config (an empty
  section is the param ``"{}"``), metrics keep their steps, timestamps (to the
  millisecond) and NaN; summary values set by hand become metrics (numbers) or
  ``mlnb.summary.<key>`` tags (text, booleans, lists); a tag ``t`` is
  ``mlnb.tag.t = "true"``; artifacts are copied, and
  ``mlnb/run.json`` holds the whole record exactly (config, summary, tags,
  provenance, the name mapping and the list of lossy conversions). The status maps
  to MLflow's. Runs already exported (tag ``mlnb.run_id``) are skipped.
* ``tensorboard``: one folder per run, ``<DIR>/<project>/<name>-<id>``, with the
  scalars and the hparams (config plus summary) in the SAME event file —
  ``SummaryWriter.add_hparams`` would write them to a separate sub-run.
  TensorBoard stores float32, so values are rounded to float32 precision.

Each run is exported whole or not at all: names and values are checked and mapped
before anything is written; an MLflow run that fails half-way is marked FAILED and
deleted (never tagged ``mlnb.run_id``), and a TensorBoard folder is written under a
temporary name and renamed when complete, so exporting again exports the run fully.

Names are mapped one-to-one (:mod:`mlnb.runs.names`) and every rename is listed in
:attr:`ExportResult.renamed`; every value the target cannot hold exactly is listed in
:attr:`ExportResult.lossy` (±inf in an MLflow store that clamps it, params over
MLflow's 6,000 characters, repeated points moved by 1 ms, float32 overflow and
underflow, NaN/±inf hparams written as text, whole numbers beyond 2**53).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from mlnb.exceptions import InvalidArgumentError
from mlnb.runs.export_shape import ExportError, ExportResult
from mlnb.runs.records import RunRecord
from mlnb.runs.store import Store

Exporter = Callable[[Store, Sequence[RunRecord], str], list[ExportResult]]
EXPORTERS: dict[str, Exporter] = {}


def register(name: str, exporter: Exporter) -> None:
    """Add an exporter under ``name`` (a later one replaces an earlier one)."""
    EXPORTERS[name] = exporter


def export(
    to: str,
    target: str,
    runs: Sequence[str] | None = None,
    *,
    project: str | None = None,
    store: Store | None = None,
    home: str | os.PathLike[str] | None = None,
) -> list[ExportResult]:
    """Export runs (default: every finished, failed, killed or crashed run) to ``to``.

    Each run is exported whole or not at all. ``print(result)`` shows what happened,
    every renamed metric/param/tag, and every value the target could not hold exactly.

    Args:
        to: ``"mlflow"`` or ``"tensorboard"`` (or a registered exporter).
        target: the MLflow tracking URI, or the TensorBoard log folder.
        runs: run ids, prefixes or names (default: all but running ones).
        project: only runs of this project.
        store / home: where to read.

    Raises:
        InvalidArgumentError: an unknown exporter or an empty target.
        RunNotFoundError: a run reference matches nothing.
        MissingDependencyError: mlflow or tensorboard is not installed.
        ExportError: the target refused a run (after the other runs were exported;
            nothing of the refused run is kept, so exporting again is safe).
    """
    if to not in EXPORTERS:
        raise InvalidArgumentError(
            f"cannot export to {to!r}: choose one of {', '.join(sorted(EXPORTERS))}."
        )
    if not target:
        raise InvalidArgumentError(
            f"exporting to {to} needs a target (a tracking URI or a folder)."
        )
    if store is None:
        from mlnb.runs.session import open_store as shared_store

        store = shared_store(home)
    if runs:
        records = [store.get_run(ref) for ref in runs]
    else:
        records = [r for r in store.list_runs(project=project) if r.status != "running"]
    results = EXPORTERS[to](store, records, target)
    failed = [r for r in results if r.action == "failed"]
    if failed:
        raise ExportError(_failure_sentence(to, failed, len(results)), results)
    return results


def _failure_sentence(to: str, failed: Sequence[ExportResult], total: int) -> str:
    first = failed[0]
    others = total - len(failed)
    done = f"; the other {others} run(s) were handled" if others else ""
    target = {"mlflow": "MLflow", "tensorboard": "TensorBoard"}.get(to, to)
    if len(failed) == 1:
        return (
            f"could not export run {first.name!r} ({first.run_id}) to {target}: "
            f"{first.location}{done} — fix the cause and export again."
        )
    return (
        f"could not export {len(failed)} of {total} runs to {target}, first {first.name!r} "
        f"({first.run_id}): {first.location}{done} — fix the cause and export again."
    )


def _mlflow(store: Store, records: Sequence[RunRecord], target: str) -> list[ExportResult]:
    from mlnb.runs.export_mlflow import to_mlflow

    return to_mlflow(store, records, target)


def _tensorboard(store: Store, records: Sequence[RunRecord], target: str) -> list[ExportResult]:
    from mlnb.runs.export_tensorboard import to_tensorboard

    return to_tensorboard(store, records, target)


register("mlflow", _mlflow)
register("tensorboard", _tensorboard)
