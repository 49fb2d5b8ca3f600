"""What the browser tests share: the store and notebook they start from, driving the lab as a
person would (run cells, resize the sidebar, switch the theme), and the layout checks that
assert what a person would see."""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any

from tests.helpers import write_notebook

CHROMIUM = "/usr/bin/chromium"
XSS = "<img src=x onerror=alert(1)>"
SHOTS = Path(__file__).parent / "screenshots"
N_RUNS = 5000
#: the run whose details view the tests open (executed by mlnb.pipeline: it has an output notebook)
PIPELINE_RUN = "pipestep"

NOTEBOOK_CELLS = [
    "%load_ext mlnb",
    "%gpu_panel --interval 0.5",
    "import numpy as np, pandas as pd\n"
    "from sklearn.linear_model import LogisticRegression\n"
    f"X = pd.DataFrame({{{XSS!r}: np.linspace(0, 1, 60), 'b': np.tile([0.0, 1.0], 30)}})\n"
    "y = (X.iloc[:, 0] > 0.5).astype(int)\n"
    "clf = LogisticRegression().fit(X, y)\n"
    "%whatif clf X y",
    "%profile X",
    "import mlnb\n"
    f"run = mlnb.start({XSS!r}, project='browser', system_interval=None)\n"
    "display(run.live())\n"
    "for step in range(20):\n"
    "    mlnb.log({'loss': 1 / (step + 1), 'val/loss': 1.3 / (step + 1)}, step=step)\n"
    "mlnb.finish()\n"
    "print('logged', run.id)",
]
#: cell index of each notebook-side panel
CELL_OF = {"gpu-panel": 1, "whatif": 2, "overview": 3, "liveplot": 4}

#: (viewport width, left sidebar width) per named width; 330 px is about where the lab opens it
WIDTHS = {"narrow": (1000, 250), "default": (1400, 330), "wide": (1920, 600)}
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed_store(home: Path) -> None:
    """5,000 finished runs written straight through the store API."""
    from mlnb.runs import Store
    from mlnb.runs.records import RunRecord

    now = time.time() - 3600
    with Store(home=home) as store:
        for i in range(N_RUNS):
            record = RunRecord(
                id=uuid.uuid4().hex[:12],
                name=f"sweep-{i:04d}",
                project="bulk",
                status="finished",
                started=now + i * 0.1,
                ended=now + i * 0.1 + 5,
                heartbeat=None,
                pid=None,
                host="ci",
                config={"lr": 10 ** -(i % 4)},
                summary={
                    "sys/cpu_percent": 50.0,
                    "sys/memory_used_mb": 900.0,
                    "sys/memory_percent": 12.0,
                    "epoch": 9,
                    "loss": 1.0 / (i + 1),
                    "acc": (i % 100) / 100,
                },
            )
            store.create_run(record, None)


def pipeline_run(root: Path, home: Path) -> str:
    """One notebook executed by mlnb.pipeline into the store; returns its run id."""
    from mlnb.pipeline.run import run

    write_notebook(
        root / f"{PIPELINE_RUN}.ipynb",
        [
            "import mlnb\nfor i in range(30):\n    mlnb.log({'loss': 1 / (i + 1)}, step=i)\n"
            "mlnb.record('acc', x / 4)"
        ],
    )
    before = os.environ.get("MLNB_HOME")
    os.environ["MLNB_HOME"] = str(home)
    try:
        record = run(
            root / f"{PIPELINE_RUN}.ipynb",
            {"x": 3},
            root / "runs" / f"{PIPELINE_RUN}-out.ipynb",
            seed=0,
        )
    finally:
        if before is None:
            os.environ.pop("MLNB_HOME")
        else:
            os.environ["MLNB_HOME"] = before
    return record.id


def run_notebook_in_lab(page: Any) -> None:
    """Run every cell of the open notebook as a person would: select it, Shift+Enter."""
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="browser.ipynb").click()
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=120_000)
    cells = page.locator(".jp-NotebookPanel .jp-Cell.jp-CodeCell")
    for index in range(len(NOTEBOOK_CELLS)):
        prompt = cells.nth(index).locator(".jp-InputPrompt")
        prompt.click()
        page.keyboard.press("Shift+Enter")
        page.wait_for_function(
            "el => /\\[\\d+\\]/.test(el.textContent)", arg=prompt.element_handle(), timeout=120_000
        )
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-OutputArea-output')]"
        ".some(o => o.textContent.includes('logged '))",
        timeout=180_000,
    )


def open_tab(page: Any, title: str) -> None:
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=title).first.click()


def open_runs_panel(page: Any) -> Any:
    """The Runs panel, shown in the left sidebar (clicking its icon only if it is hidden)."""
    panel = page.locator(".mlnb-RunsPanel")
    if not panel.is_visible():
        page.locator('.jp-SideBar [data-id="mlnb-runs-panel"]').click()
    panel.wait_for(state="visible")
    return panel


def set_theme(page: Any, theme: str) -> None:
    """Switch to ``theme`` (light/dark) the way the Settings › Theme menu does."""
    name = THEMES[theme]
    if page.evaluate("() => document.body.dataset.jpThemeName") == name:
        return
    page.evaluate(
        "name => window.jupyterapp.commands.execute('apputils:change-theme', {theme: name})", name
    )
    page.wait_for_function(
        "name => document.body.dataset.jpThemeName === name", arg=name, timeout=60_000
    )
    page.wait_for_timeout(300)  # the theme's stylesheet applies after the attribute changes


