"""``mlnb data``: profile, validate and compare data files from a shell or a CI job.

::

    mlnb data profile train.csv
    mlnb data validate train.csv --infer schema.json
    mlnb data validate serving.parquet --schema schema.json --strict
    mlnb data drift train.csv serving.parquet --numeric-threshold 0.2 --strict
    mlnb data drift train.csv serving.parquet --method ks --alpha 0.01 --strict
    mlnb data drift train.parquet serving.parquet --stream

Files are read with pandas by extension (``.csv``, ``.tsv``, ``.parquet``,
``.json``, ``.jsonl``, ``.feather``; :func:`mlnb.data.files.read_table`), except
Parquet files holding more than 1 GiB of data (or any with ``--stream``), which are
streamed a column group at a time (:mod:`mlnb.data.stream`) with a progress line on
stderr. Exit
status: 0, or with ``--strict`` 1 when anomalies or drift were found; 2 for a bad
input (one line on stderr).

``mlnb`` imports every sub-command module to build its parser, and :mod:`mlnb.data`
imports pandas and ipywidgets: they are imported only when an action runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

from mlnb.cli.common import EXIT_RUN_FAILED
from mlnb.exceptions import InvalidArgumentError

#: the most quantile bins ``--bins`` takes (more is not a histogram any more)
MAX_BINS = 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``profile``, ``validate`` and ``drift`` under ``mlnb data``."""
    actions = parser.add_subparsers(dest="data_action", metavar="ACTION", required=True)
    profile = actions.add_parser("profile", help="per-column statistics of a data file")
    profile.add_argument("file")
    profile.add_argument("--json", action="store_true", help="print the statistics as JSON")
    _add_stream(profile)

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
    drift.add_argument(
        "--method",
        "--stattest",
        choices=("distance", "ks", "chisquare", "psi", "wasserstein"),
        default="distance",
        help="statistic and test (default distance: JS / L-infinity with a chi-squared test)",
    )
    drift.add_argument(
        "--alpha", type=float, default=0.05, help="significance level of each column's test"
    )
    drift.add_argument(
        "--categorical-threshold", type=float, default=None, help="default 0.1 where it applies"
    )
    drift.add_argument(
        "--numeric-threshold", type=float, default=None, help="default 0.1 where it applies"
    )
    drift.add_argument("--bins", type=int, default=10, help=f"2 to {MAX_BINS} (default 10)")
    drift.add_argument("--json", action="store_true", help="print the report as JSON")
    drift.add_argument("--strict", action="store_true", help="exit 1 when any column drifts")
    _add_stream(drift)


def _add_stream(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stream",
        action="store_true",
        help="stream Parquet files a column group at a time in bounded memory "
        "(automatic above 1 GiB of Parquet data)",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress line on stderr while streaming"
    )


class ProgressLine:
    """Shows a streamed comparison's progress on stderr: columns done, values read.

    On a terminal one line is redrawn in place (at most every 0.2 s); in a log a line
    is written at most every 10 s. The last state (every column done) is always shown.
    """

    #: seconds between two updates: on a terminal, in a log
    EVERY_S = (0.2, 10.0)

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = self.shown = time.monotonic()
        self.every = self.EVERY_S[0] if self.tty else self.EVERY_S[1]
        self.dirty = False

    def __call__(self, progress: Any) -> None:
        now = time.monotonic()
        if now - self.shown < self.every and progress.columns_done < progress.columns:
            return
        self.shown = now
        text = (
            f"mlnb: {self.label}: {progress.columns_done:,}/{progress.columns:,} columns done, "
            f"{progress.values_read:,}/{progress.values:,} values read ({progress.share:.0%}), "
            f"{now - self.start:.0f} s"
        )
        self.stream.write(f"\r{text}\x1b[K" if self.tty else text + "\n")
        self.stream.flush()
        self.dirty = self.tty

    def close(self) -> None:
        """End the redrawn line, so what follows starts on a line of its own."""
        if self.dirty:
            self.stream.write("\n")
            self.stream.flush()


def main(args: argparse.Namespace) -> int:
    """Run one ``mlnb data`` action; returns the exit status."""
    from mlnb import data
    from mlnb.data.files import read_table, streams

    if args.data_action == "profile":
        if streams([args.file], args.stream):
            found = _streamed(args, "profile", args.file)
        else:
            found = data.profile(read_table(args.file), what=args.file)
        print(json.dumps(found.to_dict(), indent=2, default=str) if args.json else found.text())
        return 0
    if args.data_action == "validate":
        frame = read_table(args.file)
        if args.infer:
            try:
                path = data.infer_schema(frame).save(args.infer)
            except OSError as exc:
                raise InvalidArgumentError(
                    f"--infer {args.infer}: cannot write the schema there ({exc.strerror or exc})."
                ) from None
            print(f"mlnb: wrote the schema of {frame.shape[1]} columns to {path}.")
            return 0
        validation = data.validate(frame, args.schema, what=args.file)
        print(validation.text())
        return EXIT_RUN_FAILED if args.strict and not validation.ok else 0
    if not 2 <= args.bins <= MAX_BINS:
        raise InvalidArgumentError(
            f"--bins must be a whole number from 2 to {MAX_BINS}, got {args.bins}."
        )
    options = dict(
        method=args.method,
        alpha=args.alpha,
        categorical_threshold=args.categorical_threshold,
        numeric_threshold=args.numeric_threshold,
        bins=args.bins,
    )
    if streams([args.reference, args.current], args.stream):
        report = _streamed(args, "drift", args.reference, args.current, **options)
    else:
        report = data.compare(read_table(args.reference), read_table(args.current), **options)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.text())
    return EXIT_RUN_FAILED if args.strict and report.drift else 0


def _streamed(args: argparse.Namespace, action: str, *paths: str, **options: Any) -> Any:
    """Stream a profile or a comparison, with a progress line unless ``--no-progress``."""
    from mlnb.data import stream

    line = None if args.no_progress else ProgressLine(f"streaming {action}")
    streaming = stream.StreamOptions(progress=line)
    try:
        if action == "profile":
            return stream.stream_profile(paths[0], options=streaming)
        return stream.stream_compare(paths[0], paths[1], options=streaming, **options)
    finally:
        if line is not None:
            line.close()
