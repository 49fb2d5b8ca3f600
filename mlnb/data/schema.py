"""What the data should look like: kinds, domains, ranges, required columns, missing rates.

:func:`infer_schema` writes down what one frame looks like (TFDV's
``infer_schema``); a person then edits the JSON — widen a range, add a domain
value, allow more missing values — and :func:`mlnb.data.validate` checks new data
against it. The JSON file carries a ``"version"`` field so a future mlnb can read
or refuse it clearly.

Inference rules, chosen to be strict and easy to loosen by hand:

* every column is ``required``;
* ``max_missing_rate`` is the observed missing rate rounded *up* to the next whole
  percent (0 stays 0: a column that was complete must stay complete);
* numeric and datetime columns get the observed ``min`` and ``max`` (datetimes as
  ISO 8601 text);
* boolean, categorical and mixed columns get their ``domain`` (every value seen,
  as text) when they have at most ``max_domain`` distinct values; a column with
  more gets no domain — its values are not checked — and a note says so.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlnb.data import kinds
from mlnb.data.profile import MAX_DOMAIN, ColumnProfile, DataProfile, profile
from mlnb.exceptions import SchemaFileError

SCHEMA_VERSION = 1
_FIELDS = ("name", "kind", "dtype", "required", "max_missing_rate", "domain", "min", "max", "note")


@dataclass
class ColumnSchema:
    """What one column should look like.

    Attributes:
        name: the column name.
        kind: one of ``numeric``, ``datetime``, ``boolean``, ``categorical``, ``mixed``, ``empty``.
        dtype: the pandas dtype seen when inferred (for people; not checked).
        required: whether the column must be present.
        max_missing_rate: the largest share of missing values allowed, 0 to 1.
        domain: the allowed values (as text) of a counted column, or None for no check.
        min: the smallest allowed value of a numeric (number) or datetime (ISO text) column.
        max: the largest allowed value, likewise.
        note: a remark from inference (a capped domain), for people.
    """

    name: str
    kind: str
    dtype: str | None = None
    required: bool = True
    max_missing_rate: float = 0.0
    domain: list[str] | None = None
    min: float | str | None = None
    max: float | str | None = None
    note: str | None = None

    def bounds(self) -> tuple[float, float]:
        """``(min, max)`` as numbers (nanoseconds for datetimes), infinite where unset."""
        return _as_number(self.min, -math.inf), _as_number(self.max, math.inf)


@dataclass
class Schema:
    """The expected shape of a frame, column by column, in column order."""

    columns: dict[str, ColumnSchema] = field(default_factory=dict)
    version: int = SCHEMA_VERSION

    def __getitem__(self, name: str) -> ColumnSchema:
        return self.columns[name]

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form written by :meth:`save`."""
        from mlnb import __version__

        columns = [
            {k: v for k, v in asdict(c).items() if v is not None} for c in self.columns.values()
        ]
        return {"version": self.version, "created_by": f"mlnb {__version__}", "columns": columns}

    def save(self, path: str | Path) -> Path:
        """Write the schema as indented JSON; returns the path written."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return target

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> Schema:
        """Build a schema from its JSON form, refusing unknown versions and malformed columns."""
        if not isinstance(data, dict):
            raise SchemaFileError(
                source,
                f"is not an mlnb schema: it holds a JSON {type(data).__name__}, not an object.",
            )
        if "version" not in data:
            raise SchemaFileError(source, 'has no "version" field, so it is not an mlnb schema.')
        if data["version"] != SCHEMA_VERSION:
            raise SchemaFileError(
                source,
                f"has version {data['version']!r}, but this mlnb reads version {SCHEMA_VERSION} — "
                f"infer a new one with `%validate DF --infer {source}`.",
            )
        raw_columns = data.get("columns")
        if not isinstance(raw_columns, list):
            raise SchemaFileError(source, 'is not an mlnb schema: "columns" must be a list.')
        columns: dict[str, ColumnSchema] = {}
        positions: dict[str, int] = {}
        for position, raw in enumerate(raw_columns, start=1):
            column = _column_from_dict(raw, position, source)
            if column.name in columns:
                raise SchemaFileError(
                    source,
                    f"lists column {column.name!r} twice (entries {positions[column.name]} "
                    f"and {position}) — keep one.",
                )
            columns[column.name], positions[column.name] = column, position
        return cls(columns=columns, version=SCHEMA_VERSION)

    @classmethod
    def load(cls, path: str | Path) -> Schema:
        """Read a schema written by :meth:`save` (and maybe edited by hand)."""
        return load_schema(path)


def load_schema(path: str | Path) -> Schema:
    """Read a schema JSON file.

    Raises:
        SchemaFileError: the file is missing, is not valid JSON, has no or an
            unknown ``version``, or a column entry is malformed — one sentence each.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaFileError(
            source, f"does not exist — create one with `%validate DF --infer {source}`."
        ) from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise SchemaFileError(source, f"cannot be read as text ({type(exc).__name__}).") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaFileError(
            source,
            f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}) — "
            f"fix it, or infer a new one with `%validate DF --infer {source}`.",
        ) from None
    return Schema.from_dict(data, source)


