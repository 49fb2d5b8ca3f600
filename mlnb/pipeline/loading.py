"""Open a notebook for running, and check the kernel it will run in.

Everything a user can get wrong before a kernel starts is caught here with one
sentence: a missing file, a file that is not notebook JSON (nbformat's own
validation message, shortened to its first line), a kernel name that is not
installed (the installed ones are listed).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb.exceptions import InvalidNotebookError, KernelNotFoundError, NotebookNotFoundError

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


def load_notebook(path: str | os.PathLike[str]) -> NotebookNode:
    """Read and validate a notebook with nbformat (upgraded to v4).

    Returns:
        The ``nbformat.NotebookNode``.

    Raises:
        NotebookNotFoundError: no such file.
        InvalidNotebookError: not JSON, or JSON that breaks the notebook schema.
    """
    return parse_notebook(read_bytes(path), path)


def parse_notebook(raw: bytes, path: str | os.PathLike[str]) -> NotebookNode:
    """A notebook from its bytes (a file's, or stdin's), validated and upgraded to v4.

    Raises:
        InvalidNotebookError: not UTF-8, not JSON, or JSON that breaks the notebook schema.
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
        raise InvalidNotebookError(path, f"{reason} (at {where})" if where else reason) from None
    return nb


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
