"""Saved notebooks with planted hidden state, for the ``mlnb check`` tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

PYTHON = {"name": "python3", "display_name": "Python 3", "language": "python"}


def stdout(text: str) -> dict[str, Any]:
    import nbformat

    return nbformat.v4.new_output("stream", name="stdout", text=text)


def result(data: dict[str, str] | str, count: int = 1) -> dict[str, Any]:
    import nbformat

    bundle = {"text/plain": data} if isinstance(data, str) else data
    return nbformat.v4.new_output("execute_result", data=bundle, execution_count=count)


def error(ename: str, evalue: str) -> dict[str, Any]:
    import nbformat

    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])


def saved(
    path: Path,
    cells: Sequence[tuple[str, int | None, Sequence[dict[str, Any]]] | str],
    kernelspec: dict[str, str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """A notebook as if saved after a session: each cell ``(source, execution_count, outputs)``
    (a plain string is a markdown cell)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    for cell in cells:
        if isinstance(cell, str):
            nb.cells.append(nbformat.v4.new_markdown_cell(cell))
            continue
        source, count, outputs = cell
        code = nbformat.v4.new_code_cell(source)
        code.execution_count = count
        code.outputs = list(outputs)
        nb.cells.append(code)
    nb.metadata["kernelspec"] = kernelspec or PYTHON
    nb.metadata.update(metadata or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path
