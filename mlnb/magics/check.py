"""``%check_notebook NB``: is this notebook reproducible? (the library: :mod:`mlnb.checking`)."""

from __future__ import annotations

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from mlnb import display
from mlnb.magics.base import MlnbMagics, parse_args, user_errors


@magics_class
class CheckMagics(MlnbMagics):
    """Check a saved notebook for hidden state by running it fresh."""

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("notebook", help="the saved notebook to check (never changed)")
    @argument("--runs", type=int, default=1, metavar="K", help="fresh runs with the same seed")
    @argument("--seed", type=int, metavar="N", help="pin this seed in every fresh run")
    @argument("--vary-seed", action="store_true", help="one more run with another seed")
    @argument("--timeout", type=float, metavar="S", help="seconds each fresh run may take")
    @argument("--static-only", action="store_true", help="no kernel: only the static pass")
    @argument("--out", "-o", metavar="NAME", help="also keep the report in variable NAME")
    def check_notebook(self, line: str = "") -> None:
        """Restart-and-run-all a saved notebook in a new kernel and say which cells differ, and why.

        Examples::

            %check_notebook train.ipynb
            %check_notebook train.ipynb --runs 2 --seed 0 --vary-seed -o report
            %check_notebook explore.ipynb --static-only
        """
        args = parse_args(self.check_notebook, line)
        if args is None:  # --help was shown
            return
        from mlnb.checking.api import check

        report = check(
            args.notebook,
            runs=args.runs,
            seed=args.seed,
            vary_seed=args.vary_seed,
            timeout=args.timeout,
            static_only=args.static_only,
        )
        self._store(args.out, report)
        display.show(report.text(), report.html())
