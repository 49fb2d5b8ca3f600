"""Labels fit (issue 18: "numeric bins" showed as "numeric b…"): every described control."""

from __future__ import annotations

import ipywidgets as widgets

from mlnb.whatif.editor import FIT_LABEL, label_width
from mlnb.whatif.features import Feature


def _described(root: widgets.Widget):
    stack = [root]
    while stack:
        widget = stack.pop()
        stack.extend(getattr(widget, "children", ()))
        style = getattr(widget, "style", None)
        if getattr(widget, "description", "") and hasattr(style, "description_width"):
            yield widget


def test_every_label_of_the_panel_gets_the_width_its_text_needs(panel):
    inputs = {id(w) for w in panel.inputs.values()}
    seen = []
    for widget in _described(panel):
        width = widget.style.description_width
        seen.append(widget.description)
        if id(widget) in inputs:  # feature rows share one width, wide enough for the longest
            assert int(width.removesuffix("px")) >= 8 * len(widget.description)
        elif not isinstance(widget, widgets.Checkbox):  # a checkbox's label sits after it
            assert width == FIT_LABEL["description_width"], widget.description
    assert {"numeric bins", "slice by", "cost FP/FN", "grid points", "and (2-D)"} <= set(seen)


def test_the_feature_label_width_follows_the_longest_name():
    short = Feature(name="age", kind="numeric")
    long = Feature(name="worst_concave_points_standard_error", kind="numeric")
    assert label_width([short]) == "160px"
    assert label_width([short, long]) == f"{8 * (len(long.name) + 7)}px"
