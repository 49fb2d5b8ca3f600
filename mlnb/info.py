"""Which version of mlnb is installed and which optional parts are usable.

:func:`collect` is what the ``mlnb info`` sub-command (:mod:`mlnb.cli.info`) prints.
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from typing import TypedDict

from mlnb import __version__

# extra -> the distributions it brings
OPTIONAL = {
    "torch": ("torch",),
    "lab": ("jupyterlab",),
    "mlflow": ("mlflow",),
    "tensorboard": ("tensorboard",),
    "kfp": ("kfp",),
    "ray": ("ray",),
    "optuna": ("optuna",),
    "wit": ("witwidget",),
}
CORE = (
    "ipython",
    "ipykernel",
    "ipywidgets",
    "nbformat",
    "nbclient",
    "papermill",
    "numpy",
    "pandas",
    "matplotlib",
    "nvidia-ml-py",
)


def versions(names: tuple[str, ...]) -> dict[str, str | None]:
    """Installed version of each distribution, None when it is missing."""
    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


class InfoReport(TypedDict):
    """What :func:`collect` returns: versions by distribution name, None when missing."""

    mlnb: str
    python: str
    executable: str
    core: dict[str, str | None]
    extras: dict[str, dict[str, str | None]]


def collect() -> InfoReport:
    """Everything ``mlnb info`` reports, as a JSON-ready dict."""
    return {
        "mlnb": __version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "core": versions(CORE),
        "extras": {extra: versions(dists) for extra, dists in OPTIONAL.items()},
    }
