"""Profile and drift of Parquet files too big for memory, streamed a column group at a time.

Each file is read with pyarrow, ``group_columns`` columns at a time
(``ParquetFile.iter_batches(columns=...)``, multithreaded), in batches of
``batch_rows`` rows; every column keeps bounded sketches
(:mod:`mlnb.data.stream_columns`), so memory depends on the group's width and the
sample size, never on the number of rows or columns. After a group is read on both
sides its columns are compared by the same code as in memory
(:func:`mlnb.data.drift.compare` on the group's profiles), and its samples dropped.

What is exact and what is estimated:

* exact: rows, missing (nulls and NaN), minimum, maximum, mean and standard
  deviation (Chan's merge), value counts of boolean and text columns (up to
  100,000 distinct values), the profile's histogram (its edges come from the Parquet
  statistics; without them it is read from the quantile sketch);
* the reference's bin edges, the bin shares behind the Jensen-Shannon distance and
  PSI, the quantiles, all from each column's quantile sketch, whose rank error is
  tracked (``ColumnProfile.rank_error``, below 0.1% at 3,000,000 rows) and added to the
  column's ``noise``;
* the tests (chi-squared on pooled bins, KS, Wasserstein) run on a uniform sample of
  ``sample_size`` rows (100,000 by default; every row when the file has fewer), drawn
  before the pass with a fixed seed: valid p-values, with the power of that sample;
* ``unique`` of numeric columns counts the distinct values in the sample: exact when
  the sample holds every row, a lower bound beyond.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from mlnb.data import drift
from mlnb.data.drift_report import DEFAULT_ALPHA, DEFAULT_BINS, DEFAULT_METHOD, DriftReport
from mlnb.data.parquet_source import Column, ParquetSource
from mlnb.data.profile import HISTOGRAM_BINS, MAX_DOMAIN, SKETCH_SIZE, ColumnProfile, DataProfile
from mlnb.data.stream_columns import NumericColumn, thin
from mlnb.exceptions import InvalidArgumentError

#: rows sampled per column for the tests
SAMPLE_SIZE = 100_000
#: columns read together (bounds memory: their batches, sketches and samples)
GROUP_COLUMNS = 100
#: rows per batch handed to the sketches
BATCH_ROWS = 131_072
#: seed of the sampled rows (the same rows every run)
SAMPLE_SEED = 0


@dataclass
class Progress:
    """How far a streamed profile or comparison is: columns finished, values read."""

    columns_done: int
    columns: int
    values_read: int
    values: int
    reading: str

    @property
    def share(self) -> float:
        """Share of all values read, 0 to 1."""
        return self.values_read / self.values if self.values else 1.0


@dataclass(repr=False)
class StreamedProfile(DataProfile):
    """A :class:`DataProfile` of a streamed file; its notes say what was estimated."""

    stream_notes: list[str] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        """The streaming notes, then every column's notes."""
        return self.stream_notes + super().notes


@dataclass(repr=False)
class StreamedDriftReport(DriftReport):
    """A :class:`DriftReport` of streamed files; one note says how it was computed."""

    stream_note: str = ""

    @property
    def notes(self) -> list[str]:
        """The streaming note, then the usual notes."""
        return ([self.stream_note] if self.stream_note else []) + super().notes


@dataclass(frozen=True)
class StreamOptions:
    """How files are streamed.

    Attributes:
        sample_size: rows sampled per column for the tests (every row when fewer).
        group_columns: columns read together (bounds memory).
        batch_rows: rows per batch handed to the sketches.
        workers: threads updating columns in parallel (default: CPU count, at most 8).
        seed: seed of the sampled rows (the same rows every run).
        progress: called after every batch and column group with a :class:`Progress`.
    """

    sample_size: int = SAMPLE_SIZE
    group_columns: int = GROUP_COLUMNS
    batch_rows: int = BATCH_ROWS
    workers: int | None = None
    seed: int = SAMPLE_SEED
    progress: Callable[[Progress], None] | None = None

    def __post_init__(self) -> None:
        sizes = {
            "sample_size": self.sample_size,
            "group_columns": self.group_columns,
            "batch_rows": self.batch_rows,
            "workers": 1 if self.workers is None else self.workers,
        }
        for name, value in sizes.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgumentError(
                    f"{name} must be a whole number of at least 1, got {value!r}."
                )


