"""``mlnb step init NB [--write]`` and ``mlnb step inspect NB``."""

from __future__ import annotations

import argparse

from mlnb.cli.common import print_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb step``."""
    actions = parser.add_subparsers(dest="step_command", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init",
        help="move the first cells' literal assignments into a `parameters` cell",
        description="Find the top-level literal assignments in the first code cells (AST) and, with --write, "
        "move them into a cell tagged `parameters`; record inputs, outputs and package versions.",
    )
    init.add_argument("notebook")
    init.add_argument(
        "--write", action="store_true", help="change the notebook (default: only report)"
    )
    init.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        dest="inputs",
        metavar="FILE",
        help="a file the notebook reads",
    )
    init.add_argument(
        "--output",
        "-o",
        action="append",
        default=[],
        dest="outputs",
        metavar="FILE",
        help="a file the notebook writes",
    )
    inspect = actions.add_parser("inspect", help="list a step's parameters with types and defaults")
    inspect.add_argument("notebook")
    inspect.add_argument("--json", action="store_true", help="print JSON")


def main(args: argparse.Namespace) -> int:
    """Run ``init`` or ``inspect``."""
    from mlnb.pipeline import step

    if args.step_command == "inspect":
        params = step.inspect(args.notebook)
        if args.json:
            print_json(
                [
                    {"name": p.name, "type": p.type_name, "default": p.default, "help": p.help}
                    for p in params
                ]
            )
            return 0
        print(step.parameters_table(params))
        return 0
    plan = step.step_init(args.notebook, write=args.write, inputs=args.inputs, outputs=args.outputs)
    print(plan.text())
    _warn_hidden_state(args.notebook)
    return 0


def _warn_hidden_state(notebook: str) -> None:
    """The static check of ``mlnb check``: hidden state to fix before the notebook is a step."""
    from mlnb.checking.api import static_warnings
    from mlnb.cli.common import warn

    lines = static_warnings(notebook)
    for line in lines:
        warn(f"check: {line}")
    if lines:
        warn(f"check: run `mlnb check {notebook}` to see whether a fresh run reproduces it.")
