"""What the explorer's tabs need from the explorer: :class:`ExplorerHost`.

The views (:mod:`~mlnb.whatif.views`, :mod:`~mlnb.whatif.performance_view`) and
:mod:`~mlnb.whatif.wit` read the explorer's state and ask it for updates through
this protocol only; they never import :mod:`mlnb.whatif.explorer`.
:class:`~mlnb.whatif.explorer.WhatIf` satisfies it. Imports point one way:
``explorer`` → ``views`` / ``performance_view`` / ``wit`` → ``host`` and the
computation modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from mlnb.whatif.counterfactual import Counterfactual
    from mlnb.whatif.features import Feature
    from mlnb.whatif.model_adapter import ModelAdapter

#: The update areas :meth:`ExplorerHost.refresh` accepts.
AREAS = ("predict", "performance", "counterfactual", "pdp", "distribution", "views")


@runtime_checkable
class ExplorerHost(Protocol):
    """The explorer as its views see it: data, model, the edited point, and updates.

    Read by the views: ``data``, ``target``, ``adapter``, ``features``,
    ``feature_by_name``, ``scores`` (every row's prediction), ``y_true`` (the encoded
    target), ``sample_positions``, ``average_positions``, ``position``, ``edited_scores``, ``edited_point``,
    ``edited_values``, ``is_edited``, ``threshold``, ``messages``. Written by the views with their results:
    ``counterfactual``, ``slice_thresholds``, ``slice_feature``, ``threshold``.
    """

    data: pd.DataFrame
    target: pd.Series | None
    adapter: ModelAdapter | None
    features: list[Feature]
    feature_by_name: dict[str, Feature]
    scores: np.ndarray | None
    y_true: np.ndarray | None
    sample_positions: np.ndarray
    average_positions: np.ndarray
    position: int
    counterfactual: Counterfactual | None
    slice_thresholds: dict[Any, float] | None
    slice_feature: str | None

    @property
    def threshold(self) -> float:
        """The binary decision threshold on P(positive class)."""

    @threshold.setter
    def threshold(self, value: float) -> None: ...

    @property
    def edited_point(self) -> pd.Series:
        """The current point with the user's edits applied."""

    @property
    def edited_values(self) -> dict[str, Any]:
        """The current point with the user's edits, as ``{feature: value}``."""

    @property
    def is_edited(self) -> bool:
        """Whether the current row has an edit."""

    @property
    def edited_scores(self) -> np.ndarray | None:
        """The edited point's scores (its own row's when not edited), or None."""

    @property
    def messages(self) -> list[str]:
        """Every sentence the panel shows: errors, then warnings, then notes."""

    def refresh(self, *areas: str) -> None:
        """Ask for an update of ``areas`` (names from :data:`AREAS`), debounced."""

    def load_row(self, position: int) -> None:
        """Show row ``position`` (0-based), with any edits made to it before."""

    def point_frame(self, values: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """A one-row DataFrame of ``values`` (default: the edited point) with the data's dtypes."""

    def threshold_for(self, frame: pd.DataFrame) -> np.ndarray:
        """Per-row binary thresholds: the slider's, or each row's slice threshold."""

    def slice_of(self, values: pd.Series) -> np.ndarray:
        """The Performance tab's slice name of each value of the slice feature."""

    def row_values(self, position: int) -> dict[str, Any]:
        """Row ``position`` as ``{column: value}``."""
