"""Data checks logged to a run of mlnb.runs (the library; `%drift --log`: tests/magics/test_data.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlnb.data import compare, profile
from mlnb.data.to_run import log_to_run
from mlnb.exceptions import NoActiveRunError


def _frames():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(size=500), "city": rng.choice(["a", "b"], 500)})
    cur = ref.assign(x=ref["x"] + 1.0)
    return ref, cur


def test_drift_metrics_and_artifact_land_in_the_run(tmp_path):
    from mlnb.runs import Store, session

    run = session.start("checks", home=tmp_path, system_interval=None, active=False)
    ref, cur = _frames()
    logged = log_to_run(compare(ref, cur), run)
    log_to_run(profile(cur), run)
    run.finish()
    assert logged["drift/x"] > 0.1 and logged["drift/columns_drifted"] == 1
    with Store(home=tmp_path, readonly=True) as store:
        keys = store.metric_keys(run.id)
        artifacts = {a.name: a for a in store.artifacts(run.id)}
    assert "drift/x" in keys and "profile/x/missing_rate" in keys
    with open(artifacts["data/drift.json"].path) as handle:
        saved = json.load(handle)
    assert saved["drifted"] == ["x"] and saved["current_rows"] == 500


def test_no_active_run_is_one_sentence(monkeypatch):
    from mlnb.runs import session

    monkeypatch.setattr(session, "_active", None)
    ref, cur = _frames()
    with pytest.raises(NoActiveRunError, match=r"cannot log the data check: no run is active"):
        log_to_run(compare(ref, cur))
