"""Screenshots as tests: every panel at three widths in the light and the dark theme.

For each panel (the Runs panel, a run's details, the GPU view, and in the notebook the
what-if widget, the data overview and the live plot), with the sidebar narrow (250 px), at
the lab's default and wide, in JupyterLab Light and Dark, the test saves a screenshot to
tests/browser/screenshots/ and asserts what a person would see: nothing scrolls or spills
sideways, every control in view is whole and not covered, no two laid-out siblings overlap,
no text is cut (see :data:`tests.browser.pages.LAYOUT_PROBLEMS_JS`). The cases run theme by
theme, width by width, on the session's one lab page, so a case costs about a second.
"""

from __future__ import annotations

import pytest

from tests.browser.pages import (
    CELL_OF,
    PIPELINE_RUN,
    SHOTS,
    THEMES,
    WIDTHS,
    layout_problems,
    open_runs_panel,
    open_tab,
    set_theme,
    set_width,
)

pytestmark = pytest.mark.browser

PANELS = ["runs", "details", "gpu-view", "whatif", "overview", "liveplot"]
CASES = [
    pytest.param(theme, width, panel, id=f"{theme}-{width}-{panel}")
    for theme in THEMES
    for width in WIDTHS
    for panel in PANELS
]


def _runs(page):
    panel = open_runs_panel(page)
    if panel.locator(".uplot").count() == 0:  # chart one run so the chart is part of the picture
        panel.locator("tr[data-run-id] input[type=checkbox]").first.check()
        panel.locator(".uplot canvas").wait_for()
    return panel


def _details(page):
    tab = page.get_by_role("tab", name=PIPELINE_RUN, exact=True)
    if tab.count() == 0:
        panel = open_runs_panel(page)
        panel.locator(".mlnb-runs-filter").fill(PIPELINE_RUN)
        panel.locator("tr[data-run-id] .mlnb-run-name").click()
        panel.locator(".mlnb-runs-filter").fill("")
    tab.click()
    view = page.locator(".jp-MainAreaWidget:visible:has(.mlnb-RunDetails)")
    view.locator(".mlnb-RunDetails .uplot canvas").wait_for()
    return view


def _gpu_view(page):
    if page.locator("#mlnb-gpu-view").count() == 0:
        page.locator(".mlnb-GpuStatusItem").click()
    open_tab(page, "GPU memory")
    return page.locator("#mlnb-gpu-view")


def _output(page, panel):
    open_tab(page, "browser.ipynb")
    area = page.locator(".jp-NotebookPanel .jp-Cell.jp-CodeCell").nth(CELL_OF[panel])
    output = area.locator(".jp-Cell-outputArea")
    output.scroll_into_view_if_needed()
    return output


def _panel(page, panel):
    if panel == "runs":
        return _runs(page)
    if panel == "details":
        return _details(page)
    if panel == "gpu-view":
        return _gpu_view(page)
    return _output(page, panel)


@pytest.mark.parametrize(("theme", "width", "panel"), CASES)
def test_panel_looks_right(shot_on_failure, theme, width, panel):
    page = shot_on_failure
    set_theme(page, theme)
    set_width(page, width)
    root = _panel(page, panel)
    page.wait_for_timeout(150)  # charts refit to a new width on the next frame
    root.screenshot(path=str(SHOTS / f"{panel}-{width}-{theme}.png"))
    problems, controls = layout_problems(root)
    assert problems == [], f"{panel} at {width} width, {theme} theme:\n" + "\n".join(problems)
    if panel in ("runs", "details", "whatif"):
        assert controls > 0  # the checks did look at its buttons
