"""``%gpu``, ``%gpu_track``, ``%%oom_guard``, ``%gpu_panel``: GPU memory in a notebook.

Thin on purpose: each magic parses its arguments, calls :mod:`mlnb.gpu`, displays.
"""

from __future__ import annotations

import numbers
import os
import sys
from typing import TYPE_CHECKING, Any

from IPython.core.magic import cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from mlnb import display
from mlnb.cellcode import split_cell
from mlnb.exceptions import BatchVariableError, InvalidArgumentError, OutOfMemoryError
from mlnb.magics.base import MlnbMagics, parse_args, user_errors, user_traceback

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from mlnb.gpu.tracking import CellTracker

_TRACK_HOOKS = ("track-pre", "track-post")
ACTIONS = ("status", "who", "memory", "free", "reset-peak")


@magics_class
class GpuMagics(MlnbMagics):
    """GPU status, who holds memory, per-cell tracking, free, OOM guard, live panel."""

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.tracker: CellTracker | None = None
        self.panels: list[Any] = []

    def close(self) -> None:
        """Unregister the tracking hooks and stop every panel's thread."""
        super().close()
        self.tracker = None
        for panel in self.panels:
            panel.close()
        self.panels.clear()

    @line_magic
    @user_errors
    @magic_arguments()
    @argument(
        "action",
        nargs="?",
        default="status",
        choices=ACTIONS,
        help="status (default): devices; who: variables holding tensor memory; memory: allocator view; "
        "free: release tracebacks/cached outputs and empty caches; reset-peak: restart peak counting",
    )
    @argument(
        "--summary", action="store_true", help="with memory: also print torch's memory_summary"
    )
    @argument(
        "--limit", type=int, default=20, help="with who: how many variables to list (default 20)"
    )
    def gpu(self, line: str = "") -> None:
        """Show GPU memory: devices, who holds it, the allocator, or free it.

        Examples::

            %gpu              # one row per device (host RAM when there is no GPU), then whose
                              # memory it is: this kernel, other kernels, other processes
            %gpu who          # which variables hold tensor memory, largest first
            %gpu memory       # allocated / reserved / peak / free per device
            %gpu free         # drop the failed cell's traceback and cached outputs, empty caches
            %gpu reset-peak   # start counting peaks afresh
        """
        args = parse_args(self.gpu, line)
        if args is None:  # --help was shown
            return None
        from mlnb import gpu

        report: display.Report
        if args.action == "status":
            report = gpu.status()
            display.show(report.text(), report.html())
            if report.devices:  # whose memory: this kernel, other kernels, other processes
                from mlnb.gpu.who import who

                owners = who(this_pid=os.getpid(), report=report)
                display.show(owners.text(), owners.html())
        elif args.action == "who":
            if args.limit < 1:
                raise InvalidArgumentError(
                    f"%gpu who: --limit must be at least 1, got {args.limit}."
                )
            held = gpu.holders(self.ipython.user_ns)
            display.show(held.text(args.limit), held.html(args.limit))
        elif args.action == "memory":
            report = gpu.memory()
            display.show(report.text(), report.html())
            if args.summary:
                print(_summary())
        elif args.action == "free":
            print(gpu.free(self.ipython).text())
        else:
            report = gpu.reset_peak()
            display.show("mlnb: peaks reset.\n" + report.text(), report.html())

    @line_magic
    @user_errors
    @magic_arguments()
    @argument(
        "state", nargs="?", choices=("on", "off"), help="on: a line after every cell; off: stop"
    )
    def gpu_track(self, line: str = "") -> None:
        """After every cell, print GPU and RAM delta and peak, and wall time.

        Examples::

            %gpu_track on
            %gpu_track off
        """
        args = parse_args(self.gpu_track, line)
        if args is None:  # --help was shown
            return None
        if args.state is None:
            print(f"mlnb: cell tracking is {'on' if self.tracker is not None else 'off'}.")
        elif args.state == "on":
            self.start_tracking()
            print(
                "mlnb: cell tracking is on — one line after each cell (`%gpu_track off` stops it)."
            )
        else:
            was_on = self.stop_tracking()
            print("mlnb: cell tracking is off." if was_on else "mlnb: cell tracking was not on.")

    def start_tracking(self) -> None:
        """Register the pre/post-cell hooks; this cell is measured too."""
        from mlnb.gpu import CellTracker

        tracker = self.tracker = CellTracker()

        def after(_result: Any) -> None:
            measured = tracker.after_cell()
            if measured is not None:
                print(measured.line())

        self.hooks.register(_TRACK_HOOKS[0], "pre_run_cell", tracker.before_cell)
        self.hooks.register(_TRACK_HOOKS[1], "post_run_cell", after)
        tracker.before_cell()

    def stop_tracking(self) -> bool:
        """Unregister the hooks; returns whether tracking was on."""
        self.tracker = None
        removed = [self.hooks.unregister(key) for key in _TRACK_HOOKS]
        return any(removed)

    @cell_magic
    @user_errors
    @magic_arguments()
    @argument(
        "--retry-batch",
        metavar="NAME",
        help="on out-of-memory, halve the variable NAME and re-run until the cell fits",
    )
    @argument("--min", type=int, default=1, help="smallest value of NAME to try (default 1)")
    def oom_guard(self, line: str, cell: str) -> Any:
        """Run the cell; on out-of-memory, free what the error holds and show a short report.

        The report says what was asked, what is free, the top holders by variable, and
        what to try. With ``--retry-batch bs`` the variable ``bs`` is halved and the cell
        re-run until it fits or ``bs`` reaches ``--min``; ``bs`` keeps the value that
        fitted. Any error that is not an out-of-memory error is shown as usual, untouched.

        Example::

            %%oom_guard --retry-batch bs --min 8
            out = model(x[:bs])
        """
        args = parse_args(self.oom_guard, line)
        if args is None:  # --help was shown
            return None
        name = args.retry_batch
        if args.min < 1:
            raise InvalidArgumentError(f"%%oom_guard: --min must be at least 1, got {args.min}.")
        if name is not None:
            start = self._batch_value(name)
            if start < args.min:
                raise InvalidArgumentError(
                    f"--retry-batch {name}: {name} is {start}, already below --min {args.min}."
                )
        code = self.ipython.transform_cell(cell)
        filename = self.ipython.compile.cache(code, self.ipython.execution_count, raw_code=cell)
        try:
            body, last = split_cell(code, filename)
        except SyntaxError as exc:
            raise user_traceback(self.ipython, exc, filename, "%%oom_guard") from None
        user_ns = self.ipython.user_ns

        def run_cell(size: int | None = None) -> Any:
            if size is not None:
                user_ns[name] = size
            exec(body, user_ns)
            return eval(last, user_ns) if last is not None else None

        from mlnb.gpu import oom

        try:
            if name is None:
                with oom.oom_guard(user_ns):
                    return run_cell()
            return self._retry(run_cell, name, start, args.min)
        except OutOfMemoryError:
            raise
        except Exception as exc:
            raise user_traceback(self.ipython, exc, filename, "%%oom_guard") from exc.__cause__

    def _batch_value(self, name: str) -> int:
        if name not in self.ipython.user_ns:
            raise BatchVariableError(name, missing=True)
        value = self.ipython.user_ns[name]
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise BatchVariableError(name, value)
        return int(value)

    def _retry(self, run_cell: Any, name: str, start: int, minimum: int) -> Any:
        from mlnb.gpu import oom

        def on_oom(size: int, report: Any) -> None:
            if size > minimum:
                retry = max(minimum, size // 2)
                print(f"mlnb: out of memory with {name}={size}; retrying with {name}={retry}.")
                sys.stdout.flush()

        try:
            fit = oom.retry_halving(
                run_cell,
                start,
                minimum,
                on_oom=on_oom,
                namespace=self.ipython.user_ns,
                batch_name=name,
            )
        except OutOfMemoryError as exc:
            self.ipython.user_ns[name] = start
            if exc.report is not None:
                display.show(exc.report.text())
            raise OutOfMemoryError(
                f"{exc} {name} is back to {start}; see the report above.", exc.report
            ) from None
        if len(fit.tried) > 1:
            print(
                f"mlnb: the cell fitted with {name}={fit.batch_size} (tried {', '.join(map(str, fit.tried))})."
            )
        return fit.result

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("--interval", type=float, default=1.0, help="seconds between updates (default 1)")
    @argument(
        "--stop",
        action="store_true",
        help="stop updating every panel this kernel started (they keep their last reading)",
    )
    def gpu_panel(self, line: str = "") -> Any:
        """Show a live panel: a memory bar and a utilisation sparkline per device.

        Examples::

            %gpu_panel
            %gpu_panel --interval 0.5
            %gpu_panel --stop
        """
        args = parse_args(self.gpu_panel, line)
        if args is None:  # --help was shown
            return None
        if args.stop:
            count = len(self.panels)
            for panel in self.panels:
                panel.stop()  # not close(): the panel stays on screen with its last reading
            self.panels.clear()
            print(f"mlnb: stopped {count} panel(s).")
            return None
        from mlnb.gpu import GpuPanel

        panel = GpuPanel(interval=args.interval)
        self.panels.append(panel)
        return panel.widget

    @line_magic
    @user_errors
    @magic_arguments()
    @argument(
        "action",
        choices=("start", "stop", "load"),
        help="start: record CUDA allocations; stop: snapshot, stop and draw; load: draw a saved snapshot",
    )
    @argument("path", nargs="?", help="with load: a pickle from torch.cuda.memory._dump_snapshot")
    @argument(
        "--max-entries",
        type=int,
        default=None,
        help="with start: events to keep (default 1,000,000; older ones are overwritten)",
    )
    @argument("--top", type=int, default=10, help="largest allocations to list (default 10)")
    @argument("--device", type=int, default=None, help="CUDA device (default: the busiest)")
    def gpu_timeline(self, line: str = "") -> Any:
        """CUDA memory over time: the largest allocations with their code, and a range slider.

        Examples::

            %gpu_timeline start
            ...                       # train a few steps
            %gpu_timeline stop --top 15
            %gpu_timeline load snapshot.pickle
        """
        args = parse_args(self.gpu_timeline, line)
        if args is None:  # --help was shown
            return None
        from mlnb.gpu import timeline

        if args.top < 1:
            raise InvalidArgumentError(f"%gpu_timeline: --top must be at least 1, got {args.top}.")
        if args.action == "start":
            kept = timeline.start(args.max_entries or timeline.MAX_ENTRIES)
            print(
                f"mlnb: recording CUDA allocations (the last {kept:,} events); "
                "`%gpu_timeline stop` draws them."
            )
            return None
        if args.action == "load":
            if not args.path:
                raise InvalidArgumentError("%gpu_timeline load needs the snapshot's path.")
            recorded = timeline.load(args.path, args.device)
        else:
            recorded = timeline.stop(args.device)
        return _timeline_display(recorded, args.top)


def _timeline_display(recorded: Any, top: int) -> Any:
    from mlnb.gpu import timeline_view

    try:
        return timeline_view.widget(recorded, top)
    except ImportError:  # no ipywidgets: the static view of the whole range
        return timeline_view.view(recorded, top=top)


def _summary() -> str:
    from mlnb.gpu.memory import summary

    return summary() or "mlnb: no allocator summary (torch.cuda is not in use)."
