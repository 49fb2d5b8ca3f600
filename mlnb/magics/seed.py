"""``%seed`` and ``%%repro``: seed pinning and the determinism check in a notebook."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from mlnb import display, repro
from mlnb import seed as seeding
from mlnb.magics.base import MlnbMagics, parse_args, user_errors, user_traceback

if TYPE_CHECKING:
    from IPython.core.interactiveshell import ExecutionInfo, InteractiveShell

_EVERY_CELL_HOOK = "every-cell"


@magics_class
class SeedMagics(MlnbMagics):
    """Pin every RNG, optionally re-pin before each cell, and check a cell's determinism."""

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.reseeder: seeding.CellReseeder | None = None

    @line_magic
    @user_errors
    @magic_arguments()
    @argument("seed", nargs="?", default=None, help="whole number from 0 to 4294967295")
    @argument(
        "--deterministic",
        action="store_true",
        help="also make torch deterministic (cuDNN, deterministic algorithms, cuBLAS); slower",
    )
    @argument(
        "--every-cell",
        action="store_true",
        help="before each cell, re-pin from a seed derived from this seed and the cell's source",
    )
    @argument("--off", action="store_true", help="stop re-pinning before each cell")
    @argument("-q", "--quiet", action="store_true", help="print nothing on success")
    def seed(self, line: str = "") -> None:
        """Pin random, NumPy and torch; with no arguments, show what is pinned.

        Examples::

            %seed 42                  # pin everything to 42
            %seed 42 --deterministic  # and make torch deterministic
            %seed 42 --every-cell     # each cell re-pinned from (42, its source)
            %seed --off               # stop re-pinning
            %seed                     # show the current state
        """
        args = parse_args(self.seed, line)
        if args is None:
            return
        if args.every_cell and args.off:
            raise UsageError("%seed: use either --every-cell or --off, not both.")
        if args.seed is None and not (args.every_cell or args.off or args.deterministic):
            self._show_status()
            return
        if args.seed is not None:
            seeding.validate_seed(args.seed)  # refuse before changing anything
        if args.off:
            was_on = self.stop_every_cell()
            if args.seed is None:
                if not args.quiet:
                    print(
                        "mlnb: every-cell re-pinning is off."
                        if was_on
                        else "mlnb: every-cell re-pinning was not on."
                    )
                return
        record = None
        if args.seed is not None or args.deterministic or seeding.current_seed() is None:
            record = seeding.pin(
                args.seed if args.seed is not None else seeding.current_seed(),
                deterministic=args.deterministic,
                verbose=not args.quiet,
            )
        reseeder = None
        if args.every_cell:
            base_seed = seeding.current_seed()
            assert base_seed is not None, "pinned just above when nothing was"
            reseeder = self.start_every_cell(base_seed)
        if not args.quiet:
            if record is not None:
                print(f"mlnb: {record.summary()}")
            if reseeder is not None:
                print(
                    f"mlnb: every cell is re-pinned from base seed {reseeder.base_seed} and its source."
                )

    def start_every_cell(self, base_seed: int) -> seeding.CellReseeder:
        """Re-pin before every cell from ``base_seed`` and the cell's source."""
        self.reseeder = reseeder = seeding.CellReseeder(base_seed)

        def pre_run_cell(info: ExecutionInfo) -> None:
            reseeder.before_cell(info.raw_cell or "")

        self.hooks.register(_EVERY_CELL_HOOK, "pre_run_cell", pre_run_cell)
        return reseeder

    def stop_every_cell(self) -> bool:
        """Stop re-pinning before each cell; returns whether it was on."""
        self.reseeder = None
        return self.hooks.unregister(_EVERY_CELL_HOOK)

    def _show_status(self) -> None:
        info = seeding.status(self.reseeder)
        if info["seed"] is None:
            display.show("mlnb: nothing pinned yet — `%seed 42` pins every generator to 42.")
            return
        rows = [(key, _format(value)) for key, value in info.items()]
        display.show(
            display.text_table(["setting", "value"], rows),
            display.html_table(["setting", "value"], rows, caption="mlnb seed state"),
        )

    @cell_magic
    @user_errors
    @magic_arguments()
    @argument("--runs", "-n", type=int, default=2, help="how many runs to compare (default 2)")
    def repro(self, line: str, cell: str) -> Any:
        """Run the cell several times from the same RNG state and say whether it is reproducible.

        Every run starts from the same random state. Earlier runs work on deep copies
        of the variables the cell reads; the last run works on the real namespace, so
        afterwards the notebook is as if the cell ran once. The variables the cell
        assigns, inputs it changed in place, what it prints and its result are compared;
        for arrays and tensors the report gives the largest absolute difference.

        It cannot see side effects outside the namespace (files, databases, network),
        in-place changes to objects that cannot be deep-copied (the report names them),
        or output shown with display(), which appears once per run. A cell that raises
        is not re-run: the error is shown once.

        Example::

            %%repro --runs 3
            noise = torch.randn(3)
        """
        args = parse_args(self.repro, line)
        if args is None:
            return None  # help shown; the cell is not run
        if args.runs < 2:
            raise UsageError(f"%%repro: --runs must be at least 2, got {args.runs}.")
        code = self.ipython.transform_cell(cell)
        filename = self.ipython.compile.cache(code, self.ipython.execution_count, raw_code=cell)
        try:
            report = repro.check_reproducible(
                code, self.ipython.user_ns, args.runs, filename=filename
            )
        except Exception as exc:
            raise user_traceback(self.ipython, exc, filename, "%%repro") from exc.__cause__
        display.show(report.text(), report.html())
        return report.result


def _format(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items()) or "—"
    return str(value)
