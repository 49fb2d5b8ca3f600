"""``%run_start``, ``%run_stop``, ``%runs``, ``%run_show``, ``%run_compare``: run logging in a notebook.

Named ``run_*`` so IPython's own ``%run`` stays untouched. Loading the extension
also records the cell log of every active run (pre/post_run_cell hooks, tracked
and fail-safe through ``self.hooks``).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from mlnb import display
from mlnb.exceptions import InvalidArgumentError, RunsError
from mlnb.magics.base import MlnbMagics, parse_args, user_errors
from mlnb.runs import session, views
from mlnb.runs.cells import CellRecorder
from mlnb.runs.records import STATUSES
from mlnb.runs.store import Store

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell


@magics_class
class RunsMagics(MlnbMagics):
    """Start, stop, list, show and compare runs; keep each run's cell log."""

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.recorder = CellRecorder(session.live_runs)
        self.hooks.register("cell-log-pre", "pre_run_cell", self.recorder.pre_run_cell)
        self.hooks.register("cell-log-post", "post_run_cell", self.recorder.post_run_cell)
        self.live_plot: Any = None
        self.one_line_errors = OneLineErrors(shell)

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("name", nargs="?", default=None, help="the run's name (default run-<id>)")
    @argument("--project", "-p", default=None, help="project to file it under (default 'default')")
    @argument("--tag", "-t", action="append", default=[], help="a tag (repeatable)")
    @argument(
        "--config", "-c", default=None, help="name of a dict variable holding the run's parameters"
    )
    @argument(
        "--system-interval",
        type=float,
        default=session.SYSTEM_INTERVAL,
        help="seconds between sys/ samples; 0 turns them off",
    )
    @argument("--no-live", action="store_true", help="do not show the live plot")
    @argument("--replace", action="store_true", help="finish the active run first")
    def run_start(self, line: str = "") -> Any:
        """Start a run that ``mlnb.log(...)`` writes to, with a live plot of its metrics.

        Examples::

            config = {"lr": 1e-3, "epochs": 5}
            %run_start baseline --project digits --config config --tag cnn
            %run_start --replace            # finish the active run, start a new one
        """
        args = parse_args(self.run_start, line)
        if args is None:  # help was shown
            return None
        config = None
        if args.config is not None:
            if args.config not in self.ipython.user_ns:
                raise InvalidArgumentError(
                    f"%run_start: no variable named {args.config!r} for --config."
                )
            config = self.ipython.user_ns[args.config]
        run = session.start(
            args.name,
            project=args.project,
            config=config,
            tags=args.tag,
            system_interval=args.system_interval or None,
            replace=args.replace,
        )
        print(
            f"mlnb: started run {run.name!r} ({run.id}) in project {run.project!r} — store {run.store.home}"
        )
        if not args.no_live:
            from IPython.display import display as show_object

            self.live_plot = run.live()
            show_object(self.live_plot.widget)
        return None

    @line_magic
    @user_errors
    @magic_arguments()
    @argument(
        "--status",
        default="finished",
        choices=("finished", "failed", "killed"),
        help="status to record",
    )
    @argument("--error", default=None, help="what went wrong (for --status failed)")
    def run_stop(self, line: str = "") -> None:
        """Finish the active run: flush every point and record its status.

        Example::

            %run_stop
            %run_stop --status failed --error "diverged at epoch 3"
        """
        args = parse_args(self.run_stop, line)
        if args is None:  # help was shown
            return None
        record = session.finish(args.status, args.error)
        summary = ", ".join(
            f"{k}={display.format_value(v)}"
            for k, v in record.summary.items()
            if not k.startswith("sys/")
        )
        print(
            f"mlnb: run {record.name!r} ({record.id}) {record.status} after {display.human_duration(record.duration)}"
            + (f": {summary}" if summary else "")
        )

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("--project", "-p", default=None, help="only this project")
    @argument(
        "--tag", "-t", action="append", default=[], help="only runs with this tag (repeatable)"
    )
    @argument("--status", "-s", default=None, choices=STATUSES, help="only runs in this state")
    @argument("--limit", "-n", type=int, default=20, help="at most this many (default 20)")
    def runs(self, line: str = "") -> None:
        """List runs, newest first, with their status and first summary metrics.

        ``mlnb.runs.table()`` gives the same runs as a pandas DataFrame with every
        param and metric. Example::

            %runs --project digits --status finished
        """
        args = parse_args(self.runs, line)
        if args is None:  # help was shown
            return None
        if args.limit < 1:
            raise InvalidArgumentError(f"%runs: --limit must be at least 1, got {args.limit}.")
        with Store(readonly=True) as store:  # looking never creates or changes the store
            records = store.list_runs(
                project=args.project, tags=args.tag, status=args.status, limit=args.limit
            )
        if not records:
            print(f"mlnb: no runs match in {store.home} — `%run_start NAME` starts one.")
            return
        rendered = views.runs_list(records)
        display.show(rendered.text(), rendered.html())

    @line_magic
    @user_errors
    @magic_arguments()
    @argument(
        "run", nargs="?", default=None, help="run id, id prefix or name (default: the active run)"
    )
    def run_show(self, line: str = "") -> None:
        """Show one run: status, config, summary, provenance, cell log and artifacts.

        Example::

            %run_show baseline
        """
        args = parse_args(self.run_show, line)
        if args is None:  # help was shown
            return None
        if args.run is None:
            active = session.require_active("show a run")
            rendered = views.run_details(active.record(), active.store)
        else:
            with Store(readonly=True) as store:
                rendered = views.run_details(store.get_run(args.run), store)
        display.show(rendered.text(), rendered.html())

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("runs", nargs="+", help="run ids, prefixes or names")
    @argument(
        "--metric",
        "-m",
        action="append",
        default=None,
        help="metric to plot (repeatable; default: all shared)",
    )
    @argument(
        "--importance",
        "-i",
        default=None,
        metavar="METRIC",
        help="also show which parameter matters most for this metric (3 runs or more)",
    )
    def run_compare(self, line: str = "") -> None:
        """Overlay the curves of several runs, one panel per metric; with ``--importance``,
        the importance of each parameter for a metric, with its rank correlation and sign.

        Example::

            %run_compare baseline wide --metric val/loss
            %run_compare t0 t1 t2 t3 t4 --metric loss --importance val/acc
        """
        args = parse_args(self.run_compare, line)
        if args is None:  # help was shown
            return None
        import io

        from IPython.display import Image
        from IPython.display import display as show_object

        from mlnb.runs.comparison import compare

        found = None
        if args.importance is not None:  # computed first: a bad metric fails before drawing
            from mlnb.runs.param_importance import importance

            found = importance(args.runs, args.importance)
        figure = compare(args.runs, args.metric)
        png = io.BytesIO()
        figure.savefig(png, format="png")
        show_object(Image(data=png.getvalue(), format="png"))
        if found is not None:
            display.show(found.text(), found.html())

    def close(self) -> None:
        """Remove the cell-log hooks and the error display; running runs keep running."""
        self.one_line_errors.remove()
        super().close()


