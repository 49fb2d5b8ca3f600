"""The IPython face of mlnb: one thin ``Magics`` class per capability.

:func:`register_all` is what ``%load_ext mlnb`` calls. It registers every magic from
its name alone (:data:`CAPABILITIES`): each name points at a stand-in that imports
its capability's ``Magics`` class the first time one of its magics runs, puts the
real methods in the stand-ins' place and hands the call over (``%x --help``
included). Loading the extension therefore imports none of the capabilities.

The run magics also keep the cell log of every active run and show a
``RunsError`` as one sentence; both start the moment ``mlnb.runs`` is imported
(by a magic, ``mlnb.start(...)`` or an ``import``), from the cell that imported
it on. Until then no run can exist, so there is nothing to record.

:func:`unregister_all` (``%unload_ext mlnb``) undoes everything, hooks included.
"""

from __future__ import annotations

import importlib
import sys
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlnb.magics import settings
from mlnb.magics.gpu_report import GpuSelfReport

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

    from IPython.core.interactiveshell import InteractiveShell

    from mlnb.magics.base import MlnbMagics

#: "module:Class" of each capability's magics → the names of its line and cell magics.
#: ``tests/test_import_light.py`` checks this table against the classes themselves.
CAPABILITIES: dict[str, dict[str, tuple[str, ...]]] = {
    "mlnb.magics.seed:SeedMagics": {"line": ("seed",), "cell": ("repro",)},
    "mlnb.magics.gpu:GpuMagics": {
        "line": ("gpu", "gpu_track", "gpu_panel", "gpu_timeline"),
        "cell": ("oom_guard",),
    },
    "mlnb.magics.whatif:WhatIfMagics": {"line": ("whatif",), "cell": ()},
    "mlnb.magics.data:DataMagics": {"line": ("profile", "validate", "drift"), "cell": ()},
    "mlnb.magics.runs:RunsMagics": {
        "line": ("run_start", "run_stop", "runs", "run_show", "run_compare"),
        "cell": (),
    },
    "mlnb.magics.pipeline:PipelineMagics": {
        "line": (
            "pipeline_run",
            "pipeline_sweep",
            "pipeline_tune",
            "pipeline",
            "pipeline_rerun",
            "pipeline_step",
        ),
        "cell": (),
    },
    "mlnb.magics.check:CheckMagics": {"line": ("check_notebook",), "cell": ()},
}
MAGIC_CLASSES: tuple[str, ...] = tuple(CAPABILITIES)
RUNS_MAGICS = "mlnb.magics.runs:RunsMagics"
RUNS_PACKAGE = "mlnb.runs"

_extensions: weakref.WeakKeyDictionary[Any, _Extension] = weakref.WeakKeyDictionary()


def _magic_class(spec: str) -> type[MlnbMagics]:
    module_name, _, class_name = spec.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def _prefixed(kind: str, name: str) -> str:
    return f"%{name}" if kind == "line" else f"%%{name}"


