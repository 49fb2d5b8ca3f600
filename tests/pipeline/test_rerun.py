"""mlnb rerun: replay the stored notebook with the recorded params and seed, compare values."""

from __future__ import annotations

import pytest

from mlnb.cli import main
from mlnb.pipeline.rerun import compare_values, rerun
from mlnb.pipeline.run import run
from mlnb.pipeline.section import section_of
from tests.helpers import START_TIMEOUT

pytestmark = pytest.mark.kernel


def test_compare_values_verdicts():
    changes = compare_values({"a": 1, "b": 2.0, "c": 3}, {"a": 1, "b": 2.5, "d": 4})
    assert [(c.name, c.verdict) for c in changes] == [
        ("a", "same"),
        ("b", "differs"),
        ("c", "only in original"),
        ("d", "only in rerun"),
    ]


def test_rerun_reproduces_seeded_values_and_reports_the_rest(
    notebook, tmp_path, capsys, _run_store_in_tmp
):
    home = _run_store_in_tmp
    path = notebook(
        "train.ipynb",
        [
            "import mlnb, random, time\nmlnb.record('draw', random.random() * lr)\nmlnb.record('clock', time.time())"
        ],
        parameters="lr = 1.0",
    )
    original = run(
        path, {"lr": 2.0}, tmp_path / "out" / "train.ipynb", seed=11, start_timeout=START_TIMEOUT
    )
    path.write_text("edited later: not a notebook any more")  # the stored copy is what reruns
    report = rerun(original.id[:6], start_timeout=START_TIMEOUT)
    replay = section_of(report.replay)
    assert report.replay.status == "finished" and replay.rerun_of == original.id
    assert replay.params == {"lr": 2.0} and replay.seed == 11
    verdicts = {c.name: c.verdict for c in report.changes}
    assert verdicts == {"draw": "same", "clock": "differs"} and not report.reproduced
    assert report.text().splitlines()[-1] == "✗ not reproduced: clock differ"
    assert (
        main(["rerun", original.id, "--in", str(home), "--start-timeout", str(START_TIMEOUT)]) == 1
    )
    assert "draw      " in capsys.readouterr().out
