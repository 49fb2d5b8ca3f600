"""Determinism check: run a cell several times from the same RNG state and compare.

:func:`check_reproducible` executes a piece of code ``runs`` times. Every run starts
from the same random-generator state (``mlnb.rng_state.get_state``). Earlier runs work on
deep copies of the variables the code reads, so they cannot disturb each other; the
last run works on the real namespace, so afterwards the namespace is exactly as if
the code had run once. The variables the code assigns, the inputs it may have
changed in place, its printed output and its result are then compared across runs.

What it cannot see: side effects outside the namespace (files, databases, network,
GPU state other than the RNG), objects that cannot be deep-copied (their in-place
changes carry over between runs; the report names them), and rich output sent
with ``display()`` (shown once per run).
"""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import itertools
import linecache
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlnb import display
from mlnb.cellcode import split_cell
from mlnb.exceptions import InvalidArgumentError
from mlnb.rng_state import get_state, set_state
from mlnb.value_diff import Difference, diff_values

RESULT = "<result>"
PRINTED = "<printed output>"
_counter = itertools.count(1)


@dataclass(frozen=True)
class VariableCheck:
    """How one variable (or the result, or printed output) compared across runs."""

    name: str
    equal: bool | None
    max_abs_diff: float | None = None
    detail: str = ""

    def describe(self) -> str:
        """A short phrase: 'identical', 'differs (max |Δ| = 0.31)', ..."""
        if self.equal:
            return "identical"
        if self.equal is None:
            return f"not compared ({self.detail})" if self.detail else "not compared"
        parts = []
        if self.max_abs_diff is not None:
            parts.append(f"max |Δ| = {self.max_abs_diff:.3g}")
        if self.detail:
            parts.append(self.detail)
        return "differs" + (f" ({'; '.join(parts)})" if parts else "")


@dataclass
class ReproReport(display.Report):
    """The outcome of :func:`check_reproducible`.

    Attributes:
        runs: how many times the code ran.
        checks: one entry per compared variable, plus the result and printed output.
        shared: variables that could not be deep-copied, so runs shared them.
        seconds: wall time of each run.
        result: the value of the code's last expression in the final run (or None).
    """

    runs: int
    checks: list[VariableCheck] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    result: Any = None

    @property
    def reproducible(self) -> bool:
        """True when nothing differs (values that could not be compared don't count)."""
        return all(check.equal is not False for check in self.checks)

    @property
    def differing(self) -> list[VariableCheck]:
        """The checks that differ between runs."""
        return [check for check in self.checks if check.equal is False]

    def summary(self) -> str:
        """One line: the verdict and what differs."""
        names = [c.name for c in self.checks if c.name not in (RESULT, PRINTED)]
        if self.reproducible:
            what = f"{len(names)} variable{'s' if len(names) != 1 else ''}"
            extras = [
                n.strip("<>") for n in (RESULT, PRINTED) if any(c.name == n for c in self.checks)
            ]
            if extras:
                what += " and the " + " and the ".join(extras)
            listed = f" ({', '.join(names)})" if names else ""
            return f"✓ reproducible over {self.runs} runs: {what} identical{listed}"
        bad = "; ".join(f"{c.name} {c.describe()}" for c in self.differing)
        return f"✗ not reproducible over {self.runs} runs: {bad}"

    def text(self) -> str:
        """The summary plus one line per check and any shared variables."""
        lines = [self.summary()]
        if not self.reproducible or any(c.equal is None for c in self.checks):
            lines += [f"  {c.name}: {c.describe()}" for c in self.checks]
        if self.shared:
            lines.append(
                "  note: could not copy "
                + ", ".join(self.shared)
                + " — in-place changes to them carried over between runs"
            )
        return "\n".join(lines)

    def html(self) -> str:
        """An HTML table of the checks under the verdict."""
        import html

        colour = "#1a7f37" if self.reproducible else "#cf222e"
        table = display.html_table(
            ["variable", "across runs"], [(c.name, c.describe()) for c in self.checks]
        )
        note = ""
        if self.shared:
            note = (
                "<p>could not copy "
                + html.escape(", ".join(self.shared))
                + " — in-place changes carried over between runs</p>"
            )
        return f'<div class="mlnb-repro"><b style="color:{colour}">{html.escape(self.summary())}</b>{table}{note}</div>'


