"""The result of ``mlnb check``: findings, a status per cell, the files it read and wrote.

:class:`CheckReport` is a :class:`mlnb.display.Report` (a terminal table, escaped HTML
in a notebook) with :meth:`CheckReport.to_json` for CI and :attr:`CheckReport.exit_code`
(0 reproducible, 1 not). A :class:`Finding` is one reason, with the cell it is about;
its severity is ``error`` (the notebook is not reproducible) or ``warning`` (a risk, or
an explanation of an error elsewhere).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from mlnb import display

ERROR = "error"
WARNING = "warning"
EXIT_REPRODUCIBLE = 0
EXIT_NOT_REPRODUCIBLE = 1


@dataclass(frozen=True)
class Finding:
    """One reason a notebook may not be reproducible.

    Attributes:
        kind: a short stable name (``out-of-order``, ``used-before-defined``, ``differs``, ...).
        message: one sentence for the user.
        cell: the cell's index in the notebook (0-based; shown 1-based), or None.
        severity: ``error`` or ``warning``.
    """

    kind: str
    message: str
    cell: int | None = None
    severity: str = ERROR

    def where(self) -> str:
        """``cell 3`` (1-based) or ``—``."""
        return "—" if self.cell is None else f"cell {self.cell + 1}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``cell`` 1-based, as shown)."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "cell": None if self.cell is None else self.cell + 1,
            "message": self.message,
        }


@dataclass(frozen=True)
class CellResult:
    """A code cell's saved outputs against the fresh run's: ``status`` and how they differ."""

    cell: int
    status: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``cell`` 1-based)."""
        return {"cell": self.cell + 1, "status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class FileAccess:
    """A file the fresh run read or wrote, with its SHA-256 after the run and whether it is declared."""

    path: str
    role: str  # "input" or "output"
    sha256: str | None
    declared: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "path": self.path,
            "role": self.role,
            "sha256": self.sha256,
            "declared": self.declared,
        }


@dataclass(repr=False)
class CheckReport(display.Report):
    """Whether a notebook is reproducible, and why not.

    Attributes:
        notebook: the notebook's path.
        findings: every reason found (static and from the runs).
        cells: per code cell, saved outputs against the first fresh run (empty with static only).
        files: files the fresh run read and wrote.
        runs: fresh runs made (0: static only).
        seed: the seed the runs were pinned to, or None.
        seconds: wall time of the whole check.
    """

    notebook: str
    findings: list[Finding] = field(default_factory=list)
    cells: list[CellResult] = field(default_factory=list)
    files: list[FileAccess] = field(default_factory=list)
    runs: int = 0
    seed: int | None = None
    seconds: float = 0.0

    @property
    def errors(self) -> list[Finding]:
        """The findings that make the notebook not reproducible."""
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        """The findings that are risks or explanations."""
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def reproducible(self) -> bool:
        """True when no finding is an error."""
        return not self.errors

    @property
    def exit_code(self) -> int:
        """0 reproducible, 1 not (2, bad input, is an error raised before a report exists)."""
        return EXIT_REPRODUCIBLE if self.reproducible else EXIT_NOT_REPRODUCIBLE

    def suggestion(self) -> str:
        """The ``inputs:``/``outputs:`` lines a pipeline.yaml step should declare, or ''."""
        inputs = [f.path for f in self.files if f.role == "input"]
        outputs = [f.path for f in self.files if f.role == "output"]
        if not any(not f.declared for f in self.files):
            return ""
        lines = []
        if inputs:
            lines.append(f"inputs: [{', '.join(inputs)}]")
        if outputs:
            lines.append(f"outputs: [{', '.join(outputs)}]")
        return "\n".join(lines)

    def headline(self) -> str:
        """One line: the verdict and the counts."""
        what = "static check" if self.runs == 0 else f"{self.runs} fresh run(s)"
        counts = f"{len(self.errors)} problem(s), {len(self.warnings)} warning(s)"
        mark = "✓ reproducible" if self.reproducible else "✗ not reproducible"
        return (
            f"{mark}: {self.notebook} — {counts} ({what}, {display.human_duration(self.seconds)})"
        )

    def _finding_rows(self) -> list[tuple[str, str, str, str]]:
        order = sorted(
            self.findings,
            key=lambda f: (f.severity != ERROR, -1 if f.cell is None else f.cell, f.kind),
        )
        return [(f.severity, f.where(), f.kind, f.message) for f in order]

    def _cell_rows(self) -> list[tuple[str, str, str]]:
        return [
            (f"cell {c.cell + 1}", c.status, c.detail) for c in self.cells if c.status != "same"
        ]

    def _file_rows(self) -> list[tuple[str, str, str, str]]:
        return [
            (f.role, f.path, (f.sha256 or "—")[:12], "yes" if f.declared else "no")
            for f in self.files
        ]

    def text(self) -> str:
        """The verdict, the findings, the cells that differ, the files and the lines to add."""
        parts = [self.headline()]
        if self.findings:
            parts.append(
                display.text_table(["severity", "where", "kind", "why"], self._finding_rows())
            )
        if self.cells:
            same = sum(c.status == "same" for c in self.cells)
            parts.append(f"cells: {same} of {len(self.cells)} reproduce their saved outputs")
            if self._cell_rows():
                parts.append(display.text_table(["cell", "status", "how"], self._cell_rows()))
        if self.files:
            parts.append(
                display.text_table(["role", "file", "sha256", "declared"], self._file_rows())
            )
        suggestion = self.suggestion()
        if suggestion:
            parts.append("add to the step in pipeline.yaml:\n" + _indent(suggestion))
        return "\n\n".join(parts)

    def html(self) -> str:
        """The same as :meth:`text`, as escaped HTML tables."""
        colour = "#1a7f37" if self.reproducible else "#cf222e"
        parts = [f'<p style="color:{colour}"><b>{html.escape(self.headline())}</b></p>']
        if self.findings:
            parts.append(
                display.html_table(
                    ["severity", "where", "kind", "why"], self._finding_rows(), caption="findings"
                )
            )
        if self._cell_rows():
            parts.append(
                display.html_table(
                    ["cell", "status", "how"], self._cell_rows(), caption="cells that differ"
                )
            )
        if self.files:
            parts.append(
                display.html_table(
                    ["role", "file", "sha256", "declared"], self._file_rows(), caption="files"
                )
            )
        suggestion = self.suggestion()
        if suggestion:
            parts.append(
                f"<p>add to the step in pipeline.yaml:</p><pre>{html.escape(suggestion)}</pre>"
            )
        return f'<div class="mlnb-check">{"".join(parts)}</div>'

    def to_json(self) -> dict[str, Any]:
        """Everything, JSON-ready, for CI."""
        return {
            "notebook": self.notebook,
            "reproducible": self.reproducible,
            "exit_code": self.exit_code,
            "runs": self.runs,
            "seed": self.seed,
            "seconds": round(self.seconds, 3),
            "findings": [f.to_json() for f in self.findings],
            "cells": [c.to_json() for c in self.cells],
            "files": [f.to_json() for f in self.files],
            "suggestion": self.suggestion(),
        }


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.split("\n"))
