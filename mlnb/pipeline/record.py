"""Record values inside a notebook and read them back from the executed notebook.

``mlnb.record("accuracy", 0.93)`` in a notebook displays one output with the
mimetype :data:`RECORD_MIMETYPE` (and a one-line text form for people). The
pipeline engine collects these outputs into the run record and the output
notebook's metadata; :func:`read` gets them back from any executed notebook —
and reads scrapbook's ``application/scrapbook.scrap.*`` outputs too, so notebooks
written with ``scrapbook.glue`` (unmaintained since 2022) keep working.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from mlnb.exceptions import InvalidArgumentError

RECORD_MIMETYPE = "application/vnd.mlnb.record+json"
SCRAPBOOK_PREFIX = "application/scrapbook.scrap."

# values recorded in this process (a plain script, or the kernel itself)
_recorded: dict[str, Any] = {}


def to_json_value(value: Any, name: str = "value") -> Any:
    """``value`` as plain JSON data: NumPy/torch scalars and arrays become numbers and lists.

    Raises:
        InvalidArgumentError: the value has no JSON form (an object, a model).
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # JSON has no NaN/inf
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v, f"{name}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v, f"{name}[{i}]") for i, v in enumerate(value)]
    if hasattr(value, "detach") and hasattr(value, "tolist"):  # a torch tensor
        return to_json_value(value.detach().cpu().tolist(), name)
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # numpy array or scalar
        return to_json_value(value.tolist(), name)
    if hasattr(value, "item") and callable(value.item):
        return to_json_value(value.item(), name)
    raise InvalidArgumentError(
        f"mlnb.record can store numbers, strings, booleans, lists and dicts; {name} is a {type(value).__name__}."
    )


class Recorded(NamedTuple):
    """What :func:`record` stored: the name and the JSON form of the value.

    Its display in a notebook is empty: :func:`record` has already shown the value
    once, so a ``mlnb.record(...)`` on a cell's last line does not echo it in ``Out[]``.
    """

    name: str
    value: Any

    def _ipython_display_(self) -> None:
        """Show nothing: the record's own output is already in the cell."""


def record(name: str, value: Any) -> Recorded:
    """Record ``value`` under ``name`` in the run (and the output notebook's metadata).

    Inside a notebook run by ``mlnb run``/``sweep``/``tune``/``pipeline`` the value ends
    up in the run record, the sweep table and the tuner. Outside IPython it is kept in
    this process (see :func:`recorded`).

    Args:
        name: the value's name, e.g. ``"accuracy"``.
        value: a number, string, bool, list or dict (NumPy/torch scalars and arrays are
            converted to numbers and lists).

    Returns:
        The name and the JSON form stored (:class:`Recorded`; ``.value`` is the value).

    Raises:
        InvalidArgumentError: an empty name, or a value with no JSON form.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgumentError(f"mlnb.record needs a non-empty name, got {name!r}.")
    data = to_json_value(value, name)
    _recorded[name] = data
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a core dependency
        return Recorded(name, data)
    if get_ipython() is not None:
        text = f"mlnb.record: {name} = {json.dumps(data)[:200]}"
        display({RECORD_MIMETYPE: {"name": name, "value": data}, "text/plain": text}, raw=True)
    return Recorded(name, data)


def recorded() -> dict[str, Any]:
    """The values recorded in this process so far."""
    return dict(_recorded)


def values_from_outputs(outputs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Recorded values found in one cell's outputs (mlnb records and scrapbook scraps)."""
    found: dict[str, Any] = {}
    for output in outputs:
        data = output.get("data") or {}
        payload = data.get(RECORD_MIMETYPE)
        if isinstance(payload, Mapping) and "name" in payload:
            found[payload["name"]] = payload.get("value")
            continue
        for mimetype, scrap in data.items():
            is_scrap = mimetype.startswith(SCRAPBOOK_PREFIX) and isinstance(scrap, Mapping)
            if is_scrap and "name" in scrap and "data" in scrap:
                found[scrap["name"]] = _scrap_data(mimetype, scrap["data"])
    return found


def _scrap_data(mimetype: str, data: Any) -> Any:
    # scrapbook's json encoder stores the value itself; its text encoder a string; others
    # (pandas/arrow) an encoded string we hand back as stored.
    if mimetype.endswith(".json+json") and isinstance(data, str):
        try:
            return json.loads(data)
        except ValueError:
            return data
    return data


def values_from_notebook(nb: Mapping[str, Any]) -> dict[str, Any]:
    """Every recorded value in a notebook's outputs, in cell order (later wins)."""
    found: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            found.update(values_from_outputs(cell.get("outputs", [])))
    return found


def read(output_notebook: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """The values an executed notebook recorded: ``mlnb.record`` calls and scrapbook scraps.

    Args:
        output_notebook: the executed notebook's path, or the notebook as a dict.

    Returns:
        name → value, in the order they were recorded.
    """
    if isinstance(output_notebook, Mapping):
        nb = output_notebook
    else:
        with open(output_notebook, encoding="utf-8") as handle:
            nb = json.load(handle)
    return values_from_notebook(nb)
