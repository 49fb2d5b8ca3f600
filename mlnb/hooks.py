"""Tracked, fail-safe IPython event callbacks.

Every callback mlnb registers on a shell goes through :class:`ShellHooks`, which

* remembers it, so ``%unload_ext mlnb`` can unregister every one, and
* wraps it, so an exception inside mlnb's hook never reaches the user's cell:
  it is reported once as an :class:`~mlnb.exceptions.MlnbWarning` and the hook
  carries on (a raising ``pre_run_cell`` hook can otherwise wedge a kernel).
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlnb.exceptions import MlnbWarning, NotInNotebookError

if TYPE_CHECKING:
    from IPython.core.events import EventManager
    from IPython.core.interactiveshell import InteractiveShell

log = logging.getLogger(__name__)


class ShellHooks:
    """The event callbacks one mlnb component registered on one shell."""

    def __init__(self, shell: InteractiveShell | None, owner: str) -> None:
        self.shell = shell
        self.owner = owner
        self._registered: dict[str, tuple[str, Callable[..., None]]] = {}

    def register(self, key: str, event: str, callback: Callable[..., None]) -> None:
        """Register ``callback`` for ``event`` under ``key``, replacing an earlier one."""
        self.unregister(key)
        safe = _fail_safe(callback, f"{self.owner} {event} hook ({key})")
        self._events().register(event, safe)
        self._registered[key] = (event, safe)

    def unregister(self, key: str) -> bool:
        """Unregister the callback stored under ``key``; False if there was none."""
        entry = self._registered.pop(key, None)
        if entry is None:
            return False
        event, safe = entry
        try:
            self._events().unregister(event, safe)
        except ValueError:  # already gone: someone cleared the event list
            log.debug("hook %s was no longer registered", key)
        return True

    def _events(self) -> EventManager:
        if self.shell is None:  # a Magics built without a shell: nothing to hook into
            raise NotInNotebookError(f"{self.owner} has no IPython shell to register hooks on.")
        return self.shell.events

    def is_registered(self, key: str) -> bool:
        """Whether a callback is registered under ``key``."""
        return key in self._registered

    def clear(self) -> None:
        """Unregister every callback of this owner."""
        for key in list(self._registered):
            self.unregister(key)


def _fail_safe(callback: Callable[..., None], label: str) -> Callable[..., None]:
    warned = False

    @functools.wraps(callback)
    def safe(*args: Any, **kwargs: Any) -> None:
        nonlocal warned
        try:
            callback(*args, **kwargs)
        except Exception as exc:  # a hook must never break the user's cell
            log.debug("%s failed", label, exc_info=True)
            if not warned:
                warned = True
                warnings.warn(
                    f"mlnb: the {label} failed and was skipped ({type(exc).__name__}: {exc}); "
                    "your cell ran normally.",
                    MlnbWarning,
                    stacklevel=2,
                )

    safe.__wrapped_callback__ = callback  # type: ignore[attr-defined]
    return safe
