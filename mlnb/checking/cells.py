"""What each code cell of a saved notebook defines and uses, read from its AST.

IPython turns ``%magics`` into Python first; module-level loads are uses *now*, free names
inside functions and lambdas are uses *later*. :mod:`mlnb.checking.static` turns these
into findings.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
