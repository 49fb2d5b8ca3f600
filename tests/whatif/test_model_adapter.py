"""``ModelAdapter.predict_in_chunks``: the same scores, a bounded number of rows per call."""

from __future__ import annotations

import numpy as np

from mlnb.whatif.adapters import make_adapter


def test_chunks_give_the_same_scores(numeric_frame, fitted_logistic, counting_predict):
    frame, label = numeric_frame(n=250)
    model = fitted_logistic(frame, label)
    adapter = make_adapter(model, frame)
    counting = counting_predict(model.predict_proba)
    adapter.raw_predict = counting
    chunked = adapter.predict_in_chunks(frame, chunk_rows=100)
    assert counting.calls == [100, 100, 50]
    np.testing.assert_allclose(chunked, model.predict_proba(frame), rtol=1e-12)
    counting.calls.clear()
    adapter.predict_in_chunks(frame)  # up to a million rows: one call
    assert counting.calls == [250]