class _Scan:
    """Reads column groups with a thread pool and reports progress."""

    def __init__(
        self, options: StreamOptions, pool: ThreadPoolExecutor, rows: int, names: list[str]
    ) -> None:
        self.options, self.pool = options, pool
        self.groups = [
            names[i : i + options.group_columns]
            for i in range(0, len(names), options.group_columns)
        ]
        self.values, self.columns = rows * len(names), len(names)
        self.values_read = self.columns_done = 0

    def read(self, source: ParquetSource, sketches: list[Column]) -> None:
        """Feed every batch of the sketches' columns to them, in parallel over columns."""
        names = [sketch.name for sketch in sketches]
        offset = 0
        for batch in source.batches(names, self.options.batch_rows):
            offsets = [offset] * len(sketches)
            list(self.pool.map(_update, sketches, batch.columns, offsets))
            offset += batch.num_rows
            self.values_read += batch.num_rows * len(sketches)
            self.report(f"{source.what} ({source.path})")

    def done(self, group: list[str]) -> None:
        self.columns_done += len(group)
        self.report("done")

    def report(self, reading: str) -> None:
        if self.options.progress is not None:
            found = Progress(
                self.columns_done, self.columns, self.values_read, self.values, reading
            )
            self.options.progress(found)


def _update(sketch: Column, array: Any, offset: int) -> None:
    sketch.update(array, offset)


def _pool(options: StreamOptions) -> ThreadPoolExecutor:
    workers = options.workers or min(os.cpu_count() or 1, 8)
    return ThreadPoolExecutor(workers, thread_name_prefix="mlnb-stream")


def stream_profile(
    path: str | os.PathLike[str],
    *,
    max_domain: int = MAX_DOMAIN,
    bins: int = HISTOGRAM_BINS,
    options: StreamOptions | None = None,
) -> StreamedProfile:
    """Per-column statistics of a Parquet file, streamed (see the module docstring).

    Args:
        path: the Parquet file.
        max_domain: distinct values kept per boolean/text column (the most frequent).
        bins: equal-width bins of each numeric column's histogram.
        options: how to stream (sample size, column groups, batches, threads, progress).

    Returns:
        A :class:`StreamedProfile` whose columns are like :func:`mlnb.data.profile`'s.

    Raises:
        DataError: a missing file, one that is not Parquet, or a nested column.
        EmptyDataError: a file with no rows or no columns.
        InvalidArgumentError: ``max_domain`` below 1.
        MissingDependencyError: pyarrow is not installed.
    """
    options = options or StreamOptions()
    _check_domain(max_domain)
    source = ParquetSource(path, "the data")
    sample = source.sample_rows(options.sample_size, options.seed)
    columns: dict[str, ColumnProfile] = {}
    with _pool(options) as pool:
        scan = _Scan(options, pool, source.rows, source.names)
        for group in scan.groups:
            sketches = [source.column(name, sample, bins) for name in group]
            scan.read(source, sketches)
            for sketch in sketches:
                found = _profile(sketch, bins, max_domain)
                thin(found, SKETCH_SIZE)
                columns[found.name] = found
            scan.done(group)
    notes = _profile_notes(source, options.sample_size)
    return StreamedProfile(rows=source.rows, columns=columns, stream_notes=notes)


