"""``MessageArea``: one sentence per problem, errors cleared by the area's next success."""

from __future__ import annotations

import pandas as pd
import pytest

from mlnb.exceptions import WhatIfError
from mlnb.whatif.messages import MessageArea, check_columns


def test_guard_keeps_an_area_error_until_the_area_succeeds():
    report = MessageArea()

    def fail() -> None:
        raise WhatIfError("the model could not be set up.")

    report.guard("partial dependence", fail)
    report.render()
    assert report.messages == ["partial dependence: the model could not be set up."]
    assert "⚠" in report.widget.value
    report.guard("partial dependence", lambda: None)
    report.render()
    assert report.messages == [] and report.widget.value == ""


def test_guard_lets_a_bug_through():
    with pytest.raises(ZeroDivisionError):
        MessageArea().guard("pdp", lambda: 1 / 0)  # type: ignore[func-returns-value]


def test_messages_are_escaped_and_ordered():
    report = MessageArea()
    report.notes.append("<b>note</b>")
    report.warnings.append("warn")
    report.errors["x"] = "err"
    report.render()
    assert report.messages == ["err", "warn", "<b>note</b>"]
    assert "&lt;b&gt;note&lt;/b&gt;" in report.widget.value


def test_check_columns_names_the_unknown_one():
    frame = pd.DataFrame({f"c{i}": [1] for i in range(14)})
    with pytest.raises(WhatIfError, match=r"fixed names 'nope', .* c11 and 2 more\."):
        check_columns("fixed", ["c0", "nope"], frame)
