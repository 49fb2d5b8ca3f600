"""``%pipeline_run``, ``%pipeline_sweep``, ``%pipeline_tune``, ``%pipeline``, ``%pipeline_rerun``,
``%pipeline_step``: run notebooks as reproducible steps from inside a notebook.

The same library calls as the ``mlnb run / sweep / tune / pipeline / rerun / step``
commands (:mod:`mlnb.pipeline`), with papermill's ``-p NAME VALUE`` conventions.
Each run gets its own fresh kernel, so the notebook you type in is never touched;
``-o NAME`` keeps the result (run record, sweep, report) in a variable.
"""

from __future__ import annotations

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from mlnb import display
from mlnb.exceptions import NotebookRunError
from mlnb.magics.base import MlnbMagics, parse_args, user_errors

_OUT_HELP = "also keep the result in variable NAME"
_SEED_HELP = "seed pinned in the kernel (default: MLNB_SEED, else drawn and recorded)"
_START_HELP = "seconds to wait for a kernel to start (default 120)"
_JOBS_HELP = "runs at once, each in its own worker process (default 1)"
_BACKEND_HELP = "local (worker processes, default) or ray"
_ADDRESS_HELP = "Ray cluster address for --backend ray (default: start a local Ray)"


@magics_class
class PipelineMagics(MlnbMagics):
    """Run, sweep, tune, replay notebooks and DAGs of them, from a notebook."""

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("notebook", help="the notebook to run (it needs a `parameters` cell to take -p)")
    @argument("output", nargs="?", help="output notebook (default runs/<stem>-<run id>.ipynb)")
    @argument(
        "-p",
        "--parameters",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter, read as the default's type (papermill's -p); repeatable",
    )
    @argument(
        "-r",
        "--parameters-raw",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter kept as a string",
    )
    @argument("-y", "--parameters-yaml", action="append", default=[], help="parameters as YAML")
    @argument("--seed", help=_SEED_HELP)
    @argument("--kernel", "-k", help="kernel name; also written into the output's kernelspec")
    @argument("--timeout", type=float, help="stop the run after this many seconds")
    @argument("--start-timeout", type=int, default=120, help=_START_HELP)
    @argument("-o", "--out", metavar="NAME", help=_OUT_HELP)
    def pipeline_run(self, line: str = "") -> None:
        """Run a notebook with papermill in a fresh kernel: checked parameters, pinned seed, run record.

        Examples::

            %pipeline_run train.ipynb -p lr 0.01 -p epochs 3 --seed 7
            %pipeline_run train.ipynb out/train-small.ipynb -y "{lr: 0.1, layers: [32]}" -o record
        """
        args = parse_args(self.pipeline_run, line)
        if args is None:  # --help was shown
            return
        from mlnb.pipeline.loading import load_notebook
        from mlnb.pipeline.parameters import cli_parameters
        from mlnb.pipeline.run import run

        params = cli_parameters(
            load_notebook(args.notebook),
            args.parameters,
            args.parameters_raw,
            args.parameters_yaml,
        )
        try:
            record = run(
                args.notebook,
                params,
                args.output,
                args.seed,
                kernel=args.kernel,
                timeout=args.timeout,
                start_timeout=args.start_timeout,
            )
        except NotebookRunError as exc:
            self._store(args.out, exc.record)  # the failed run's record is still the user's
            raise
        self._store(args.out, record)
        print(record.text())

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("notebook", help="the notebook to sweep (it needs a `parameters` cell)")
    @argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="values to sweep; low..high (or low..high:log) is a range for --random",
    )
    @argument(
        "-r",
        "--fixed",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter every trial gets",
    )
    @argument("--random", type=int, metavar="N", help="run N random combinations, not the grid")
    @argument("--jobs", "-j", type=int, default=1, help=_JOBS_HELP)
    @argument("--metric", help="recorded value that picks the best trial (default: the first)")
    @argument("--direction", choices=("max", "min"), help="default: min for loss/error, else max")
    @argument("--fail-fast", action="store_true", help="start no more trials after one fails")
    @argument("--output-dir", help="folder for the trial notebooks (default sweeps/<stem>-<time>)")
    @argument("--seed", help=_SEED_HELP)
    @argument("--timeout", type=float, help="stop a trial after this many seconds")
    @argument("--start-timeout", type=int, default=120, help=_START_HELP)
    @argument("--backend", default="local", help=_BACKEND_HELP)
    @argument("--address", help=_ADDRESS_HELP)
    @argument("-o", "--out", metavar="NAME", help=_OUT_HELP)
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
        from mlnb.exceptions import MalformedParameterError
        from mlnb.pipeline.loading import load_notebook
        from mlnb.pipeline.parameters import cli_parameters
        from mlnb.pipeline.sweep import parse_space, sweep

        if not args.param:
            raise MalformedParameterError(
                "%pipeline_sweep needs at least one -p name=value1,value2."
            )
        nb = load_notebook(args.notebook)
        result = sweep(
            args.notebook,
            parse_space(args.param, nb),
            random=args.random,
            jobs=args.jobs,
            seed=args.seed,
            output_dir=args.output_dir,
            fixed=cli_parameters(nb, pairs=args.fixed),
            timeout=args.timeout,
            start_timeout=args.start_timeout,
            fail_fast=args.fail_fast,
            backend=args.backend,
            address=args.address,
            metric=args.metric,
            direction=args.direction,
        )
        self._store(args.out, result)
        display.show(result.text(), result.html())

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("notebook", help="the notebook to tune (it records --metric with mlnb.record)")
    @argument("--space", required=True, help="search space YAML: name: [choices] or {low, high}")
    @argument("--metric", required=True, help="the recorded value to optimise")
    @argument("--direction", choices=("max", "min"), default="max", help="default max")
    @argument("--trials", type=int, default=20, help="finished trials the study should hold")
    @argument("--jobs", "-j", type=int, default=1, help=_JOBS_HELP)
    @argument("--storage", help="Optuna storage URL (default sqlite:///tune/<stem>.db)")
    @argument("--seed", help="seed for every trial and the sampler")
    @argument("--backend", default="local", help=_BACKEND_HELP)
    @argument("--address", help=_ADDRESS_HELP)
    @argument("-o", "--out", metavar="NAME", help=_OUT_HELP)
    def pipeline_tune(self, line: str = "") -> None:
        """Tune a notebook's parameters with Optuna (TPE); the study lives in SQLite and resumes.

        Example::

            %pipeline_tune train.ipynb --space space.yaml --metric val_acc --trials 20 --jobs 2
        """
        args = parse_args(self.pipeline_tune, line)
        if args is None:
            return
        from mlnb.pipeline.tune import load_space, tune

        result = tune(
            args.notebook,
            load_space(args.space),
            args.metric,
            direction=args.direction,
            trials=args.trials,
            jobs=args.jobs,
            seed=args.seed,
            storage=args.storage,
            backend=args.backend,
            address=args.address,
        )
        self._store(args.out, result)
        print(result.text())

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("path", help="the PIPELINE.yaml")
    @argument("--status", action="store_true", help="only say which steps are stale and why")
    @argument("--force", action="store_true", help="run every step, even unchanged ones")
    @argument("--jobs", "-j", type=int, help="steps at once (default: the file's jobs, else 1)")
    @argument("--backend", default="local", help=_BACKEND_HELP)
    @argument("--address", help=_ADDRESS_HELP)
    @argument("-o", "--out", metavar="NAME", help=_OUT_HELP)
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
            result = run_pipeline(
                args.path,
                force=args.force,
                jobs=args.jobs,
                backend=args.backend,
                address=args.address,
            )
        self._store(args.out, result)
        print(result.text() + "\n" + result.footer())

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("run_id", help="the run's id (a unique prefix works)")
    @argument("--in", dest="root", default=".", help="folder searched for pipeline-runs.jsonl")
    @argument("--output", help="the replay's output notebook")
    @argument("-o", "--out", metavar="NAME", help=_OUT_HELP)
    def pipeline_rerun(self, line: str = "") -> None:
        """Re-execute a recorded run (its stored notebook, params and seed); report what differs.

        Example::

            %pipeline_rerun 102cb5
        """
        args = parse_args(self.pipeline_rerun, line)
        if args is None:
            return
        from mlnb.pipeline.rerun import rerun

        report = rerun(args.run_id, args.root, args.output)
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
        else:
            print(step.parameters_table(step.inspect(args.notebook)))
