"""mlnb rerun: find a run in the store, replay the stored notebook with the recorded params and
seed, compare values."""

from __future__ import annotations

import pytest

from mlnb.cli import main
from mlnb.exceptions import (
    PipelineError,
    PipelineRunNotFoundError,
    RunNotFoundError,
)
from mlnb.pipeline.rerun import compare_values, find_run, rerun
from mlnb.pipeline.run import run
from mlnb.pipeline.section import section_of
from mlnb.runs import external
from tests.helpers import START_TIMEOUT


@pytest.mark.kernel
def test_compare_values_verdicts():
    changes = compare_values({"a": 1, "b": 2.0, "c": 3}, {"a": 1, "b": 2.5, "d": 4})
    assert [(c.name, c.verdict) for c in changes] == [
        ("a", "same"),
        ("b", "differs"),
        ("c", "only in original"),
        ("d", "only in rerun"),
    ]


@pytest.mark.kernel
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


@pytest.mark.kernel
def test_rerun_finds_a_run_through_the_store_from_anywhere(notebook, tmp_path, monkeypatch):
    path = notebook("t.ipynb", ["import mlnb, random\nmlnb.record('draw', random.random())"])
    original = run(path, output=tmp_path / "deep" / "o.ipynb", seed=3, start_timeout=START_TIMEOUT)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the store ($MLNB_HOME) answers, from any folder
    report = rerun(original.id, start_timeout=START_TIMEOUT)
    assert report.reproduced and section_of(report.replay).rerun_of == original.id


def test_runs_are_found_in_the_store_by_id_or_unique_prefix(tmp_path, pipeline_record):
    for run_id in ("abc123", "abd999"):
        begun = external.begin(
            "nb", run_id=run_id, provenance=pipeline_record(run_id, "running").provenance
        )
        external.end(begun, "finished")
    hand_logged = external.record("by hand", "finished")
    assert find_run("abc1").id == "abc123"
    assert section_of(find_run("abd")).params == {"lr": 0.1}
    with pytest.raises(RunNotFoundError, match="'ab' matches 2 runs"):
        find_run("ab")
    with pytest.raises(PipelineRunNotFoundError) as info:  # the old name is the same error
        find_run("zzz")
    assert str(info.value).startswith("no run 'zzz' in the run store at ")
    with pytest.raises(PipelineError, match="was not run by mlnb's pipeline"):
        find_run(hand_logged.id)


def _stored(tmp_path, pipeline_record, raw: bytes, run_id: str = "fed123"):
    """A finished pipeline run in the store whose notebook copy holds ``raw``."""
    from mlnb.pipeline.lifecycle import store_snapshot

    sha256, copy = store_snapshot(raw)
    begun = pipeline_record(run_id, "running")
    section = dict(begun.provenance["pipeline"], snapshot=str(copy), notebook_sha256=sha256)
    record = external.begin("nb", run_id=run_id, provenance={"pipeline": section})
    external.end(record, "finished")
    return copy, sha256


def test_rerun_refuses_a_stored_notebook_that_changed_or_is_gone(tmp_path, pipeline_record, capsys):
    """Issue 14 item 2: an edited copy ran silently and still printed "✓ reproduced"."""
    import nbformat

    from mlnb.exceptions import StoredNotebookError
    from mlnb.pipeline.rerun import stored_notebook

    raw = nbformat.writes(nbformat.v4.new_notebook()).encode()
    copy, sha256 = _stored(tmp_path, pipeline_record, raw)
    assert copy.parent == _store_home() / "notebooks" and copy.name == f"{sha256}.ipynb"
    assert stored_notebook(find_run("fed123")) == (copy, None)  # verified
    copy.write_bytes(raw.replace(b"{", b"{ ", 1))  # edited after the run
    expected = (
        f"run fed123's stored notebook {copy} was changed since the run (its SHA-256 is not the "
        f"recorded {sha256[:12]}…), so a replay would not run what ran — pass --allow-changed "
        "(allow_changed=True) to replay it anyway."
    )
    with pytest.raises(StoredNotebookError) as info:
        rerun("fed123")
    assert str(info.value) == expected
    assert main(["rerun", "fed123"]) == 2
    assert capsys.readouterr().err.strip() == f"mlnb: {expected}"
    path, warning = stored_notebook(find_run("fed123"), allow_changed=True)
    assert path == copy and warning.endswith("; the replay may not run what the original ran.")
    copy.unlink()  # gone, and the input notebook (nb.ipynb, relative) is not there either
    with pytest.raises(StoredNotebookError, match=r"stored notebook .* is missing, so a replay"):
        rerun("fed123")
    with pytest.raises(StoredNotebookError, match=r"and its input nb\.ipynb is gone too"):
        rerun("fed123", allow_changed=True)


def _store_home():
    import os
    from pathlib import Path

    return Path(os.environ["MLNB_HOME"])


@pytest.mark.kernel
def test_rerun_with_allow_changed_warns_loudly_and_is_never_reproduced(notebook, tmp_path, capsys):
    path = notebook("t.ipynb", ["import mlnb\nmlnb.record('v', x)"])
    original = run(path, output=tmp_path / "o.ipynb", seed=1, start_timeout=START_TIMEOUT)
    copy = section_of(original).snapshot
    assert copy is not None
    from pathlib import Path

    Path(copy).unlink()
    code = main(["rerun", original.id, "--allow-changed", "--start-timeout", str(START_TIMEOUT)])
    captured = capsys.readouterr()
    assert code == 1  # same values, but not the verified notebook: not reproduced
    assert (
        f"mlnb: WARNING: run {original.id}'s stored notebook {copy} is missing — replaying the input notebook {path} AS IT IS NOW"
        in captured.err
    )
    assert "✗ not reproduced" in captured.out and "⚠ run" in captured.out
