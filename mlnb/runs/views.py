"""Text and HTML views of runs for the magics and the CLI (rendered by :mod:`mlnb.display`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from mlnb import display
from mlnb.runs.provenance import git_reason
from mlnb.runs.records import RunRecord
from mlnb.runs.store import Store

#: summary metrics shown in the runs list (the first few, system metrics left out)
LIST_METRICS = 4


def when(timestamp: float | None) -> str:
    """``2026-05-09 08:41`` in local time, ``—`` for None."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp)) if timestamp else "—"


def runs_list(records: Sequence[RunRecord]) -> display.Rendered:
    """The runs table ``%runs`` and ``mlnb runs ls`` show."""
    keys: list[str] = []
    for record in records:
        for key in record.summary:
            if not key.startswith("sys/") and key not in keys:
                keys.append(key)
    keys = keys[:LIST_METRICS]
    headers = ["id", "name", "project", "status", "started", "duration", *keys]
    rows = [
        [
            r.id,
            r.name,
            r.project,
            r.status,
            when(r.started),
            display.human_duration(r.duration),
            *(r.summary.get(k, "—") for k in keys),
        ]
        for r in records
    ]
    caption = f"{len(records)} run{'s' if len(records) != 1 else ''}"
    return display.Rendered(
        display.text_table(headers, rows), display.html_table(headers, rows, caption=caption)
    )


def runs_comparison(
    records: Sequence[RunRecord], metrics: Sequence[str] | None = None
) -> display.Rendered:
    """Runs side by side (``mlnb runs compare``): summary metrics, then config values.

    ``metrics`` defaults to every summary metric of any of the runs, system metrics left out.
    """
    keys = list(
        metrics or sorted({k for r in records for k in r.summary if not k.startswith("sys/")})
    )
    headers = ["metric", *(f"{r.name} ({r.id[:6]})" for r in records)]
    rows: list[list[Any]] = [[key, *(r.summary.get(key, "—") for r in records)] for key in keys]
    params = sorted({k for r in records for k in r.config})
    rows += [
        [f"config.{p}", *(display.format_value(r.config.get(p, "—")) for r in records)]
        for p in params
    ]
    caption = f"{len(records)} runs compared"
    return display.Rendered(
        display.text_table(headers, rows), display.html_table(headers, rows, caption=caption)
    )


def run_details(record: RunRecord, store: Store) -> display.Rendered:
    """Everything about one run: status, config, summary, provenance, cells, artifacts."""
    prov = record.provenance
    git = prov.get("git") or {}
    notebook = prov.get("notebook") or {}
    seed = prov.get("seed") or {}
    gpus = prov.get("gpus") or []
    overview = [
        ("id", record.id),
        ("name", record.name),
        ("project", record.project),
        ("status", record.status),
        ("started", when(record.started)),
        ("duration", display.human_duration(record.duration)),
        ("tags", ", ".join(record.tags) or "—"),
        ("error", record.error or "—"),
        ("seed", _seed_line(seed)),
        ("git", _git_line(git)),
        ("notebook", notebook.get("path", "—") if isinstance(notebook, dict) else "—"),
        ("papermill", _params_line(prov.get("papermill"))),
        ("python", (prov.get("python") or {}).get("version", "—")),
        ("host", (prov.get("host") or {}).get("hostname", record.host or "—")),
        (
            "gpus",
            ", ".join(g.get("name", "?") for g in gpus)
            if isinstance(gpus, list) and gpus
            else "none",
        ),
    ]
    # (title, headers, rows) of each table
    sections: list[tuple[str, list[str], Sequence[Sequence[object]]]] = [
        ("run", ["field", "value"], overview)
    ]
    if record.config:
        from mlnb.runs.comparison import flatten

        sections.append(("config", ["param", "value"], list(flatten(record.config).items())))
    summary = [(k, v) for k, v in record.summary.items() if not k.startswith("sys/")]
    if summary:
        sections.append(("summary", ["metric", "value"], summary))
    cells = store.cells(record.id)
    if cells:
        rows = [
            (c.seq, c.execution_count or "—", c.status, c.hash[:8], cell_excerpt(c.source))
            for c in cells
        ]
        sections.append(("cells", ["#", "In", "status", "hash", "source"], rows))
    artifacts = store.artifacts(record.id)
    if artifacts:
        listed = [(a.name, a.kind, display.human_bytes(a.size)) for a in artifacts]
        sections.append(("artifacts", ["name", "kind", "size"], listed))
    text = "\n\n".join(f"{title}\n{display.text_table(h, r)}" for title, h, r in sections)
    html = "".join(display.html_table(h, r, caption=title) for title, h, r in sections)
    return display.Rendered(text, html)


def _params_line(params: Any) -> str:
    if not isinstance(params, dict) or not params or "error" in params:
        return "—"
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


def _seed_line(seed: Any) -> str:
    if not isinstance(seed, dict) or seed.get("seed") is None:
        return "not pinned"
    return f"{seed['seed']} ({seed.get('source') or 'pinned'})"


def _git_line(git: dict[str, Any]) -> str:
    if not git.get("available"):
        reason = git.get("reason") or git.get("error")
        return git_reason(str(reason)) if reason else "—"
    dirty = " (uncommitted changes in git.diff)" if git.get("dirty") else ""
    return f"{git.get('commit', '')[:10]} on {git.get('branch', '?')}{dirty}"


def cell_excerpt(source: str, width: int = 90, lines: int = 2) -> str:
    """The first ``lines`` lines of a cell that say what it does, joined by ``↵``, cut at ``width``.

    Imports, comments and blank lines are skipped (a cell of nothing else shows its
    imports); ``(+N lines)`` counts what is left out, so two cells that start alike
    still look different.
    """
    code = [line.strip() for line in source.splitlines() if line.strip()]
    meaningful = [line for line in code if not _is_preamble(line)] or code
    shown = meaningful[:lines]
    text = " ↵ ".join(shown)
    if len(text) > width:
        text = text[: width - 1].rstrip() + "…"
    left = len(code) - len(shown)
    return f"{text} (+{left} line{'s' if left != 1 else ''})" if left else text


def _is_preamble(line: str) -> bool:
    """An import or a comment: true of most cells' first lines, so no help telling them apart."""
    return line.startswith(("#", "import ", "from ")) and (
        not line.startswith("from ") or " import " in line
    )