def set_width(page: Any, width: str) -> None:
    """Resize the window, then drag the sidebar's edge to the named width (a person's way)."""
    viewport, sidebar = WIDTHS[width]
    stack = page.locator("#jp-left-stack").bounding_box()
    if page.viewport_size["width"] == viewport and abs(stack["width"] - sidebar) <= 2:
        return
    page.set_viewport_size({"width": viewport, "height": 900})
    page.wait_for_timeout(200)
    stack = page.locator("#jp-left-stack").bounding_box()
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first.bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(stack["x"] + sidebar, y, steps=4)
    page.mouse.up()
    page.wait_for_timeout(200)


#: What a person would see wrong, found in the page: run on a panel's root element.
LAYOUT_PROBLEMS_JS = """
(root) => {
  const problems = [];
  const view = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
  const label = e => {
    const cls = typeof e.className === 'string' && e.className.trim()
      ? '.' + e.className.trim().split(/\\s+/).slice(0, 3).join('.') : '';
    const text = (e.innerText || e.value || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    return `<${e.tagName.toLowerCase()}${cls}>${text ? ' "' + text + '"' : ''}`;
  };
  const onScreen = r => r.width > 0 && r.height > 0 && r.bottom > view.top && r.top < view.bottom
    && r.right > view.left && r.left < view.right;
  // what is on screen: a subtree that is off screen is skipped whole (5,000 table rows)
  const shown = [];
  const walk = e => {
    if (!(e instanceof HTMLElement) || !onScreen(e.getBoundingClientRect())) return;
    if (getComputedStyle(e).visibility !== 'hidden') shown.push(e);
    for (const child of e.children) walk(child);
  };
  walk(root);
  let controls = 0;
  for (const e of shown) {
    const style = getComputedStyle(e);
    // 1. no horizontal overflow: nothing scrolls sideways or spills out of its box
    if (e === root || ['auto', 'scroll'].includes(style.overflowX)) {
      if (e.scrollWidth > e.clientWidth + 1) {
        problems.push(`horizontal overflow: ${label(e)} ${e.scrollWidth} > ${e.clientWidth}`);
      }
    }
    // 2. no clipped text: a block holding text is at least as wide as that text
    const ownText = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const tag = e.tagName;
    if (ownText && style.display !== 'inline' && !['INPUT', 'SELECT', 'TEXTAREA', 'OPTION'].includes(tag)
        && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) {
      problems.push(`clipped text: ${label(e)} ${e.scrollWidth} > ${e.clientWidth}`);
    }
    // 3. every control in view can be seen whole and clicked (nothing covers its centre)
    const isControl = ['BUTTON', 'SELECT', 'INPUT', 'TEXTAREA', 'JP-BUTTON'].includes(tag)
      || e.getAttribute('role') === 'button';
    if (isControl && e.type !== 'hidden') {
      const r = e.getBoundingClientRect();
      let box = {...view};
      for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
        const s = getComputedStyle(a);
        if (s.overflowX !== 'visible' || s.overflowY !== 'visible') {
          const ar = a.getBoundingClientRect();
          box = {left: Math.max(box.left, ar.left), right: Math.min(box.right, ar.right),
                 top: Math.max(box.top, ar.top), bottom: Math.min(box.bottom, ar.bottom)};
        }
      }
      const inRows = r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
      if (inRows) {  // scrolled out of view vertically: a person scrolls to it
        controls += 1;
        if (r.left < box.left - 1 || r.right > box.right + 1) {
          problems.push(`control cut off at the side: ${label(e)}`);
        } else {
          const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          if (!hit || !(e === hit || e.contains(hit) || (e.labels && [...e.labels].includes(hit)))) {
            problems.push(`control covered: ${label(e)} by ${hit ? label(hit) : 'nothing'}`);
          }
        }
      }
    }
  }
  // 4. no overlapping siblings (laid-out boxes; absolutely placed overlays are meant to overlap)
  const boxes = new Set(shown);
  for (const parent of shown) {
    const kids = [...parent.children].filter(k => boxes.has(k) && !(k instanceof SVGElement)
      && !['absolute', 'fixed'].includes(getComputedStyle(k).position)
      && !['inline', 'contents'].includes(getComputedStyle(k).display));
    const rects = kids.map(k => k.getBoundingClientRect());
    for (let i = 0; i < kids.length; i++) {
      for (let j = i + 1; j < Math.min(kids.length, i + 40); j++) {
        const a = rects[i], b = rects[j];
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 2 && h > 2) {
          problems.push(`overlap: ${label(kids[i])} and ${label(kids[j])} (${w.toFixed(0)}×${h.toFixed(0)} px)`);
        }
      }
    }
  }
  return {problems: [...new Set(problems)], controls};
}
"""


def layout_problems(locator: Any) -> tuple[list[str], int]:
    """What a person would see wrong in ``locator``'s element, and how many controls were checked."""
    found = locator.evaluate(LAYOUT_PROBLEMS_JS)
    return found["problems"], found["controls"]
