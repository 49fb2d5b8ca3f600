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
from typing import NamedTuple

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


def pack(
    items: Iterable[tuple[int, dict[str, float], float, int | None]],
) -> dict[str, Chunk]:
    """Group buffered ``(step, {key: value}, time, cell)`` entries into one chunk per key."""
    columns: dict[str, tuple[list[int], list[float], list[float], list[int]]] = {}
    for step, values, when, cell in items:
        cell_no = NO_CELL if cell is None else cell
        for key, value in values.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = ([], [], [], [])
            column[0].append(step)
            column[1].append(value)
            column[2].append(when)
            column[3].append(cell_no)
    return {
        key: Chunk(array("q", s), array("d", v), array("d", t), array("q", c))
        for key, (s, v, t, c) in columns.items()
    }


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
