"""Which of a notebook's imports a kernel zygote may load ahead of the run.

:func:`notebook_imports` reads the ``import``/``from ... import`` lines of a notebook's
code cells (without running anything). :func:`preloadable` leaves out the modules that
must be imported inside the running kernel to behave as they would in a fresh one:
those that look at the kernel while importing (matplotlib picks its inline backend
from the environment ipykernel sets; ``tqdm.auto`` and plotly look for the IPython
shell; ipywidgets registers comms with the kernel) and those that start threads or
touch devices on import (TensorFlow, JAX, Ray). A module that imports one of these
is found out by the zygote and left out too (:mod:`mlnb.pipeline.zygote`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

#: modules (and their submodules) never imported before the kernel runs
KERNEL_SENSITIVE = (
    "matplotlib",
    "tqdm.auto",
    "tqdm.autonotebook",
    "tqdm.notebook",
    "ipywidgets",
    "plotly",
    "tensorflow",
    "keras",
    "jax",
    "jaxlib",
    "ray",
    "wandb",
)

_IMPORT = re.compile(r"^\s*import\s+([\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)")
_FROM = re.compile(r"^\s*from\s+([\w.]+)\s+import\s")


def import_names(source: str) -> list[str]:
    """The absolute module names ``source`` imports, in order (``import a.b as c`` → ``a.b``)."""
    names: list[str] = []
    for line in source.splitlines():
        found = _FROM.match(line)
        if found:
            names.append(found.group(1))
            continue
        found = _IMPORT.match(line)
        if found:
            names += [part.split()[0] for part in found.group(1).split(",")]
    return names


def sensitive(name: str) -> bool:
    """Whether ``name`` is (or is inside) a module listed in :data:`KERNEL_SENSITIVE`."""
    return any(name == s or name.startswith(s + ".") for s in KERNEL_SENSITIVE)


def preloadable(names: Iterable[str]) -> list[str]:
    """``names`` without duplicates, relative imports and :data:`KERNEL_SENSITIVE` ones."""
    kept: dict[str, None] = {}
    for name in names:
        if name and not name.startswith(".") and not sensitive(name) and name != "__future__":
            kept[name] = None
    return list(kept)


def notebook_imports(nb: Any) -> list[str]:
    """The modules a notebook's code cells import that a zygote may load ahead."""
    names: list[str] = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            names += import_names(source if isinstance(source, str) else "".join(source))
    return preloadable(names)
