"""The search space of ``mlnb tune``: one YAML entry per parameter, read and checked once.

::

    lr: {low: 1.0e-4, high: 0.1, log: true}   # float range
    epochs: {low: 1, high: 5, type: int}      # int range
    optimizer: [adam, sgd]                     # choices

Each entry becomes a :class:`Dimension`, which asks an Optuna trial for a value (the
local tuner and the Ray Tune searcher both draw through the study's sampler: TPE or random).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb.exceptions import PipelineSpecError

if TYPE_CHECKING:
    import optuna


@dataclass(frozen=True)
class Dimension:
    """One parameter's search range: ``float``/``int`` between low and high, or ``choices``."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: optuna.trial.Trial) -> Any:
        """Ask an Optuna trial for a value."""
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.low is None or self.high is None:  # parse_space() gives every range both ends
            raise PipelineSpecError(f"{self.name}: a {self.kind} range needs a low and a high.")
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def examples(self) -> tuple[Any, ...]:
        """Values to type-check against the notebook's defaults."""
        return self.choices if self.kind == "categorical" else (self.low, self.high)


def parse_space(data: Any, source: str = "search space") -> dict[str, Dimension]:
    """A search space from its YAML data (see the module docstring).

    Raises:
        PipelineSpecError: an entry that is neither a list of choices nor a range.
    """
    if not isinstance(data, dict) or not data:
        raise PipelineSpecError(
            f"{source} must be a mapping of parameter → range or list of choices."
        )
    space = {}
    for name, spec in data.items():
        where = f"{source}, {name}"
        if isinstance(spec, list) and spec:
            space[name] = Dimension(name, "categorical", choices=tuple(spec))
            continue
        if isinstance(spec, dict) and "choices" in spec and isinstance(spec["choices"], list):
            space[name] = Dimension(name, "categorical", choices=tuple(spec["choices"]))
            continue
        if not isinstance(spec, dict) or not {"low", "high"} <= set(spec):
            raise PipelineSpecError(
                f"{where}: write a list of choices or {{low: ..., high: ..., log: true}}."
            )
        low, high = spec["low"], spec["high"]
        if (
            not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
            or low >= high
        ):
            raise PipelineSpecError(
                f"{where}: low and high must be numbers with low < high, got {low!r}, {high!r}."
            )
        kind = spec.get("type") or (
            "int" if isinstance(low, int) and isinstance(high, int) else "float"
        )
        if kind not in ("int", "float"):
            raise PipelineSpecError(f"{where}: type must be int or float, got {kind!r}.")
        log = bool(spec.get("log", False))
        if log and low <= 0:
            raise PipelineSpecError(f"{where}: a log range needs low > 0, got {low!r}.")
        space[name] = Dimension(
            name,
            kind,
            float(low) if kind == "float" else low,
            float(high) if kind == "float" else high,
            log,
        )
    return space


def load_space(path: str | os.PathLike[str]) -> dict[str, Dimension]:
    """Read a search-space YAML file."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise PipelineSpecError(f"search space file {path} does not exist.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raise PipelineSpecError(f"{path.name} is not valid YAML.") from None
    return parse_space(data, path.name)
