"""Which hyperparameter matters most: importance per parameter over any runs in the store.

:func:`importance` takes runs (ids, names, records, or every finished run of a
project), their parameters (the run's config, nested keys flattened to ``a.b``) and
one summary metric, and fits a model of metric ~ parameters:

* ``fanova`` — Optuna's fANOVA evaluator (the share of the metric's variance each
  parameter explains), fed an in-memory study built from the runs, so any runs work,
  not only Optuna studies;
* ``forest`` — a scikit-learn random forest's impurity importances (categorical
  parameters one-hot encoded, their columns summed back to the parameter);
* ``auto`` (default) — fANOVA when optuna is installed, else the forest.

Importances are normalised to sum to 1. Beside each, the Spearman rank correlation of
the parameter with the metric, whose sign says which way it pushes (``+``: the metric
rises with the parameter); categorical parameters have none. A parameter that is the
same in every run explains nothing and is listed as skipped, as is one some runs lack.

scikit-learn (both methods) and optuna (fANOVA) are imported only here, when called.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlnb import display
from mlnb.exceptions import InvalidArgumentError, MissingDependencyError
from mlnb.runs.comparison import flatten
from mlnb.runs.records import RunRecord
from mlnb.runs.store import Store

METHODS = ("auto", "fanova", "forest")
#: fewer usable runs than this cannot say anything about importance
MIN_RUNS = 3


@dataclass(frozen=True)
class ParameterImportance:
    """One parameter's row: its share of importance and its rank correlation with the metric.

    Attributes:
        name: the parameter (nested config keys as ``a.b``).
        importance: share of the importance, 0..1 (the rows sum to 1).
        spearman: Spearman's rho with the metric, or None (categorical, or no variation).
        kind: ``float``, ``int``, ``bool`` or ``categorical``.
    """

    name: str
    importance: float
    spearman: float | None
    kind: str

    @property
    def sign(self) -> str:
        """``+`` when the metric rises with the parameter, ``-`` when it falls, ``""`` when unknown."""
        if self.spearman is None or math.isnan(self.spearman) or self.spearman == 0:
            return ""
        return "+" if self.spearman > 0 else "-"


@dataclass(repr=False)
class Importance(display.Report):
    """What :func:`importance` found: parameters from most to least important.

    Attributes:
        metric: the summary metric explained.
        method: ``fanova`` or ``forest`` (what ``auto`` chose).
        runs: ids of the runs used.
        parameters: one row per varying parameter, most important first.
        skipped: parameter → why it was left out (constant, or missing in some runs).
    """

    metric: str
    method: str
    runs: list[str]
    parameters: list[ParameterImportance]
    skipped: dict[str, str] = field(default_factory=dict)

    def most_important(self) -> str:
        """The name of the parameter that matters most."""
        return self.parameters[0].name

    def rows(self) -> tuple[list[str], list[list[Any]]]:
        """Headers and rows of the table."""
        headers = ["parameter", "importance", "spearman", "sign", "kind"]
        rows: list[list[Any]] = [
            [
                p.name,
                f"{p.importance:.3f}",
                "—" if p.spearman is None or math.isnan(p.spearman) else f"{p.spearman:+.3f}",
                p.sign or "—",
                p.kind,
            ]
            for p in self.parameters
        ]
        return headers, rows

    def caption(self) -> str:
        """What was explained, by what, over how many runs."""
        method = "Optuna fANOVA" if self.method == "fanova" else "random forest"
        return f"importance for {self.metric} ({method}, {len(self.runs)} runs)"

    def text(self) -> str:
        """The caption, the table, then the skipped parameters."""
        headers, rows = self.rows()
        lines = [self.caption(), display.text_table(headers, rows)]
        lines += [f"skipped {name}: {why}" for name, why in self.skipped.items()]
        return "\n".join(lines)

    def html(self) -> str:
        """The table (escaped), with the skipped parameters below it."""
        import html

        headers, rows = self.rows()
        out = display.html_table(headers, rows, caption=self.caption())
        if self.skipped:
            items = "".join(
                f"<li>{html.escape(name)}: {html.escape(why)}</li>"
                for name, why in self.skipped.items()
            )
            out += f"<ul>{items}</ul>"
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: metric, method, runs, parameters (with sign) and skipped."""
        return {
            "metric": self.metric,
            "method": self.method,
            "runs": self.runs,
            "parameters": [
                {
                    "name": p.name,
                    "importance": p.importance,
                    "spearman": None
                    if p.spearman is None or math.isnan(p.spearman)
                    else p.spearman,
                    "sign": p.sign,
                    "kind": p.kind,
                }
                for p in self.parameters
            ],
            "skipped": self.skipped,
        }


