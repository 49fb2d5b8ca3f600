"""Open a notebook for running, and check the kernel it will run in.

Everything a user can get wrong before a kernel starts is caught here with one
sentence: a missing file, a file that is not notebook JSON (nbformat's own
validation message, shortened to its first line), a kernel name that is not
installed (the installed ones are listed).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb.exceptions import (
    InvalidArgumentError,
    InvalidNotebookError,
    KernelNotFoundError,
    MlnbWarning,
    NotebookNotFoundError,
)

if TYPE_CHECKING:
    from nbformat import NotebookNode

MAX_REASON = 160


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The notebook file's bytes.

    Raises:
        NotebookNotFoundError: the path does not exist or is a folder.
    """
    path = Path(path)
    if not path.is_file():
        raise NotebookNotFoundError(path)
    return path.read_bytes()


def shorten(reason: str, limit: int = MAX_REASON) -> str:
    """The first line of a (long) validation message, cut to ``limit`` characters."""
    line = next((part.strip() for part in str(reason).splitlines() if part.strip()), "")
    line = line.rstrip(".:")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def load_notebook(path: str | os.PathLike[str], *, lenient: bool = False) -> NotebookNode:
    """Read and validate a notebook with nbformat (upgraded to v4); ``lenient``: see
    :func:`parse_notebook`.

    Returns:
        The ``nbformat.NotebookNode``.

    Raises:
        NotebookNotFoundError: no such file.
        InvalidNotebookError: not JSON, or JSON that breaks the notebook schema.
    """
    return parse_notebook(read_bytes(path), path, lenient=lenient)


def parse_notebook(
    raw: bytes, path: str | os.PathLike[str], *, lenient: bool = False
) -> NotebookNode:
    """A notebook from its bytes (a file's, or stdin's), validated and upgraded to v4.

    Args:
        lenient: a notebook nbformat can read but that breaks its schema (an extra key,
            a code cell without ``outputs``) is returned with a :class:`MlnbWarning`, as
            papermill runs it; without, it is refused.

    Raises:
        InvalidNotebookError: not UTF-8, not JSON, JSON nbformat cannot read, or (not
            ``lenient``) JSON that breaks the notebook schema.
    """
    import nbformat
    from nbformat.reader import NotJSONError

    try:
        text = raw.decode("utf-8")
        json.loads(text)
    except UnicodeDecodeError:
        raise InvalidNotebookError(path, "it is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        reason = f"it is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        raise InvalidNotebookError(path, reason) from None
    except RecursionError:
        raise InvalidNotebookError(path, "it is JSON nested too deeply to read") from None
    try:
        with quiet_schema_errors():  # nbformat logs the whole notebook; mlnb says it in one line
            nb = nbformat.reads(text, as_version=4)
    except NotJSONError as exc:
        raise InvalidNotebookError(path, f"it is not JSON ({shorten(str(exc), 80)})") from None
    except Exception as exc:  # nbformat raises assorted errors for wrong shapes
        raise InvalidNotebookError(path, shorten(str(exc))) from None
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        where = "/".join(str(p) for p in getattr(exc, "absolute_path", []) or [])
        reason = shorten(getattr(exc, "message", str(exc)))
        error = InvalidNotebookError(path, f"{reason} (at {where})" if where else reason)
        if not lenient:
            raise error from None
        warnings.warn(
            f"{str(error).rstrip('.')}; running it anyway, as papermill does.",
            MlnbWarning,
            stacklevel=2,
        )
    return nb


class _DropSchemaErrors(logging.Filter):
    """Drops nbformat's "Notebook JSON is invalid" log lines (the whole notebook, printed)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Notebook JSON is invalid")


@contextlib.contextmanager
def quiet_schema_errors() -> Iterator[None]:
    """Leave out nbformat's schema-error log lines (it logs them to traitlets' logger on
    every read and write of such a notebook) and its cell-id repair warnings while the
    block runs."""
    from nbformat.warnings import DuplicateCellId, MissingIDFieldWarning

    logger = logging.getLogger("traitlets")
    dropping = _DropSchemaErrors()
    logger.addFilter(dropping)
    try:
        with warnings.catch_warnings():  # ids nbformat adds or repairs, each read and write
            warnings.simplefilter("ignore", MissingIDFieldWarning)
            warnings.simplefilter("ignore", DuplicateCellId)
            yield
    finally:
        logger.removeFilter(dropping)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def installed_kernels() -> dict[str, dict[str, Any]]:
    """Installed kernel specs: name → ``{"display_name", "language"}``."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().get_all_specs()
    return {
        name: {
            "display_name": info["spec"].get("display_name", name),
            "language": info["spec"].get("language", ""),
        }
        for name, info in specs.items()
    }


#: names jupyter_client's kernel manager starts as the native ``python3`` kernel
PYTHON_ALIASES = ("python", "python3")


def check_kernel(name: str) -> dict[str, Any]:
    """The installed kernel ``name`` (``python`` is the native ``python3``, as jupyter_client
    and so papermill run it): its display name and language.

    Raises:
        KernelNotFoundError: the kernel is not installed (the message lists those that are).
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    for candidate in (name, "python3") if name in PYTHON_ALIASES else (name,):
        try:  # one spec read; every installed one only to name them when it is missing
            spec = manager.get_kernel_spec(candidate)
        except NoSuchKernel:
            continue
        return {"display_name": spec.display_name or candidate, "language": spec.language or ""}
    raise KernelNotFoundError(name, tuple(sorted(installed_kernels())))


def resolve_kernel(nb: NotebookNode, kernel: str | None) -> tuple[str, dict[str, Any]]:
    """The kernel to run ``nb`` in and its kernelspec metadata.

    Args:
        nb: the notebook; its ``metadata.kernelspec.name`` is used when ``kernel`` is None
            (``python3`` when it names none — papermill refuses such a notebook without -k).
        kernel: an explicit kernel name (``--kernel``), or None.

    Raises:
        KernelNotFoundError: the kernel is not installed (the message lists those that are).
    """
    name = kernel or nb.get("metadata", {}).get("kernelspec", {}).get("name") or "python3"
    spec = check_kernel(name)
    return name, {"name": name, "display_name": spec["display_name"], "language": spec["language"]}


def check_engine(name: str | None) -> None:
    """Refuse a papermill engine name that is not registered, before a run is recorded.

    Raises:
        InvalidArgumentError: no such engine (the message lists the registered ones).
    """
    from papermill.engines import papermill_engines
    from papermill.exceptions import PapermillException

    try:
        papermill_engines.get_engine(name)
    except PapermillException:
        known = ", ".join(sorted(str(n) for n in papermill_engines._engines if n))  # no public list
        raise InvalidArgumentError(
            f"there is no papermill engine named {name!r}; registered engines: {known}."
        ) from None


def check_translator(kernel_name: str, language: str | None) -> None:
    """Refuse parameters papermill could not write for this kernel or language.

    Raises:
        InvalidArgumentError: papermill has no parameter translator for either.
    """
    from papermill.exceptions import PapermillException
    from papermill.translators import papermill_translators

    try:
        papermill_translators.find_translator(kernel_name, language or "")
    except PapermillException:
        raise InvalidArgumentError(
            f"papermill cannot inject parameters into a {language or kernel_name} notebook (it has no translator for the {kernel_name} kernel or that language) — check --language, or pass no parameters."
        ) from None