class OneLineErrors:
    """Show a :class:`~mlnb.exceptions.RunsError` raised by a cell as its one sentence.

    ``mlnb.log(...)`` with no active run (after ``%run_stop``), a text metric, an
    unknown run: the cell fails with ``NoActiveRunError: cannot log: …`` and no
    traceback into mlnb (``%tb`` and ``%debug`` still have it). Other exceptions go to
    the shell's previous custom handler, if any, or IPython's usual traceback.
    """

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.installed = False
        if shell is None or not hasattr(shell, "set_custom_exc"):
            return
        self.previous = (shell.custom_exceptions, shell.CustomTB)
        shell.set_custom_exc((*shell.custom_exceptions, RunsError), self.handle)
        self.mine = shell.CustomTB
        self.installed = True

    def handle(
        self, shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
    ) -> None:
        if not isinstance(value, RunsError):
            previous_types, previous_handler = self.previous
            if isinstance(value, previous_types):
                return previous_handler(etype, value, tb, tb_offset=tb_offset)
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
            return None
        sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
        if sys.version_info >= (3, 12):
            sys.last_exc = value
        shell._showtraceback(etype, value, [f"{etype.__name__}: {value}"])
        return None

    def remove(self) -> None:
        """Put back the shell's previous handler (unless someone replaced ours since)."""
        if self.installed and self.shell.CustomTB is self.mine:
            self.shell.custom_exceptions, self.shell.CustomTB = self.previous
        self.installed = False
