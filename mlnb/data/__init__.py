"""Data validation and drift for pandas frames, in the spirit of TFDV, without TensorFlow.

* :func:`profile` — per-column statistics (type, counts, missing, unique,
  quantiles, histograms, top values);
* :func:`infer_schema` / :class:`Schema` — types, domains, ranges and allowed
  missing rates, saved as JSON a person can edit;
* :func:`validate` — anomalies of new data against a schema;
* :func:`compare` — per-column drift/skew (L-infinity for counted columns,
  Jensen-Shannon distance in base 2 for numeric ones) with thresholds and verdicts;
* :func:`overview` — an ipywidgets panel showing all of it.

Names are resolved lazily so ``import mlnb.data`` does not import pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "profile": "mlnb.data.profile:profile",
    "DataProfile": "mlnb.data.profile:DataProfile",
    "ColumnProfile": "mlnb.data.profile:ColumnProfile",
    "infer_schema": "mlnb.data.schema:infer_schema",
    "load_schema": "mlnb.data.schema:load_schema",
    "Schema": "mlnb.data.schema:Schema",
    "ColumnSchema": "mlnb.data.schema:ColumnSchema",
    "validate": "mlnb.data.validate:validate",
    "Anomaly": "mlnb.data.validate:Anomaly",
    "ValidationReport": "mlnb.data.validate:ValidationReport",
    "compare": "mlnb.data.drift:compare",
    "DriftReport": "mlnb.data.drift:DriftReport",
    "ColumnDrift": "mlnb.data.drift:ColumnDrift",
    "overview": "mlnb.data.overview:overview",
    "DataOverview": "mlnb.data.overview:DataOverview",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module_name, _, attribute = _LAZY[name].partition(":")
        value = getattr(importlib.import_module(module_name), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mlnb.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
