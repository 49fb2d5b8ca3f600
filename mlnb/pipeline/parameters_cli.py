"""Parameters from papermill's command-line forms: ``-p``, ``-r``, ``-y``, ``-f`` and ``-b``.

``-p name value`` is typed like papermill (True/False/None, int, float, else the string),
except where the default's type says otherwise; YAML keeps dates as text, as papermill's
loader does.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlnb.exceptions import MalformedParameterError
from mlnb.pipeline.parameters_cell import Parameter, notebook_parameters
from mlnb.pipeline.parameters_check import check_json_value


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
    typing); but ``-p name 007`` stays the string ``"007"`` for a ``str`` parameter (``None``
    is still None, as papermill types it),
    ``-p layers "[64, 32]"`` is a list for a ``list`` one and ``-p flag true`` is True for a
    ``bool`` one.
    """
    kind = param.type_name if param is not None else None
    if kind == "str":
        return None if text == "None" else text
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
    for key in data:
        if not str(key).isidentifier():
            raise MalformedParameterError(
                f"{where} has the key {str(key)!r}, which is not a Python name, so it cannot be a parameter — rename it."
            )
    params = {str(k): v for k, v in data.items()}
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
