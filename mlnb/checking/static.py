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

import ast
import builtins
import importlib.util
import itertools
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb.checking.report import WARNING, Finding
from mlnb.exceptions import EmptyNotebookError, UnsupportedLanguageError
from mlnb.pipeline.parameters import python_source, source_text

if TYPE_CHECKING:
    from nbformat import NotebookNode

#: names IPython puts in every kernel's namespace
IPYTHON_NAMES = frozenset(
    {
        "get_ipython",
        "In",
        "Out",
        "exit",
        "quit",
        "display",
        "_",
        "__",
        "___",
        "_i",
        "_ii",
        "_iii",
        "_oh",
        "_ih",
        "_dh",
    }
)
KNOWN = frozenset(dir(builtins)) | IPYTHON_NAMES | {"__name__", "__builtins__", "__doc__"}
#: magics that put names in the namespace mlnb cannot see
OPAQUE_MAGICS = ("'run'", "'store'", "'load'", "'recall'", "'env'")
#: magics whose argument (line or cell) is Python run in the user's namespace
CODE_MAGICS = frozenset({"time", "timeit", "prun", "capture", "seed", "repro"})


@dataclass
class CellCode:
    """What one code cell defines and uses, from its AST."""

    index: int
    count: int | None
    defines: list[str] = field(default_factory=list)
    uses_now: list[str] = field(default_factory=list)  # before this cell defines them
    uses_later: set[str] = field(default_factory=set)  # free names in function bodies
    imports: list[str] = field(default_factory=list)
    star_import: bool = False
    opaque: bool = False
    syntax_error: str | None = None


def _targets(node: ast.AST) -> list[str]:
    return [
        n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    ]


class _Scope(ast.NodeVisitor):
    """Free names of a function or lambda body (loads minus its own bindings)."""

    def __init__(self) -> None:
        self.loads: set[str] = set()
        self.bound: set[str] = set()

    def visit_Name(self, node: ast.Name) -> None:
        (self.loads if isinstance(node.ctx, ast.Load) else self.bound).add(node.id)

    def visit_arg(self, node: ast.arg) -> None:
        self.bound.add(node.arg)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.bound.add(node.name)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.bound.add(node.name)
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            self.bound.add((alias.asname or alias.name).split(".")[0])

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.bound.add(node.name)
        self.generic_visit(node)

    def free(self) -> set[str]:
        return self.loads - self.bound


class _ModuleLevel(ast.NodeVisitor):
    """Loads and stores of one module-level statement, in the order they happen."""

    def __init__(self) -> None:
        self.events: list[tuple[bool, str]] = []  # (is a store, name)
        self.later: set[str] = set()

    def load(self, name: str) -> None:
        self.events.append((False, name))

    def store(self, name: str) -> None:
        self.events.append((True, name))

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.load(node.id)
        else:
            self.store(node.id)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.load(node.target.id)
            self.store(node.target.id)
        else:
            self.visit(node.target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.visit(node.target)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        for stmt in [*node.body, *node.orelse]:
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def _deferred(self, node: ast.AST) -> None:
        scope = _Scope()
        scope.generic_visit(node)
        self.later |= scope.free()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        self._deferred(node)
        self.store(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        self._deferred(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        self._deferred(node)
        self.store(node.name)

    def _comprehension(self, node: ast.AST) -> None:
        scope = _Scope()
        scope.generic_visit(node)
        for name in sorted(scope.free()):
            self.load(name)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self.store((alias.asname or alias.name).split(".")[0])

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.store(node.name)
        for stmt in node.body:
            self.visit(stmt)


def _magic_code(node: ast.stmt) -> list[ast.stmt] | None:
    """The statements inside ``%time x = f()`` / ``%%capture`` (code that runs in the namespace)."""
    value = node.value if isinstance(node, (ast.Expr, ast.Assign)) else None
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)):
        return None
    kind = value.func.attr
    args = value.args
    if kind not in ("run_line_magic", "run_cell_magic") or not args:
        return None
    if not (isinstance(args[0], ast.Constant) and args[0].value in CODE_MAGICS):
        return None
    code = args[-1]
    if not (isinstance(code, ast.Constant) and isinstance(code.value, str)):
        return None
    try:
        return _expand(ast.parse(python_source(code.value)).body)
    except SyntaxError:
        return None


def _expand(body: list[ast.stmt]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for node in body:
        inner = _magic_code(node)
        out.extend(inner if inner is not None else [node])
    return out


def read_cell(index: int, cell: Any) -> CellCode:
    """Parse one code cell into what it defines and uses."""
    code = CellCode(index=index, count=cell.get("execution_count"))
    source = python_source(source_text(cell))
    code.opaque = any(f"run_line_magic({m}" in source for m in OPAQUE_MAGICS)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        code.syntax_error = f"{exc.msg} (line {exc.lineno})"
        return code
    defined: set[str] = set()
    for node in _expand(tree.body):
        for sub in ast.walk(node):
            if isinstance(sub, ast.Import):
                code.imports += [a.name.split(".")[0] for a in sub.names]
            elif isinstance(sub, ast.ImportFrom) and not sub.level and sub.module:
                code.imports.append(sub.module.split(".")[0])
                code.star_import |= any(a.name == "*" for a in sub.names)
        visitor = _ModuleLevel()
        visitor.visit(node)
        code.uses_later |= visitor.later
        for is_store, name in visitor.events:
            if is_store:
                defined.add(name)
                if name not in code.defines:
                    code.defines.append(name)
            elif name not in defined and name not in code.uses_now:
                code.uses_now.append(name)
    return code


def code_cells(nb: NotebookNode) -> list[CellCode]:
    """Every code cell with source, read."""
    return [
        read_cell(index, cell)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and source_text(cell).strip()
    ]


def notebook_language(nb: NotebookNode) -> str:
    """The notebook's language from its kernelspec or language_info ('python' when neither says)."""
    meta = nb.get("metadata", {})
    language = meta.get("kernelspec", {}).get("language") or meta.get("language_info", {}).get(
        "name"
    )
    return str(language or "python").lower()


def check_checkable(nb: NotebookNode, path: str) -> None:
    """Refuse what cannot be checked: another language, no code.

    Raises:
        UnsupportedLanguageError: the notebook is not Python.
        EmptyNotebookError: it has no code cell with source.
    """
    language = notebook_language(nb)
    if language not in ("python", "python3", "ipython", "ipython3"):
        raise UnsupportedLanguageError(path, language)
    if not any(c.cell_type == "code" and source_text(c).strip() for c in nb.cells):
        raise EmptyNotebookError(path)


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
