"""A tqdm progress bar whose postfix shows a run's latest logged metrics."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from mlnb import display
from mlnb.runs.session import require_active

if TYPE_CHECKING:
    from mlnb.runs.run import Run

#: seconds between postfix refreshes (formatting every iteration would slow the loop)
POSTFIX_INTERVAL = 0.2


def progress(
    iterable: Iterable[Any] | None = None,
    *,
    run: Run | None = None,
    keys: Sequence[str] | None = None,
    include_system: bool = False,
    **tqdm_kwargs: Any,
) -> Any:
    """A tqdm bar (the widget one in a Jupyter kernel) over ``iterable`` whose postfix shows ``run.latest`` (a widget in notebooks).

    Args:
        iterable: what to iterate over (or None and call ``update`` yourself).
        run: the run to show (default: the active run).
        keys: which metrics (default: all but ``sys/...``).
        include_system: also show ``sys/...`` metrics when ``keys`` is None.
        **tqdm_kwargs: passed to tqdm (``total``, ``desc``, ...).

    Raises:
        NoActiveRunError: no run given and none is active.
    """
    tqdm = _tqdm_class(widget="file" not in tqdm_kwargs)
    target = run if run is not None else require_active("show progress")

    def postfix() -> dict[str, str]:
        latest = target.latest
        names = (
            keys
            if keys is not None
            else [k for k in latest if include_system or not k.startswith("sys/")]
        )
        return {k: display.format_value(latest[k]) for k in names if k in latest}

    class RunProgress(tqdm):  # type: ignore[misc, valid-type]
        """tqdm that refreshes its postfix from the run at most every POSTFIX_INTERVAL s."""

        _next_postfix = 0.0

        def _maybe_postfix(self) -> None:
            now = time.monotonic()
            if now >= self._next_postfix:
                self._next_postfix = now + POSTFIX_INTERVAL
                self.set_postfix(postfix(), refresh=False)

        def __iter__(self) -> Any:
            for item in super().__iter__():
                yield item
                self._maybe_postfix()

        def close(self) -> None:
            if not self.disable:  # the final display shows the final metrics
                self.set_postfix(postfix(), refresh=False)
            super().close()

        def update(self, n: float | None = 1) -> bool | None:
            self._maybe_postfix()
            return super().update(n)

    tqdm_kwargs.setdefault("desc", target.name)
    return RunProgress(iterable, **tqdm_kwargs)


def _tqdm_class(widget: bool) -> Any:
    """tqdm's widget bar inside a Jupyter kernel, its text bar anywhere else."""
    if widget:
        try:
            from IPython import get_ipython

            shell = get_ipython()
            if shell is not None and "IPKernelApp" in shell.config:
                from tqdm.notebook import tqdm as notebook_tqdm

                return notebook_tqdm
        except ImportError:  # no IPython or no ipywidgets: a text bar
            pass
    from tqdm.std import tqdm as text_tqdm

    return text_tqdm
