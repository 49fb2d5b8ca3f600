"""Which curves a live plot draws, and in which panel: pure functions, no plotting library.

Step counters (``epoch``, ``step``, ``iteration``…) are not metrics: they go in the
header, not in a panel. The train, validation and test variants of one metric
(``loss`` / ``val_loss``, ``train/acc`` / ``val/acc``) share one panel, so the gap
between them is visible at a glance. :func:`smooth` is TensorBoard's smoothing (an
exponential moving average with the start-up bias removed).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

#: names (the last ``/`` part, any case) that count steps rather than measure anything
STEP_COUNTERS = frozenset(
    {
        "epoch",
        "epochs",
        "step",
        "steps",
        "global_step",
        "_step",
        "iteration",
        "iterations",
        "iter",
        "n_iter",
        "batch",
        "batch_idx",
    }
)
#: prefixes/suffixes naming the data split a metric was measured on, in panel order
SPLITS = ("train", "training", "val", "valid", "validation", "eval", "dev", "test")
_SEPARATORS = ("/", "_", ".", "-", " ")
MAX_PANELS = 6


@dataclass
class Panel:
    """One axes of the live plot: a title (the metric) and the keys drawn in it."""

    title: str
    keys: list[str] = field(default_factory=list)


def is_step_counter(key: str) -> bool:
    """``epoch``, ``trainer/global_step``, ``Iteration``: a counter, not a metric to plot."""
    return key.rsplit("/", 1)[-1].strip().lower() in STEP_COUNTERS


def split_of(key: str) -> tuple[str, str | None]:
    """``("loss", "val")`` for ``val_loss``, ``val/loss`` or ``loss_val``; ``("loss", None)`` for ``loss``."""
    lowered = key.lower()
    for split in SPLITS:
        for sep in _SEPARATORS:
            if lowered.startswith(split + sep) and len(key) > len(split) + 1:
                return key[len(split) + 1 :], split
            if lowered.endswith(sep + split) and len(key) > len(split) + 1:
                return key[: -len(split) - 1], split
    return key, None


def group_panels(keys: Iterable[str], max_panels: int = MAX_PANELS) -> list[Panel]:
    """Keys grouped into panels, one per metric, in the order the metrics first appear.

    Within a panel the training curve (or the plain name) comes first, then the
    others in :data:`SPLITS` order. At most ``max_panels`` panels are returned.
    """
    panels: dict[str, Panel] = {}
    for key in keys:
        base, _split = split_of(key)
        panel = panels.setdefault(base.lower(), Panel(base))
        if key not in panel.keys:
            panel.keys.append(key)
    for panel in panels.values():
        panel.keys.sort(key=_split_rank)
    return list(panels.values())[:max_panels]


def _split_rank(key: str) -> int:
    split = split_of(key)[1]
    return 0 if split is None else SPLITS.index(split) + 1


def plotted_keys(keys: Iterable[str]) -> list[str]:
    """The keys a live plot draws by default: no ``sys/`` metrics and no step counters."""
    return [key for key in keys if not key.startswith("sys/") and not is_step_counter(key)]


def smooth(values: Sequence[float], weight: float) -> list[float]:
    """TensorBoard's smoothing: a debiased exponential moving average; NaN and ±inf are skipped.

    Args:
        values: the raw curve.
        weight: 0 (no smoothing) up to but not including 1.
    """
    if weight <= 0:
        return list(values)
    smoothed, last, debias = [], 0.0, 0.0
    for value in values:
        if math.isfinite(value):
            last = last * weight + (1 - weight) * value
            debias = debias * weight + (1 - weight)
        smoothed.append(last / debias if debias else value)
    return smoothed
