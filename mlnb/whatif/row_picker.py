"""Choose the shown row by its position or by a column's value.

No widget lists the rows: a bounded number box takes the position (0 … n-1) and
"find where <column> equals <value>" jumps to the first matching row, so the
picker costs the same at a hundred rows as at a million.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from mlnb.exceptions import WhatIfError
from mlnb.whatif import layout
from mlnb.whatif.dataset import rows_where
from mlnb.whatif.editor import FIT_LABEL

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd


class RowPicker:
    """The row number box, the header text, "find where … equals …" and the reset button."""

    def __init__(self, data: pd.DataFrame, target: pd.Series | None) -> None:
        self.data = data
        self.target = target
        self.target_name = str(target.name or "target") if target is not None else None
        self.row_input = widgets.BoundedIntText(
            min=0, max=len(data) - 1, description="row", style=FIT_LABEL
        )
        self.row_label = widgets.HTML()
        columns = list(data.columns) + ([self.target_name] if self.target_name else [])
        self.search_column = widgets.Dropdown(
            options=columns, description="find where", style=FIT_LABEL
        )
        self.search_value = widgets.Text(
            placeholder="value", continuous_update=False, description="equals", style=FIT_LABEL
        )
        self.reset_button = layout.fit_button("reset", tooltip="undo this row's edits")
        self.widget = widgets.VBox(
            [
                layout.row([self.row_input, self.row_label, self.reset_button]),
                layout.row([self.search_column, self.search_value]),
            ]
        )

    def header_text(self, position: int) -> str:
        """ "row 10 of 228 (0 to 227), index label 298"."""
        n = len(self.data)
        label = self.data.index[position]
        return f"row {position:,} of {n:,} (0 to {n - 1:,}), index label {label}"

    def show(self, position: int) -> None:
        """Put ``position`` in the number box and the header."""
        self.row_input.value = position
        self.row_label.value = html.escape(self.header_text(position))

    def matches(self, column: str, value: Any) -> np.ndarray:
        """Positions of the rows where ``column`` (a feature or the target) equals ``value``."""
        if self.target is not None and column == self.target_name:
            source = self.target
        elif column in self.data.columns:
            source = self.data[column]
        else:
            raise WhatIfError(f"{column!r} is not a column of the data.")
        return rows_where(source, value)
