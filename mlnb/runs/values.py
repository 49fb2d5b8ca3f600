"""Checks and conversions of what users hand to a run: metric values, steps, names, config.

Each bad value raises one sentence (a :class:`~mlnb.exceptions.MetricValueError` or
:class:`~mlnb.exceptions.InvalidArgumentError`). Config and summary values become what
JSON holds the way MLflow and W&B read them (NumPy and torch numbers and arrays as
Python numbers and lists, paths and dates as text, sets as lists, dataclasses as dicts);
any other value JSON cannot hold is kept as its repr with an
:class:`~mlnb.exceptions.MlnbWarning`.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import traceback
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from mlnb.exceptions import InvalidArgumentError, MetricValueError, MlnbWarning

MAX_STEP = 2**63 - 1  # SQLite INTEGER: steps are stored exactly, far beyond 2**53
MAX_KEY_LENGTH = 250  # MLflow's limit, so every run can be exported


class Summary(dict):
    """``run.summary``: a dict whose entries override the automatic last-value summary."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        super().__init__()
        self._on_change = on_change

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, jsonable_value(f"summary[{key!r}]", value))
        self._on_change()

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    # every other way dict changes itself goes through the checks too, and is saved
    def __ior__(self, other: Any) -> Summary:  # type: ignore[misc]
        self.update(other)
        return self

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._on_change()

    def pop(self, key: str, *default: Any) -> Any:
        value = super().pop(key, *default)
        self._on_change()
        return value

    def popitem(self) -> tuple[str, Any]:
        item = super().popitem()
        self._on_change()
        return item

    def clear(self) -> None:
        super().clear()
        self._on_change()


def check_step(step: object) -> int:
    if isinstance(step, bool) or not isinstance(step, int):
        try:
            as_int = int(step)  # type: ignore[call-overload]  # any object: int() raises what it cannot take
        except (TypeError, ValueError, OverflowError):
            as_int = None
        if as_int is None or as_int != step:
            raise MetricValueError(f"step must be a whole number, got {step!r}.")
    else:
        as_int = step
    if not 0 <= as_int <= MAX_STEP:
        raise MetricValueError(f"step must be from 0 to 2**63 - 1 ({MAX_STEP}), got {as_int}.")
    return as_int


def to_float(key: str, value: Any) -> float:
    if isinstance(value, (str, bytes)):
        raise MetricValueError(
            f"metric {key!r} must be a number, got text {value!r} — put text in config, tags or summary."
        )
    if _is_complex(value):  # float() would drop the imaginary part of a NumPy complex
        raise MetricValueError(
            f"metric {key!r} must be a real number, got complex {complex(value)!r} — "
            "log its .real or abs()."
        )
    detach = getattr(value, "detach", None)  # torch: float() of a loss that requires grad warns
    if callable(detach):
        value = detach()
    try:
        return float(value)
    except OverflowError:
        raise MetricValueError(f"metric {key!r} is too large for a float: {value!r}.") from None
    except (TypeError, ValueError, RuntimeError):
        shape = getattr(value, "shape", None)
        what = (
            f"{type(value).__name__} of shape {tuple(shape)}"
            if shape is not None
            else type(value).__name__
        )
        raise MetricValueError(
            f"metric {key!r} must be a single number, got a {what} — log .item() or a mean."
        ) from None


def _is_complex(value: Any) -> bool:
    """Whether ``value`` is a complex number: Python's, NumPy's (any precision) or a tensor's."""
    if isinstance(value, complex) or getattr(getattr(value, "dtype", None), "kind", "") == "c":
        return True
    is_complex = getattr(value, "is_complex", None)  # torch
    return callable(is_complex) and is_complex() is True


def check_metric_key(key: object) -> str:
    """``key`` if it is a metric name: a non-empty line of at most :data:`MAX_KEY_LENGTH` characters."""
    if not isinstance(key, str) or not key.strip():
        raise MetricValueError(f"a metric name must be a non-empty string, got {key!r}.")
    if len(key) > MAX_KEY_LENGTH or any(ch in key for ch in "\n\r\t\x00"):
        raise MetricValueError(
            f"metric name {key[:40]!r}… must be one line of at most {MAX_KEY_LENGTH} characters."
        )
    return key


def check_name(what: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip() or "\n" in value:
        raise InvalidArgumentError(
            f"a run {what} must be a non-empty one-line string, got {value!r}."
        )
    return value


#: arrays and tensors up to this many numbers become lists; larger ones are kept as their repr
MAX_LIST_SIZE = 10_000


def plain_value(value: Any) -> Any:
    """``value`` as JSON can hold it where MLflow (``str(value)``) or W&B would read it plainly.

    NumPy and torch scalars become Python numbers and small arrays nested lists (``.tolist()``),
    paths, dates and times their text, sets sorted lists, dataclass instances dicts of their
    fields; anything else is returned unchanged.
    """
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, (os.PathLike, datetime.date, datetime.time)):
        return str(value)
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    to_list = getattr(value, "tolist", None)
    if callable(to_list) and hasattr(value, "dtype"):
        numel = getattr(value, "numel", None)
        size = numel() if callable(numel) else getattr(value, "size", 1)
        if isinstance(size, int) and size <= MAX_LIST_SIZE:
            return to_list()
    return value


def jsonable_value(where: str, value: Any, _inside: tuple[int, ...] = ()) -> Any:
    """``value`` ready for JSON: :func:`plain_value`, containers converted item by item
    (a container inside itself is cut there, with a warning)."""
    value = plain_value(value)
    if isinstance(value, (Mapping, list, tuple)):
        if id(value) in _inside:
            return _as_repr(where, "…", "contains itself")
        inside = (*_inside, id(value))
        if isinstance(value, Mapping):
            return {str(k): jsonable_value(f"{where}[{k!r}]", v, inside) for k, v in value.items()}
        return [jsonable_value(f"{where}[{i}]", v, inside) for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        return value
    try:
        json.dumps(value, allow_nan=True)
        return value
    except (TypeError, ValueError):
        return _as_repr(where, repr(value), "is not JSON-serialisable")


def _as_repr(where: str, text: str, why: str) -> str:
    warnings.warn(
        f"mlnb: {where} = {text:.80} {why}; it is stored as its repr.", MlnbWarning, stacklevel=5
    )
    return text


def sanitize_config(config: Mapping[str, Any], where: str = "config") -> dict[str, Any]:
    """A JSON-ready copy of ``config`` (see :func:`jsonable_value`); repr with a warning for the rest."""
    if not isinstance(config, Mapping):
        raise InvalidArgumentError(f"{where} must be a dict, got {type(config).__name__}.")
    return {str(key): jsonable_value(f"{where}[{key!r}]", value) for key, value in config.items()}


def exception_summary(exc: BaseException) -> str:
    """``"ValueError: bad lr (train.py:12 in step)"`` — type, message and where it was raised."""
    text = f"{type(exc).__name__}: {exc}"
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        text += f" ({os.path.basename(last.filename)}:{last.lineno} in {last.name})"
    return text
