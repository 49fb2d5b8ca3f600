"""Lazy package attributes (PEP 562): a name's module is imported on first access.

Keeps ``import mlnb`` (and ``import mlnb.runs``, ...) cheap: each package lists its
public names as ``"module:attribute"`` and hands the table to :func:`attach`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def attach(
    package: str,
    names: Mapping[str, str],
    namespace: dict[str, Any],
    submodules: Iterable[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Build a package's ``__getattr__`` and ``__dir__``.

    Args:
        package: the package's ``__name__``.
        names: public name → ``"module:attribute"``.
        namespace: the package's ``globals()``; a resolved name is cached there.
        submodules: sub-module names importable as attributes (``mlnb.seed``).

    Returns:
        ``(__getattr__, __dir__)`` to assign at the package's top level.
    """
    subs = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        if name in names:
            module_name, _, attribute = names[name].partition(":")
            value = getattr(importlib.import_module(module_name), attribute)
            namespace[name] = value
            return value
        if name in subs:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names) | subs)

    return __getattr__, __dir__
