"""Make a finished notebook a pipeline step: a ``parameters`` cell and declared inputs/outputs.

:func:`step_init` reads the notebook's first code cells with :mod:`ast` (after
IPython turns ``%magics`` into Python) and collects the top-level literal
assignments (``lr = 0.01``, ``epochs: int = 5``) that come before the first real
computation — imports and magics may sit between them. With ``write=True`` they
move, comments and all, into a new cell tagged ``parameters`` placed before the
first cell they came from, and ``metadata.mlnb.step`` records the parameters, the
declared inputs and outputs and the environment (Python and the versions of the
packages the notebook imports). :func:`inspect` lists a step's parameters.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb.exceptions import NoParametersCellError, ParametersCellError
from mlnb.pipeline.loading import load_notebook
from mlnb.pipeline.parameters import (
    PARAMETERS_TAG,
    Parameter,
    literal_assignment,
    notebook_parameters,
    parameters_cell_index,
    parse_parameters,
    python_source,
    source_text,
    syntax_error,
)
from mlnb.pipeline.section import METADATA_KEY

if TYPE_CHECKING:
    from nbformat import NotebookNode


@dataclass
class StepPlan:
    """What ``mlnb step init`` found (and, with ``written``, did).

    Attributes:
        notebook: the notebook's path.
        parameters: the parameters of the (new or existing) ``parameters`` cell.
        source_cells: indices of the cells the assignments were taken from.
        existing: whether the notebook already had a ``parameters`` cell.
        inputs: declared input files.
        outputs: declared output files.
        environment: Python version and imported packages' versions.
        written: whether the notebook file was changed.
    """

    notebook: str
    parameters: list[Parameter] = field(default_factory=list)
    source_cells: list[int] = field(default_factory=list)
    existing: bool = False
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    written: bool = False

    def summary(self) -> str:
        """What was found and what was (or would be) done, in a few lines."""
        names = ", ".join(p.name for p in self.parameters) or "none"
        if self.existing:
            head = f"{self.notebook} already has a parameters cell ({names})"
        elif not self.parameters:
            head = f"{self.notebook}: no top-level literal assignments in the first code cells — add a cell tagged `parameters` by hand"
        else:
            cells = ", ".join(str(i + 1) for i in self.source_cells)
            verb = "moved" if self.written else "would move"
            head = f"{self.notebook}: {verb} {len(self.parameters)} assignments ({names}) from cell(s) {cells} into a cell tagged `parameters`"
        tail = (
            "; step metadata written"
            if self.written
            else "; run again with --write to change the notebook"
        )
        return head + tail + "."

    def text(self) -> str:
        """What ``mlnb step init`` prints: the summary, then the parameters found."""
        if not self.parameters:
            return f"mlnb: {self.summary()}"
        return f"mlnb: {self.summary()}\n" + parameters_table(self.parameters, with_help=False)


def _is_neutral(node: ast.stmt) -> bool:
    """Imports, docstrings and IPython magics may sit between parameters."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(node, ast.Expr):
        value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return True
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
            owner = value.func.value
            return (
                isinstance(owner, ast.Call)
                and isinstance(owner.func, ast.Name)
                and owner.func.id == "get_ipython"
                and value.func.attr in ("run_line_magic", "run_cell_magic")
            )
    return False


def find_parameter_assignments(nb: NotebookNode) -> dict[int, list[ast.stmt]]:
    """Cell index → the literal assignments to move, scanning until the first computation."""
    found: dict[int, list[ast.stmt]] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(python_source(source_text(cell)))
        except SyntaxError:
            return found
        for node in tree.body:
            if literal_assignment(node) is not None:
                found.setdefault(index, []).append(node)
            elif not _is_neutral(node):
                return found
    return found


def _lines_of(nodes: Sequence[ast.stmt]) -> set[int]:
    return {
        line for node in nodes for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }


def _movable(tree_body: Sequence[ast.stmt], chosen: Sequence[ast.stmt]) -> list[ast.stmt]:
    """The chosen statements that share no line with a statement that stays."""
    spans = {(n.lineno, n.col_offset) for n in chosen}
    staying = _lines_of([n for n in tree_body if (n.lineno, n.col_offset) not in spans])
    return [n for n in chosen if not (_lines_of([n]) & staying)]