def importance(
    runs: Iterable[str | RunRecord] | None = None,
    metric: str | None = None,
    *,
    project: str | None = None,
    tags: Sequence[str] = (),
    method: str = "auto",
    seed: int = 0,
    store: Store | None = None,
    home: str | os.PathLike[str] | None = None,
) -> Importance:
    """Importance of each parameter for ``metric``, with its Spearman correlation and sign.

    Args:
        runs: run ids, id prefixes, names or records; None: every finished run
            (of ``project``, with every tag in ``tags``).
        metric: a summary metric the runs have (a value recorded or logged last).
        project, tags: filters when ``runs`` is None.
        method: ``auto``, ``fanova`` (Optuna) or ``forest`` (scikit-learn).
        seed: seeds the model, so the same runs give the same numbers.
        store / home: where to read (default: the store under ``$MLNB_HOME``).

    Raises:
        InvalidArgumentError: no metric, an unknown method, fewer than 3 runs with the
            metric as a number, or no parameter that differs between them.
        MissingDependencyError: scikit-learn (or optuna, for ``fanova``) is not installed.
        RunNotFoundError: a run that is named is not in the store.
    """
    if not metric:
        raise InvalidArgumentError("say which metric to explain: importance(runs, metric='acc').")
    if method not in METHODS:
        raise InvalidArgumentError(f"method must be one of {', '.join(METHODS)}, got {method!r}.")
    method = _resolve_method(method)
    records = _records(runs, project, tags, store, home)
    usable = [(r, _number(r.summary.get(metric))) for r in records]
    usable_runs = [(r, v) for r, v in usable if v is not None]
    if len(usable_runs) < MIN_RUNS:
        seen = sorted({k for r in records for k in r.summary if not k.startswith("sys/")})
        hint = f" (their metrics: {', '.join(seen)})" if seen and len(usable_runs) == 0 else ""
        raise InvalidArgumentError(
            f"importance needs at least {MIN_RUNS} runs with {metric!r} as a finite number; "
            f"found {len(usable_runs)} of {len(records)}{hint} — run more trials or pick another metric."
        )
    configs = [flatten(r.config) for r, _ in usable_runs]
    values = [v for _, v in usable_runs]
    if len(set(values)) < 2:
        raise InvalidArgumentError(
            f"{metric!r} is {display.format_value(values[0])} in all {len(values)} runs, "
            "so no parameter explains it — pick a metric that differs between runs."
        )
    columns, skipped = _columns(configs)
    if not columns:
        raise InvalidArgumentError(
            f"no parameter differs between the {len(usable_runs)} runs with {metric!r}, "
            "so none can explain it — compare runs whose config differs."
        )
    names = list(columns)
    if method == "fanova":
        shares = _fanova(columns, values, seed)
    else:
        shares = _forest(columns, values, seed)
    rows = [
        ParameterImportance(
            name, float(shares.get(name, 0.0)), _spearman(columns[name], values), kind
        )
        for name, (kind, _) in ((n, columns[n]) for n in names)
    ]
    rows.sort(key=lambda p: (-p.importance, p.name))
    return Importance(metric, method, [r.id for r, _ in usable_runs], rows, skipped)


def _resolve_method(method: str) -> str:
    """The method to use, once its libraries are known to import."""
    try:
        import sklearn  # noqa: F401  # both methods fit forests
    except ImportError:
        raise MissingDependencyError("scikit-learn", "hyperparameter importance") from None
    if method == "forest":
        return method
    try:
        import optuna  # noqa: F401
    except ImportError:
        if method == "fanova":
            raise MissingDependencyError("optuna", "importance with fANOVA", "optuna") from None
        return "forest"
    return "fanova"


