"""The names a notebook records, found by reading its code (nothing runs).

An engine that needs its outputs declared before anything runs — a Kubeflow
component — reads ``mlnb.record("val_acc", ...)`` calls (and scrapbook's
``sb.glue("name", ...)``) whose name is a literal string, and guesses each
value's type from the expression: a literal, ``int(...)``/``float(...)``/``len(...)``,
a comparison, or a variable last assigned one of those. Anything else is taken
for a number (``float``), which is what notebooks record almost always.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from mlnb.pipeline.parameters import python_source, source_text

RECORD_FUNCTIONS = ("record", "glue")
_CALL_TYPES = {
    "int": "int",
    "len": "int",
    "round": "int",
    "float": "float",
    "str": "str",
    "repr": "str",
    "bool": "bool",
    "list": "list",
    "sorted": "list",
    "dict": "dict",
}
_LITERAL_TYPES = {bool: "bool", int: "int", float: "float", str: "str"}
DEFAULT_TYPE = "float"


def _code_trees(nb: Mapping[str, Any]) -> list[ast.Module]:
    trees = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        try:
            trees.append(ast.parse(python_source(source_text(cell))))
        except SyntaxError:
            continue
    return trees


def _recorded_name(node: ast.AST) -> tuple[str, ast.expr] | None:
    """``(name, value expression)`` of a ``record("name", value)`` call, else None."""
    if not isinstance(node, ast.Call) or len(node.args) < 2:
        return None
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    first = node.args[0]
    if (
        called in RECORD_FUNCTIONS
        and isinstance(first, ast.Constant)
        and isinstance(first.value, str)
    ):
        return first.value, node.args[1]
    return None


def expression_type(node: ast.expr, assigned: Mapping[str, ast.expr], depth: int = 0) -> str:
    """The type an expression evaluates to, as far as its text shows (else ``float``)."""
    if isinstance(node, ast.Constant) and type(node.value) in _LITERAL_TYPES:
        return _LITERAL_TYPES[type(node.value)]
    if isinstance(node, ast.JoinedStr):
        return "str"
    if isinstance(node, (ast.Compare, ast.BoolOp)) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
    ):
        return "bool"
    if isinstance(node, (ast.List, ast.Tuple, ast.ListComp)):
        return "list"
    if isinstance(node, (ast.Dict, ast.DictComp)):
        return "dict"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id == "round" and len(node.args) > 1:
            return "float"
        return _CALL_TYPES.get(node.func.id, DEFAULT_TYPE)
    if isinstance(node, ast.Name) and node.id in assigned and depth < 5:
        return expression_type(assigned[node.id], assigned, depth + 1)
    return DEFAULT_TYPE


def recorded_names(nb: Mapping[str, Any]) -> dict[str, str]:
    """Literal names the notebook records → the type guessed for each, in code order."""
    assigned: dict[str, ast.expr] = {}
    found: dict[str, str] = {}
    for tree in _code_trees(nb):
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    assigned[target.id] = node.value
            elif (call := _recorded_name(node)) is not None:
                found[call[0]] = expression_type(call[1], assigned)
    return found
