"""Hand the explorer's model and data to Google's What-If Tool, when it is installed.

``witwidget`` needs TensorFlow; mlnb's own :class:`~mlnb.whatif.explorer.WhatIf`
needs neither. When ``witwidget`` is importable, :func:`wit_config` builds its
``WitConfigBuilder`` with a custom predict function that goes through the same
adapter the explorer uses, so scikit-learn, torch and plain callables all work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlnb.exceptions import WitUnavailableError
from mlnb.whatif.model_adapter import REGRESSION

if TYPE_CHECKING:  # pragma: no cover
    from mlnb.whatif.host import ExplorerHost


def wit_available() -> bool:
    """Whether ``witwidget`` (and with it TensorFlow) can be imported."""
    try:
        import witwidget.notebook.visualization  # noqa: F401
    except ImportError:
        return False
    return True


def wit_config(explorer: ExplorerHost) -> Any:
    """A ``WitConfigBuilder`` over the explorer's rows, model and target.

    Display it with ``witwidget.notebook.visualization.WitWidget(builder, height=...)``.

    Raises:
        WitUnavailableError: ``witwidget`` is not installed.
    """
    try:
        from witwidget.notebook.visualization import WitConfigBuilder
    except ImportError:
        raise WitUnavailableError() from None
    import pandas as pd

    if explorer.adapter is None:
        raise _no_model(explorer)
    adapter = explorer.adapter
    columns = list(explorer.data.columns)
    names = columns.copy()
    rows = explorer.data.copy()
    target_name = None
    if explorer.target is not None:
        target_name = str(explorer.target.name or "target")
        rows[target_name] = explorer.target.to_numpy()
        names.append(target_name)
    examples = rows.astype(object).values.tolist()

    def predict(batch: list[list[Any]]) -> list[Any]:
        frame = pd.DataFrame([example[: len(columns)] for example in batch], columns=columns)
        frame = frame.astype(explorer.data.dtypes.to_dict())
        return adapter.predict(frame).tolist()

    builder = WitConfigBuilder(examples, names).set_custom_predict_fn(predict)
    if adapter.task == REGRESSION:
        builder = builder.set_model_type("regression")
    else:
        builder = builder.set_model_type("classification").set_label_vocab(adapter.classes)
    if target_name is not None:
        builder = builder.set_target_feature(target_name)
    return builder


def _no_model(explorer: ExplorerHost) -> Exception:
    from mlnb.exceptions import WhatIfError

    return WhatIfError(
        f"the model could not be set up, so WIT cannot use it: {explorer.messages[0]}"
    )
