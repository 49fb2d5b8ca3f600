"""A notebook's parameters: what its ``parameters`` cell declares, and checking what is passed.

Papermill injects any name you pass and only logs a warning for unknown ones; a
typo then silently trains with the default. Here the ``parameters`` cell is parsed
with :mod:`ast` (``name = literal`` and ``name: type = literal``), and passed
parameters are checked against it: unknown names (the known ones are listed) and
values whose type differs from the default's are refused with one sentence.

The command line follows papermill's conventions: ``-p name value`` (value typed
like papermill does, then read as the default's type), ``-r name value`` (raw
string), ``-y YAML`` and ``-f file.yaml``.
"""

from __future__ import annotations

import ast
import difflib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlnb.exceptions import (
    MalformedParameterError,
    NoParametersCellError,
    ParameterTypeError,
    UnknownParameterError,
)

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
    """A cell's tags (an empty list when it has none)."""
    return list(cell.get("metadata", {}).get("tags", []) or [])


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
    Source that does not parse (IPython magics, a typo) yields no parameters.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
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


def _accepts(expected: str, value: Any) -> bool:
    if expected in ("unknown", "None"):
        return True
    if expected == "bool":
        return isinstance(value, bool)
    if expected == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected in ("list", "tuple"):
        return isinstance(value, (list, tuple))
    if expected == "dict":
        return isinstance(value, dict)
    if expected == "str":
        return isinstance(value, str)
    return True


def check_parameters(
    nb: Mapping[str, Any], params: Mapping[str, Any], path: str | os.PathLike[str]
) -> dict[str, Any]:
    """Check ``params`` against the notebook's ``parameters`` cell.

    An int given for a float parameter becomes a float; nothing else is converted.

    Returns:
        The parameters to inject.

    Raises:
        NoParametersCellError: parameters were passed but the notebook has no cell for them.
        UnknownParameterError: a name the cell does not define (the known ones are named).
        ParameterTypeError: a value whose type differs from the default's.
    """
    if not params:
        return {}
    declared = notebook_parameters(nb)
    if declared is None:
        raise NoParametersCellError(path, tuple(params))
    by_name = {p.name: p for p in declared}
    checked: dict[str, Any] = {}
    for name, value in params.items():
        param = by_name.get(name)
        if param is None:
            known = tuple(sorted(by_name))
            close = difflib.get_close_matches(name, known, n=1)
            error = UnknownParameterError(path, name, known)
            if close:
                error.args = (f"{error.args[0][:-1]} (did you mean {close[0]!r}?)",)
            raise error
        if not _accepts(param.type_name, value):
            raise ParameterTypeError(name, param.type_name, param.default, value)
        checked[name] = float(value) if param.type_name == "float" else value
    return checked


# --- command line: papermill's -p / -r / -y / -f ---------------------------------------


def resolve_papermill_type(text: str) -> Any:
    """Papermill's typing of a ``-p`` value: True/False/None, int, float, else the string."""
    if text in ("True", "False"):
        return text == "True"
    if text == "None":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:  # not this kind of number: try the next, else keep the text
            pass
    return text


def resolve_cli_value(text: str, param: Parameter | None) -> Any:
    """A ``-p`` value read as its default's type where that works, else papermill's typing.

    ``-p name 007`` stays the string ``"007"`` for a ``str`` parameter, ``-p lr 1`` is
    ``1.0`` for a ``float`` one, and ``-p layers "[64, 32]"`` a list for a ``list`` one.
    """
    kind = param.type_name if param is not None else None
    if kind == "str":
        return text
    if kind == "bool" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if kind in ("list", "tuple", "dict"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            return text
    return resolve_papermill_type(text)


def check_name(name: str, flag: str = "-p") -> str:
    """``name`` if it is a Python identifier, else a :class:`MalformedParameterError`."""
    if not name.isidentifier():
        raise MalformedParameterError(
            f"{flag} expects a parameter name and a value (`{flag} lr 0.1`); {name!r} is not a Python name."
        )
    return name


def _yaml_mapping(text: str, where: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise MalformedParameterError(f"{where} is not valid YAML{at}.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MalformedParameterError(
            f"{where} must be a YAML mapping like `lr: 0.1`, got a {type(data).__name__}."
        )
    return {check_name(str(k), "-y"): v for k, v in data.items()}


def cli_parameters(
    nb: Mapping[str, Any],
    pairs: Iterable[Sequence[str]] = (),
    raw_pairs: Iterable[Sequence[str]] = (),
    yaml_texts: Iterable[str] = (),
    yaml_files: Iterable[str] = (),
) -> dict[str, Any]:
    """Merge papermill-style command-line parameters (later ones win, files first).

    Raises:
        MalformedParameterError: a bad name, unreadable YAML, a missing parameters file.
    """
    declared = {p.name: p for p in (notebook_parameters(nb) or [])}
    params: dict[str, Any] = {}
    for file in yaml_files:
        if not Path(file).is_file():
            raise MalformedParameterError(f"-f {file}: no such parameters file.")
        params.update(_yaml_mapping(Path(file).read_text(encoding="utf-8"), f"-f {file}"))
    for text in yaml_texts:
        params.update(_yaml_mapping(text, f"-y {text!r}"))
    for pair in pairs:
        name = check_name(pair[0])
        params[name] = resolve_cli_value(pair[1], declared.get(name))
    for pair in raw_pairs:
        params[check_name(pair[0], "-r")] = pair[1]
    return params


def split_assignment(text: str, flag: str = "-p") -> tuple[str, str]:
    """``"lr=0.1,0.01"`` → ``("lr", "0.1,0.01")`` (the sweep form of ``-p``)."""
    name, sep, values = text.partition("=")
    if not sep or not values.strip():
        raise MalformedParameterError(
            f"{flag} expects name=value[,value...] (e.g. `{flag} lr=0.1,0.01`), got {text!r}."
        )
    return check_name(name.strip(), flag), values.strip()