def stream_compare(
    reference: str | os.PathLike[str],
    current: str | os.PathLike[str],
    *,
    thresholds: Mapping[str, float] | None = None,
    options: StreamOptions | None = None,
    **compare_options: Any,
) -> StreamedDriftReport:
    """Drift of every column two Parquet files share, streamed (see the module docstring).

    The verdicts are :func:`mlnb.data.compare`'s, computed on the streamed profiles: the
    same statistics and tests, with bins from the quantile sketches and tests on the
    sampled rows.

    Args:
        reference: the reference Parquet file.
        current: the current Parquet file.
        thresholds: per-column thresholds, as :func:`mlnb.data.compare`.
        options: how to stream (sample size, column groups, batches, threads, progress).
        **compare_options: ``method``, ``alpha``, ``categorical_threshold``,
            ``numeric_threshold``, ``bins`` and ``max_domain``, as :func:`mlnb.data.compare`.

    Returns:
        A :class:`StreamedDriftReport` (a :class:`~mlnb.data.drift_report.DriftReport`).

    Raises:
        The errors of :func:`mlnb.data.compare` (checked before any data is read) and of
        :func:`stream_profile`.
    """
    options = options or StreamOptions()
    settings = _compare_settings(compare_options)
    ref = ParquetSource(reference, "the reference")
    cur = ParquetSource(current, "the current data")
    shared = drift.shared_columns(ref.names, cur.names, thresholds)
    samples = (
        ref.sample_rows(options.sample_size, options.seed),
        cur.sample_rows(options.sample_size, options.seed + 1),
    )
    verdicts: dict[str, Any] = {}
    sides: tuple[dict[str, ColumnProfile], dict[str, ColumnProfile]] = ({}, {})
    with _pool(options) as pool:
        scan = _Scan(options, pool, ref.rows + cur.rows, shared)
        for group in scan.groups:
            found = []
            for source, sample, side in zip((ref, cur), samples, sides, strict=True):
                sketches = [source.column(name, sample, HISTOGRAM_BINS) for name in group]
                scan.read(source, sketches)
                side.update(
                    {s.name: _profile(s, HISTOGRAM_BINS, settings["max_domain"]) for s in sketches}
                )
                found.append(DataProfile(rows=source.rows, columns={n: side[n] for n in group}))
            wanted = {k: v for k, v in (thresholds or {}).items() if k in group}
            verdicts.update(
                drift.compare(found[0], found[1], thresholds=wanted, **settings).columns
            )
            for name in group:
                thin(sides[0][name], SKETCH_SIZE)
                thin(sides[1][name], SKETCH_SIZE)
            scan.done(group)
    return StreamedDriftReport(
        columns=verdicts,
        reference=StreamedProfile(rows=ref.rows, columns=sides[0]),
        current=StreamedProfile(rows=cur.rows, columns=sides[1]),
        missing_in_current=[n for n in ref.names if n not in cur.names],
        new_in_current=[n for n in cur.names if n not in ref.names],
        method=settings["method"],
        alpha=float(settings["alpha"]),
        stream_note=_drift_note(ref, cur, options.sample_size, sides),
    )


def _compare_settings(given: Mapping[str, Any]) -> dict[str, Any]:
    """``compare``'s options with their defaults, checked before any data is read."""
    settings: dict[str, Any] = {
        "method": DEFAULT_METHOD,
        "alpha": DEFAULT_ALPHA,
        "categorical_threshold": None,
        "numeric_threshold": None,
        "bins": DEFAULT_BINS,
        "max_domain": MAX_DOMAIN,
    }
    unknown = sorted(set(given) - set(settings))
    if unknown:
        raise InvalidArgumentError(
            f"stream_compare takes no option {', '.join(unknown)} (it takes {', '.join(settings)})."
        )
    settings.update(given)
    drift.check_options(
        settings["method"],
        settings["alpha"],
        settings["bins"],
        settings["numeric_threshold"],
        settings["categorical_threshold"],
    )
    _check_domain(settings["max_domain"])
    return settings


def _check_domain(max_domain: Any) -> None:
    if isinstance(max_domain, bool) or not isinstance(max_domain, int) or max_domain < 1:
        raise InvalidArgumentError(f"max_domain must be at least 1, got {max_domain!r}.")


def _profile(sketch: Column, bins: int, max_domain: int) -> ColumnProfile:
    return sketch.profile(bins) if isinstance(sketch, NumericColumn) else sketch.profile(max_domain)


def _largest_rank_error(*profiles: Mapping[str, ColumnProfile]) -> float:
    return max((c.rank_error for side in profiles for c in side.values()), default=0.0)


def _profile_notes(source: ParquetSource, sample_size: int) -> list[str]:
    if source.rows <= sample_size:
        return [
            f"streamed from {source.path}: every statistic is exact except the quantiles, read from sketches."
        ]
    return [
        f"streamed from {source.path}: counts, missing, min, max, mean and std are exact; "
        f"quantiles come from sketches, and the unique count of a numeric column is the "
        f"number of distinct values among {sample_size:,} sampled rows (a lower bound)."
    ]


def _drift_note(
    ref: ParquetSource,
    cur: ParquetSource,
    sample_size: int,
    sides: tuple[Mapping[str, ColumnProfile], Mapping[str, ColumnProfile]],
) -> str:
    error = _largest_rank_error(*sides)
    tests = (
        "on every row"
        if max(ref.rows, cur.rows) <= sample_size
        else f"on {sample_size:,} rows sampled uniformly from each file"
    )
    return (
        f"streamed: numeric bins and quantiles come from quantile sketches (rank error at most "
        f"{error:.2%}, included in each column's noise); the tests ran {tests}."
    )
