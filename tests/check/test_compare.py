"""Normalisation and per-cell comparison of ``mlnb check`` (no kernel)."""

from __future__ import annotations

import base64
import io

import pytest

from mlnb.checking.compare import (
    DIFFERS,
    NEW_ERROR,
    NEW_OUTPUT,
    OUTPUT_GONE,
    SAME,
    average_hash,
    cell_items,
    compare_cells,
    compare_text,
    frame_grid,
)
from mlnb.checking.normalize import normalize_text
from tests.check.planted import error, result, stdout


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("<object object at 0x7f3a2c1b9e50>", "<object object at 0x7f99aa00bb10>"),
        ("saved 2024-03-01 12:30:05.123 UTC", "saved 2025-11-30T01:02:03Z UTC"),
        ("wrote /tmp/tmpa1b2c3/model.pt", "wrote /tmp/tmpzz9911/model.pt"),
        (
            "CPU times: user 3 ms, sys: 0 ns\nWall time: 2.1 ms\nok",
            "CPU times: user 9 ms\nWall time: 8 s\nok",
        ),
        ("epoch 1 took 2.3s", "epoch 1 took 14.02 s"),
        ("100%|██████████| 10/10 [00:01<00:00, 9.1it/s]\ndone", "done"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("Cell In[12], line 3", "Cell In[4], line 3"),
        ("working 10%\rworking 100%", "working 100%"),
    ],
)
def test_what_always_changes_normalises_away(first, second):
    assert normalize_text(first) == normalize_text(second)


def test_normalisation_keeps_what_matters():
    assert normalize_text("loss 0.25") != normalize_text("loss 0.35")
    assert normalize_text("3 apples") != normalize_text("4 apples")


def test_numbers_compare_with_a_tolerance_and_say_which_moved():
    assert compare_text("x = 0.30000000000000004", "x = 0.3").same
    moved = compare_text("loss 0.25 acc 0.9", "loss 0.2501 acc 0.9")
    assert moved.status == DIFFERS and moved.values == [("0.25", "0.2501")]
    assert moved.how == "1 number(s) changed: 0.25 → 0.2501"
    assert moved.max_relative_change == pytest.approx(0.0001 / 0.2501)
    words = compare_text("a\nred", "a\nblue")
    assert words.how == "line 2: 'red' → 'blue'"


def _frame_html(values, style=""):
    rows = "".join(
        f"<tr><th>{i}</th><td>{a}</td><td>{b}</td></tr>" for i, (a, b) in enumerate(values)
    )
    return (
        f'<div>{style}<table border="1" class="dataframe"><thead><tr><th></th><th>a</th><th>b</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def test_dataframes_compare_by_value_not_by_markup():
    old = result({"text/html": _frame_html([(1.5, "x"), (2.5, "y")]), "text/plain": "old"})
    new = result(
        {
            "text/html": _frame_html([(1.5000000001, "x"), (2.5, "y")], "<style>td{}</style>"),
            "text/plain": "reformatted",
        }
    )
    assert compare_cells(cell_items([old]), cell_items([new])).status == SAME
    changed = result({"text/html": _frame_html([(1.5, "x"), (2.5, "z")]), "text/plain": "x"})
    difference = compare_cells(cell_items([old]), cell_items([changed]))
    assert difference.status == DIFFERS
    assert difference.how == "1 table value(s) changed; row 1, column b: y → z"
    assert frame_grid(_frame_html([(1, 2)]))[0] == ("", "a", "b")


def _png(draw) -> str:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (64, 48), "white")
    draw(ImageDraw.Draw(image))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_images_compare_by_size_and_perceptual_hash():
    square = _png(lambda d: d.rectangle((0, 0, 31, 47), fill="black"))
    nearly = _png(lambda d: (d.rectangle((0, 0, 31, 47), fill="black"), d.point((60, 40), "red")))
    other = _png(lambda d: d.rectangle((0, 0, 63, 23), fill="black"))
    items = [
        cell_items([result({"image/png": png, "text/plain": "<Figure>"})])
        for png in (square, nearly, other)
    ]
    assert items[0][0].value[:2] == (64, 48)
    assert base64.b64decode(square) != base64.b64decode(nearly)
    assert compare_cells(items[0], items[1]).status == SAME
    different = compare_cells(items[0], items[2])
    assert different.status == DIFFERS and "image looks different" in different.how
    assert average_hash(base64.b64decode(square)) != average_hash(base64.b64decode(other))


def test_cell_statuses():
    printed = cell_items([stdout("hello\n")])
    assert compare_cells(printed, cell_items([stdout("hel"), stdout("lo\n")])).status == SAME
    assert compare_cells(printed, []).status == OUTPUT_GONE
    assert compare_cells([], printed).status == NEW_OUTPUT
    raised = cell_items([error("NameError", "name 'x' is not defined")])
    assert compare_cells(printed, raised).how == "NameError: name 'x' is not defined"
    assert compare_cells(printed, raised).status == NEW_ERROR
    assert compare_cells(raised, raised).status == SAME
    assert compare_cells(printed, cell_items([result("'hello'")])).status == DIFFERS


def test_padding_around_numbers_does_not_count_as_a_word_change():
    moved = compare_text("[0.301 1.281 1.133]", "[ 0.135  0.029 -0.279]")
    assert moved.status == DIFFERS and moved.how.startswith("3 number(s) changed: 0.301 → 0.135")
