"""The overview panel, driven through its widgets' traits."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from mlnb import display
from mlnb.data import DataOverview, infer_schema, overview, plots
from mlnb.data.overview import ANOMALY_BACKGROUND, DRIFT_BACKGROUND


def _pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    n = 2000
    reference = pd.DataFrame(
        {
            "x": rng.normal(0, 1, n),
            "steady": rng.normal(0, 1, n),
            "<b>city</b>": rng.choice(["a", "b", "<script>alert(1)</script>"], n),
        }
    )
    current = reference.copy()
    current["x"] = current["x"] + 1.0
    return reference, current


def test_panel_highlights_drift_and_anomalies() -> None:
    reference, current = _pair()
    current.loc[:9, "steady"] = 99.0  # out of range but too few to drift
    panel = overview(current, reference, schema=infer_schema(reference), title="serving")
    assert isinstance(panel, DataOverview)
    table = panel.table.value
    rows = table.split("<tr")
    x_row = next(r for r in rows if ">x</td>" in r)
    steady_row = next(r for r in rows if ">steady</td>" in r)
    assert DRIFT_BACKGROUND in x_row and "DRIFT" in x_row
    assert ANOMALY_BACKGROUND in steady_row and "out_of_range" in steady_row
    assert table.count("data:image/svg+xml;base64,") == 3  # one sparkline per column
    assert "<script>" not in table and "&lt;b&gt;city&lt;/b&gt;" in table
    assert panel.drift.drifted == ["x"]
    assert panel.summary().splitlines() == [
        "serving: 2,000 rows × 3 columns",
        "drift: 1 of 3 columns drift (x) — reference 2,000 rows, current 2,000 rows.",
        "2 anomalies in 2 columns (2,000 rows checked).",  # x moved past its max too
    ]


def test_choosing_a_column_shows_its_plot_and_statistics() -> None:
    reference, current = _pair()
    panel = overview(current, reference)
    first_png = bytes(panel.detail_image.value)
    assert first_png.startswith(b"\x89PNG")
    assert "<h4>x</h4>" in panel.detail_html.value and "DRIFT" in panel.detail_html.value
    panel.selector.value = "<b>city</b>"
    assert panel.detail_html.value.startswith("<h4>&lt;b&gt;city&lt;/b&gt;</h4>")
    assert "&lt;script&gt;" in panel.detail_html.value and "<script>" not in panel.detail_html.value
    second_png = bytes(panel.detail_image.value)
    assert second_png.startswith(b"\x89PNG") and second_png != first_png
    panel.show_column("steady")
    assert panel.selector.value == "steady" and "no drift" in panel.detail_html.value


def test_the_column_plot_is_shown_at_its_own_aspect_ratio_and_sharp() -> None:
    reference, current = _pair()
    panel = overview(current, reference)
    png = bytes(panel.detail_image.value)
    png_width, png_height = (int.from_bytes(png[i : i + 4], "big") for i in (16, 20))  # IHDR
    layout = panel.detail_image.layout
    shown_width, shown_height = plots.DETAIL_SIZE_PX
    assert (png_width, png_height) == (2 * shown_width, 2 * shown_height)  # 2 pixels a CSS pixel
    assert layout.width == f"{shown_width}px"
    assert layout.max_width == display.FIT_WIDTH  # or narrower, in a narrow column
    assert layout.height == "auto"  # so a narrower plot keeps the PNG's aspect ratio
    assert layout.align_self == "flex-start"  # the row's taller text does not stretch it
    assert layout.flex == "0 0 auto" and layout.object_fit == "contain"


def test_histogram_and_summary_share_a_column_and_long_names_may_break() -> None:
    reference, current = _pair()
    panel = overview(current, reference)
    head, body = panel.table.value.split("</thead>")
    assert re.findall(r"<th [^>]*>([^<]*)</th>", head) == [
        "column", "kind", "count", "missing", "unique", "distribution", "drift",
    ]  # fmt: skip
    x_row = next(r for r in body.split("<tr")[1:] if ">x</td>" in r)
    distribution = x_row.split("<td")[6]
    assert "data:image/svg+xml;base64," in distribution and "mean" in distribution
    assert "overflow-wrap:anywhere" in x_row.split("<td")[1]  # the name's cell
    assert panel.children[-1].layout.flex_flow == "row wrap"  # statistics below the plot if need be


def test_single_frame_panel_and_text_fallback() -> None:
    reference, _ = _pair()
    panel = overview(reference)
    assert panel.drift is None and panel.reference is None
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    text = bundle["text/plain"]
    assert text.splitlines()[0] == "2,000 rows × 3 columns"
    assert "<b>city</b>" in text  # plain text is not escaped
    assert list(panel.selector.options) == list(reference.columns)


def test_missing_column_can_be_chosen() -> None:
    reference, current = _pair()
    panel = overview(current.drop(columns=["steady"]), schema=infer_schema(reference))
    assert "steady" in panel.selector.options
    panel.selector.value = "steady"
    assert "not in the data" in panel.detail_html.value
    assert "missing_column" in panel.detail_html.value


def test_infinite_and_huge_columns_draw_without_numpy_warnings() -> None:
    # inf in a sketch divided inf by inf, and bin centres near 1e308 overflowed: warnings
    # in the notebook under the panel
    import warnings

    from mlnb.data import compare, profile

    ref = pd.DataFrame(
        {"inf": [1.0, np.inf, -np.inf, 2.0] * 400, "huge": [1e300, -1e300, 1e308, 0.0] * 400}
    )
    cur = ref.assign(huge=ref["huge"] / 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = overview(cur, ref)
        assert "huge" in panel.text()
        compare(profile(ref), profile(cur))  # binned from the sketches
