"""mlnb.record values and reading them back (with scrapbook's scraps)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlnb.exceptions import (
    InvalidArgumentError,
)
from mlnb.pipeline import record as recording


def test_record_converts_numpy_and_refuses_objects():
    assert recording.record("acc", np.float32(0.5)) == ("acc", 0.5)
    assert recording.record("curve", np.arange(3)).value == [0, 1, 2]
    assert recording.record("nan", float("nan")).value == "nan"
    assert recording.recorded()["curve"] == [0, 1, 2]
    with pytest.raises(InvalidArgumentError) as info:
        recording.record("model", object())
    assert (
        str(info.value)
        == "mlnb.record can store numbers, strings, booleans, lists and dicts; model is a object."
    )
    with pytest.raises(InvalidArgumentError, match="needs a non-empty name"):
        recording.record("", 1)


def test_read_collects_mlnb_records_and_scrapbook_scraps(tmp_path):
    outputs = [
        {
            "output_type": "display_data",
            "data": {recording.RECORD_MIMETYPE: {"name": "acc", "value": 0.9}},
            "metadata": {},
        },
        {
            "output_type": "display_data",
            "data": {
                "application/scrapbook.scrap.json+json": {
                    "name": "loss",
                    "data": 0.1,
                    "encoder": "json",
                    "version": 1,
                }
            },
            "metadata": {},
        },
        {
            "output_type": "display_data",
            "data": {
                "application/scrapbook.scrap.text+json": {
                    "name": "note",
                    "data": "hi",
                    "encoder": "text",
                    "version": 1,
                }
            },
            "metadata": {},
        },
        {"output_type": "stream", "name": "stdout", "text": "noise"},
    ]
    nb = {"cells": [{"cell_type": "code", "outputs": outputs, "source": "", "metadata": {}}]}
    path = tmp_path / "out.ipynb"
    path.write_text(json.dumps(nb))
    assert recording.read(path) == {"acc": 0.9, "loss": 0.1, "note": "hi"}


@pytest.mark.kernel
def test_a_record_on_a_cells_last_line_is_shown_once(kernel) -> None:
    nb = kernel(["import mlnb\nmlnb.record('acc', 0.5)", "r = mlnb.record('n', 3)\nr.value"])
    outputs = nb.cells[0].outputs
    assert [o["output_type"] for o in outputs] == ["display_data"]  # no Out[] echo
    assert outputs[0]["data"]["text/plain"] == "mlnb.record: acc = 0.5"
    assert [o["output_type"] for o in nb.cells[1].outputs] == ["display_data", "execute_result"]
    assert nb.cells[1].outputs[1]["data"]["text/plain"] == "3"
