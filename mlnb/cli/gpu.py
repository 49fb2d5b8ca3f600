"""``mlnb gpu``: the device table (or JSON) from a terminal, with the same fallbacks as ``%gpu``;
``mlnb gpu who [--all]``: whose memory it is, by notebook (``--all``: every running Jupyter server's)."""

from __future__ import annotations

import argparse
import dataclasses
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb gpu``."""
    parser.add_argument(
        "view",
        nargs="?",
        default="status",
        choices=("status", "memory", "who"),
        help="status (default): one row per device; memory: this process's allocator view; "
        "who: each device's memory by kernel/notebook and other process",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="with who: name the notebooks of every running Jupyter server (its sessions)",
    )
    parser.add_argument(
        "--idle-after",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="with who: flag kernels idle this long while holding memory (default 600)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def main(args: argparse.Namespace) -> int:
    """Print the view; exit status 0 even without a GPU (the output says so)."""
    from mlnb.gpu.memory import memory
    from mlnb.gpu.status import status

    if args.all and args.view != "who":
        from mlnb.exceptions import InvalidArgumentError

        raise InvalidArgumentError(
            f"--all goes with `mlnb gpu who` (every Jupyter server's notebooks), not `{args.view}`."
        )
    if args.view == "who":
        from mlnb.gpu.who import who

        if not args.idle_after >= 0:
            from mlnb.exceptions import InvalidArgumentError

            raise InvalidArgumentError(
                f"--idle-after must be a number of seconds, 0 or more, got {args.idle_after}."
            )
        attribution = who(servers=args.all, idle_after=args.idle_after)
        print(json.dumps(attribution.as_dict(), indent=2) if args.json else attribution.text())
        return 0
    if args.view == "memory":
        memory_report = memory()
        payload: dict[str, object] = {
            "allocators": [dataclasses.asdict(s) for s in memory_report.allocators],
            "host": dataclasses.asdict(memory_report.host),
            "note": memory_report.note,
        }
        text = memory_report.text()
    else:
        status_report = status()
        payload = {
            "devices": [dataclasses.asdict(d) for d in status_report.devices],
            "host": dataclasses.asdict(status_report.host) if status_report.host else None,
            "unavailable": status_report.unavailable,
        }
        text = status_report.text()
    print(json.dumps(payload, indent=2) if args.json else text)
    return 0
