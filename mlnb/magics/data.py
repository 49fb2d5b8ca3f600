"""``%profile``, ``%validate`` and ``%drift``: data validation and drift in a notebook.

Thin on purpose: each magic parses its arguments, looks the data up in the
notebook's namespace, calls :mod:`mlnb.data` and displays the result. The names
shadow no IPython or ipykernel magic (checked on IPython 8.12 and 9.x; the
``%profile`` that printed the active IPython profile is long gone). ``mlnb.data``
is imported inside each magic so ``%load_ext mlnb`` stays light.
"""

from __future__ import annotations

from typing import Any

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from mlnb import display
from mlnb.exceptions import InvalidArgumentError, MlnbError
from mlnb.magics.base import MlnbMagics, parse_args, user_errors

#: the most quantile bins --bins takes (more is not a histogram any more)
MAX_BINS = 1000
_MAX_DOMAIN_HELP = "distinct values tracked per categorical column (default 1000)"
_LOG_HELP = "also log the numbers to the active run (mlnb.runs) and keep the result as an artifact"
_STRICT_HELP = "raise an error when anything is found, so a notebook run as a pipeline step fails"
#: mlnb.data.drift.METHODS, written out so loading the magics does not import pandas
_METHODS = ("distance", "ks", "chisquare", "psi", "wasserstein")
_METHOD_HELP = (
    "statistic and test: distance (default: JS / L-infinity + chi-squared), ks, chisquare, "
    "psi, wasserstein"
)
_ALPHA_HELP = "significance level of each column's test (default 0.05)"


