"""The panel's message area: errors, warnings and notes, each one sentence.

Errors are keyed by the area that raised them ("prediction", "partial dependence"),
so a later success in that area clears its error; warnings are about the edited
values (outside the training range, an unseen category); notes say what the panel
chose for the user (a sample, a transform). :meth:`MessageArea.guard` turns an
:class:`~mlnb.exceptions.MlnbError` raised by an update into the area's error, so
one failing tab never stops the others.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as widgets

from mlnb.exceptions import MlnbError, WhatIfError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class MessageArea:
    """Every sentence the panel shows, and the HTML widget that shows them."""

    def __init__(self) -> None:
        self.widget = widgets.HTML()
        self.errors: dict[str, str] = {}
        self.warnings: list[str] = []
        self.notes: list[str] = []

    @property
    def messages(self) -> list[str]:
        """Errors, then warnings, then notes."""
        return [*self.errors.values(), *self.warnings, *self.notes]

    def guard(self, area: str, update: Callable[[], None]) -> None:
        """Run ``update``; its :class:`MlnbError` becomes ``area``'s error, a success clears it."""
        try:
            update()
        except MlnbError as exc:
            self.errors[area] = f"{area}: {exc}"
        else:
            self.errors.pop(area, None)

    def render(self) -> None:
        """Show the current sentences, escaped, errors first."""
        parts = [
            f"<div style='color:#b00020'>⚠ {html.escape(m)}</div>" for m in self.errors.values()
        ]
        parts += [f"<div style='color:#a05a00'>△ {html.escape(m)}</div>" for m in self.warnings]
        parts += [f"<div style='color:#555'>ℹ {html.escape(m)}</div>" for m in self.notes]
        self.widget.value = "".join(parts)


def check_columns(option: str, names: list[str], data: pd.DataFrame) -> None:
    """Every name in ``names`` is a column of ``data``, or one sentence naming the others."""
    columns = [str(c) for c in data.columns]
    unknown = [n for n in names if str(n) not in columns]
    if unknown:
        shown = ", ".join(columns[:12]) + (
            f" and {len(columns) - 12} more" if len(columns) > 12 else ""
        )
        raise WhatIfError(
            f"{option} names {', '.join(map(repr, unknown))}, not a column of the data; "
            f"its columns are: {shown}."
        )
