"""A notebook's parameters: what its ``parameters`` cell declares, and checking what is passed.

The ``parameters`` cell is parsed with :mod:`ast` (``name = literal`` and ``name: type =
literal``; IPython syntax such as ``%matplotlib`` is turned into Python first). Passed
parameters are checked against it — a name the cell does not define, a value whose type
differs from the default's, a notebook without such a cell, a cell that does not parse.
By default these are *warnings* (:class:`~mlnb.exceptions.ParameterWarning`) and the values
are injected anyway, as papermill does; ``strict=True`` (``--strict``) refuses them before a
kernel starts. One check always refuses: values must be JSON data (str, int, float, bool,
None, list, dict) — papermill would inject anything else as its ``repr``, which is code.

The command line follows papermill's conventions: ``-p name value`` (typed like papermill:
True/False/None, int, float, else the string — except where the default's type says
otherwise: a ``str`` default keeps the text, a list/dict default reads it as YAML), ``-r name
value`` (raw string), ``-y YAML``, ``-f file.yaml`` and ``-b BASE64-YAML``; YAML keeps dates as
text, as papermill's loader does.
"""

from __future__ import annotations

import ast
import base64
import binascii
import difflib
import functools
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlnb.exceptions import (
    MalformedParameterError,
    MlnbError,
    NoParametersCellError,
    ParametersCellError,
    ParameterTypeError,
    ParameterValueError,
    ParameterWarning,
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


JSON_TYPES = "str, int, float, bool, None, list or dict"
#: names papermill's --inject-*-path options add; never reported as unknown
PAPERMILL_PATH_NAMES = ("PAPERMILL_INPUT_PATH", "PAPERMILL_OUTPUT_PATH")


def check_json_value(name: str, value: Any, where: str = "") -> None:
    """Refuse a value that is not JSON data (str keys, finite or not floats allowed).

    Raises:
        ParameterValueError: bytes (YAML ``!!binary``), a date, a set, a tuple, an object.
    """
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        return  # nan/inf: papermill injects float('nan'), which is what was asked
    if isinstance(value, list):
        for index, item in enumerate(value):
            check_json_value(name, item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ParameterValueError(
                    f"parameter {name!r}{where} has the key {key!r} ({type(key).__name__}); parameter values must be JSON data, whose keys are strings — quote the key."
                )
            check_json_value(name, item, f"{where}[{key!r}]")
        return
    hint = {
        "bytes": " (YAML's !!binary tag)",
        "date": " (a YAML date)",
        "datetime": " (a YAML timestamp)",
        "set": " (YAML's !!set tag)",
    }.get(type(value).__name__, "")
    raise ParameterValueError(
        f"parameter {name!r}{where} is a {type(value).__name__}{hint}; parameter values must be JSON data ({JSON_TYPES}) — quote it to pass it as a string."
    )


def parameter_problems(
    nb: Mapping[str, Any], params: Mapping[str, Any], path: str | os.PathLike[str]
) -> list[MlnbError]:
    """What mlnb finds wrong with ``params`` for this notebook (papermill injects them anyway):
    no ``parameters`` cell, a cell that does not parse, unknown names, mistyped values."""
    names = tuple(n for n in params if n not in PAPERMILL_PATH_NAMES)
    if not names:
        return []
    index = parameters_cell_index(nb)
    if index < 0:
        return [NoParametersCellError(path, names)]
    source = source_text(nb["cells"][index])
    reason = syntax_error(source)
    if reason is not None:
        return [ParametersCellError(path, reason)]
    by_name = {p.name: p for p in parse_parameters(source)}
    problems: list[MlnbError] = []
    for name in names:
        value = params[name]
        param = by_name.get(name)
        if param is None:
            known = tuple(sorted(by_name))
            close = difflib.get_close_matches(name, known, n=1)
            error = UnknownParameterError(path, name, known)
            if close:
                error.args = (f"{error.args[0][:-1]} (did you mean {close[0]!r}?)",)
            problems.append(error)
        elif not _accepts(param.type_name, value):
            problems.append(ParameterTypeError(name, param.type_name, param.default, value))
    return problems


def warning_text(problem: MlnbError) -> str:
    """A problem as a warning: what is wrong, and what papermill (and so mlnb) does about it."""
    text = str(problem).rstrip(".")
    if isinstance(problem, NoParametersCellError):
        return (
            f"{text}; the parameters are injected at the top, as papermill does (--strict refuses)."
        )
    if isinstance(problem, ParametersCellError):
        return f"{text}; the parameters are injected after it anyway, as papermill does (--strict refuses)."
    return f"{text}; injected anyway, as papermill does (--strict refuses)."


def check_parameters(
    nb: Mapping[str, Any],
    params: Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    strict: bool = False,
) -> dict[str, Any]:
    """Check ``params`` against the notebook's ``parameters`` cell.

    Values are never converted (an int for a float default stays an int, as with papermill).

    Args:
        strict: refuse what papermill would inject with a warning (else warn with
            :class:`~mlnb.exceptions.ParameterWarning` and inject).

    Returns:
        The parameters to inject.

    Raises:
        ParameterValueError: a value that is not JSON data (always).
        NoParametersCellError, ParametersCellError, UnknownParameterError,
        ParameterTypeError: only with ``strict``.
    """
    for name, value in params.items():
        check_json_value(name, value)
    for problem in parameter_problems(nb, params, path):
        if strict:
            raise problem
        warnings.warn(warning_text(problem), ParameterWarning, stacklevel=2)
    return dict(params)


# --- command line: papermill's -p / -r / -y / -f / -b ----------------------------------


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


@functools.cache
def _no_dates_loader() -> Any:
    import yaml

    class NoDatesLoader(yaml.SafeLoader):
        """PyYAML's safe loader without the implicit timestamp type (papermill's loader)."""

    NoDatesLoader.yaml_implicit_resolvers = {
        key: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return NoDatesLoader


def yaml_load(text: str | bytes) -> Any:
    """YAML read like papermill reads ``-y``/``-f``: the safe loader, dates kept as text."""
    import yaml

    return yaml.load(text, Loader=_no_dates_loader())


def resolve_cli_value(text: str, param: Parameter | None) -> Any:
    """A ``-p`` value typed as papermill types it, unless the default's type says otherwise.

    ``-p a 10`` is the int 10 and ``-p b "[1, 2]"`` the string ``"[1, 2]"`` (papermill's
    typing); but ``-p name 007`` stays the string ``"007"`` for a ``str`` parameter,
    ``-p layers "[64, 32]"`` is a list for a ``list`` one and ``-p flag true`` is True for a
    ``bool`` one.
    """
    kind = param.type_name if param is not None else None
    if kind == "str":
        return text
    if kind == "bool" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if kind in ("list", "tuple", "dict"):
        import yaml

        try:
            value = yaml_load(text)
        except yaml.YAMLError:
            return text
        if isinstance(value, (list, dict)):
            return value
    return resolve_papermill_type(text)


def check_name(name: str, flag: str = "-p") -> str:
    """``name`` if it is a Python identifier, else a :class:`MalformedParameterError`."""
    if not name.isidentifier():
        raise MalformedParameterError(
            f"{flag} expects a parameter name and a value (`{flag} lr 0.1`); {name!r} is not a Python name."
        )
    return name


def _yaml_mapping(text: str | bytes, where: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml_load(text)
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
    params = {check_name(str(k), where.split()[0]): v for k, v in data.items()}
    for name, value in params.items():
        check_json_value(name, value)
    return params


def cli_parameters(
    nb: Mapping[str, Any] | None,
    pairs: Iterable[Sequence[str]] = (),
    raw_pairs: Iterable[Sequence[str]] = (),
    yaml_texts: Iterable[str] = (),
    yaml_files: Iterable[str] = (),
    base64_texts: Iterable[str] = (),
) -> dict[str, Any]:
    """Merge papermill-style command-line parameters in papermill's order: ``-b``, ``-f``,
    ``-y``, ``-p``, ``-r`` (later ones win).

    Args:
        nb: the notebook (its defaults type ``-p`` values); None (a notebook read from
            stdin later) types them as papermill does.

    Raises:
        MalformedParameterError: a bad name, unreadable YAML or base64, a missing file.
        ParameterValueError: a YAML value that is not JSON data (``!!binary``, ``!!set``).
    """
    declared = {p.name: p for p in (notebook_parameters(nb) or [])} if nb is not None else {}
    params: dict[str, Any] = {}
    for text in base64_texts:
        try:
            decoded = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedParameterError(f"-b {text!r} is not base64 text.") from None
        params.update(_yaml_mapping(decoded, f"-b {text!r}"))
    for file in yaml_files:
        if not Path(file).is_file():
            raise MalformedParameterError(f"-f {file}: no such parameters file.")
        try:
            content = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MalformedParameterError(f"-f {file} cannot be read as text ({exc}).") from None
        params.update(_yaml_mapping(content, f"-f {file}"))
    for text in yaml_texts:
        params.update(_yaml_mapping(text, f"-y {text!r}"))
    for pair in pairs:
        name = check_name(pair[0])
        params[name] = resolve_cli_value(pair[1], declared.get(name))
    for pair in raw_pairs:
        params[check_name(pair[0], "-r")] = pair[1]
    for name, value in params.items():
        check_json_value(name, value)
    return params


def split_assignment(text: str, flag: str = "-p") -> tuple[str, str]:
    """``"lr=0.1,0.01"`` → ``("lr", "0.1,0.01")`` (the sweep form of ``-p``)."""
    name, sep, values = text.partition("=")
    if not sep or not values.strip():
        raise MalformedParameterError(
            f"{flag} expects name=value[,value...] (e.g. `{flag} lr=0.1,0.01`), got {text!r}."
        )
    return check_name(name.strip(), flag), values.strip()
