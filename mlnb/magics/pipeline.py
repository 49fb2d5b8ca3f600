"""``%pipeline_run``, ``%pipeline_sweep``, ``%pipeline_tune``, ``%pipeline``, ``%pipeline_rerun``,
``%pipeline_step``: run notebooks as reproducible steps from inside a notebook.

The same library calls as the ``mlnb run / sweep / tune / pipeline / rerun / step``
commands (:mod:`mlnb.pipeline`), with the same options (:mod:`mlnb.pipeline.options`)
and papermill's ``-p NAME VALUE`` conventions. Each run gets its own fresh kernel, so
the notebook you type in is never touched; ``-o NAME`` keeps the result (run record,
sweep, report) in a variable.
"""

from __future__ import annotations

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from mlnb import display
from mlnb.exceptions import NotebookRunError
from mlnb.magics.base import MlnbMagics, parse_args, user_errors
from mlnb.pipeline import calls, options

_OUT_HELP = "also keep the result in variable NAME"


@magics_class
class PipelineMagics(MlnbMagics):
    """Run, sweep, tune, replay notebooks and DAGs of them, from a notebook."""

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("notebook", help="the notebook to run (it needs a `parameters` cell to take -p)")
    @argument("output", nargs="?", help="output notebook (default runs/<stem>-<run id>.ipynb)")
    @options.magic_options([*options.PARAMETERS, *options.RUN, *options.PAPERMILL])
    @argument("--out", "-o", metavar="NAME", help=_OUT_HELP)
    def pipeline_run(self, line: str = "") -> None:
        """Run a notebook with papermill in a fresh kernel: papermill's options, pinned seed, run record.

        The line is split like a shell line (quotes group words and are removed).

        Examples::

            %pipeline_run train.ipynb -p lr 0.01 -p epochs 3 --seed 7
            %pipeline_run train.ipynb out/train-small.ipynb -y "{lr: 0.1, layers: [32]}" -o record
        """
        args = parse_args(self.pipeline_run, line)
        if args is None:  # --help was shown
            return
        from mlnb.pipeline.run import run
        from mlnb.pipeline.section import outcome_text

        params = calls.run_parameters(args)
        if args.help_notebook:
            from mlnb.pipeline.step import inspect, parameters_table

            print(parameters_table(inspect(args.notebook)))
            return
        try:
            record = run(args.notebook, params, args.output, **calls.run_call(args))
        except NotebookRunError as exc:
            self._store(args.out, exc.record)  # the failed run's record is still the user's
            raise
        self._store(args.out, record)
        print(outcome_text(record))

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("notebook", help="the notebook to sweep (it needs a `parameters` cell)")
    @options.magic_options(options.SWEEP)
    @argument("--out", "-o", metavar="NAME", help=_OUT_HELP)
    def pipeline_sweep(self, line: str = "") -> None:
        """Run a notebook over a grid (or random sample) of parameters in parallel processes.

        Ends with a table of params → recorded values and the best trial.

        Examples::

            %pipeline_sweep train.ipynb -p lr=0.1,0.01 -p batch=32,64 --jobs 2 --metric val_acc
            %pipeline_sweep train.ipynb -p lr=1e-4..1e-1:log --random 8 --jobs 2 -o sweep
        """
        args = parse_args(self.pipeline_sweep, line)
        if args is None:
            return
        from mlnb.pipeline.sweep import sweep

        result = sweep(**calls.sweep_call(args, "%pipeline_sweep"))
        self._store(args.out, result)
        display.show(result.text(), result.html())

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("notebook", help="the notebook to tune (it records --metric with mlnb.record)")
    @options.magic_options(options.TUNE)
    @argument("--out", "-o", metavar="NAME", help=_OUT_HELP)
    def pipeline_tune(self, line: str = "") -> None:
        """Tune a notebook's parameters with Optuna (TPE or random search); the study resumes.

        Example::

            %pipeline_tune train.ipynb --space space.yaml --metric val_acc --trials 20 --jobs 2
        """
        args = parse_args(self.pipeline_tune, line)
        if args is None:
            return
        from mlnb.pipeline.tune import tune

        result = tune(**calls.tune_call(args))
        self._store(args.out, result)
        print(result.text())

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("path", help="the PIPELINE.yaml")
    @argument("--status", action="store_true", help="only say which steps are stale and why")
    @options.magic_options(options.PIPELINE)
    @argument("--out", "-o", metavar="NAME", help=_OUT_HELP)
    def pipeline(self, line: str = "") -> None:
        """Run a DAG of notebook steps in dependency order, skipping the unchanged ones.

        Examples::

            %pipeline pipeline.yaml
            %pipeline pipeline.yaml --status
            %pipeline pipeline.yaml --force --jobs 2
        """
        args = parse_args(self.pipeline, line)
        if args is None:
            return
        from mlnb.pipeline.dag import pipeline_status, run_pipeline

        if args.status:
            result = pipeline_status(args.path)
        else:
            result = run_pipeline(args.path, **calls.pipeline_call(args))
        self._store(args.out, result)
        print(result.text() + "\n" + result.footer())

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("run_id", help="the run's id (a unique prefix works)")
    @options.magic_options(options.RERUN)
    @argument("--out", "-o", metavar="NAME", help=_OUT_HELP)
    def pipeline_rerun(self, line: str = "") -> None:
        """Re-execute a recorded run (its stored notebook, params and seed); report what differs.

        Example::

            %pipeline_rerun 102cb5
        """
        args = parse_args(self.pipeline_rerun, line)
        if args is None:
            return
        from mlnb.pipeline.rerun import rerun

        report = rerun(
            args.run_id,
            args.home,
            args.output,
            start_timeout=args.start_timeout,
            allow_changed=args.allow_changed,
        )
        self._store(args.out, report)
        print(report.text())

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("notebook", help="a finished notebook")
    @argument(
        "--init",
        action="store_true",
        help="find the literal assignments of the first cells to make a `parameters` cell",
    )
    @argument("--write", action="store_true", help="with --init: change the notebook")
    def pipeline_step(self, line: str = "") -> None:
        """List a step's parameters; with ``--init [--write]``, make a finished notebook a step.

        Examples::

            %pipeline_step train.ipynb                  # parameters, types, defaults
            %pipeline_step explore.ipynb --init         # what would move into `parameters`
            %pipeline_step explore.ipynb --init --write
        """
        args = parse_args(self.pipeline_step, line)
        if args is None:
            return
        from mlnb.exceptions import InvalidArgumentError
        from mlnb.pipeline import step

        if args.write and not args.init:
            raise InvalidArgumentError("%pipeline_step: --write goes with --init.")
        if args.init:
            print(step.step_init(args.notebook, write=args.write).text())
            from mlnb.checking.api import static_warnings

            for warning in static_warnings(args.notebook):  # hidden state to fix first
                print(f"mlnb: check: {warning}")
        else:
            print(step.parameters_table(step.inspect(args.notebook)))


# ``-p NAME VALUE`` takes VALUE as it is, even ``-1e-3`` or ``--x`` (as papermill does)
options.take_pairs(getattr(PipelineMagics.pipeline_run, "parser"), options.PARAMETER_FLAGS)  # noqa: B009
