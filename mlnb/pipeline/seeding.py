"""Pin a run's seed inside its kernel without paying for imports the notebook never makes.

``mlnb.pin()`` imports torch to seed it, which costs seconds per kernel — most of a
short trial. A run's injected seed cell calls :func:`pin_run` instead: Python's
:mod:`random` is seeded at once; NumPy's global RNG and torch (every device, via
``torch.manual_seed``) are seeded right away when already imported, else the
moment the notebook first imports them. For the notebook that is the same as
pinning everything before its first cell, since nothing could draw from a
generator before its library was imported.

The kernel was also started with ``PYTHONHASHSEED`` and ``MLNB_SEED`` set to the
seed (see :mod:`mlnb.pipeline.kernels`), so ``mlnb.pin()`` without arguments in the
notebook picks up the same seed.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import random
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any


def _seed_numpy(module: ModuleType, seed: int) -> None:
    module.random.seed(seed)


def _seed_torch(module: ModuleType, seed: int) -> None:
    module.manual_seed(seed)  # CPU and every accelerator torch knows


SEEDERS: dict[str, Callable[[ModuleType, int], None]] = {
    "numpy": _seed_numpy,
    "torch": _seed_torch,
}


class _SeedingLoader(importlib.abc.Loader):
    """Runs the real loader, then seeds the freshly imported library."""

    def __init__(self, loader: Any, seed: int, seeder: Callable[[ModuleType, int], None]) -> None:
        self.loader = loader
        self.seed = seed
        self.seeder = seeder

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        self.seeder(module, self.seed)


class SeedOnImport(importlib.abc.MetaPathFinder):
    """A ``sys.meta_path`` finder that seeds listed libraries when they are first imported."""

    def __init__(self, seed: int, names: Sequence[str]) -> None:
        self.seed = seed
        self.pending = set(names)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.pending:
            return None
        self.pending.discard(fullname)
        if not self.pending and self in sys.meta_path:
            sys.meta_path.remove(self)
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _SeedingLoader(spec.loader, self.seed, SEEDERS[fullname])
                return spec
        return None


def pin_run(seed: int) -> list[str]:
    """Seed random now, and NumPy and torch now or when first imported.

    Args:
        seed: the run's seed.

    Returns:
        The libraries seeded now (``"random"``, and those already imported).
    """
    from mlnb.seed import validate_seed

    seed = validate_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)  # for child processes (DataLoader workers)
    random.seed(seed)
    seeded = ["random"]
    later = []
    for name, seeder in SEEDERS.items():
        module = sys.modules.get(name)
        if module is not None:
            seeder(module, seed)
            seeded.append(name)
        else:
            later.append(name)
    for finder in [f for f in sys.meta_path if isinstance(f, SeedOnImport)]:
        sys.meta_path.remove(finder)  # a second pin replaces the first
    if later:
        sys.meta_path.insert(0, SeedOnImport(seed, later))
    return seeded


def seed_code(seed: int) -> str:
    """The code run silently in the kernel, before the first cell, to pin ``seed``."""
    return (
        "try:\n"
        "    from mlnb.pipeline.seeding import pin_run as _mlnb_pin_run\n"
        "except ImportError:  # mlnb is not installed in this kernel\n"
        "    import random as _mlnb_random\n"
        f"    _mlnb_random.seed({seed})\n"
        "    del _mlnb_random\n"
        "else:\n"
        f"    _mlnb_pin_run({seed})\n"
        "    del _mlnb_pin_run\n"
    )
