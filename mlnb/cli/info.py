"""``mlnb info``: which version is installed and which optional parts are usable."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb info``."""
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def main(args: argparse.Namespace) -> int:
    """Print the report of :func:`mlnb.info.collect`."""
    from mlnb import display, info

    report = info.collect()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    rows = [("mlnb", report["mlnb"]), ("python", report["python"])]
    rows += [(name, version or "missing") for name, version in report["core"].items()]
    for extra, dists in report["extras"].items():
        for name, version in dists.items():
            rows.append((f"[{extra}] {name}", version or "not installed"))
    print(display.text_table(["package", "version"], rows))
    return 0
