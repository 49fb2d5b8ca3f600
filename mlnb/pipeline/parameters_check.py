"""Checking the parameters passed to a notebook against its ``parameters`` cell.

A name the cell does not define, a value whose type differs from the default's, a notebook
without such a cell, a cell that does not parse: *warnings* by default
(:class:`~mlnb.exceptions.ParameterWarning`), refused with ``strict=True``. Values that are
not JSON data are always refused, since papermill would inject their ``repr`` as code.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Mapping
from typing import Any

from mlnb.exceptions import (
    InvalidArgumentError,
    MalformedParameterError,
    MlnbError,
    NoParametersCellError,
    ParametersCellError,
    ParameterTypeError,
    ParameterValueError,
    ParameterWarning,
    UnknownParameterError,
)
from mlnb.pipeline.parameters_cell import (
    parameters_cell_index,
    parse_parameters,
    source_text,
    syntax_error,
)


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
        InvalidArgumentError: ``params`` is not a mapping, or a name is not text (always).
        ParameterValueError: a value that is not JSON data (always).
        NoParametersCellError, ParametersCellError, UnknownParameterError,
        ParameterTypeError: only with ``strict``.
    """
    if not isinstance(params, Mapping):
        raise InvalidArgumentError(
            f"params must be a mapping of names to values, got {type(params).__name__}."
        )
    for name, value in params.items():
        if not isinstance(name, str):
            raise MalformedParameterError(
                f"parameter names must be text, got {name!r} ({type(name).__name__})."
            )
        check_json_value(name, value)
    for problem in parameter_problems(nb, params, path):
        if strict:
            raise problem
        warnings.warn(warning_text(problem), ParameterWarning, stacklevel=2)
    return dict(params)
