"""``read_table(path)``: read a data file with pandas, choosing the reader by extension;
``streams(paths)``: whether files are Parquet files big enough to stream instead.

Used by ``mlnb data`` (:mod:`mlnb.cli.data`); any bad input is one
:class:`~mlnb.exceptions.DataError` sentence.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from mlnb.exceptions import DataError

# extension -> (pandas reader, its keyword arguments)
READERS: dict[str, tuple[str, dict[str, object]]] = {
    ".csv": ("read_csv", {}),
    ".tsv": ("read_csv", {"sep": "\t"}),
    ".parquet": ("read_parquet", {}),
    ".json": ("read_json", {}),
    ".jsonl": ("read_json", {"lines": True}),
    ".feather": ("read_feather", {}),
}


#: compression extensions pandas infers for text formats (``data.csv.gz``)
COMPRESSIONS = (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar")
#: formats that store datetimes as text
TEXT_FORMATS = (".csv", ".tsv", ".json", ".jsonl")
#: text that starts like an ISO 8601 date
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}"


def read_table(path: str) -> pd.DataFrame:
    """Read a data file with pandas, choosing the reader by extension.

    Text formats may be compressed (``.csv.gz``: pandas infers it), and their
    columns of ISO 8601 text become datetimes, as Parquet keeps them, so the
    same data gives the same profile and verdicts in either format.
    """
    suffix = _format_suffix(Path(path))
    if suffix not in READERS:
        raise DataError(
            f"cannot tell how to read {path}: use a file ending in {', '.join(READERS)}."
        )
    if Path(path).is_dir():
        raise DataError(f"{path} is a directory, not a data file.")
    if not Path(path).is_file():
        raise DataError(f"there is no file {path}.")
    reader, options = READERS[suffix]
    try:
        frame = getattr(pd, reader)(path, **options)
    except (ValueError, OSError, ImportError, EOFError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"could not read {path} as {suffix[1:]}: {first}") from None
    return _iso_datetimes(frame) if suffix in TEXT_FORMATS else frame


def _format_suffix(path: Path) -> str:
    """The data format's extension, behind a compression extension for text formats."""
    suffixes = [s.lower() for s in path.suffixes]
    if len(suffixes) > 1 and suffixes[-1] in COMPRESSIONS and suffixes[-2] in TEXT_FORMATS:
        return suffixes[-2]
    return path.suffix.lower()


def _iso_datetimes(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn each text column whose every value is an ISO 8601 datetime into datetimes."""
    for name in frame.columns:
        if not pd.api.types.is_string_dtype(frame[name].dtype):  # object or str
            continue
        present = frame[name].dropna()
        if present.empty or pd.api.types.infer_dtype(present, skipna=False) != "string":
            continue
        if not re.match(_ISO_DATE, str(present.iloc[0])) or not present.str.match(_ISO_DATE).all():
            continue
        try:
            frame[name] = pd.to_datetime(frame[name], format="ISO8601")
        except (ValueError, TypeError, OverflowError):
            try:  # several UTC offsets in one column: one instant each, in UTC
                frame[name] = pd.to_datetime(frame[name], format="ISO8601", utc=True)
            except (ValueError, TypeError, OverflowError):
                continue  # not all dates, or beyond pandas' range: stays text
    return frame


#: Parquet data (uncompressed, as the file's metadata says) above which ``mlnb data``
#: streams the files instead of reading them into DataFrames
STREAM_ABOVE_BYTES = 1 << 30


def streams(paths: list[str], forced: bool = False) -> bool:
    """Whether ``mlnb data`` should stream these files (:mod:`mlnb.data.stream`).

    True when ``forced`` (``--stream``: then every file must be Parquet), or when every
    file is Parquet and together they hold more than :data:`STREAM_ABOVE_BYTES` of
    uncompressed data.
    """
    parquet = [Path(path).suffix.lower() == ".parquet" for path in paths]
    if forced:
        others = [path for path, ok in zip(paths, parquet, strict=True) if not ok]
        if others:
            raise DataError(
                f"--stream reads Parquet files only; {', '.join(others)} "
                f"{'is' if len(others) == 1 else 'are'} not one (drop --stream to read it with pandas)."
            )
        return True
    if not all(parquet) or not all(Path(path).is_file() for path in paths):
        return False
    try:
        import pyarrow.parquet as pq

        metadata = [pq.ParquetFile(path).metadata for path in paths]
    except (ImportError, OSError, ValueError):
        return False  # read_table says what is wrong with the file
    total = sum(m.row_group(i).total_byte_size for m in metadata for i in range(m.num_row_groups))
    return total > STREAM_ABOVE_BYTES