class _Stub:
    """Stands in for one magic until its capability is imported (on its first call)."""

    def __init__(self, extension: _Extension, spec: str, kind: str, name: str) -> None:
        self.extension = extension
        self.spec = spec
        self.kind = kind
        self.name = name
        self.__name__ = name
        self.__doc__ = (
            f"mlnb's {_prefixed(kind, name)}; `{_prefixed(kind, name)} --help` shows its usage."
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        instance = self.extension.load(self.spec)
        return instance.magics[self.kind][self.name](*args, **kwargs)

    def __repr__(self) -> str:
        return f"<mlnb magic {_prefixed(self.kind, self.name)} from {self.spec}, not imported yet>"


class _Extension:
    """mlnb on one shell: the stand-ins, the ``Magics`` built so far, the settings."""

    def __init__(self, shell: InteractiveShell) -> None:
        self.shell = shell
        self.instances: dict[str, MlnbMagics] = {}
        self.loading: set[str] = set()
        self.stubs: dict[tuple[str, str], _Stub] = {}
        self.cell: Any = None  # the cell running now (IPython's info), until mlnb.runs loads
        self.cell_hooks: list[tuple[str, Callable[..., None]]] = []
        table = shell.magics_manager.magics
        for spec, kinds in CAPABILITIES.items():
            for kind, names in kinds.items():
                for name in names:
                    stub = self.stubs[kind, name] = _Stub(self, spec, kind, name)
                    table[kind][name] = stub
        self.settings = settings.attach(shell)
        self.gpu_report = GpuSelfReport(shell)

    def load(self, spec: str) -> MlnbMagics:
        """The capability's ``Magics`` on this shell, imported and built on first use."""
        instance = self.instances.get(spec)
        if instance is not None:
            return instance
        self.loading.add(spec)
        try:
            instance = _magic_class(spec)(shell=self.shell)
        finally:
            self.loading.discard(spec)
        self.instances[spec] = instance
        manager = self.shell.magics_manager
        manager.registry[type(instance).__name__] = instance
        for kind, methods in instance.magics.items():
            for name, method in methods.items():
                if manager.magics[kind].get(name) is self.stubs.get((kind, name)):
                    manager.magics[kind][name] = method  # a name the user took over stays theirs
        if spec == RUNS_MAGICS:
            self._runs_magics_built(instance)
        return instance

    # --- the run magics' cell log, before mlnb.runs is imported ---------------

    def watch_cells(self) -> None:
        """Remember the running cell, so the run magics built during it can log it."""

        def pre_run_cell(info: Any = None) -> None:
            self.cell = info

        def post_run_cell(result: Any = None) -> None:
            self.cell = None

        for event, callback in (("pre_run_cell", pre_run_cell), ("post_run_cell", post_run_cell)):
            vars(callback)["__wrapped_callback__"] = (
                callback  # marks mlnb's hooks, as ShellHooks does
            )
            self.shell.events.register(event, callback)
            self.cell_hooks.append((event, callback))

    def runs_imported(self) -> None:
        """``mlnb.runs`` was just imported: build the run magics now (their hooks)."""
        if RUNS_MAGICS not in self.loading:  # else load() finishes the work
            self.load(RUNS_MAGICS)

    def _runs_magics_built(self, instance: MlnbMagics) -> None:
        self._drop_cell_hooks()
        cell, self.cell = self.cell, None
        if cell is not None:  # built inside a cell: its cell log starts with this cell
            recorder = getattr(instance, "recorder", None)
            if recorder is not None:
                recorder.pre_run_cell(cell)

    def _drop_cell_hooks(self) -> None:
        while self.cell_hooks:
            event, callback = self.cell_hooks.pop()
            try:
                self.shell.events.unregister(event, callback)
            except ValueError:  # someone cleared the event's list
                pass

    # --- unloading -------------------------------------------------------------

    def close(self) -> list[str]:
        """Remove every magic, hook and setting this extension added; returns the magics removed."""
        settings.detach(self.shell, self.settings)
        self.gpu_report.close()
        self._drop_cell_hooks()
        manager = self.shell.magics_manager
        removed: list[str] = []
        for instance in self.instances.values():
            instance.close()
            for kind, methods in instance.magics.items():
                for name in methods:
                    bound = manager.magics[kind].get(name)
                    if getattr(bound, "__self__", None) is instance:
                        del manager.magics[kind][name]
                        removed.append(_prefixed(kind, name))
            manager.registry.pop(type(instance).__name__, None)
        for (kind, name), stub in self.stubs.items():
            if manager.magics[kind].get(name) is stub:
                del manager.magics[kind][name]
                removed.append(_prefixed(kind, name))
        self.instances.clear()
        return removed


class _RunsImportWatcher:
    """A ``sys.meta_path`` finder that finds nothing itself: it tells every shell with
    mlnb loaded once ``mlnb.runs`` has been imported (by anyone), then leaves."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if fullname != RUNS_PACKAGE:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        run = getattr(loader, "exec_module", None)
        if loader is None or isinstance(loader, type) or run is None:
            return spec  # not a loader this package is ever imported with: nothing to watch

        def exec_module(module: Any) -> None:
            run(module)
            _runs_imported()

        try:
            loader.exec_module = exec_module  # this spec's loader only
        except (AttributeError, TypeError):  # a loader that takes no attributes: not watched
            pass
        return spec


_watcher = _RunsImportWatcher()


def _watch_runs_import() -> None:
    if _watcher not in sys.meta_path:
        sys.meta_path.insert(0, _watcher)


def _stop_watching() -> None:
    if _watcher in sys.meta_path:
        sys.meta_path.remove(_watcher)


def _runs_imported() -> None:
    _stop_watching()
    for extension in list(_extensions.values()):
        try:
            extension.runs_imported()
        except Exception as exc:  # the user's import must succeed whatever happens here
            import warnings

            from mlnb.exceptions import MlnbWarning

            warnings.warn(
                f"mlnb: the run magics could not be set up ({type(exc).__name__}: {exc}); "
                "runs work, but their cell log and one-line errors are off in this shell.",
                MlnbWarning,
                stacklevel=2,
            )


def register_all(shell: InteractiveShell) -> list[str]:
    """Register every capability's magics on ``shell``; returns the magic names added.

    Only names are registered: a capability is imported when one of its magics first
    runs. If ``mlnb.runs`` is already imported, the run magics are built right away.
    """
    unregister_all(shell)  # %reload_ext: never register twice
    extension = _extensions[shell] = _Extension(shell)
    if RUNS_PACKAGE in sys.modules:
        extension.load(RUNS_MAGICS)
    else:
        extension.watch_cells()
        _watch_runs_import()
    return [_prefixed(kind, name) for kind, name in extension.stubs]


def unregister_all(shell: InteractiveShell) -> list[str]:
    """Remove every mlnb magic and hook from ``shell``; safe to call twice."""
    extension = _extensions.pop(shell, None)
    if not _extensions:
        _stop_watching()
    return [] if extension is None else extension.close()


def loaded_magics(shell: InteractiveShell) -> list[MlnbMagics]:
    """The mlnb ``Magics`` instances registered on ``shell``, every capability's.

    The extension builds a capability's instance when one of its magics first runs;
    this builds (and imports) the ones not built yet.
    """
    extension = _extensions.get(shell)
    if extension is None:
        return []
    return [extension.load(spec) for spec in CAPABILITIES]


def built_magics(shell: InteractiveShell) -> list[MlnbMagics]:
    """The capabilities' ``Magics`` built on ``shell`` so far (imports nothing)."""
    extension = _extensions.get(shell)
    return [] if extension is None else list(extension.instances.values())
