"""validate(): every anomaly kind, with examples; an edited schema; the report; raise_for_anomalies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlnb.data import infer_schema, validate


def test_every_anomaly_kind_with_examples(mixed_frame: pd.DataFrame) -> None:
    schema = infer_schema(mixed_frame)
    serving = mixed_frame.drop(columns=["member"]).assign(extra=1)
    serving["age"] = serving["age"].astype(float)
    serving.loc[:4, "age"] = [150.0, -5.0, 200.0, np.nan, np.nan]
    serving.loc[:2, "city"] = ["tokyo", "tokyo", "oslo"]
    serving["rooms"] = serving["rooms"].astype(str)
    report = validate(serving, schema)
    found = {(a.column, a.kind): a for a in report.anomalies}
    assert set(found) == {
        ("age", "missing_rate"),
        ("age", "out_of_range"),
        ("city", "out_of_domain"),
        ("rooms", "type_change"),
        ("member", "missing_column"),
        ("extra", "new_column"),
    }
    assert (
        found[("age", "missing_rate")].description
        == "0.5% of rows are missing (2); the schema allows 0.0%."
    )
    assert found[("age", "missing_rate")].examples == ["row 3", "row 4"]
    out = found[("age", "out_of_range")]
    assert out.description.startswith("3 values (0.8%) out of range: 1 below ")
    assert "2 above" in out.description and "(highest 200)" in out.description
    assert out.examples[0] == "-5" and "200" in out.examples
    domain = found[("city", "out_of_domain")]
    assert (
        domain.description
        == "3 values (0.8%) outside the domain of 3: 2 unexpected distinct values."
    )
    assert domain.examples == ["'tokyo' ×2", "'oslo' ×1"]
    assert (
        found[("rooms", "type_change")].description
        == "kind changed from numeric to categorical (dtype str)."
    )
    assert found[("member", "missing_column")].description == (
        "required column is in the schema but not in the data."
    )
    assert report.summary() == "6 anomalies in 5 columns (400 rows checked)."
    metrics = report.to_metrics()
    assert metrics["validation/anomalies"] == 6.0 and metrics["validation/out_of_range"] == 1.0
    frame = report.to_frame()
    assert list(frame.columns) == ["column", "kind", "description", "examples"] and len(frame) == 6


def test_edited_schema_loosens_the_checks(mixed_frame: pd.DataFrame, tmp_path: Path) -> None:
    path = infer_schema(mixed_frame).save(tmp_path / "schema.json")
    data = json.loads(path.read_text())
    for column in data["columns"]:
        if column["name"] == "city":
            column["domain"].append("tokyo")
        if column["name"] == "member":
            column["required"] = False
    path.write_text(json.dumps(data))
    serving = mixed_frame.drop(columns=["member"])
    serving.loc[0, "city"] = "tokyo"
    assert validate(serving, path).ok


def test_report_html_is_escaped() -> None:
    schema = infer_schema(pd.DataFrame({"c": ["a", "b"]}))
    report = validate(pd.DataFrame({"c": ["<img src=x onerror=alert(1)>"]}), schema)
    assert "<img" not in report.html() and "&lt;img" in report.html()


def test_raise_for_anomalies_is_one_sentence_and_passes_clean_data(tmp_path):
    import pandas as pd

    from mlnb.data.schema import infer_schema
    from mlnb.data.validate import validate
    from mlnb.exceptions import DataCheckFailedError

    train = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    schema = infer_schema(train)
    assert validate(train, schema).raise_for_anomalies().ok
    with pytest.raises(DataCheckFailedError) as info:
        validate(
            pd.DataFrame({"x": [9.0, 2.0, 1.0], "c": ["a", "z", "a"]}), schema
        ).raise_for_anomalies()
    message = str(info.value)
    assert message.startswith(
        "strict data check failed: 2 anomalies in 2 columns (3 rows checked) — "
    )
    assert "\n" not in message and message.endswith(".")


def test_float32_data_and_its_float64_text_form_pass_each_others_schema() -> None:
    # a schema inferred from float32 Parquet has min 0.100000001; the same data from CSV
    # holds 0.1 — "228 below 0.1 (lowest 0.1)" before; and back the other way
    rng = np.random.default_rng(4)
    stored = pd.DataFrame({"x": rng.choice([0.1, 0.3, 0.7], 500).astype("float32")})
    stored["w"] = rng.normal(size=500).astype("float32")
    from_text = stored.apply(lambda column: [float(str(v)) for v in column.to_numpy()])
    assert from_text["x"].min() == 0.1 and from_text.dtypes.tolist() == ["float64"] * 2
    assert validate(from_text, infer_schema(stored)).ok
    assert validate(stored, infer_schema(from_text)).ok
    report = validate(from_text.assign(x=from_text["x"] + 0.01), infer_schema(stored))
    assert [a.kind for a in report.anomalies] == ["out_of_range"]