def imported_packages(nb: NotebookNode) -> dict[str, str]:
    """Distribution → version for every non-standard-library module the notebook imports."""
    modules: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(python_source(source_text(cell)))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    stdlib = set(getattr(sys, "stdlib_module_names", ()))
    owners = importlib.metadata.packages_distributions()
    versions: dict[str, str] = {}
    for module in sorted(modules - stdlib):
        for dist in owners.get(module, [module]):
            try:
                versions[dist] = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                versions[dist] = "not installed"
    return versions


def step_init(
    notebook: str | os.PathLike[str],
    *,
    write: bool = False,
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
) -> StepPlan:
    """Find a notebook's parameters and, with ``write``, make it a pipeline step.

    Args:
        notebook: the notebook to convert.
        write: change the file (else only report what would change).
        inputs: files the notebook reads (recorded in ``metadata.mlnb.step``).
        outputs: files the notebook writes.

    Returns:
        A :class:`StepPlan` with the parameters and what was done.

    Raises:
        NotebookNotFoundError, InvalidNotebookError: the notebook cannot be read.
    """
    import nbformat

    path = Path(notebook)
    nb = load_notebook(path)
    plan = StepPlan(notebook=str(path), inputs=list(inputs), outputs=list(outputs))
    existing = notebook_parameters(nb)
    if existing is not None:
        plan.existing, plan.parameters = True, existing
    else:
        _plan_new_cell(nb, plan)
    plan.environment = {"python": platform.python_version(), "packages": imported_packages(nb)}
    if not write:
        return plan
    nb.metadata.setdefault(METADATA_KEY, {})["step"] = {
        "parameters": {
            p.name: {"type": p.type_name, "default": p.default} for p in plan.parameters
        },
        "inputs": plan.inputs,
        "outputs": plan.outputs,
        "environment": plan.environment,
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    nbformat.write(nb, str(tmp))
    os.replace(tmp, path)
    plan.written = True
    return plan


def _plan_new_cell(nb: NotebookNode, plan: StepPlan) -> None:
    """Move the assignments out of their cells into a new ``parameters`` cell (in memory)."""
    import nbformat

    chosen = find_parameter_assignments(nb)
    moved_lines: list[str] = []
    emptied: list[int] = []
    for index in sorted(chosen):
        cell = nb.cells[index]
        original = source_text(cell)
        body = ast.parse(python_source(original)).body
        nodes = _movable(body, chosen[index])
        if not nodes:
            continue
        plan.source_cells.append(index)
        lines = original.splitlines()
        taken = _lines_of(nodes)
        moved_lines += [lines[n - 1] for n in sorted(taken)]
        kept = [line for n, line in enumerate(lines, start=1) if n not in taken]
        cell.source = "\n".join(kept).strip("\n")
        if not cell.source.strip():
            emptied.append(index)
    if not moved_lines:
        return
    source = "\n".join(moved_lines)
    plan.parameters = parse_parameters(source)
    new_cell = nbformat.v4.new_code_cell(source)
    new_cell.metadata["tags"] = [PARAMETERS_TAG]
    first = plan.source_cells[0]
    cells = []
    for index, cell in enumerate(nb.cells):
        if index == first:
            cells.append(new_cell)
        if index not in emptied:
            cells.append(cell)
    nb.cells = cells


def parameters_table(params: Sequence[Parameter], *, with_help: bool = True) -> str:
    """A text table of parameters: name, type, default (and the help from its comment)."""
    from mlnb import display

    if with_help:
        rows = [
            (p.name, p.type_name, repr(p.default) if p.literal else p.default, p.help)
            for p in params
        ]
        return display.text_table(["parameter", "type", "default", "help"], rows)
    short = [(p.name, p.type_name, repr(p.default)) for p in params]
    return display.text_table(["parameter", "type", "default"], short)


def inspect(notebook: str | os.PathLike[str]) -> list[Parameter]:
    """The parameters of a step (its ``parameters`` cell) with types and defaults.

    Raises:
        NoParametersCellError: the notebook has none (the message says how to add one).
        ParametersCellError: its ``parameters`` cell does not parse (so none can be listed).
    """
    path = Path(notebook)
    nb = load_notebook(path)
    index = parameters_cell_index(nb)
    if index < 0:
        raise NoParametersCellError(path)
    reason = syntax_error(source_text(nb.cells[index]))
    if reason is not None:
        raise ParametersCellError(path, reason)
    return parse_parameters(source_text(nb.cells[index]))
