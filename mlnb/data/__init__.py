"""Data validation and drift for pandas frames, in the spirit of TFDV, without TensorFlow.

* :func:`profile` — per-column statistics (type, counts, missing, unique,
  quantiles, histograms, top values);
* :func:`infer_schema` / :class:`Schema` — types, domains, ranges and allowed
  missing rates, saved as JSON a person can edit;
* :func:`validate` — anomalies of new data against a schema;
* :func:`compare` — per-column drift/skew (L-infinity for counted columns,
  Jensen-Shannon distance in base 2 for numeric ones, or KS, chi-squared, PSI or
  Wasserstein) with thresholds and a SciPy test behind every verdict;
* :func:`overview` — an ipywidgets panel showing all of it;
* :func:`stream_profile` / :func:`stream_compare` — the same for Parquet files too big
  for memory, streamed a column group at a time (:mod:`mlnb.data.stream`).

This package imports pandas and ipywidgets, so nothing that ``import mlnb`` or
``%load_ext mlnb`` loads imports it at module level; the magics import it when
they run. The functions are bound here explicitly (not lazily) because each
shares its name with its module (``mlnb.data.profile`` the function vs. the
module): binding them last makes ``from mlnb.data import profile`` always give
the function.
"""

from __future__ import annotations

from mlnb.data.drift import ColumnDrift, DriftReport, compare
from mlnb.data.overview import DataOverview, overview
from mlnb.data.profile import ColumnProfile, DataProfile, profile
from mlnb.data.schema import ColumnSchema, Schema, infer_schema, load_schema
from mlnb.data.stream import StreamOptions, stream_compare, stream_profile
from mlnb.data.validate import Anomaly, ValidationReport, validate

__all__ = [
    "Anomaly",
    "ColumnDrift",
    "ColumnProfile",
    "ColumnSchema",
    "DataOverview",
    "DataProfile",
    "DriftReport",
    "Schema",
    "StreamOptions",
    "ValidationReport",
    "compare",
    "infer_schema",
    "load_schema",
    "overview",
    "profile",
    "stream_compare",
    "stream_profile",
    "validate",
]