def infer_schema(data: Any, *, max_domain: int = MAX_DOMAIN) -> Schema:
    """Infer a strict schema from ``data`` (see the module docstring for the rules).

    Args:
        data: a DataFrame, array, or a :class:`~mlnb.data.profile.DataProfile`.
        max_domain: the most distinct values a column may have to get a domain.

    Returns:
        The :class:`Schema`; ``.save(path)`` writes it as JSON.
    """
    found = data if isinstance(data, DataProfile) else profile(data, max_domain=max_domain)
    return Schema(columns={c.name: _infer_column(c, max_domain) for c in found.columns.values()})


def _infer_column(column: ColumnProfile, max_domain: int) -> ColumnSchema:
    inferred = ColumnSchema(
        name=column.name,
        kind=column.kind,
        dtype=column.dtype,
        max_missing_rate=math.ceil(round(column.missing_rate * 100, 9)) / 100,
    )
    if column.kind in kinds.NUMBER_KINDS and column.count:
        inferred.min, inferred.max = column.min, column.max
        if column.kind == kinds.DATETIME and column.min is not None and column.max is not None:
            inferred.min = kinds.iso_datetime(column.min, "floor")
            inferred.max = kinds.iso_datetime(column.max, "ceil")
    elif column.counts is not None:
        if column.unique <= max_domain and not column.domain_capped:
            inferred.domain = sorted(column.counts.index.tolist())
        else:
            inferred.note = (
                f"no domain: {column.unique:,} distinct values is more than "
                f"max_domain={max_domain}, so values are not checked."
            )
    return inferred


def _column_from_dict(raw: Any, position: int, source: str) -> ColumnSchema:
    where = f"column entry {position}"
    if not isinstance(raw, dict):
        raise SchemaFileError(source, f"is not an mlnb schema: {where} is not an object.")
    if not isinstance(raw.get("name"), str):
        raise SchemaFileError(source, f'is not an mlnb schema: {where} has no "name".')
    if raw.get("kind") not in kinds.KINDS:
        raise SchemaFileError(
            source,
            f"has an unknown kind {raw.get('kind')!r} for column {raw['name']!r} "
            f"(known: {', '.join(kinds.KINDS)}).",
        )
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise SchemaFileError(
            source,
            f"has unknown field {unknown[0]!r} for column {raw['name']!r} (known: {', '.join(_FIELDS)}).",
        )
    rate = raw.get("max_missing_rate", 0.0)
    if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise SchemaFileError(
            source,
            f"has max_missing_rate {rate!r} for column {raw['name']!r}; it must be from 0 to 1.",
        )
    _check_bounds(raw, source)
    if not isinstance(raw.get("required", True), bool):
        raise SchemaFileError(
            source,
            f"has required {raw['required']!r} for column {raw['name']!r}; it must be true or false.",
        )
    domain = raw.get("domain")
    if domain is not None and not isinstance(domain, list):
        raise SchemaFileError(
            source, f"has a domain for column {raw['name']!r} that is not a list."
        )
    return ColumnSchema(
        name=raw["name"],
        kind=raw["kind"],
        dtype=raw.get("dtype"),
        required=bool(raw.get("required", True)),
        max_missing_rate=float(rate),
        domain=[str(v) for v in domain] if domain is not None else None,
        min=raw.get("min"),
        max=raw.get("max"),
        note=raw.get("note"),
    )


def _check_bounds(raw: dict[str, Any], source: str) -> None:
    """Refuse a bound that is not a number or an ISO date, and a min above the max."""
    for bound in ("min", "max"):
        if not _is_bound(raw.get(bound)):
            raise SchemaFileError(
                source,
                f"has {bound} {raw.get(bound)!r} for column {raw['name']!r}, which is neither a number nor an ISO date.",
            )
    low, high = raw.get("min"), raw.get("max")
    if low is not None and high is not None and _as_number(low, 0.0) > _as_number(high, 0.0):
        raise SchemaFileError(
            source,
            f"has min {low!r} above max {high!r} for column {raw['name']!r}; no value could pass — swap them.",
        )


def _is_bound(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return False
    try:
        return not math.isnan(_as_number(value, 0.0))
    except ValueError:
        return False


def _as_number(value: float | str | None, default: float) -> float:
    """A bound as a number: numbers as they are, ISO dates as nanoseconds since 1970 UTC."""
    if value is None:
        return default
    if isinstance(value, str):
        return kinds.parse_datetime(value)
    return float(value)
