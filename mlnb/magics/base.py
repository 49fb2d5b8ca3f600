"""Base class for mlnb's magics: tracked hooks and one-sentence errors."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic import Magics

from mlnb.exceptions import MlnbError, NotInNotebookError
from mlnb.hooks import ShellHooks

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

F = TypeVar("F", bound=Callable[..., Any])


class MlnbMagics(Magics):
    """A ``Magics`` class whose event hooks are removed by ``%unload_ext mlnb``."""

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.hooks = ShellHooks(shell, owner=f"mlnb {type(self).__name__}")

    @property
    def ipython(self) -> InteractiveShell:
        """The shell these magics are registered on.

        ``Magics.shell`` may be None (a ``Magics`` built by hand); a magic that needs the
        user's namespace or compiler then fails with one sentence, not an AttributeError.
        """
        if self.shell is None:
            raise NotInNotebookError(f"{type(self).__name__} is not attached to an IPython shell.")
        return self.shell

    def close(self) -> None:
        """Unregister this capability's hooks and stop its background work."""
        self.hooks.clear()

    def _store(self, name: str | None, value: Any) -> None:
        """``-o NAME``: put a magic's result in the user's namespace."""
        if name is None:
            return
        if not name.isidentifier():
            from mlnb.exceptions import InvalidArgumentError

            raise InvalidArgumentError(f"-o needs a variable name, got {name!r}.")
        self.ipython.user_ns[name] = value


def user_errors(method: F) -> F:
    """Show an :class:`MlnbError` as IPython's one-line ``UsageError``, not a traceback."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except MlnbError as exc:
            raise UsageError(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def shell_words(line: str) -> list[str]:
    """A magic's line split as a POSIX shell splits it: quotes group words and are removed
    (``-p x "hello world"`` gives ``hello world``), backslashes escape.

    Raises:
        UsageError: an unclosed quote (one sentence).
    """
    import shlex

    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:  # "No closing quotation", "No escaped character"
        raise UsageError(
            f"cannot split the line into words ({str(exc).lower()}) — close every quote."
        ) from None


def parse_args(method: Callable[..., Any], line: str) -> Any | None:
    """Parse a magic's line like a shell would (:func:`shell_words`), show help for
    ``-h``/``--help`` and the usage on errors. Every mlnb magic parses its line here.

    Returns:
        The parsed arguments, or None when help was shown (the magic should return).
    """
    prefix = "%%" if _is_cell_magic(method) else "%"
    words = shell_words(line)
    if {"-h", "--help"} & set(words):
        doc = inspect.cleandoc(method.__doc__ or "")
        usage = " ".join(method.parser.format_usage().replace("::", " ").split())  # type: ignore[attr-defined]
        if doc.startswith("::"):  # magic_arguments puts the usage first, as reST
            doc = doc.split("\n\n", 2)[-1]
        print(f"Usage: {usage.replace('%', prefix, 1)}\n\n{doc}")
        return None
    try:
        return method.parser.parse_args(words)  # type: ignore[attr-defined]
    except UsageError as exc:
        usage = " ".join(method.parser.format_usage().replace("::", " ").split())  # type: ignore[attr-defined]
        usage = usage.replace(f"%{method.__name__}", f"{prefix}{method.__name__}", 1)
        message = str(exc).rstrip(".")
        raise UsageError(f"{message}. Usage: {usage}") from None


def _is_cell_magic(method: Callable[..., Any]) -> bool:
    owner = getattr(method, "__self__", None)
    return owner is not None and method.__name__ in getattr(owner, "magics", {}).get("cell", {})


class CellSyntaxError(Exception):
    """A syntax error in a cell a magic runs, shown the way IPython shows one for a plain cell.

    IPython prints a raised ``SyntaxError`` with every frame it passed through (mlnb's
    included) and ignores ``_render_traceback_`` for it; this wrapper is not a
    ``SyntaxError``, so its ``_render_traceback_`` — the cell's line and a caret — is used.
    """

    def __init__(self, error: SyntaxError, structured: list[str]) -> None:
        super().__init__(f"{type(error).__name__}: {error.msg}")
        self.error = error
        self._structured = structured

    def _render_traceback_(self) -> list[str]:
        return self._structured


def user_traceback(
    shell: InteractiveShell, exc: BaseException, filename: str, magic: str = "this magic"
) -> BaseException:
    """Make IPython show ``exc`` with only the frames from the user's cell onwards.

    Code a magic executes for the user (``%%repro``) fails inside mlnb's frames; the
    user should see their own cell's traceback, once, as if the cell had run plainly.
    A syntax error shows as IPython shows it for a plain cell (the line and a caret);
    top-level ``await``, which only IPython's own cell runner can run, is one sentence.
    """
    if isinstance(exc, SyntaxError):
        reason = exc.msg or ""
        if "outside" in reason and ("await" in reason or "async" in reason):
            return UsageError(
                f"{magic} cannot run top-level `await` ({reason}) — run that code in a plain "
                "cell, or put it in an async function and call asyncio.run(...) in the cell."
            )
        return CellSyntaxError(exc, shell.SyntaxTB.structured_traceback(type(exc), exc, None))
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    if tb is None:
        return exc
    structured = shell.InteractiveTB.structured_traceback(type(exc), exc, tb)
    try:
        exc._render_traceback_ = lambda: structured  # type: ignore[attr-defined]
    except AttributeError:  # an exception type with __slots__
        pass
    return exc
