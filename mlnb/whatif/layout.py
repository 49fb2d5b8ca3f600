"""Layouts that keep the what-if panel inside a narrow notebook column.

ipywidgets boxes lay their children in one line and scroll sideways when the line is
wider than the output area; buttons have a fixed width that cuts a longer label. A
:func:`row` wraps its children onto the next line instead, and :func:`fit_button`
sizes a button to its label.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

#: a row of controls that wraps onto a second line rather than spill sideways
ROW_WRAP = {"flex_flow": "row wrap", "align_items": "center", "max_width": "100%"}


def row(children: Sequence[widgets.Widget], **layout: Any) -> widgets.HBox:
    """An ``HBox`` of ``children`` that wraps when the output area is narrower than the line."""
    return widgets.HBox(list(children), layout=widgets.Layout(**{**ROW_WRAP, **layout}))


def fit_button(description: str, **kwargs: Any) -> widgets.Button:
    """A ``Button`` as wide as its label (the stock width cuts "show that row")."""
    return widgets.Button(
        description=description, layout=widgets.Layout(width="auto", flex="0 0 auto"), **kwargs
    )
