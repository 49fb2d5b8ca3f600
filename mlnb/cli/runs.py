"""``mlnb runs``: list, show, compare, remove and export runs from the command line.

Examples::

    mlnb runs ls --project mnist --status finished
    mlnb runs show baseline
    mlnb runs compare baseline wide --metric val/loss --out curves.png
    mlnb runs rm 3f2a9c
    mlnb runs export --to mlflow --tracking-uri sqlite:///mlflow.db
    mlnb runs export --to tensorboard tb_logs
    mlnb runs importance --metric val/acc --project mnist
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from mlnb.exceptions import InvalidArgumentError
from mlnb.runs.records import STATUSES

if TYPE_CHECKING:  # pragma: no cover
    from mlnb.runs.store import Store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb runs``."""
    parser.add_argument("--home", help="the run store folder (default: $MLNB_HOME or ./.mlnb)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    ls = actions.add_parser("ls", aliases=["list"], help="list runs, newest first")
    ls.add_argument("--project")
    ls.add_argument(
        "--tag", action="append", default=[], help="only runs with this tag (repeatable)"
    )
    ls.add_argument("--status", choices=STATUSES)
    ls.add_argument("--limit", type=int)
    ls.add_argument("--json", action="store_true", help="print JSON")
    show = actions.add_parser("show", help="everything about one run")
    show.add_argument("run", help="run id, id prefix or name")
    show.add_argument("--json", action="store_true", help="print JSON")
    compare = actions.add_parser("compare", help="summaries side by side; --out draws curves")
    compare.add_argument("runs", nargs="+", help="run ids, prefixes or names")
    compare.add_argument("--metric", action="append", help="metric to compare (repeatable)")
    compare.add_argument("--out", help="write the overlaid curves to this image file")
    rm = actions.add_parser("rm", help="delete runs and their artifacts")
    rm.add_argument("runs", nargs="+", help="run ids, prefixes or names")
    rm.add_argument("--force", action="store_true", help="also delete runs that are still running")
    export = actions.add_parser("export", help="copy runs to MLflow or TensorBoard")
    export.add_argument("--to", required=True, choices=("mlflow", "tensorboard"))
    export.add_argument("--tracking-uri", help="MLflow tracking URI, e.g. sqlite:///mlflow.db")
    export.add_argument("dir", nargs="?", help="TensorBoard log folder")
    export.add_argument("--run", action="append", dest="runs", help="only this run (repeatable)")
    export.add_argument("--project", help="only runs of this project")
    imp = actions.add_parser(
        "importance", help="which parameter matters most for a metric (fANOVA or a forest)"
    )
    imp.add_argument(
        "runs", nargs="*", help="run ids, prefixes or names (default: every finished run)"
    )
    imp.add_argument("--metric", "-m", required=True, help="the summary metric to explain")
    imp.add_argument("--project", help="only finished runs of this project")
    imp.add_argument(
        "--tag", action="append", default=[], help="only runs with this tag (repeatable)"
    )
    imp.add_argument("--method", choices=("auto", "fanova", "forest"), default="auto")
    imp.add_argument("--json", action="store_true", help="print JSON")


def main(args: argparse.Namespace) -> int:
    """Run the chosen action.

    Every action reads the store read-only (it is never created or converted); ``rm``
    opens it for writing only after every run it names was found.
    """
    if args.action is None:
        raise InvalidArgumentError(
            "say what to do: mlnb runs ls | show | compare | rm | export | importance."
        )
    from mlnb.runs.store import Store

    if getattr(args, "limit", None) is not None and args.limit < 1:
        raise InvalidArgumentError(f"--limit must be a whole number ≥ 1, got {args.limit}.")
    if args.action == "compare" and args.out:
        _check_image_path(args.out)
    with Store(args.home, readonly=True) as store:
        return ACTIONS[args.action](store, args)


def _check_image_path(out: str) -> None:
    """``--out``: a file in an existing folder, with an image type matplotlib can write."""
    from pathlib import Path

    path = Path(out)
    suffix = path.suffix.lower().lstrip(".")
    from matplotlib.figure import Figure

    types = Figure().canvas.get_supported_filetypes()
    if suffix not in types:
        raise InvalidArgumentError(
            f"--out {out}: cannot tell the image type from {path.suffix or 'no extension'!r} — "
            f"end the name with one of {', '.join('.' + t for t in sorted(types))}."
        )
    if path.is_dir():
        raise InvalidArgumentError(f"--out {out} is a folder; give a file name such as curves.png.")
    if not path.parent.is_dir():
        raise InvalidArgumentError(
            f"--out {out}: the folder {path.parent} does not exist — create it first."
        )


def _ls(store: Store, args: argparse.Namespace) -> int:
    from mlnb.runs import views

    records = store.list_runs(
        project=args.project, tags=args.tag, status=args.status, limit=args.limit
    )
    if args.json:
        print(json.dumps([r.to_dict() for r in records], indent=2, ensure_ascii=False))
    elif not records:
        print(f"no runs in {store.home}")
    else:
        print(views.runs_list(records).text())
    return 0


def _show(store: Store, args: argparse.Namespace) -> int:
    from mlnb.runs import views

    record = store.get_run(args.run)
    if args.json:
        print(json.dumps(record.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(views.run_details(record, store).text())
    return 0


def _compare(store: Store, args: argparse.Namespace) -> int:
    from mlnb.runs import views

    records = [store.get_run(ref) for ref in args.runs]
    print(views.runs_comparison(records, args.metric).text())
    if args.out:
        from mlnb.runs.comparison import compare

        figure = compare([r.id for r in records], args.metric, store=store)
        try:
            figure.savefig(args.out)
        except OSError as exc:
            raise InvalidArgumentError(
                f"--out {args.out}: cannot write it ({exc.strerror or exc})."
            ) from None
        print(f"curves written to {args.out}")
    return 0


def _rm(store: Store, args: argparse.Namespace) -> int:
    from mlnb.runs.store import Store

    records = store.runs_to_delete(args.runs, force=args.force)  # all found, or nothing changes
    with Store(store.home) as writable:
        for record in records:
            writable.delete_run(record.id)
            print(f"removed {record.name} ({record.id})")
    return 0


def _export(store: Store, args: argparse.Namespace) -> int:
    from mlnb.runs.export_shape import ExportError
    from mlnb.runs.exporting import export

    if args.to == "mlflow":
        if not args.tracking_uri:
            raise InvalidArgumentError(
                "--to mlflow needs --tracking-uri URI (e.g. sqlite:///mlflow.db)."
            )
        target = args.tracking_uri
    else:
        if not args.dir:
            raise InvalidArgumentError(
                "--to tensorboard needs a folder: mlnb runs export --to tensorboard DIR."
            )
        target = args.dir
        _check_folder(target)
    try:
        results = export(args.to, target, args.runs, project=args.project, store=store)
    except ExportError as exc:  # the other runs were handled: show them, then the sentence
        for result in exc.results:
            print(result.text())
        raise
    except OSError as exc:
        raise InvalidArgumentError(
            f"cannot write the export to {target} ({exc.strerror or exc})."
        ) from None
    except Exception as exc:
        if not type(exc).__module__.startswith("mlflow"):
            raise
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        reason = reason.split(". ")[0].rstrip(".")  # MLflow's first sentence
        raise InvalidArgumentError(
            f"MLflow cannot use the tracking URI {target!r}: {reason}."
        ) from None
    if not results:
        print(f"no finished runs to export in {store.home}")
    for result in results:  # the headline, every renamed name and every lossy conversion
        print(result.text())
    return 0


def _check_folder(target: str) -> None:
    """A TensorBoard log folder that exists (or can be made) and can be written."""
    import os
    from pathlib import Path

    folder = Path(target)
    if folder.exists() and not folder.is_dir():
        raise InvalidArgumentError(f"{target} is a file; TensorBoard needs a folder to write to.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidArgumentError(
            f"cannot create the TensorBoard folder {target} ({exc.strerror or exc})."
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidArgumentError(f"the TensorBoard folder {target} cannot be written.")


def _importance(store: Store, args: argparse.Namespace) -> int:
    from mlnb.runs.param_importance import importance

    result = importance(
        args.runs or None,
        args.metric,
        project=args.project,
        tags=args.tag,
        method=args.method,
        store=store,
    )
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.text())
    return 0


ACTIONS = {
    "ls": _ls,
    "list": _ls,
    "show": _show,
    "compare": _compare,
    "rm": _rm,
    "export": _export,
    "importance": _importance,
}
