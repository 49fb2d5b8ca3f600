"""The panel fits a narrow notebook column (issue 18): rows wrap, buttons and sliders fit.

The browser test (tests/browser/test_layout.py) measures the result; these pin the
layout that gives it, through the widgets' traits.
"""

from __future__ import annotations

import ipywidgets as widgets

from mlnb import display
from mlnb.whatif import layout


def _all(root: widgets.Widget):
    stack = [root]
    while stack:
        widget = stack.pop()
        stack.extend(getattr(widget, "children", ()))
        yield widget


def test_every_row_of_controls_wraps_rather_than_spill_sideways(panel):
    rows = [w for w in _all(panel) if isinstance(w, widgets.HBox)]
    assert len(rows) >= 7  # picker (2), threshold, counterfactual, partial dependence (3), ...
    assert all(r.layout.flex_flow == "row wrap" for r in rows)


def test_buttons_are_as_wide_as_their_labels(panel):
    buttons = [w for w in _all(panel) if isinstance(w, widgets.Button)]
    assert {b.description for b in buttons} >= {"reset", "show that row"}
    assert all(b.layout.width == "auto" and b.layout.flex == "0 0 auto" for b in buttons)


def test_feature_sliders_give_way_in_a_narrow_column_but_keep_their_labels(panel):
    for widget in panel.inputs.values():
        assert widget.layout.max_width == display.FIT_WIDTH
        assert widget.layout.width == f"calc({widget.style.description_width} + 300px)"


def test_a_row_keeps_other_layout_settings():
    hidden = layout.row([widgets.HTML("a")], display="none")
    assert hidden.layout.display == "none" and hidden.layout.flex_flow == "row wrap"
