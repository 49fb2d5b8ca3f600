"""The "GPU memory by notebook" view in a real JupyterLab, in Debian's headless Chromium.

Two notebook sessions run real kernels; the fake GPU (``MLNB_GPU_FAKE=@spec.json``)
reports their real pids holding 1 GiB and 2 GiB. The view shows one bar per notebook
with its memory; "Shut down" asks for confirmation (JupyterLab's dialog) and the
notebook's bar goes once the kernel is gone; "Free" cancelled does nothing, accepted
runs mlnb's ``free()`` in the kernel and shows its report.

JupyterLab loads the lab extension built in this checkout (``mlnb/labextension``,
put first through ``--LabApp.extra_labextensions_path``), so the code under test is
this checkout's even where another build is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mlnb
from tests.browser.conftest import require_browser
from tests.helpers import GIB, child_env
from tests.jupyter_process import jupyter, kernel_pid

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).parent / "screenshots"
BUILT = Path(mlnb.__file__).parent / "labextension"
XSS_PATH = "<img src=x onerror=alert(1)>.ipynb"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_browser(built=True)
    root = tmp_path_factory.mktemp("gpu-lab")
    extensions = tmp_path_factory.mktemp("labextensions")
    (extensions / "mlnb-lab").symlink_to(BUILT, target_is_directory=True)
    spec = root / "fake-gpu.json"
    spec.write_text(json.dumps({"devices": [{"name": "Fake H100", "total": 80 * GIB}]}))
    env = child_env(
        MLNB_GPU_BACKEND="fake",
        MLNB_GPU_FAKE=f"@{spec}",
        JUPYTER_CONFIG_DIR=str(root / ".jupyter-config"),
        JUPYTER_RUNTIME_DIR=str(root / ".runtime"),
    )
    extra = [
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        f"--LabApp.extra_labextensions_path={extensions}",
    ]
    with jupyter("jupyterlab", root, env, extra) as server:
        kernels = {p: server.start_session(p) for p in ("small.ipynb", XSS_PATH)}
        pids = {p: kernel_pid(server.process.pid, k) for p, k in kernels.items()}
        processes = [
            {"pid": pids["small.ipynb"], "used": GIB, "while_alive": True},
            {"pid": pids[XSS_PATH], "used": 2 * GIB, "while_alive": True},
        ]
        device = {"name": "Fake H100", "total": 80 * GIB, "used": 3 * GIB, "processes": processes}
        spec.write_text(json.dumps({"devices": [device]}))
        yield {"server": server, "kernels": kernels, "pids": pids}


def _launch(p):
    return p.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    )


def test_the_view_shows_both_notebooks_and_shutting_one_down_removes_it(lab):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    server = lab["server"]
    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        alerts: list[str] = []
        page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
        try:
            _drive(page, server, lab)
        except Exception:
            page.screenshot(path=str(SHOTS / "gpu-kernels-failure.png"))
            raise
        finally:
            browser.close()
    assert alerts == []


def _open_view(page, label: str, selector: str) -> None:
    """Run a command from the palette until its view shows (a key press that came before
    Lab was ready, or a palette redrawn under the cursor, is simply tried again)."""
    palette = page.locator(".lm-CommandPalette-input")
    for _ in range(10):
        page.locator(".jp-LabShell").click(position={"x": 700, "y": 400})
        page.keyboard.press("Control+Shift+C")
        try:
            palette.wait_for(state="visible", timeout=3_000)
            palette.fill(label)
            page.locator(".lm-CommandPalette-item.lm-mod-active", has_text=label).wait_for(
                timeout=3_000
            )
            page.keyboard.press("Enter")
            page.locator(selector).wait_for(timeout=5_000)
            return
        except Exception:  # playwright's TimeoutError: try again
            page.keyboard.press("Escape")
    raise AssertionError(f"the command {label!r} did not open {selector}")


def _rows(page):
    return page.locator(".mlnb-GpuKernelsView .mlnb-gpuk-row[data-kind='kernel']")


def _drive(page, server, lab) -> None:
    page.goto(f"{server.base}/lab?token={server.token}")
    page.locator(".mlnb-GpuStatusItem").wait_for(timeout=120_000)
    # this checkout's build: its command is in the palette
    _open_view(page, "mlnb: GPU memory by notebook", ".mlnb-GpuKernelsView")
    view = page.locator(".mlnb-GpuKernelsView")
    page.wait_for_function(
        "() => document.querySelectorAll(\".mlnb-gpuk-row[data-kind='kernel']\").length === 2",
        timeout=30_000,
    )
    assert "GPU0 Fake H100 — 3.0 GiB / 80.0 GiB" in view.locator("h3").inner_text()
    rows = _rows(page)
    texts = rows.all_inner_texts()
    assert XSS_PATH in texts[0] and "2.0 GiB" in texts[0], texts  # largest first, as text
    assert "small.ipynb" in texts[1] and "1.0 GiB" in texts[1], texts
    assert page.locator('img[src="x"]').count() == 0
    widths = [rows.nth(i).locator(".mlnb-gpuk-fill").get_attribute("style") for i in range(2)]
    assert widths == ["width: 2.5%;", "width: 1.3%;"]
    page.screenshot(path=str(SHOTS / "gpu-kernels.png"))

    small = rows.filter(has_text="small.ipynb")
    # Free, cancelled: nothing happens
    small.locator(".mlnb-gpuk-free").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=10_000)
    assert "free()" in dialog.inner_text()
    dialog.locator(".jp-Dialog-button.jp-mod-reject").click()
    dialog.wait_for(state="detached", timeout=10_000)
    assert page.locator(".mlnb-gpuk-status").count() == 0
    # Free, accepted: mlnb's free() ran in that kernel
    small.locator(".mlnb-gpuk-free").click()
    page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
    page.locator(".mlnb-gpuk-status").wait_for(timeout=60_000)
    assert "small.ipynb: mlnb: dropped" in page.locator(".mlnb-gpuk-status").inner_text()

    # Shut down, accepted: the kernel goes and so does its bar
    big = rows.filter(has_text=XSS_PATH)
    big.locator(".mlnb-gpuk-shutdown").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=10_000)
    assert "Shut down" in dialog.inner_text() and XSS_PATH in dialog.inner_text()
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    page.wait_for_function(
        "() => document.querySelectorAll(\".mlnb-gpuk-row[data-kind='kernel']\").length === 1",
        timeout=30_000,
    )
    assert "small.ipynb" in _rows(page).inner_text()
    assert lab["kernels"][XSS_PATH] not in [k["id"] for k in server.api("api/kernels")]
    page.screenshot(path=str(SHOTS / "gpu-kernels-after-shutdown.png"))
