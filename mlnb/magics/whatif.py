"""``%whatif MODEL DATA [TARGET]``: open the what-if explorer on notebook variables."""

from __future__ import annotations

from typing import Any

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from mlnb.exceptions import WhatIfError
from mlnb.magics.base import MlnbMagics, parse_args, user_errors


@magics_class
class WhatIfMagics(MlnbMagics):
    """Show a WIT-style what-if panel for a model and a data set from the namespace."""

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("model", help="name of a fitted model: scikit-learn, torch nn.Module or a callable")
    @argument("data", help="name of a DataFrame or 2-D array of rows to explore")
    @argument(
        "target",
        nargs="?",
        default=None,
        help="a column of DATA, or the name of a variable with one true label per row",
    )
    @argument(
        "--categorical",
        nargs="+",
        default=None,
        metavar="COLUMN",
        help="numeric columns to treat as categories",
    )
    @argument(
        "--fixed",
        nargs="+",
        default=(),
        metavar="COLUMN",
        help="features a counterfactual must keep",
    )
    @argument(
        "--class-names",
        nargs="+",
        default=None,
        metavar="NAME",
        help="class names, in the model's class order",
    )
    @argument(
        "--train",
        default=None,
        metavar="NAME",
        help="name of the training data, for out-of-range warnings",
    )
    @argument(
        "--sample",
        type=int,
        default=1000,
        help="rows for ICE curves and distributions (default 1000)",
    )
    def whatif(self, line: str = "") -> Any:
        """Open the what-if explorer: edit a row's features and watch the prediction.

        The panel has a datapoint editor with the nearest counterfactual, partial
        dependence + ICE, feature distributions and — with a TARGET — performance
        and fairness (threshold strategies, per-slice metrics). It is returned, so
        ``panel = %whatif model X y`` keeps it; ``panel.edited_rows``,
        ``panel.counterfactual`` and ``panel.threshold`` read back what you found.

        Examples::

            %whatif clf X_test y_test
            %whatif clf df label --fixed age sex
            %whatif net X --class-names cat dog
        """
        args = parse_args(self.whatif, line)
        if args is None:
            return None
        if args.sample < 1:
            raise WhatIfError(f"%whatif: --sample must be at least 1, got {args.sample}.")
        from mlnb.whatif.explorer import WhatIf

        model = self._lookup(args.model, "model")
        data = self._lookup(args.data, "data")
        target = args.target
        columns = getattr(data, "columns", None)
        if target is not None and not (columns is not None and target in columns):
            target = self._lookup(target, "target")
        train = self._lookup(args.train, "training data") if args.train else None
        return WhatIf(
            model,
            data,
            target,
            categorical=args.categorical,
            class_names=args.class_names,
            train_data=train,
            fixed=args.fixed,
            sample_size=args.sample,
        )

    def _lookup(self, name: str, role: str) -> Any:
        namespace = self.ipython.user_ns
        if name not in namespace:
            raise WhatIfError(
                f"%whatif: no variable named {name!r} in the notebook for the {role} — "
                "define it first or check the spelling."
            )
        return namespace[name]
