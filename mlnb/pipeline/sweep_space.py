"""The parameter space of a sweep: ``-p name=v1,v2`` lists, ``low:high`` ranges, the grid
of every combination, or random samples of it (seeded, so a sweep can be repeated)."""

from __future__ import annotations

import itertools
import math
import random as random_module
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlnb.exceptions import PipelineSpecError
from mlnb.pipeline.options import check_options
from mlnb.pipeline.parameters import notebook_parameters, resolve_cli_value, split_assignment


@dataclass(frozen=True)
class Range:
    """A continuous (or integer) range ``lo..hi`` sampled by ``--random``; ``log`` for log scale."""

    low: float
    high: float
    log: bool = False
    integer: bool = False

    def sample(self, rng: random_module.Random) -> float | int:
        """One value drawn uniformly (in log space when ``log``)."""
        if self.integer:
            return rng.randint(int(self.low), int(self.high))
        if self.log:
            return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return rng.uniform(self.low, self.high)


def _parse_range(name: str, text: str) -> Range:
    body, _, scale = text.partition(":")
    low_text, _, high_text = body.partition("..")
    try:
        low, high = float(low_text), float(high_text)
    except ValueError:
        raise PipelineSpecError(
            f"-p {name}={text}: a range is written low..high (e.g. 1e-4..1e-1:log)."
        ) from None
    if scale not in ("", "log") or low >= high or (scale == "log" and low <= 0):
        raise PipelineSpecError(
            f"-p {name}={text}: need low < high, and low > 0 for :log (the only scale)."
        )
    integer = (
        scale == ""
        and low_text.strip().lstrip("-").isdigit()
        and high_text.strip().lstrip("-").isdigit()
    )
    return Range(low, high, log=scale == "log", integer=integer)


def parse_space(assignments: Iterable[str], nb: Mapping[str, Any]) -> dict[str, list[Any] | Range]:
    """``["lr=0.1,0.01", "epochs=1..5"]`` → ``{"lr": [0.1, 0.01], "epochs": Range(1, 5)}``.

    Values are read as the type of the parameter's default (``-p name=07`` stays a
    string for a ``str`` parameter).

    Raises:
        MalformedParameterError: an argument without ``=`` or with a bad name.
    """
    declared = {p.name: p for p in (notebook_parameters(nb) or [])}
    space: dict[str, list[Any] | Range] = {}
    for text in assignments:
        name, values = split_assignment(text)
        if ".." in values and "," not in values:
            space[name] = _parse_range(name, values)
        else:
            space[name] = [
                resolve_cli_value(v.strip(), declared.get(name)) for v in values.split(",")
            ]
    return space


def grid(space: Mapping[str, Sequence[Any] | Range]) -> list[dict[str, Any]]:
    """Every combination of the listed values, in order."""
    listed: dict[str, Sequence[Any]] = {}
    ranges = []
    for name, values in space.items():
        if isinstance(values, Range):
            ranges.append(name)
        else:
            listed[name] = values
    if ranges:
        raise PipelineSpecError(
            f"{', '.join(ranges)} is a range, which a grid cannot enumerate — add --random N to sample it."
        )
    names = list(listed)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*listed.values())]


def random_samples(
    space: Mapping[str, Sequence[Any] | Range], count: int, seed: int
) -> list[dict[str, Any]]:
    """``count`` combinations drawn with ``seed``: lists by choice, ranges uniformly.

    When every dimension is a list and ``count`` is at most the grid size, no
    combination is drawn twice.
    """
    check_options(random=count)
    rng = random_module.Random(seed)
    if not any(isinstance(v, Range) for v in space.values()):
        combos = grid(space)
        if count <= len(combos):
            return rng.sample(combos, count)
    return [
        {
            n: v.sample(rng) if isinstance(v, Range) else rng.choice(list(v))
            for n, v in space.items()
        }
        for _ in range(count)
    ]