def _records(
    runs: Iterable[str | RunRecord] | None,
    project: str | None,
    tags: Sequence[str],
    store: Store | None,
    home: str | os.PathLike[str] | None,
) -> list[RunRecord]:
    if runs is not None:
        given = list(runs)
        if all(isinstance(r, RunRecord) for r in given):
            return [r for r in given if isinstance(r, RunRecord)]
    source = store if store is not None else Store(home, readonly=True)
    try:
        if runs is None:
            return source.list_runs(project=project, tags=tags, status="finished")
        return [r if isinstance(r, RunRecord) else source.get_run(str(r)) for r in given]
    finally:
        if store is None:
            source.close()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _is_exact_number(value: Any) -> bool:
    """A finite int or float that a double holds exactly (a larger int, e.g. a 2**70 seed,
    would merge with its neighbours as a float: it is a category instead)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return abs(value) <= 2**53 if isinstance(value, int) else math.isfinite(value)


def _columns(
    configs: list[dict[str, Any]],
) -> tuple[dict[str, tuple[str, list[Any]]], dict[str, str]]:
    """Parameter → (kind, one value per run) for the parameters that vary; the rest, and why."""
    names = list(dict.fromkeys(k for c in configs for k in c))
    columns: dict[str, tuple[str, list[Any]]] = {}
    skipped: dict[str, str] = {}
    for name in names:
        missing = sum(name not in c for c in configs)
        if missing:
            skipped[name] = f"missing in {missing} of {len(configs)} runs"
            continue
        raw = [c[name] for c in configs]
        if all(isinstance(v, bool) for v in raw):
            kind, column = "bool", list(raw)
        elif all(_is_exact_number(v) for v in raw):
            kind = "int" if all(isinstance(v, int) for v in raw) else "float"
            column = list(raw)
        else:
            kind = "categorical"
            column = [
                v if isinstance(v, (str, int, float, bool)) or v is None else repr(v) for v in raw
            ]
        if len({repr(v) for v in column}) < 2:
            skipped[name] = f"the same in every run ({display.format_value(raw[0])})"
            continue
        columns[name] = (kind, column)
    return columns, skipped


def _spearman(column: tuple[str, list[Any]], values: list[float]) -> float | None:
    kind, data = column
    if kind == "categorical":
        return None
    from scipy.stats import spearmanr

    if len(set(values)) < 2:
        return None
    rho = spearmanr([float(v) for v in data], values).statistic
    return None if rho is None or math.isnan(rho) else float(rho)


def _fanova(
    columns: dict[str, tuple[str, list[Any]]], values: list[float], seed: int
) -> dict[str, float]:
    import optuna
    from optuna.distributions import (
        BaseDistribution,
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions: dict[str, BaseDistribution] = {}
    for name, (kind, data) in columns.items():
        if kind == "int":
            distributions[name] = IntDistribution(min(data), max(data))
        elif kind == "float":
            distributions[name] = FloatDistribution(float(min(data)), float(max(data)))
        else:
            distributions[name] = CategoricalDistribution(list(dict.fromkeys(data)))
    study = optuna.create_study()  # in memory, only to hand the runs to the evaluator
    for i, value in enumerate(values):
        params = {name: data[i] for name, (_, data) in columns.items()}
        study.add_trial(
            optuna.trial.create_trial(params=params, distributions=distributions, value=value)
        )
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
    found = optuna.importance.get_param_importances(
        study, evaluator=evaluator, params=list(columns), normalize=True
    )
    return {name: float(share) for name, share in found.items()}


def _forest(
    columns: dict[str, tuple[str, list[Any]]], values: list[float], seed: int
) -> dict[str, float]:
    import numpy as np
    from sklearn.ensemble import RandomForestRegressor

    features: list[list[float]] = []
    owner: list[str] = []
    for name, (kind, data) in columns.items():
        if kind == "categorical":
            for level in dict.fromkeys(repr(v) for v in data):
                features.append([1.0 if repr(v) == level else 0.0 for v in data])
                owner.append(name)
        else:
            features.append([float(v) for v in data])
            owner.append(name)
    x = np.array(features).T
    forest = RandomForestRegressor(n_estimators=64, random_state=seed, min_samples_leaf=1)
    forest.fit(x, np.array(values))
    shares: dict[str, float] = dict.fromkeys(columns, 0.0)
    for name, share in zip(owner, forest.feature_importances_, strict=True):
        shares[name] += float(share)
    total = sum(shares.values())
    return {k: v / total for k, v in shares.items()} if total > 0 else shares
