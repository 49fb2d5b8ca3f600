"""Compare one cell's outputs from two runs: text, numbers, DataFrames, images, errors.

A cell's outputs become a list of :class:`Item` (:func:`cell_items`): each stream
(stdout, stderr) as normalised text, each result or display as the richest form that
can be compared — a PNG as its size and a 64-bit average hash, a pandas table (its
HTML) as a grid of cell values, anything else as normalised ``text/plain`` — and an
error as ``Name: message``. :func:`compare_cells` says whether two lists are the same
and, when not, how: the first value that changed, a table cell, an image's hash
distance, a new error.

Numbers inside text are compared with a tolerance (``rtol``/``atol``), so ``0.30000000000000004``
and ``0.3`` are the same; the words around them must match exactly.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from mlnb.checking.normalize import normalize_text

RTOL = 1e-6
ATOL = 1e-9
#: two images are the same picture when at most this many of the 64 hash bits differ
HASH_BITS_SAME = 6
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|\bnan\b|[-+]?\binf\b")
SHOWN = 60

# statuses of a cell
SAME = "same"
DIFFERS = "differs"
NEW_ERROR = "new error"
NEW_OUTPUT = "new output"
OUTPUT_GONE = "output gone"


@dataclass(frozen=True)
class Item:
    """One comparable output: ``kind`` is stdout, stderr, text, frame, image or error."""

    kind: str
    value: Any

    def label(self) -> str:
        """A short form for messages."""
        if self.kind == "image":
            width, height, _ = self.value
            return f"a {width}×{height} image"
        if self.kind == "frame":
            return f"a {len(self.value)}-row table"
        return _short(str(self.value))


@dataclass
class Difference:
    """How two cells' outputs differ: a status, one sentence, and the numbers that moved."""

    status: str
    how: str = ""
    values: list[tuple[str, str]] = field(default_factory=list)
    max_relative_change: float | None = None

    @property
    def same(self) -> bool:
        """True when nothing differs."""
        return self.status == SAME


