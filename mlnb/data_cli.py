"""``mlnb data``: profile, validate and compare data files from a shell or a CI job.

::

    mlnb data profile train.csv
    mlnb data validate train.csv --infer schema.json
    mlnb data validate serving.parquet --schema schema.json --strict
    mlnb data drift train.csv serving.parquet --numeric-threshold 0.2 --strict

Files are read with pandas by extension (``.csv``, ``.tsv``, ``.parquet``,
``.json``, ``.jsonl``, ``.feather``). Exit status: 0, or with ``--strict`` 1 when
anomalies or drift were found; 2 for a bad input (one line on stderr).

This module lives beside :mod:`mlnb.data`, not inside it, because ``mlnb``
imports every sub-command module to build its parser, and ``mlnb.data`` imports
pandas and ipywidgets: here they are imported only when an action runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from mlnb.exceptions import DataError

_READERS = {
    ".csv": ("read_csv", {}),
    ".tsv": ("read_csv", {"sep": "\t"}),
    ".parquet": ("read_parquet", {}),
    ".json": ("read_json", {}),
    ".jsonl": ("read_json", {"lines": True}),
    ".feather": ("read_feather", {}),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``profile``, ``validate`` and ``drift`` under ``mlnb data``."""
    actions = parser.add_subparsers(dest="data_action", metavar="ACTION", required=True)
    profile = actions.add_parser("profile", help="per-column statistics of a data file")
    profile.add_argument("file")
    profile.add_argument("--json", action="store_true", help="print the statistics as JSON")

    validate = actions.add_parser(
        "validate", help="check a data file against a schema, or infer one"
    )
    validate.add_argument("file")
    which = validate.add_mutually_exclusive_group(required=True)
    which.add_argument("--schema", metavar="PATH", help="schema JSON to check against")
    which.add_argument(
        "--infer", metavar="PATH", help="infer a schema from the file and write it here"
    )
    validate.add_argument("--strict", action="store_true", help="exit 1 when there are anomalies")

    drift = actions.add_parser(
        "drift", help="per-column drift between a reference and a current file"
    )
    drift.add_argument("reference")
    drift.add_argument("current")
    drift.add_argument("--categorical-threshold", type=float, default=0.1)
    drift.add_argument("--numeric-threshold", type=float, default=0.1)
    drift.add_argument("--bins", type=int, default=10)
    drift.add_argument("--json", action="store_true", help="print the report as JSON")
    drift.add_argument("--strict", action="store_true", help="exit 1 when any column drifts")


def main(args: argparse.Namespace) -> int:
    """Run one ``mlnb data`` action; returns the exit status."""
    from mlnb import data

    if args.data_action == "profile":
        found = data.profile(read_table(args.file), what=args.file)
        print(json.dumps(found.to_dict(), indent=2, default=str) if args.json else found.text())
        return 0
    if args.data_action == "validate":
        frame = read_table(args.file)
        if args.infer:
            path = data.infer_schema(frame).save(args.infer)
            print(f"mlnb: wrote the schema of {frame.shape[1]} columns to {path}.")
            return 0
        report = data.validate(frame, args.schema, what=args.file)
        print(report.text())
        return 1 if args.strict and not report.ok else 0
    report = data.compare(
        read_table(args.reference),
        read_table(args.current),
        categorical_threshold=args.categorical_threshold,
        numeric_threshold=args.numeric_threshold,
        bins=args.bins,
    )
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.text())
    return 1 if args.strict and report.drift else 0


def read_table(path: str) -> Any:
    """Read a data file with pandas, choosing the reader by extension."""
    import pandas as pd

    suffix = Path(path).suffix.lower()
    if suffix not in _READERS:
        raise DataError(
            f"cannot tell how to read {path}: use a file ending in {', '.join(_READERS)}."
        )
    if not Path(path).is_file():
        raise DataError(f"there is no file {path}.")
    reader, options = _READERS[suffix]
    try:
        return getattr(pd, reader)(path, **options)
    except (ValueError, OSError, ImportError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"could not read {path} as {suffix[1:]}: {first}") from None
