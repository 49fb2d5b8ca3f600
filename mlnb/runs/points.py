"""Metric points packed per metric and flush: the store's on-disk form of ``run.log``.

One SQLite row per point costs several microseconds to insert; a training loop
logs faster than that. So each flush stores, per metric, one row holding four
packed little-endian arrays: steps (int64), values (float64), times (float64)
and cell numbers (int64, -1 for none). Binary float64 keeps NaN, +inf and -inf
exactly (a SQLite REAL column would turn NaN into NULL), and int64 keeps steps
exact far beyond 2**53.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable
from operator import itemgetter
from typing import Any, NamedTuple, cast

from mlnb.exceptions import MetricValueError
from mlnb.runs.records import MetricRow

_SWAP = sys.byteorder != "little"
NO_CELL = -1


class Chunk(NamedTuple):
    """The points of one metric from one flush, in logging order."""

    steps: array  # array('q')
    values: array  # array('d')
    times: array  # array('d')
    cells: array  # array('q')

    def __len__(self) -> int:
        return len(self.steps)


def new_chunk() -> Chunk:
    """An empty chunk."""
    return Chunk(array("q"), array("d"), array("d"), array("q"))


#: one buffered ``log`` call: ``(step, {key: value}, time, cell)``, or one ``log_many`` call:
#: ``(array('q') of steps, {key: array('d') of values}, time, cell)``
Entry = tuple[Any, dict[str, Any], float, "int | None"]


_STEP, _VALUES, _TIME, _CELL = (itemgetter(i) for i in range(4))


def entries(flat: list[Any]) -> list[Entry]:
    """A run's flat buffer (four items an entry) as ``(step, values, time, cell)`` entries."""
    return list(zip(flat[0::4], flat[1::4], flat[2::4], flat[3::4], strict=True))


def pack(items: Iterable[Entry]) -> dict[str, Chunk]:
    """Group buffered ``(step, values, time, cell)`` entries into one chunk per key."""
    listed = items if isinstance(items, list) else list(items)
    return pack_columns(
        list(map(_STEP, listed)),
        list(map(_VALUES, listed)),
        list(map(_TIME, listed)),
        list(map(_CELL, listed)),
    )


def pack_columns(
    steps: list[Any], dicts: list[dict[str, Any]], whens: list[float], cells: list[int | None]
) -> dict[str, Chunk]:
    """One chunk per key, each in logging order, from the entries' four columns.

    The usual flush (every entry a ``log`` call with the same keys, as a training loop
    logs) is gathered column by column at C speed; anything else goes point by point.
    """
    if not steps:
        return {}
    keys = set().union(*dicts)
    if set(map(type, steps)) == {int} and sum(map(len, dicts)) == len(dicts) * len(keys):
        # every entry is one log() call holding every key: gather column by column
        step_array = array("q", steps)
        time_array = array("d", whens)
        whole = cast("list[int]", cells) if None not in cells else None
        cell_array = array("q", whole if whole is not None else [_cell_no(c) for c in cells])
        return {
            key: Chunk(step_array, array("d", [d[key] for d in dicts]), time_array, cell_array)
            for key in dicts[0]  # the order they were first logged in
        }
    return _pack_each(list(zip(steps, dicts, whens, cells, strict=True)))


def _cell_no(cell: int | None) -> int:
    return NO_CELL if cell is None else cell


def _pack_each(entries: list[Entry]) -> dict[str, Chunk]:
    columns: dict[str, Chunk] = {}
    for step, values, when, cell in entries:
        cell_no = NO_CELL if cell is None else cell
        if type(step) is int:
            for key, value in values.items():
                column = columns.get(key)
                if column is None:
                    column = columns[key] = new_chunk()
                column.steps.append(step)
                column.values.append(value)
                column.times.append(when)
                column.cells.append(cell_no)
        else:  # one log_many call: arrays of equal length
            count = len(step)
            for key, value_array in values.items():
                column = columns.get(key)
                if column is None:
                    column = columns[key] = new_chunk()
                column.steps.extend(step)
                column.values.extend(value_array)
                column.times.extend(array("d", (when,)) * count)
                column.cells.extend(array("q", (cell_no,)) * count)
    return columns


def last_values(entries: Iterable[Entry]) -> dict[str, float]:
    """Each key's last value in logging order (what the run's summary shows)."""
    last: dict[str, float] = {}
    for step, values, _when, _cell in entries:
        if type(step) is int:
            last.update(values)
        else:
            last.update({key: column[-1] for key, column in values.items()})
    return last


def merge(first: dict[str, Chunk], second: dict[str, Chunk]) -> dict[str, Chunk]:
    """``first`` followed by ``second`` (for points that must be written again)."""
    merged = dict(first)
    for key, chunk in second.items():
        if key in merged:
            old = merged[key]
            merged[key] = Chunk(*(a + b for a, b in zip(old, chunk, strict=True)))
        else:
            merged[key] = chunk
    return merged


def encode(values: array) -> bytes:
    """Little-endian bytes of an array."""
    if _SWAP:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def decode(typecode: str, data: bytes) -> array:
    """The array :func:`encode` wrote."""
    values = array(typecode)
    values.frombytes(data)
    if _SWAP:
        values.byteswap()
    return values


