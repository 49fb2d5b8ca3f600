"""What a notebook's ``parameters`` cell declares, read with :mod:`ast` (no kernel).

``name = literal`` and ``name: type = literal`` assignments are parameters; IPython syntax
such as ``%matplotlib`` is turned into Python first; an assignment whose value is not a
literal is listed with type ``unknown``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PARAMETERS_TAG = "parameters"
_SIMPLE_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict}


@dataclass(frozen=True)
class Parameter:
    """One parameter of a notebook.

    Attributes:
        name: the variable name.
        type_name: ``int``, ``float``, ``str``, ``bool``, ``list``, ``dict``, ``tuple``,
            ``None`` or ``unknown`` (a default that is not a literal).
        default: the default value (its source text when it is not a literal).
        literal: whether ``default`` is the literal value (so types can be checked).
        help: the comment at the end of the assignment line, if any.
        line: the assignment's first line in its cell (1-based).
        end_line: its last line.
    """

    name: str
    type_name: str
    default: Any
    literal: bool = True
    help: str = ""
    line: int = 0
    end_line: int = 0


def cell_tags(cell: Mapping[str, Any]) -> list[str]:
    """A cell's tags (an empty list when it has none; one tag written as a string, which
    papermill also finds, is that tag)."""
    tags = cell.get("metadata", {}).get("tags", []) or []
    return [tags] if isinstance(tags, str) else list(tags)


def parameters_cell_index(nb: Mapping[str, Any]) -> int:
    """Index of the first cell tagged ``parameters``, or -1."""
    for index, cell in enumerate(nb.get("cells", [])):
        if PARAMETERS_TAG in cell_tags(cell):
            return index
    return -1


def source_text(cell: Mapping[str, Any]) -> str:
    """A cell's source as one string (nbformat allows a list of lines on disk)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def python_source(source: str) -> str:
    """Cell source with IPython syntax (``%magic``, ``!cmd``) turned into Python, lines kept."""
    if "%" not in source and "!" not in source and "?" not in source:
        return source  # plain Python: skip importing IPython's transformer
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # a cell IPython cannot transform either: parse it as it is
        return source


def syntax_error(source: str) -> str | None:
    """Why a cell's source does not parse (``"SyntaxError at line 2: invalid syntax"``), or None."""
    try:
        ast.parse(python_source(source))
    except SyntaxError as exc:
        return f"SyntaxError at line {exc.lineno}: {exc.msg}"
    except (ValueError, MemoryError, RecursionError) as exc:  # null bytes, absurd nesting
        return f"{type(exc).__name__}: {exc}"
    return None


def literal_assignment(node: ast.stmt) -> tuple[str, Any, str | None] | None:
    """``(name, value, annotation)`` if ``node`` is ``name = literal`` / ``name: T = literal``."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value, annotation = node.targets[0], node.value, None
    elif isinstance(node, ast.AnnAssign) and node.value is not None and node.simple:
        target, value = node.target, node.value
        annotation = node.annotation.id if isinstance(node.annotation, ast.Name) else None
    else:
        return None
    if not isinstance(target, ast.Name):
        return None
    try:
        return target.id, ast.literal_eval(value), annotation
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _type_name(value: Any, annotation: str | None) -> str:
    if annotation in _SIMPLE_TYPES:
        return annotation
    return "None" if value is None else type(value).__name__


def _line_comment(lines: Sequence[str], node: ast.stmt) -> str:
    line = lines[node.end_lineno - 1] if node.end_lineno else ""
    tail = line[node.end_col_offset :] if node.end_col_offset is not None else ""
    return tail.split("#", 1)[1].strip() if "#" in tail else ""


def parse_parameters(source: str) -> list[Parameter]:
    """The assignments in a ``parameters`` cell, in order (the last one of a name wins).

    Assignments whose value is not a literal (``path = os.getcwd()``) are listed with
    type ``unknown`` and their source text as default; their values are not type-checked.
    IPython syntax is turned into Python first; source that still does not parse yields no
    parameters (:func:`syntax_error` says why).
    """
    try:
        tree = ast.parse(python_source(source))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return []
    lines = source.splitlines()
    found: dict[str, Parameter] = {}
    for node in tree.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)):
            continue
        span = {"line": node.lineno, "end_line": node.end_lineno or node.lineno}
        help_text = _line_comment(lines, node)
        parsed = literal_assignment(node)
        if parsed is not None:
            name, value, annotation = parsed
            found[name] = Parameter(
                name, _type_name(value, annotation), value, True, help_text, **span
            )
            continue
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        if isinstance(target, ast.Name) and node.value is not None:
            text = ast.get_source_segment(source, node.value) or "?"
            found[target.id] = Parameter(target.id, "unknown", text, False, help_text, **span)
    return list(found.values())


def notebook_parameters(nb: Mapping[str, Any]) -> list[Parameter] | None:
    """The parameters a notebook declares; None when it has no ``parameters`` cell."""
    index = parameters_cell_index(nb)
    if index < 0:
        return None
    return parse_parameters(source_text(nb["cells"][index]))
