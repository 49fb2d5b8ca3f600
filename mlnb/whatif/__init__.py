"""What-if exploration for any model: WIT-style panels without TensorFlow.

``WhatIf(model, data, target)`` is an ipywidgets panel (datapoint editor, nearest
counterfactual, partial dependence + ICE, distributions, performance & fairness).
The computations are plain functions usable without widgets:
:func:`partial_dependence`, :func:`nearest_counterfactual`,
:func:`classification_metrics`, :func:`slice_thresholds`, :func:`make_adapter`.

Names resolve lazily, so importing one module (say ``pdp``) does not import
ipywidgets.
"""

from __future__ import annotations

from mlnb import lazy as _lazy

_LAZY: dict[str, str] = {
    "WhatIf": "mlnb.whatif.explorer:WhatIf",
    "make_adapter": "mlnb.whatif.adapters:make_adapter",
    "ModelAdapter": "mlnb.whatif.model_adapter:ModelAdapter",
    "nearest_counterfactual": "mlnb.whatif.counterfactual:nearest_counterfactual",
    "Counterfactual": "mlnb.whatif.counterfactual:Counterfactual",
    "partial_dependence": "mlnb.whatif.pdp:partial_dependence",
    "partial_dependence_2d": "mlnb.whatif.pdp:partial_dependence_2d",
    "grid_values": "mlnb.whatif.pdp:grid_values",
    "classification_metrics": "mlnb.whatif.performance:classification_metrics",
    "regression_metrics": "mlnb.whatif.performance:regression_metrics",
    "optimal_threshold": "mlnb.whatif.performance:optimal_threshold",
    "slice_thresholds": "mlnb.whatif.performance:slice_thresholds",
    "slice_metrics": "mlnb.whatif.performance:slice_metrics",
    "describe_features": "mlnb.whatif.features:describe_features",
    "encoder_categories": "mlnb.whatif.features:encoder_categories",
    "prepare_data": "mlnb.whatif.dataset:prepare_data",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = _lazy.attach(__name__, _LAZY, globals())
