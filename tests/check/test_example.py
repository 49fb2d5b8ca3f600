"""The example notebook with planted hidden state: what docs/check.md shows is what mlnb check finds."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlnb.checking.api import check

pytestmark = pytest.mark.kernel

EXAMPLE = Path(__file__).resolve().parents[2] / "example_notebooks" / "07_hidden_state.ipynb"


def test_the_example_is_not_reproducible_for_the_three_planted_reasons():
    report = check(EXAMPLE, runs=2, seed=0)
    found = {(f.kind, f.cell) for f in report.findings}
    assert {
        ("out-of-order-definition", 2),  # threshold from cell 5, run first
        ("differs", 2),
        ("differs", 3),  # the unseeded draw against its saved value
        ("out-of-order", 4),
        ("undeclared-input", None),  # extra_labels.txt
    } <= found
    assert [c.status for c in report.cells] == ["same", "differs", "differs", "same", "same"]
    assert report.suggestion() == "inputs: [extra_labels.txt]"
    assert report.exit_code == 1
    # np.random.normal is seeded by mlnb's pinning: the same in both pinned runs
    assert not [f for f in report.findings if f.kind == "nondeterministic"]
