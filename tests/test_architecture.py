"""Architecture rules checked on the source: no import cycles inside ``mlnb/``.

Every ``import`` node counts, wherever it is: module level, inside functions (deferred
imports) and under ``if TYPE_CHECKING:``. Relative imports are resolved against the
importing module's package; ``from pkg import name`` points at ``pkg.name`` when that
is a module, else at ``pkg``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PENDING = ("mlnb.runs.", "mlnb.pipeline.")  # cycles being removed on another branch


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under ``root / package``."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (at any depth in the file)."""
    modules = module_files(root, package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = here.split(".")
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                for alias in node.names:
                    child = f"{base}.{alias.name}"
                    targets.append(child if child in modules else base)
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def _components(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected sets of modules (Tarjan), those with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle of ``graph``, as ``[a, b, ..., a]`` from its smallest name, sorted.

    Searched only inside strongly connected sets of modules, which stay small.
    """
    cycles: list[list[str]] = []
    for component in _components(graph):
        for start in sorted(component):

            def extend(path: list[str], start: str = start, component: set[str] = component):
                for nxt in sorted(graph[path[-1]] & component):
                    if nxt == start:
                        cycles.append([*path, start])
                    elif nxt > start and nxt not in path:
                        extend([*path, nxt])

            extend([start])
    return sorted(cycles)


def describe_cycles(cycles: list[list[str]]) -> str:
    """One line per cycle: ``a -> b -> a``."""
    return "\n".join(" -> ".join(cycle) for cycle in cycles)


def _cycles(root: Path = ROOT, package: str = "mlnb") -> list[list[str]]:
    return import_cycles(import_graph(root, package))


def assert_no_import_cycles(root: Path, package: str, ignore=lambda cycle: False) -> None:
    """Fail with one line per import cycle in ``root / package`` (minus ``ignore``d ones)."""
    cycles = [cycle for cycle in _cycles(root, package) if not ignore(cycle)]
    if cycles:
        pytest.fail(
            f"{len(cycles)} import cycle(s) in {package}/:\n{describe_cycles(cycles)}",
            pytrace=False,
        )


def test_no_import_cycles_in_mlnb():
    assert_no_import_cycles(ROOT, "mlnb")


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checker_finds_a_two_module_cycle_and_passes_without_it(tmp_path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from . import b\n",
            # only under TYPE_CHECKING: still a cycle
            "pkg/b.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from pkg.a import thing\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/c.py": "import os\nfrom ..b import x\n",
        },
    )
    graph = import_graph(tmp_path, "pkg")
    assert graph == {
        "pkg": set(),
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.a"},
        "pkg.sub": set(),
        "pkg.sub.c": {"pkg.b"},
    }
    cycles = import_cycles(graph)
    assert cycles == [["pkg.a", "pkg.b", "pkg.a"]]
    with pytest.raises(pytest.fail.Exception) as failed:
        assert_no_import_cycles(tmp_path, "pkg")
    assert str(failed.value) == "1 import cycle(s) in pkg/:\npkg.a -> pkg.b -> pkg.a"

    _write(tmp_path, {"pkg/b.py": "def later():\n    from pkg import sub\n"})  # no cycle
    assert import_cycles(import_graph(tmp_path, "pkg")) == []
    assert_no_import_cycles(tmp_path, "pkg")


def test_the_checker_lists_every_cycle_and_deferred_imports_count(tmp_path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg import a\n",
            "pkg/a.py": "def f():\n    import pkg\n",
            "pkg/b.py": "from pkg.c import y\n",
            "pkg/c.py": "from pkg import d\n",
            "pkg/d.py": "class K:\n    def m(self):\n        from .b import z\n",
        },
    )
    assert describe_cycles(_cycles(tmp_path, "pkg")) == (
        "pkg -> pkg.a -> pkg\npkg.b -> pkg.c -> pkg.d -> pkg.b"
    )


def test_every_cycle_is_listed_when_cycles_share_modules():
    graph = {"a": {"b", "c"}, "b": {"a", "c"}, "c": {"a"}, "d": {"a"}}
    assert describe_cycles(import_cycles(graph)) == ("a -> b -> a\na -> b -> c -> a\na -> c -> a")


def test_no_lazy_public_name_is_also_a_submodule():
    """``mlnb.runs.export`` is a function; a submodule of the same name would replace it
    (``'module' object is not callable``) as soon as anything imported the submodule."""
    import importlib
    import pkgutil

    clashes = []
    for package in (
        "mlnb",
        *(f"mlnb.{m.name}" for m in pkgutil.iter_modules(mlnb_paths()) if m.ispkg),
    ):
        module = importlib.import_module(package)
        lazy = getattr(module, "_LAZY", {})
        submodules = {m.name for m in pkgutil.iter_modules(module.__path__)}
        clashes += [f"{package}.{name}" for name in lazy if name in submodules]
    assert clashes == []


def mlnb_paths() -> list[str]:
    import mlnb

    return list(mlnb.__path__)
