"""``RowPicker``: a row by position or by a column's value; no widget lists the rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlnb.exceptions import WhatIfError
from mlnb.whatif.row_picker import RowPicker


def test_the_picker_holds_no_list_of_rows_at_a_million_rows():
    data = pd.DataFrame({"x": np.arange(1_000_000, dtype=float)})
    picker = RowPicker(data, pd.Series(np.zeros(1_000_000), name="label"))
    assert picker.row_input.max == 999_999
    assert picker.search_column.options == ("x", "label")  # columns, not rows
    picker.show(123_456)
    assert picker.row_input.value == 123_456
    assert picker.row_label.value == "row 123,456 of 1,000,000 (0 to 999,999), index label 123456"
    assert picker.matches("x", "123456").tolist() == [123_456]


def test_the_target_is_searchable_and_an_unknown_column_is_one_sentence():
    data = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    picker = RowPicker(data, pd.Series(["a", "b", "a"]))
    assert picker.matches("target", "a").tolist() == [0, 2]
    with pytest.raises(WhatIfError, match=r"'y' is not a column of the data\."):
        picker.matches("y", 1)
