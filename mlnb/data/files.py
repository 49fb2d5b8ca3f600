"""``read_table(path)``: read a data file with pandas, choosing the reader by extension.

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
