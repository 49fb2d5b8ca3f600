"""What papermill is handed around a run: stdin bytes, a notebook path, quieter logging.

papermill reads ``-`` from ``sys.stdin`` and takes notebooks as paths; mlnb has already
read the bytes (to check them) and may hold a NotebookNode. papermill also logs two
warnings mlnb replaces with its own (which name the fix); they are filtered out here.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlnb.exceptions import InvalidArgumentError
from mlnb.pipeline.loading import quiet_schema_errors, read_bytes
from mlnb.pipeline.outputs import STDIO

#: papermill log lines mlnb replaces with its own warnings (which name the fix)
_PAPERMILL_DUPLICATES = (
    "Passed unknown parameter",
    "Input notebook does not contain a cell with tag 'parameters'",
)


def read_input(notebook: Path) -> bytes:
    """The input notebook's bytes, from its file or from stdin for ``-``."""
    if str(notebook) != STDIO:
        return read_bytes(notebook)
    stream = getattr(sys.stdin, "buffer", None)
    data = stream.read() if stream is not None else sys.stdin.read()
    return data.encode("utf-8") if isinstance(data, str) else data


@contextlib.contextmanager
def stdin_holding(raw: bytes | None) -> Iterator[None]:
    """papermill reads ``-`` from ``sys.stdin``: hand it the bytes already read."""
    if raw is None:
        yield
        return
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")
    try:
        with warnings.catch_warnings():  # papermill warns that "-" has no .ipynb extension
            warnings.filterwarnings("ignore", "the file is not specified with any extension")
            yield
    finally:
        sys.stdin = saved


class _DropDuplicates(logging.Filter):
    """Drops the papermill warnings mlnb repeats in its own words."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_PAPERMILL_DUPLICATES)


@contextlib.contextmanager
def quiet_papermill_duplicates() -> Iterator[None]:
    """Leave out papermill's warnings that mlnb words itself, while the block runs."""
    logger = logging.getLogger("papermill")
    dropping = _DropDuplicates()
    logger.addFilter(dropping)
    try:
        with quiet_schema_errors():  # papermill reads and writes the notebook again
            yield
    finally:
        logger.removeFilter(dropping)


@contextlib.contextmanager
def notebook_path(notebook: Any) -> Iterator[str | os.PathLike[str]]:
    """``notebook`` as a path: itself, or a NotebookNode written to a temporary file."""
    if isinstance(notebook, (str, os.PathLike)):
        yield notebook
        return
    if not isinstance(notebook, dict):
        raise InvalidArgumentError(
            f"execute_notebook takes a notebook path, '-' or a NotebookNode, got {type(notebook).__name__}."
        )
    import nbformat

    with tempfile.TemporaryDirectory(prefix="mlnb-notebook-") as folder:
        path = Path(folder) / "notebook.ipynb"
        nbformat.write(nbformat.from_dict(notebook), str(path))
        yield path