def names_read(tree: ast.AST) -> set[str]:
    """Names the code loads (or updates in place with ``+=``) at any depth."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            found.add(node.id)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            found.add(node.target.id)
    return found


def _copyable(value: Any) -> bool:
    return not isinstance(
        value,
        (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type, types.MethodType),
    )


class _Tee(io.TextIOBase):
    def __init__(self, *streams: Any) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            with contextlib.suppress(Exception):
                stream.flush()


def _compile(code: str, filename: str | None) -> tuple[types.CodeType, types.CodeType | None]:
    name = filename or f"<mlnb-repro-{next(_counter)}>"
    if filename is None:  # let tracebacks show the cell's lines
        linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    return split_cell(code, name)


def check_reproducible(
    code: str,
    namespace: dict[str, Any],
    runs: int = 2,
    *,
    filename: str | None = None,
    capture_output: bool = True,
    timer: Callable[[], float] = time.perf_counter,
) -> ReproReport:
    """Run ``code`` ``runs`` times from the same RNG state and compare what it produced.

    Args:
        code: Python source (IPython syntax must be transformed first).
        namespace: the globals to run in; after the call it holds the final run's state.
        runs: how many runs, at least 2.
        filename: the name tracebacks show for the code (IPython passes its cell name).
        capture_output: compare what the runs print; earlier runs' output is held back
            so it appears once.
        timer: clock for the per-run times.

    Returns:
        A :class:`ReproReport`; ``report.result`` is the last expression's value.

    Raises:
        InvalidArgumentError: ``runs`` is below 2.
        Exception: whatever the code raised, unchanged, from the first run that raised;
            later runs are not attempted. A note says which run it was.
    """
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 2:
        raise InvalidArgumentError(f"runs must be a whole number of at least 2, got {runs!r}.")
    body, expression = _compile(code, filename)
    read = names_read(ast.parse(code)) & namespace.keys()
    start_state = get_state()
    before = dict(namespace)
    report = ReproReport(runs=runs)
    outcomes: list[tuple[dict[str, Any], Any, str]] = []
    for index in range(runs):
        final = index == runs - 1
        if final:
            scope = namespace
        else:
            scope = dict(before)
            memo: dict[int, Any] = {}
            for name in sorted(read):
                value = before[name]
                if not _copyable(value):
                    continue
                try:
                    scope[name] = copy.deepcopy(value, memo)
                except Exception:
                    if name not in report.shared:
                        report.shared.append(name)
        set_state(start_state)
        buffer = io.StringIO()
        stream: contextlib.AbstractContextManager[object]
        if not capture_output:
            stream = contextlib.nullcontext()
        elif final:
            stream = contextlib.redirect_stdout(_Tee(sys.stdout, buffer))
        else:
            stream = contextlib.redirect_stdout(buffer)
        started = timer()
        try:
            with stream:
                exec(body, scope)
                result = eval(expression, scope) if expression is not None else None
        except BaseException as exc:
            if index > 0 and hasattr(exc, "add_note"):
                exc.add_note(
                    f"mlnb repro: run {index + 1} of {runs} raised this, but run 1 did not — "
                    "the cell is not reproducible."
                )
            raise
        report.seconds.append(timer() - started)
        outcomes.append((scope, result, buffer.getvalue()))
    report.result = outcomes[-1][1]
    report.checks = _compare_runs(outcomes, before, read, expression is not None, capture_output)
    return report


def _assigned(scope: dict[str, Any], before: dict[str, Any]) -> set[str]:
    return {
        name
        for name, value in scope.items()
        if not name.startswith("_")
        and _copyable(value)
        and (name not in before or before[name] is not value)
    }


def _compare_runs(
    outcomes: list[tuple[dict[str, Any], Any, str]],
    before: dict[str, Any],
    read: set[str],
    has_result: bool,
    compared_output: bool,
) -> list[VariableCheck]:
    first_scope, first_result, first_output = outcomes[0]
    names: set[str] = set()
    for scope, _, _ in outcomes:
        names |= _assigned(scope, before)
    names |= {n for n in read if _copyable(before[n]) and not n.startswith("_")}
    checks = []
    for name in sorted(names):
        found = _worst([_lookup_diff(first_scope, scope, name) for scope, _, _ in outcomes[1:]])
        checks.append(VariableCheck(name, found.equal, found.max_abs_diff, found.detail))
    if has_result and any(result is not None for _, result, _ in outcomes):
        found = _worst([diff_values(first_result, result) for _, result, _ in outcomes[1:]])
        checks.append(VariableCheck(RESULT, found.equal, found.max_abs_diff, found.detail))
    if compared_output and any(output for _, _, output in outcomes):
        same = all(output == first_output for _, _, output in outcomes[1:])
        checks.append(
            VariableCheck(PRINTED, same, None, "" if same else "the printed text differs")
        )
    return checks


def _lookup_diff(first: dict[str, Any], other: dict[str, Any], name: str) -> Difference:
    if name not in first or name not in other:
        return Difference(False, None, "assigned in some runs only")
    try:
        return diff_values(first[name], other[name])
    except Exception as exc:  # a value whose comparison itself fails
        return Difference(None, None, f"comparison failed: {type(exc).__name__}")


def _worst(diffs: list[Difference]) -> Difference:
    unequal = [d for d in diffs if d.equal is False]
    if unequal:
        known = [d.max_abs_diff for d in unequal if d.max_abs_diff is not None]
        top = max(unequal, key=lambda d: d.max_abs_diff or 0.0)
        return Difference(False, max(known) if known else None, top.detail)
    unknown = [d for d in diffs if d.equal is None]
    return unknown[0] if unknown else Difference(True)
