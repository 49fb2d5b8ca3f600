"""One JupyterLab server and one Chromium for every browser test (package-scoped: torn down
when the browser tests end, so Playwright's event loop is gone before other tests run).

The server runs on 127.0.0.1 with a token, a run store of 5,000 runs plus one real pipeline
run, a simulated GPU (mlnb's fake backend: this machine has none) and a notebook that
exercises every notebook-side panel. It serves THIS checkout's built lab extension
(``mlnb/labextension``, put first on ``extra_labextensions_path``), so the code under test is
the code in the tree, whatever copy is installed in the environment. ``lab_page`` is one
browser tab that has opened the lab and run the notebook cell by cell as a person would; the
layout tests reuse it rather than paying for a lab start and a kernel per test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.browser.pages import (
    CHROMIUM,
    NOTEBOOK_CELLS,
    SHOTS,
    XSS,
    free_port,
    pipeline_run,
    run_notebook_in_lab,
    seed_store,
)
from tests.helpers import REPO, write_notebook

BUILT = REPO / "mlnb" / "labextension"


def require_browser(built: bool = False) -> None:
    """Skip without Debian's Chromium (or, with ``built``, without this checkout's lab build);
    fail instead where ``MLNB_REQUIRE_BROWSER=1`` (CI), so the browser tests never go quiet."""
    reason = None
    if not Path(CHROMIUM).exists():
        reason = "Debian's chromium is not installed (apt-get install chromium)"
    elif built and not (BUILT / "package.json").exists():
        reason = "the lab extension is not built (cd extension && npm run build:prod)"
    if reason is None:
        return
    if os.environ.get("MLNB_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _extension_path(root: Path) -> list[str]:
    """``--LabApp.extra_labextensions_path`` pointing at this checkout's build, if built."""
    if not (BUILT / "package.json").exists():
        return []
    folder = root / ".labextensions"
    folder.mkdir()
    (folder / "mlnb-lab").symlink_to(BUILT, target_is_directory=True)
    return [f"--LabApp.extra_labextensions_path={folder}"]


def _wait_until_up(server: subprocess.Popen, base: str, token: str, log: Path) -> None:
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            return
        except OSError as exc:
            if time.time() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError(f"jupyter lab did not start:\n{log.read_text()}") from exc
            time.sleep(0.5)


@pytest.fixture(scope="package")
def lab(tmp_path_factory):
    """A running ``jupyter lab``: ``{base, token, root, home}``."""
    require_browser()
    root = tmp_path_factory.mktemp("lab-root")
    home = tmp_path_factory.mktemp("store")
    seed_store(home)
    pipeline_run(root, home)
    write_notebook(root / "browser.ipynb", NOTEBOOK_CELLS, parameters=None)
    port, token = free_port(), uuid.uuid4().hex
    env = dict(
        os.environ,
        MLNB_HOME=str(home),
        MLNB_GPU_BACKEND="fake",
        MLNB_GPU_FAKE=json.dumps(
            {"devices": [{"name": XSS, "total": 80 * 2**30, "used": 3 * 2**30, "utilization": 45}]}
        ),
        JUPYTER_CONFIG_DIR=str(root / ".jupyter-config"),
        PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    )
    log_path = root / "lab.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed in teardown
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            "--ServerApp.allow_root=True",
            "--LabApp.expose_app_in_browser=True",
            *_extension_path(root),
        ],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    _wait_until_up(server, base, token, log_path)
    yield {"base": base, "token": token, "root": root, "home": home}
    server.terminate()
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="package")
def browser():
    """Debian's headless Chromium (never a downloaded browser)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def lab_page(lab, browser):
    """One tab: the lab opened on browser.ipynb, every cell run; ``.dialogs`` lists alerts."""
    SHOTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(f"{lab['base']}/lab/tree/browser.ipynb?reset&token={lab['token']}")
        page.locator(".mlnb-GpuStatusItem").wait_for(timeout=90_000)
        run_notebook_in_lab(page)
        news = page.get_by_role("button", name="No", exact=True)  # "notified about news?" toast
        if news.count():
            news.first.click()
        page.set_default_timeout(15_000)  # the lab is up: anything slower than this is a fault
    except Exception:
        page.screenshot(path=str(SHOTS / "failure-setup.png"))
        raise
    yield page
    page.close()


@pytest.fixture
def shot_on_failure(lab_page, request):
    """Saves a screenshot named after the test when it fails."""
    yield lab_page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        name = "".join(c if c.isalnum() or c in "-_" else "-" for c in request.node.name)
        lab_page.screenshot(path=str(SHOTS / f"failure-{name}.png"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def jp_asyncio_loop():
    """Overrides pytest-jupyter's autouse loop fixture here: it closes the current event loop
    after each test, which in these tests is the loop of the session's Playwright."""
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup():
    """Overrides pytest-jupyter's autouse clean-up, which runs on the loop above; these tests
    start their own server (``lab``) and stop it themselves."""
    yield
