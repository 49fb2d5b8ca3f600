"""What a saved notebook gives away before any kernel starts.

* execution counts out of file order, or with gaps (cells re-run or deleted);
* names a cell uses before any cell above it defines them — the fresh run will raise
  ``NameError`` there — and names no cell defines at all (a deleted cell);
* names whose saved value came from another cell than a top-to-bottom run would use
  (a definition below, run first: the *out-of-order definition*);
* code cells never run, imports that are not installed, outputs saved by another
  kernel or Python version.

Def-use is read from each cell's AST (after IPython turns ``%magics`` into Python):
module-level loads are uses *now*; free names inside functions and lambdas are uses
*later* and only count when no cell defines them.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from mlnb.checking.cells import KNOWN, CellCode, code_cells
from mlnb.checking.report import WARNING, Finding

if TYPE_CHECKING:
    from nbformat import NotebookNode


def _order_findings(cells: list[CellCode]) -> list[Finding]:
    counted = [c for c in cells if c.count is not None]
    findings: list[Finding] = []
    for before, after in itertools.pairwise(counted):
        if after.count is not None and before.count is not None and after.count < before.count:
            findings.append(
                Finding(
                    "out-of-order",
                    f"cell {after.index + 1} ran as [{after.count}], before cell {before.index + 1} above it ([{before.count}]).",
                    after.index,
                    WARNING,
                )
            )
    counts = sorted(c.count for c in counted if c.count is not None)
    if counts and counts != list(range(1, len(counts) + 1)):
        shown = ", ".join(str(n) for n in counts[:12]) + (", …" if len(counts) > 12 else "")
        findings.append(
            Finding(
                "count-gaps",
                f"execution counts are {shown}, not 1 to {len(counts)}: cells were re-run, or run and deleted.",
                None,
                WARNING,
            )
        )
    if counted:
        for cell in cells:
            if cell.count is None:
                findings.append(
                    Finding(
                        "never-run",
                        f"cell {cell.index + 1} was never run, so its saved outputs say nothing.",
                        cell.index,
                        WARNING,
                    )
                )
    return findings


def _def_use_findings(cells: list[CellCode]) -> list[Finding]:
    findings: list[Finding] = []
    defined_by: dict[str, list[int]] = {}
    for cell in cells:
        for name in cell.defines:
            defined_by.setdefault(name, []).append(cell.index)
    opaque = any(c.star_import or c.opaque for c in cells)
    seen: set[str] = set()
    reported: set[str] = set()
    for cell in cells:
        if cell.syntax_error:
            findings.append(
                Finding(
                    "syntax-error",
                    f"cell {cell.index + 1} does not parse: {cell.syntax_error}.",
                    cell.index,
                )
            )
            continue
        for name in cell.uses_now:
            if name in KNOWN or name in seen or name in reported:
                continue
            reported.add(name)
            later = [i for i in defined_by.get(name, []) if i > cell.index]
            if later:
                findings.append(
                    Finding(
                        "used-before-defined",
                        f"cell {cell.index + 1} uses {name!r}, first defined in cell {later[0] + 1} below it: a top-to-bottom run raises NameError.",
                        cell.index,
                    )
                )
            elif not opaque:
                findings.append(
                    Finding(
                        "undefined",
                        f"cell {cell.index + 1} uses {name!r}, which no cell defines (a deleted cell?).",
                        cell.index,
                    )
                )
        for name in sorted(cell.uses_later):
            if name not in KNOWN and name not in defined_by and not opaque:
                findings.append(
                    Finding(
                        "undefined",
                        f"a function in cell {cell.index + 1} uses {name!r}, which no cell defines.",
                        cell.index,
                    )
                )
        seen.update(cell.defines)
    return findings


def _saved_run_findings(cells: list[CellCode]) -> list[Finding]:
    """Names whose saved value came from another cell than a top-to-bottom run would use."""
    findings: list[Finding] = []
    by_count = sorted((c for c in cells if c.count is not None), key=lambda c: c.count or 0)
    last: dict[str, int] = {}
    for cell in by_count:
        for name in cell.uses_now:
            source = last.get(name)
            if source is None or name in KNOWN:
                continue
            above = [c.index for c in cells if c.index < cell.index and name in c.defines]
            top_down = above[-1] if above else None
            if top_down is None or source == top_down:
                continue  # no definition above: reported as used-before-defined
            where = "below it" if source > cell.index else "above it"
            findings.append(
                Finding(
                    "out-of-order-definition",
                    f"cell {cell.index + 1}'s saved output used {name!r} from cell {source + 1} ({where}, run earlier); a top-to-bottom run uses cell {top_down + 1}'s.",
                    cell.index,
                )
            )
        for name in cell.defines:
            last[name] = cell.index
    return findings


def _is_installed(module: str, folder: Path | None) -> bool:
    if module in sys.builtin_module_names or module in getattr(sys, "stdlib_module_names", ()):
        return True
    if folder is not None and ((folder / f"{module}.py").exists() or (folder / module).is_dir()):
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _import_findings(cells: list[CellCode], folder: Path | None) -> list[Finding]:
    findings: list[Finding] = []
    reported: set[str] = set()
    for cell in cells:
        for module in cell.imports:
            if module in reported or _is_installed(module, folder):
                continue
            reported.add(module)
            findings.append(
                Finding(
                    "missing-import",
                    f"cell {cell.index + 1} imports {module!r}, which is not installed here.",
                    cell.index,
                )
            )
    return findings


def _kernel_findings(nb: NotebookNode, kernel: str, installed: Iterable[str]) -> list[Finding]:
    meta = nb.get("metadata", {})
    findings: list[Finding] = []
    saved = meta.get("kernelspec", {}).get("name")
    if saved and saved != kernel and not (saved in ("python", "python3") and kernel == "python3"):
        known = "" if saved in set(installed) else ", which is not installed here"
        findings.append(
            Finding(
                "foreign-kernel",
                f"the saved outputs came from kernel {saved!r}{known}; the check runs {kernel!r}.",
                None,
                WARNING,
            )
        )
    version = str(meta.get("language_info", {}).get("version", ""))
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if version and ".".join(version.split(".")[:2]) != here:
        findings.append(
            Finding(
                "foreign-python",
                f"the saved outputs came from Python {version}; this is Python {here}.",
                None,
                WARNING,
            )
        )
    return findings


def static_findings(
    nb: NotebookNode,
    *,
    folder: Path | None = None,
    kernel: str = "python3",
    installed_kernels: Iterable[str] = ("python3",),
) -> list[Finding]:
    """Every finding that needs no kernel (see the module's docstring)."""
    cells = code_cells(nb)
    return [
        *_kernel_findings(nb, kernel, installed_kernels),
        *_order_findings(cells),
        *_def_use_findings(cells),
        *_saved_run_findings(cells),
        *_import_findings(cells, folder),
    ]