def intact(blobs: tuple[bytes, bytes, bytes, bytes]) -> bool:
    """Whether a stored chunk's four arrays can be decoded: whole 8-byte items, equal lengths."""
    sizes = {len(blob) if isinstance(blob, bytes) else -1 for blob in blobs}
    return len(sizes) == 1 and sizes.pop() % 8 == 0


def rows(key: str, chunks: Iterable[tuple[bytes, bytes, bytes, bytes]]) -> list[MetricRow]:
    """Decode a metric's stored chunks (in write order) into rows sorted by step."""
    out: list[MetricRow] = []
    for steps, values, times, cells in chunks:
        out.extend(
            MetricRow(key, s, v, t, None if c == NO_CELL else c)
            for s, v, t, c in zip(
                decode("q", steps),
                decode("d", values),
                decode("d", times),
                decode("q", cells),
                strict=True,
            )
        )
    if any(out[i].step > out[i + 1].step for i in range(len(out) - 1)):
        out.sort(key=lambda row: row.step)  # stable: same-step points keep logging order
    return out


# --- log_many: arrays checked and copied ------------------------------------------

MAX_STEP = 2**63 - 1


#: torch float types NumPy can hold as they are
_NUMPY_FLOATS = ("torch.float16", "torch.float32", "torch.float64")


def _numbers(what: str, value: Any) -> Any:
    """``value`` as a one-dimensional NumPy array of numbers (a CPU copy of a tensor)."""
    import numpy as np

    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, maybe on a GPU
        value = value.detach().cpu()
        if value.is_floating_point() and str(value.dtype) not in _NUMPY_FLOATS:
            value = value.double()  # bfloat16, float8: NumPy has no such type; exact in float64
    if isinstance(value, (str, bytes)):
        raise MetricValueError(f"{what} must be an array of numbers, got text {value!r:.60}.")
    try:
        numbers = np.asarray(value)
    except Exception as exc:  # anything NumPy cannot take: one sentence, not its traceback
        raise MetricValueError(
            f"{what} must be an array of numbers, got a {type(value).__name__} ({exc})."
        ) from None
    if numbers.ndim != 1:
        raise MetricValueError(
            f"{what} must be one-dimensional, got shape {numbers.shape} — flatten it or log "
            "each series under its own name."
        )
    if numbers.dtype.kind not in "biuf":
        raise MetricValueError(
            f"{what} must hold real numbers, got dtype {numbers.dtype} — convert it with "
            ".astype(float)."
        )
    return numbers


def value_array(key: str, value: Any) -> array:
    """A metric's values for ``log_many`` as ``array('d')``: a copy; NaN and ±inf are kept."""
    import numpy as np

    numbers = _numbers(f"metric {key!r}", value)
    copied = array("d")
    copied.frombytes(np.ascontiguousarray(numbers, dtype=np.float64).view(np.uint8).data)
    return copied


def step_array(steps: Any) -> array:
    """``log_many``'s steps as ``array('q')``: whole numbers from 0 to 2**63 - 1, checked."""
    import numpy as np

    numbers = _numbers("steps", steps)
    if numbers.dtype.kind == "b":
        raise MetricValueError("steps must be whole numbers, got booleans.")
    if numbers.size:
        if numbers.dtype.kind == "f":
            bad = ~np.isfinite(numbers) | (numbers != np.trunc(numbers))
            bad |= (numbers < 0) | (numbers >= 2.0**63)
            if bad.any():
                first = float(numbers[np.argmax(bad)])
                raise MetricValueError(
                    f"steps must be whole numbers from 0 to 2**63 - 1, got {first!r} at "
                    f"position {int(np.argmax(bad))}."
                )
        else:
            low, high = numbers.min(), numbers.max()
            if low < 0 or high > MAX_STEP:
                bad_value = low if low < 0 else high
                position = int(np.argmax(numbers == bad_value))
                raise MetricValueError(
                    f"steps must be whole numbers from 0 to 2**63 - 1, got {int(bad_value)} at "
                    f"position {position}."
                )
    copied = array("q")
    copied.frombytes(np.ascontiguousarray(numbers, dtype=np.int64).view(np.uint8).data)
    return copied


def aligned_steps(columns: dict[str, array], steps: Any, next_step: int) -> array:
    """The steps of one ``log_many`` call, checked against every column's length.

    With no ``steps``, the steps from ``next_step`` on (every column must be as long).
    """
    if steps is None:
        lengths = {len(column) for column in columns.values()}
        if len(lengths) > 1:
            raise MetricValueError(
                "log_many(): the arrays have different lengths "
                f"({', '.join(f'{k}: {len(v)}' for k, v in columns.items())}) — give each "
                "metric the same number of points, or log them in separate calls."
            )
        count = lengths.pop() if lengths else 0
        if count and next_step + count - 1 > MAX_STEP:
            raise MetricValueError(f"steps would pass 2**63 - 1 ({MAX_STEP}).")
        return array("q", range(next_step, next_step + count))
    checked = step_array(steps)
    for key, column in columns.items():
        if len(column) != len(checked):
            raise MetricValueError(
                f"metric {key!r} has {len(column)} values for {len(checked)} steps — "
                "give one value per step."
            )
    return checked
