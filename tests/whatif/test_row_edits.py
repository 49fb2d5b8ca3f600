"""``RowEdits``: edits per row position; an edit back to the row's value is no edit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlnb.whatif.row_edits import RowEdits


def test_an_edit_back_to_the_original_value_is_forgotten():
    edits = RowEdits()
    assert edits.record(3, "age", 40.0, 35.0) == 40.0
    assert edits.any(3) and edits.of(3) == {"age": 40.0}
    assert edits.record(3, "age", 35.0, 35.0) == 35.0
    assert not edits.any(3) and edits.of(3) == {}


def test_nan_set_back_to_nan_is_no_edit():
    edits = RowEdits()
    assert np.isnan(edits.record(0, "x", float("nan"), float("nan")))
    assert not edits.any(0)


def test_edited_rows_apply_the_edits_by_position_even_with_repeated_labels():
    data = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]}, index=[7, 7, 8])
    edits = RowEdits()
    edits.record(1, "a", 20.0, 2.0)
    edits.record(0, "b", "w", "x")
    rows = edits.edited_rows(data)
    assert list(rows["a"]) == [1.0, 20.0] and list(rows["b"]) == ["w", "y"]
    assert list(rows.index) == [7, 7]
    edits.drop(1)
    assert len(edits.edited_rows(data)) == 1
    assert data.loc[8, "a"] == 3.0 and data.iloc[1]["a"] == 2.0  # the data is untouched
