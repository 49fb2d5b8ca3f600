"""The user's edits, kept per row *position* (index labels may repeat).

An edit that sets a feature back to the row's own value is no edit: it is dropped,
and a row without edits is forgotten, so :meth:`RowEdits.edited_rows` lists only
rows that differ from the data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlnb.whatif.editor import same_value

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class RowEdits:
    """``{position: {feature: value}}`` of every edited row."""

    def __init__(self) -> None:
        self._by_position: dict[int, dict[str, Any]] = {}

    def of(self, position: int) -> dict[str, Any]:
        """The edits of row ``position`` (a copy; empty when none)."""
        return dict(self._by_position.get(position, {}))

    def any(self, position: int) -> bool:
        """Whether row ``position`` has an edit."""
        return bool(self._by_position.get(position))

    def record(self, position: int, name: str, value: Any, original: Any) -> Any:
        """Set ``name`` of row ``position``; returns the value now in force.

        A value equal to the row's ``original`` removes the edit and returns ``original``.
        """
        edits = self._by_position.setdefault(position, {})
        if same_value(value, original):
            edits.pop(name, None)
            value = original
        else:
            edits[name] = value
        if not edits:
            self._by_position.pop(position, None)
        return value

    def drop(self, position: int) -> None:
        """Forget every edit of row ``position``."""
        self._by_position.pop(position, None)

    def edited_rows(self, data: pd.DataFrame) -> pd.DataFrame:
        """The edited rows of ``data``, with the edits applied, in position order."""
        edits = {pos: dict(e) for pos, e in sorted(self._by_position.items()) if e}
        rows = data.iloc[list(edits)].copy()
        for i, changed in enumerate(edits.values()):
            for name, value in changed.items():
                rows.iloc[i, rows.columns.get_loc(name)] = value
        return rows
