"""Errors of the what-if explorer (:mod:`mlnb.whatif`): a model, data set or edit it cannot use."""

from __future__ import annotations

from mlnb.exceptions.base import InvalidArgumentError, MissingDependencyError, MlnbError


class WhatIfError(InvalidArgumentError):
    """A model, data set or edit the what-if explorer cannot work with."""


class PredictError(WhatIfError):
    """The user's model (or predict function) raised while predicting."""

    def __init__(self, error: BaseException, n_rows: int) -> None:
        self.error = error
        self.n_rows = n_rows
        detail = str(error).strip().splitlines()[0] if str(error).strip() else "no message"
        super().__init__(
            f"the model's predict raised {type(error).__name__} on {n_rows} row(s): {detail.rstrip('.')}."
        )


class PredictionShapeError(WhatIfError):
    """Predict returned an array whose shape does not fit the batch or the task."""

    def __init__(self, got: tuple[int, ...], expected: str) -> None:
        self.got = got
        self.expected = expected
        super().__init__(f"the model's predict returned shape {got}; expected {expected}.")


class FeatureMismatchError(WhatIfError):
    """The data's columns do not match the feature names the model was fitted on."""

    def __init__(self, missing: list[str], extra: list[str]) -> None:
        self.missing = missing
        self.extra = extra
        parts = []
        if missing:
            parts.append(f"the data lacks {_names(missing)}")
        if extra:
            parts.append(f"has {_names(extra)} the model never saw")
        super().__init__(
            f"the data's columns do not match the model's feature_names_in_: {' and '.join(parts)}."
        )


class WitUnavailableError(MissingDependencyError):
    """``to_wit()`` was called but ``witwidget`` (and so TensorFlow) is not installed."""

    def __init__(self) -> None:
        MlnbError.__init__(
            self,
            "to_wit() needs witwidget, which needs tensorflow and is not installed — "
            'run `pip install "mlnb[wit]"`, or keep using mlnb\'s WhatIf panel, which needs neither.',
        )
        self.package = "witwidget"
        self.feature = "to_wit()"
        self.extra = "wit"


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"{shown}{more}"
