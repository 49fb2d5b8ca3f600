"""Compile a cell's code the way IPython runs it: statements to exec, then the last expression to eval.

Magics that run a cell's code themselves (``%%oom_guard``, ``%%repro``) need the
value of its last expression, as a plain cell would show it. :func:`split_cell`
is the one place that splits a cell that way.
"""

from __future__ import annotations

import ast
import io
import tokenize
from types import CodeType

_SKIPPED_TOKENS = (
    tokenize.ENDMARKER,
    tokenize.NEWLINE,
    tokenize.NL,
    tokenize.COMMENT,
    tokenize.INDENT,
    tokenize.DEDENT,
)


def split_cell(code: str, filename: str) -> tuple[CodeType, CodeType | None]:
    """Compile ``code`` as its statements plus, if it ends in an expression, that expression.

    Run the first with ``exec`` and then the second (when not None) with ``eval`` in
    the same namespace to get the cell's value. As in IPython, a last expression
    followed by a semicolon (``x;``) is run as a statement and gives no value.

    Args:
        code: Python source (IPython syntax already transformed).
        filename: the name tracebacks show for the code (IPython's cell name).

    Returns:
        ``(statements, last_expression)``; ``last_expression`` is None when the code
        does not end in an expression (or is empty).

    Raises:
        SyntaxError: the user's code does not parse; its ``filename`` and ``lineno``
            point into ``code``, as for a plain cell.
    """
    tree = ast.parse(code, filename=filename)
    last = None
    final = tree.body[-1] if tree.body else None
    if isinstance(final, ast.Expr) and not _ends_with_semicolon(code):
        tree.body.pop()
        last = compile(ast.Expression(body=final.value), filename, "eval")
    return compile(tree, filename, "exec"), last


def _ends_with_semicolon(code: str) -> bool:
    """Whether the last token of ``code`` (comments and blank lines aside) is ``;``."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):  # parsed already, so this should not happen
        return False
    for token in reversed(tokens):
        if token.type not in _SKIPPED_TOKENS:
            return token.type == tokenize.OP and token.string == ";"
    return False
