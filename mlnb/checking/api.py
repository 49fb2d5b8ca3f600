"""``mlnb.check(nb)``: is this notebook reproducible? — static pass, fresh runs, comparison.

The steps, each in its own module: :mod:`~mlnb.checking.static` (before any kernel),
:mod:`~mlnb.checking.fresh` (restart and run all, with the I/O audit), then
:mod:`~mlnb.checking.compare` per cell — saved outputs against the first fresh run,
fresh runs against each other under the same seed (``runs``), and against a run with
another seed (``vary_seed``). Everything ends in a :class:`~mlnb.checking.report.CheckReport`.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlnb.checking import compare, static
from mlnb.checking.cells import check_checkable
from mlnb.checking.report import ERROR, WARNING, CellResult, CheckReport, FileAccess, Finding
from mlnb.exceptions import InvalidArgumentError
from mlnb.pipeline.loading import load_notebook
from mlnb.pipeline.parameters import source_text
from mlnb.seed import validate_seed

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from mlnb.checking.fresh import FreshRun

#: the seed the runs are pinned to with --vary-seed when none is given
DEFAULT_SEED = 0


def _kernel_for(nb: NotebookNode, kernel: str | None) -> tuple[str, list[str]]:
    from mlnb.pipeline.loading import installed_kernels

    installed = sorted(installed_kernels())
    if kernel is not None:
        from mlnb.pipeline.loading import check_kernel

        check_kernel(kernel)
        return kernel, installed
    saved = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    if saved in installed:
        return str(saved), installed
    return "python3", installed


def _declared(nb: NotebookNode) -> tuple[list[str], list[str]]:
    step = nb.get("metadata", {}).get("mlnb", {}).get("step", {})
    return list(step.get("inputs", [])), list(step.get("outputs", []))


def check_static(notebook: str | os.PathLike[str], *, kernel: str | None = None) -> CheckReport:
    """Only the static pass (no kernel): what ``mlnb step init`` warns about.

    Raises:
        NotebookNotFoundError, InvalidNotebookError, EmptyNotebookError,
        UnsupportedLanguageError: the notebook cannot be checked.
    """
    return check(notebook, static_only=True, kernel=kernel)


def static_warnings(notebook: str | os.PathLike[str]) -> list[str]:
    """One line per static finding, for ``mlnb step init`` to print before making a step.

    A notebook that cannot be checked (another language, no code) gives one line saying so.
    """
    from mlnb.exceptions import CheckError

    try:
        report = check_static(notebook)
    except CheckError as exc:
        return [f"not checked: {exc}"]
    return [f"{f.severity}: {f.message}" for f in report.findings]


def check(
    notebook: str | os.PathLike[str],
    *,
    runs: int = 1,
    seed: int | None = None,
    vary_seed: bool = False,
    timeout: float | None = None,
    static_only: bool = False,
    kernel: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    rtol: float = compare.RTOL,
) -> CheckReport:
    """Check whether a notebook reproduces its saved outputs, and say why not.

    Args:
        notebook: the ``.ipynb`` file (never changed).
        runs: fresh runs with the same seed (2 or more also finds nondeterminism).
        seed: pin this seed in every run (``PYTHONHASHSEED`` too); None: not pinned.
        vary_seed: one more run with another seed, to see how sensitive the values are
            (pins seed ``0``, or ``seed``, for the others).
        timeout: seconds each fresh run may take; the cell running at the end is reported.
        static_only: no kernel, only the static pass.
        kernel: the kernel to run (default: the saved one when installed, else python3).
        cwd: the folder to run in (default: the notebook's).
        rtol: relative tolerance for numbers.

    Returns:
        A :class:`CheckReport`; ``report.reproducible``, ``report.exit_code``.

    Raises:
        NotebookNotFoundError, InvalidNotebookError: not a notebook.
        EmptyNotebookError, UnsupportedLanguageError: nothing to check, or not Python.
        InvalidArgumentError: runs, timeout or seed out of bounds.
        KernelNotFoundError, KernelStartError: the kernel cannot be used.
    """
    started = time.perf_counter()
    seed = _checked_options(runs, timeout, seed, vary_seed)
    path = Path(notebook)
    nb = load_notebook(path)
    check_checkable(nb, str(path))
    name, installed = _kernel_for(nb, None if static_only else kernel)
    folder = Path(cwd) if cwd is not None else path.resolve().parent
    report = CheckReport(notebook=str(path), seed=seed)
    report.findings = static.static_findings(
        nb, folder=folder, kernel=name, installed_kernels=installed
    )
    if not static_only:
        from mlnb.checking.fresh import fresh_run

        run = functools.partial(fresh_run, nb, cwd=str(folder), kernel=name, timeout=timeout)
        _compare_fresh_runs(report, nb, run, runs=runs, vary_seed=vary_seed, rtol=rtol)
    report.seconds = time.perf_counter() - started
    return report


def _checked_options(
    runs: int, timeout: float | None, seed: int | None, vary_seed: bool
) -> int | None:
    """The seed the runs are pinned to, once ``runs``, ``timeout`` and ``seed`` are in bounds."""
    if runs < 1:
        raise InvalidArgumentError(f"runs must be 1 or more, got {runs}.")
    if timeout is not None and not timeout > 0:
        raise InvalidArgumentError(f"timeout must be a positive number of seconds, got {timeout}.")
    if seed is not None:
        seed = validate_seed(seed)
    if vary_seed and seed is None:
        seed = DEFAULT_SEED
    return seed


def _compare_fresh_runs(
    report: CheckReport,
    nb: NotebookNode,
    run: Callable[..., FreshRun],
    *,
    runs: int,
    vary_seed: bool,
    rtol: float,
) -> None:
    """Run ``nb`` fresh ``runs`` times (and once more with another seed with ``vary_seed``),
    adding to ``report`` what differs from the saved outputs and between the runs."""
    from mlnb.checking.io_audit import file_accesses

    seed = report.seed
    first = run(seed=seed)
    report.runs = 1
    report.findings += _end_findings(first, nb)
    report.cells, findings = _saved_vs_fresh(nb, first, rtol)
    report.findings += findings
    inputs, outputs = _declared(nb)
    report.files = file_accesses(first.io_outputs, inputs, outputs)
    report.findings += _undeclared_file_findings(report.files)
    for _ in range(runs - 1):
        again = run(seed=seed, audit=False)
        report.runs += 1
        report.findings += _run_vs_run(nb, first, again, rtol, varied=False)
    if vary_seed:
        varied = run(seed=(seed or 0) + 1, audit=False)
        report.runs += 1
        report.findings += _run_vs_run(nb, first, varied, rtol, varied=True)


def _undeclared_file_findings(files: Sequence[FileAccess]) -> list[Finding]:
    """A warning per file the notebook reads or writes that its step does not declare."""
    return [
        Finding(
            f"undeclared-{f.role}",
            f"the notebook {'reads' if f.role == 'input' else 'writes'} {f.path}, which its step does not declare as an {f.role}.",
            None,
            WARNING,
        )
        for f in files
        if not f.declared
    ]


def _end_findings(run: FreshRun, nb: NotebookNode) -> list[Finding]:
    from mlnb.checking.fresh import DIED, TIMEOUT

    if run.status == TIMEOUT:
        return [
            Finding(
                "timeout",
                f"the fresh run ran out of time in cell {(run.stopped_at or 0) + 1}; the cells after it did not run.",
                run.stopped_at,
            )
        ]
    if run.status == DIED:
        return [
            Finding(
                "kernel-died",
                f"the kernel died while cell {(run.stopped_at or 0) + 1} ran (out of memory, or a crash in native code).",
                run.stopped_at,
            )
        ]
    return []


def _code_indices(nb: NotebookNode) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and source_text(c).strip()]


def _saved_vs_fresh(
    nb: NotebookNode, run: FreshRun, rtol: float
) -> tuple[list[CellResult], list[Finding]]:
    cells: list[CellResult] = []
    findings: list[Finding] = []
    for index in _code_indices(nb):
        cell = nb.cells[index]
        if index not in run.outputs:
            cells.append(CellResult(index, "not run", "the fresh run stopped before it"))
            continue
        if cell.get("execution_count") is None and not cell.get("outputs"):
            cells.append(CellResult(index, "not saved", "no saved outputs to compare"))
            continue
        old = compare.cell_items(cell.get("outputs", []))
        new = compare.cell_items(run.outputs[index])
        difference = compare.compare_cells(old, new, rtol)
        cells.append(CellResult(index, difference.status, difference.how))
        if not difference.same:
            findings.append(
                Finding(
                    difference.status.replace(" ", "-"),
                    f"cell {index + 1} {_verb(difference.status)}: {difference.how}.",
                    index,
                    ERROR,
                )
            )
    return cells, findings


def _verb(status: str) -> str:
    return {
        compare.DIFFERS: "differs from its saved output",
        compare.NEW_ERROR: "now raises",
        compare.NEW_OUTPUT: "shows output it did not save",
        compare.OUTPUT_GONE: "no longer shows its saved output",
    }.get(status, status)


def _run_vs_run(
    nb: NotebookNode, first: FreshRun, other: FreshRun, rtol: float, *, varied: bool
) -> list[Finding]:
    findings: list[Finding] = []
    for index in _code_indices(nb):
        if index not in first.outputs or index not in other.outputs:
            continue
        difference = compare.compare_cells(
            compare.cell_items(first.outputs[index]), compare.cell_items(other.outputs[index]), rtol
        )
        if difference.same:
            continue
        if varied:
            change = difference.max_relative_change
            size = "" if change is None else f" (largest relative change {change:.3g})"
            findings.append(
                Finding(
                    "seed-sensitive",
                    f"with seed {other.seed} instead of {first.seed}, cell {index + 1} changes{size}: {difference.how}.",
                    index,
                    WARNING,
                )
            )
        else:
            pinned = f"with the same seed {first.seed}" if first.seed is not None else "unpinned"
            findings.append(
                Finding(
                    "nondeterministic",
                    f"two fresh runs {pinned} differ in cell {index + 1}: {difference.how}.",
                    index,
                    ERROR,
                )
            )
    return findings
