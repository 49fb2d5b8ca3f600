"""``read_table(path)``: read a data file with pandas, choosing the reader by extension;
``streams(paths)``: whether files are Parquet files big enough to stream instead.

Used by ``mlnb data`` (:mod:`mlnb.cli.data`); any bad input is one
:class:`~mlnb.exceptions.DataError` sentence.
"""

from __future__ import annotations

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


def read_table(path: str) -> pd.DataFrame:
    """Read a data file with pandas, choosing the reader by extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in READERS:
        raise DataError(
            f"cannot tell how to read {path}: use a file ending in {', '.join(READERS)}."
        )
    if not Path(path).is_file():
        raise DataError(f"there is no file {path}.")
    reader, options = READERS[suffix]
    try:
        return getattr(pd, reader)(path, **options)
    except (ValueError, OSError, ImportError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"could not read {path} as {suffix[1:]}: {first}") from None


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
