"""mlnb.cellcode.split_cell: statements to exec plus the last expression to eval."""

from __future__ import annotations

import traceback
from typing import Any

import pytest

from mlnb.cellcode import split_cell


def _run(code: str) -> tuple[Any, dict[str, Any]]:
    body, last = split_cell(code, "<cell>")
    namespace: dict[str, Any] = {}
    exec(body, namespace)
    return (eval(last, namespace) if last is not None else None), namespace


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("x = 2\nx * 3\n", 6),
        ("x = 2\nx * 3", 6),  # no final newline
        ("x = 2\nx * 3  # the value\n\n", 6),  # trailing comment and blank line
        ("x = 2; x + 1", 3),  # two statements on one line
        ("(1,\n 2)\n", (1, 2)),  # an expression over several lines
        ("'a;b'", "a;b"),  # a semicolon inside a string
        ("x = 2 # ;\nx", 2),
    ],
)
def test_last_expression_is_the_value(code, value):
    assert _run(code)[0] == value


@pytest.mark.parametrize(
    "code",
    [
        "",
        "\n# only a comment\n",
        "x = 2\n",
        "x = 2\nx += 1\n",
        "for i in range(3):\n    i\n",
        "def f():\n    return 1\n",
        "x = 2\nx;\n",  # a trailing semicolon silences the value, as in IPython
        "x = 2\nx ;  # quiet\n",
    ],
)
def test_no_value(code):
    body, last = split_cell(code, "<cell>")
    assert last is None
    exec(body, {})


def test_silenced_expression_still_runs():
    value, namespace = _run("seen = []\nseen.append(1);\n")
    assert value is None
    assert namespace["seen"] == [1]


def test_statements_run_before_the_expression():
    value, namespace = _run("x = 1\nx = x + 1\n[x, x]")
    assert value == [2, 2]
    assert namespace["x"] == 2


def test_syntax_error_points_into_the_users_code():
    with pytest.raises(SyntaxError) as info:
        split_cell("a = 1\nb = (\n", "<ipython-input-7>")
    assert info.value.filename == "<ipython-input-7>"
    assert info.value.lineno == 2


def test_runtime_errors_name_the_cell_file_and_line():
    body, last = split_cell("x = 1\n1 / 0\n", "<cell-9>")
    with pytest.raises(ZeroDivisionError) as info:
        exec(body, {})
        eval(last, {})
    frame = traceback.extract_tb(info.value.__traceback__)[-1]
    assert (frame.filename, frame.lineno) == ("<cell-9>", 2)
