"""``mlnb info``: which version is installed and which optional parts are usable."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import sys

from mlnb import __version__, display

# extra -> the distributions it brings
OPTIONAL = {
    "torch": ("torch",),
    "lab": ("jupyterlab",),
    "mlflow": ("mlflow",),
    "tensorboard": ("tensorboard",),
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


def collect() -> dict[str, object]:
    """Everything ``mlnb info`` reports, as a JSON-ready dict."""
    return {
        "mlnb": __version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "core": versions(CORE),
        "extras": {extra: versions(dists) for extra, dists in OPTIONAL.items()},
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb info``."""
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def main(args: argparse.Namespace) -> int:
    """Print the report."""
    report = collect()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    rows = [("mlnb", report["mlnb"]), ("python", report["python"])]
    rows += [(name, version or "missing") for name, version in report["core"].items()]  # type: ignore[union-attr]
    for extra, dists in report["extras"].items():  # type: ignore[union-attr]
        for name, version in dists.items():
            rows.append((f"[{extra}] {name}", version or "not installed"))
    print(display.text_table(["package", "version"], rows))
    return 0
