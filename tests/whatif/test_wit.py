"""Handing the explorer's model and data to Google's What-If Tool (``witwidget``)."""

from __future__ import annotations

import pytest


def test_to_wit_without_witwidget_names_the_alternative(panel):
    from mlnb.exceptions import WitUnavailableError
    from mlnb.whatif.wit import wit_available

    if wit_available():
        pytest.skip("witwidget is installed here; the not-installed path cannot be shown")
    with pytest.raises(WitUnavailableError) as caught:
        panel.to_wit()
    assert str(caught.value) == (
        "to_wit() needs witwidget, which needs tensorflow and is not installed — run "
        '`pip install "mlnb[wit]"`, or keep using mlnb\'s WhatIf panel, which needs neither.'
    )


def test_to_wit_builds_a_config_when_witwidget_is_installed(panel):
    from mlnb.whatif.wit import wit_available

    if not wit_available():
        pytest.skip("witwidget (which needs tensorflow) is not installed")
    builder = panel.to_wit()
    config = builder.build()
    assert config["model_type"] == "classification"
    assert config["label_vocab"] == ["no", "yes"]