def _short(text: str, limit: int = SHOWN) -> str:
    text = text.replace("\n", "⏎ ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- items --------------------------------------------------------------------------


class _TableParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._depth += 1
        elif tag == "tr" and self._depth == 1:
            self.rows.append([])
        elif tag in ("td", "th") and self._depth == 1 and self.rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._depth -= 1
        elif tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def frame_grid(html_text: str) -> tuple[tuple[str, ...], ...]:
    """The cell values of the first table in a pandas HTML repr, row by row (headers first)."""
    parser = _TableParser()
    parser.feed(html_text)
    return tuple(tuple(row) for row in parser.rows if row)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (0, 0 when it is not a PNG)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return 0, 0
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def average_hash(data: bytes, size: int = 8) -> int:
    """A perceptual hash: the image in grey at ``size``×``size``, one bit per pixel above the mean.

    Without Pillow (matplotlib's own dependency) the hash of the bytes themselves is used,
    so only identical images compare as the same.
    """
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return hash(data) & ((1 << (size * size)) - 1)
    with Image.open(io.BytesIO(data)) as image:
        small = image.convert("L").resize((size, size), Image.Resampling.BILINEAR)
        pixels = list(small.tobytes())
    mean = sum(pixels) / len(pixels)
    bits = 0
    for pixel in pixels:
        bits = (bits << 1) | (1 if pixel > mean else 0)
    return bits


def _image_item(encoded: str | list[str]) -> Item:
    text = "".join(encoded) if isinstance(encoded, list) else encoded
    try:
        data = base64.b64decode(text)
    except (binascii.Error, ValueError):
        return Item("text", normalize_text(text[:200]))
    width, height = png_size(data)
    try:
        digest = average_hash(data)
    except Exception:  # an image Pillow cannot read: compare its bytes
        digest = hash(data) & ((1 << 64) - 1)
    return Item("image", (width, height, digest))


def _text_of(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _data_item(data: Mapping[str, Any]) -> Item | None:
    if "image/png" in data:
        return _image_item(data["image/png"])
    html_text = _text_of(data.get("text/html", ""))
    if 'class="dataframe"' in html_text and "<table" in html_text:
        return Item("frame", frame_grid(html_text))
    if "text/plain" in data:
        return Item("text", normalize_text(_text_of(data["text/plain"])))
    for mime, value in data.items():
        if mime.startswith("application/vnd.jupyter.widget"):
            continue  # widget views carry a model id that is new every run
        return Item("text", normalize_text(_text_of(value)))
    return None


def cell_items(outputs: Iterable[Mapping[str, Any]]) -> list[Item]:
    """The comparable items of a cell's outputs (streams merged per stream name)."""
    items: list[Item] = []
    streams: dict[str, int] = {}
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            name = output.get("name", "stdout")
            text = _text_of(output.get("text", ""))
            if name in streams:
                index = streams[name]
                items[index] = Item(name, items[index].value + text)
            else:
                streams[name] = len(items)
                items.append(Item(name, text))
        elif kind in ("execute_result", "display_data"):
            item = _data_item(output.get("data", {}))
            if item is not None:
                items.append(item)
        elif kind == "error":
            message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
            items.append(Item("error", normalize_text(message)))
    items = [
        Item(i.kind, normalize_text(i.value)) if i.kind in ("stdout", "stderr") else i
        for i in items
    ]
    return [i for i in items if not (i.kind in ("stdout", "stderr") and not i.value)]


# --- comparisons --------------------------------------------------------------------


def _number(text: str) -> float:
    return float(text)


def _close(a: float, b: float, rtol: float, atol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)


def _relative(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        return math.inf
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0 else abs(a - b) / scale


def compare_text(old: str, new: str, rtol: float = RTOL, atol: float = ATOL) -> Difference:
    """Two normalised texts: the words must match, the numbers within the tolerance."""
    if old == new:
        return Difference(SAME)
    # the words around the numbers, with runs of spaces collapsed (NumPy pads by sign and width)
    old_words = [" ".join(w.split()) for w in NUMBER.split(old)]
    new_words = [" ".join(w.split()) for w in NUMBER.split(new)]
    old_numbers, new_numbers = NUMBER.findall(old), NUMBER.findall(new)
    if old_words != new_words or len(old_numbers) != len(new_numbers):
        return Difference(DIFFERS, _first_changed_line(old, new))
    moved = [
        (a, b)
        for a, b in zip(old_numbers, new_numbers, strict=False)
        if not _close(_number(a), _number(b), rtol, atol)
    ]
    if not moved:
        return Difference(SAME)
    worst = max(_relative(_number(a), _number(b)) for a, b in moved)
    shown = ", ".join(f"{a} → {b}" for a, b in moved[:3])
    more = f" and {len(moved) - 3} more" if len(moved) > 3 else ""
    return Difference(
        DIFFERS, f"{len(moved)} number(s) changed: {shown}{more}", moved, max_relative_change=worst
    )


def _first_changed_line(old: str, new: str) -> str:
    old_lines, new_lines = old.split("\n"), new.split("\n")
    for number, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), start=1):
        if a != b:
            return f"line {number}: {_short(a)!r} → {_short(b)!r}"
    if len(old_lines) != len(new_lines):
        return f"{len(old_lines)} line(s) → {len(new_lines)}"
    return "text changed"


def compare_frames(
    old: Sequence[Sequence[str]],
    new: Sequence[Sequence[str]],
    rtol: float = RTOL,
    atol: float = ATOL,
) -> Difference:
    """Two tables by value, cell by cell (numbers within the tolerance)."""
    if len(old) != len(new) or any(len(a) != len(b) for a, b in zip(old, new, strict=False)):
        shape_old = f"{len(old)}×{max((len(r) for r in old), default=0)}"
        shape_new = f"{len(new)}×{max((len(r) for r in new), default=0)}"
        return Difference(DIFFERS, f"table shape {shape_old} → {shape_new}")
    header = old[0] if old else ()
    moved: list[tuple[str, str]] = []
    first = ""
    worst = 0.0
    for r, (row_old, row_new) in enumerate(zip(old, new, strict=False)):
        for c, (a, b) in enumerate(zip(row_old, row_new, strict=False)):
            result = compare_text(a, b, rtol, atol)
            if result.same:
                continue
            moved.append((a, b))
            if result.max_relative_change is not None:
                worst = max(worst, result.max_relative_change)
            else:
                worst = math.inf
            if not first:
                column = header[c] if c < len(header) and header[c] else f"#{c}"
                label = row_old[0] if row_old and row_old[0] else str(r)
                first = f"row {label}, column {column}: {_short(a, 20)} → {_short(b, 20)}"
    if not moved:
        return Difference(SAME)
    return Difference(
        DIFFERS, f"{len(moved)} table value(s) changed; {first}", moved, max_relative_change=worst
    )


def compare_items(old: Item, new: Item, rtol: float = RTOL, atol: float = ATOL) -> Difference:
    """Two items of the same kind."""
    if old.kind == "image":
        (w0, h0, hash0), (w1, h1, hash1) = old.value, new.value
        if (w0, h0) != (w1, h1):
            return Difference(DIFFERS, f"image size {w0}×{h0} → {w1}×{h1}")
        distance = bin(hash0 ^ hash1).count("1")
        if distance > HASH_BITS_SAME:
            return Difference(
                DIFFERS, f"the {w0}×{h0} image looks different ({distance} of 64 hash bits)"
            )
        return Difference(SAME)
    if old.kind == "frame":
        return compare_frames(old.value, new.value, rtol, atol)
    result = compare_text(old.value, new.value, rtol, atol)
    if not result.same and old.kind == "error":
        return Difference(DIFFERS, f"error {_short(old.value)} → {_short(new.value)}")
    if not result.same and old.kind in ("stdout", "stderr"):
        result.how = f"{old.kind}: {result.how}"
    return result


def compare_cells(
    old: Sequence[Item], new: Sequence[Item], rtol: float = RTOL, atol: float = ATOL
) -> Difference:
    """A saved cell's items against a fresh run's: same, differs (how), new error, new output, output gone."""
    old_errors = [i for i in old if i.kind == "error"]
    new_errors = [i for i in new if i.kind == "error"]
    if new_errors and not old_errors:
        return Difference(NEW_ERROR, new_errors[0].label())
    if not old and new:
        return Difference(NEW_OUTPUT, "now shows " + ", ".join(i.label() for i in new[:2]))
    if old and not new:
        return Difference(OUTPUT_GONE, "showed " + ", ".join(i.label() for i in old[:2]))
    if [i.kind for i in old] != [i.kind for i in new]:
        return Difference(
            DIFFERS,
            f"outputs were {', '.join(i.kind for i in old)}; now {', '.join(i.kind for i in new)}",
        )
    values: list[tuple[str, str]] = []
    hows: list[str] = []
    worst: float | None = None
    for a, b in zip(old, new, strict=False):
        result = compare_items(a, b, rtol, atol)
        if result.same:
            continue
        hows.append(result.how)
        values += result.values
        if result.max_relative_change is not None:
            worst = max(worst or 0.0, result.max_relative_change)
        elif not result.values:
            worst = math.inf
    if not hows:
        return Difference(SAME)
    return Difference(DIFFERS, "; ".join(hows), values, max_relative_change=worst)
