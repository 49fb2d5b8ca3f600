"""The IPython face of mlnb: one thin ``Magics`` class per capability.

:func:`register_all` is what ``%load_ext mlnb`` calls. Each class only parses its
arguments (IPython ``magic_arguments``, so ``%name --help`` works), calls the
library, and displays. :func:`unregister_all` undoes everything, hooks included.
"""

from __future__ import annotations

import importlib
import weakref
from typing import TYPE_CHECKING, Any

from mlnb.magics import settings
from mlnb.magics.base import MlnbMagics

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

# "module:Class" of every capability's magics, imported only when the extension loads.
MAGIC_CLASSES: tuple[str, ...] = (
    "mlnb.magics.seed:SeedMagics",
    "mlnb.magics.gpu:GpuMagics",
    "mlnb.magics.whatif:WhatIfMagics",
    "mlnb.magics.data:DataMagics",
    "mlnb.magics.runs:RunsMagics",
    "mlnb.magics.pipeline:PipelineMagics",
    "mlnb.magics.check:CheckMagics",
)

_loaded: weakref.WeakKeyDictionary[Any, list[MlnbMagics]] = weakref.WeakKeyDictionary()
_settings: weakref.WeakKeyDictionary[Any, settings.Mlnb] = weakref.WeakKeyDictionary()


def _magic_class(spec: str) -> type[MlnbMagics]:
    module_name, _, class_name = spec.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def register_all(shell: InteractiveShell) -> list[str]:
    """Register every capability's magics on ``shell``; returns the magic names added."""
    unregister_all(shell)  # %reload_ext: never register twice
    instances = [_magic_class(spec)(shell=shell) for spec in MAGIC_CLASSES]
    names: list[str] = []
    for instance in instances:
        shell.register_magics(instance)
        for kind in ("line", "cell"):
            names.extend(f"%{n}" if kind == "line" else f"%%{n}" for n in instance.magics[kind])
    _loaded[shell] = instances
    _settings[shell] = settings.attach(shell)
    return names


def unregister_all(shell: InteractiveShell) -> list[str]:
    """Remove every mlnb magic and hook from ``shell``; safe to call twice."""
    instances = _loaded.pop(shell, [])
    profile = _settings.pop(shell, None)
    if profile is not None:
        settings.detach(shell, profile)
    removed: list[str] = []
    table = shell.magics_manager.magics
    for instance in instances:
        instance.close()
        for kind in ("line", "cell"):
            for name in instance.magics[kind]:
                bound = table[kind].get(name)
                if getattr(bound, "__self__", None) is instance:
                    del table[kind][name]
                    removed.append(f"%{name}" if kind == "line" else f"%%{name}")
        shell.magics_manager.registry.pop(type(instance).__name__, None)
    return removed


def loaded_magics(shell: InteractiveShell) -> list[MlnbMagics]:
    """The mlnb ``Magics`` instances currently registered on ``shell``."""
    return list(_loaded.get(shell, []))
