"""infer_schema and the Schema's JSON round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from mlnb.data import Schema, infer_schema, load_schema, validate


def test_inferred_schema_round_trips_through_json(
    mixed_frame: pd.DataFrame, tmp_path: Path
) -> None:
    schema = infer_schema(mixed_frame)
    path = schema.save(tmp_path / "nested" / "schema.json")
    data = json.loads(path.read_text())
    assert data["version"] == 1
    assert [c["name"] for c in data["columns"]] == list(mixed_frame.columns)
    city = next(c for c in data["columns"] if c["name"] == "city")
    assert city == {
        "name": "city",
        "kind": "categorical",
        "dtype": "str",
        "required": True,
        "max_missing_rate": 0.0,
        "domain": ["lyon", "nice", "paris"],
    }
    joined = next(c for c in data["columns"] if c["name"] == "joined")
    assert joined["min"].startswith("2024-01-")
    assert load_schema(path) == schema
    assert Schema.load(path) == schema
    assert validate(mixed_frame, path).ok


def test_missing_rate_rounds_up_to_a_whole_percent() -> None:
    frame = pd.DataFrame({"a": [1.0] * 97 + [np.nan] * 3, "b": [1.0] * 100})
    schema = infer_schema(frame)
    assert schema["a"].max_missing_rate == 0.03
    assert schema["b"].max_missing_rate == 0.0