@magics_class
class DataMagics(MlnbMagics):
    """Profile a DataFrame, check it against a schema, and measure drift between two."""

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("data", help="the DataFrame (or numpy array) to profile: a variable or expression")
    @argument("--max-domain", type=int, default=1000, help=_MAX_DOMAIN_HELP)
    @argument("--no-widget", action="store_true", help="show a table instead of the panel")
    @argument("-o", "--out", metavar="NAME", help="also store the DataProfile in variable NAME")
    @argument("--log", action="store_true", help=_LOG_HELP)
    def profile(self, line: str = "") -> None:
        """Per-column statistics of a DataFrame, in the overview panel.

        Examples::

            %profile train
            %profile train --no-widget -o train_profile
        """
        args = parse_args(self.profile, line)
        if args is None:  # --help was shown
            return
        from mlnb.data.overview import DataOverview
        from mlnb.data.profile import profile

        run = _target_run() if args.log else None  # refuse before the work
        result = profile(self._value(args.data), max_domain=args.max_domain, what=f"`{args.data}`")
        self._store(args.out, result)
        _log(run, result)
        if args.no_widget:
            display.show(result.text(), result.html())
        else:
            _display(DataOverview(result, title=args.data))

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("data", help="the DataFrame to check: a variable or expression")
    @argument("--schema", metavar="PATH", help="check the data against this schema JSON file")
    @argument("--infer", metavar="PATH", help="infer a schema from the data and write it to PATH")
    @argument("--max-domain", type=int, default=1000, help=_MAX_DOMAIN_HELP)
    @argument(
        "-o", "--out", metavar="NAME", help="also store the report (or schema) in variable NAME"
    )
    @argument("--log", action="store_true", help=_LOG_HELP)
    @argument("--strict", action="store_true", help=_STRICT_HELP)
    def validate(self, line: str = "") -> None:
        """Check a DataFrame against a schema, or infer one to edit and check against later.

        Examples::

            %validate train --infer schema.json     # write what train looks like
            %validate serving --schema schema.json  # list anomalies in serving
        """
        args = parse_args(self.validate, line)
        if args is None:  # --help was shown
            return
        if (args.schema is None) == (args.infer is None):
            raise InvalidArgumentError(
                "%validate needs exactly one of --schema PATH (check) or --infer PATH (write a schema)."
            )
        run = _target_run() if args.log else None  # refuse before the work
        data = self._value(args.data)
        if args.infer is not None:
            from mlnb.data.schema import infer_schema

            schema = infer_schema(data, max_domain=args.max_domain)
            try:
                path = schema.save(args.infer)
            except OSError as exc:
                raise InvalidArgumentError(
                    f"%validate --infer {args.infer}: cannot write the schema there "
                    f"({exc.strerror or exc})."
                ) from None
            self._store(args.out, schema)
            print(
                f"mlnb: wrote the schema of {len(schema.columns)} columns to {path} — edit it by hand, "
                f"then check new data with `%validate DF --schema {path}`."
            )
            for column in schema.columns.values():
                if column.note:
                    print(f"note: {column.name}: {column.note}")
            return
        from mlnb.data.validate import validate

        report = validate(data, args.schema, what=f"`{args.data}`")
        self._store(args.out, report)
        _log(run, report)
        display.show(report.text(), report.html())
        if args.strict:
            report.raise_for_anomalies()

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("reference", help="the reference (training) DataFrame: a variable or expression")
    @argument("current", help="the current (serving) DataFrame: a variable or expression")
    @argument("--method", "--stattest", choices=_METHODS, default=None, help=_METHOD_HELP)
    @argument("--alpha", type=float, default=None, help=_ALPHA_HELP)
    @argument(
        "--categorical-threshold",
        type=float,
        default=None,
        help="distance threshold of categorical/boolean columns (default 0.1)",
    )
    @argument(
        "--numeric-threshold",
        type=float,
        default=None,
        help="distance threshold of numeric/datetime columns (default 0.1)",
    )
    @argument(
        "--threshold",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="threshold of one column; repeat for more",
    )
    @argument(
        "--bins",
        type=int,
        default=10,
        help="reference quantile bins for numeric columns (default 10)",
    )
    @argument("--schema", metavar="PATH", help="also check the current data against this schema")
    @argument("--no-widget", action="store_true", help="show a table instead of the panel")
    @argument("-o", "--out", metavar="NAME", help="also store the DriftReport in variable NAME")
    @argument("--log", action="store_true", help=_LOG_HELP)
    @argument("--strict", action="store_true", help=_STRICT_HELP)
    def drift(self, line: str = "") -> None:
        """Per-column drift between a reference and a current DataFrame, in the overview panel.

        Categorical columns use the L-infinity distance, numeric ones the
        Jensen-Shannon distance (base 2) on the reference's decile bins; a column
        drifts when its distance is above 0.1 (unless told otherwise) and its
        chi-squared test is significant at --alpha. --method picks KS, chi-squared,
        PSI or Wasserstein instead.

        Examples::

            %drift train serving
            %drift train serving --numeric-threshold 0.2 --threshold age=0.3 -o report
            %drift train serving --method ks --alpha 0.01
        """
        args = parse_args(self.drift, line)
        if args is None:  # --help was shown
            return
        from mlnb.data import drift as drifting
        from mlnb.data.overview import DataOverview
        from mlnb.data.validate import validate

        if not 2 <= args.bins <= MAX_BINS:
            raise InvalidArgumentError(
                f"%drift: --bins must be a whole number from 2 to {MAX_BINS}, got {args.bins}."
            )
        options: dict[str, Any] = {"thresholds": _thresholds(args.threshold), "bins": args.bins}
        if args.categorical_threshold is not None:
            options["categorical_threshold"] = args.categorical_threshold
        if args.numeric_threshold is not None:
            options["numeric_threshold"] = args.numeric_threshold
        if args.method is not None:
            options["method"] = args.method
        if args.alpha is not None:
            options["alpha"] = args.alpha
        run = _target_run() if args.log else None  # refuse before the work
        reference = self._value(args.reference)
        current = self._value(args.current)
        report = drifting.compare(reference, current, **options)
        self._store(args.out, report)
        _log(run, report)
        validation = None
        if args.schema is not None:
            validation = validate(current, args.schema, what=f"`{args.current}`")
        if args.no_widget:
            display.show(report.text(), report.html())
            if validation is not None:
                display.show(validation.text(), validation.html())
        else:
            _display(
                DataOverview(
                    report.current,
                    reference=report.reference,
                    drift=report,
                    validation=validation,
                    title=f"{args.current} vs {args.reference}",
                )
            )
        if args.strict:
            report.raise_for_drift()
            if validation is not None:
                validation.raise_for_anomalies()

    def _value(self, expression: str) -> Any:
        """The object ``expression`` names in the notebook (a variable, or any expression)."""
        namespace = self.ipython.user_ns
        if expression in namespace:
            return namespace[expression]
        try:
            return self.ipython.ev(expression)
        except NameError:
            raise MlnbError(f"there is no variable `{expression}` in this notebook.") from None
        except Exception as exc:
            raise MlnbError(
                f"could not evaluate `{expression}`: {type(exc).__name__}: {exc}"
            ) from None


def _target_run() -> Any:
    from mlnb.data.to_run import target_run

    return target_run()


def _log(run: Any, result: Any) -> None:
    if run is None:
        return
    from mlnb.data.to_run import log_to_run

    metrics = log_to_run(result, run)
    print(f"mlnb: logged {len(metrics)} metrics to run '{run.name}' ({run.id}).")


def _thresholds(items: list[str]) -> dict[str, float]:
    """``["age=0.3", "city=0.2"]`` → ``{"age": 0.3, "city": 0.2}``."""
    found: dict[str, float] = {}
    for item in items:
        name, sep, value = item.rpartition("=")
        try:
            if not sep or not name:
                raise ValueError(item)
            found[name] = float(value)
        except ValueError:
            raise InvalidArgumentError(
                f"--threshold takes COLUMN=VALUE, like --threshold age=0.3; got {item!r}."
            ) from None
    return found


def _display(panel: Any) -> None:
    from IPython.display import display as ipython_display

    ipython_display(panel)
