"""Runs that execute elsewhere are recorded from outside and read back like any other run."""

from __future__ import annotations

import pytest

from mlnb.exceptions import InvalidArgumentError, RunNotFoundError
from mlnb.runs import external
from mlnb.runs.session import get_run, open_store


def test_begin_writes_a_running_run_and_end_how_it_ended(home, tmp_path):
    output = tmp_path / "out.ipynb"
    output.write_text("{}")
    begun = external.begin(
        "train",
        config={"lr": 0.1, "layers": [32, 16]},
        tags=["batch", "batch", "gpu"],
        provenance={"job": {"node": "n7"}},
    )
    stored = get_run(begun.id)
    assert stored.status == "running" and stored.ended is None
    assert stored.config == {"lr": 0.1, "layers": [32, 16]} and stored.tags == ("batch", "gpu")
    assert stored.project == "default" and stored.provenance == {"job": {"node": "n7"}}

    final = external.end(
        begun,
        "failed",
        error="ValueError: nope",
        summary={"acc": 0.5},
        provenance={"exit": {"code": 1}},
        artifacts=[(output, "notebook"), (tmp_path / "missing.ipynb", "notebook")],
    )
    stored = get_run(begun.id[:6])
    assert stored == final
    assert (stored.status, stored.error, stored.summary) == (
        "failed",
        "ValueError: nope",
        {"acc": 0.5},
    )
    assert stored.provenance == {"job": {"node": "n7"}, "exit": {"code": 1}}
    assert stored.ended is not None and stored.ended >= stored.started
    artifacts = open_store().artifacts(begun.id)
    assert [(a.name, a.kind) for a in artifacts] == [("out.ipynb", "notebook")]


def test_record_writes_a_finished_run_in_one_call_and_draft_writes_nothing(home):
    done = external.record("lost task", "crashed", error="WorkerDied: exit 137", tags=["sweep"])
    assert get_run(done.id).status == "crashed" and get_run(done.id).error.startswith("WorkerDied")
    draft = external.draft("not stored", project="p")
    assert draft.status == "running" and draft.project == "p"
    with pytest.raises(RunNotFoundError):
        get_run(draft.id)


def test_bad_status_and_bad_names_are_refused_in_one_sentence(home):
    begun = external.begin("x")
    with pytest.raises(InvalidArgumentError) as info:
        external.end(begun, "running")
    assert str(info.value) == (
        "status must be one of finished, failed, killed, crashed, pruned, got 'running'."
    )
    assert get_run(begun.id).status == "running"  # nothing written
    with pytest.raises(InvalidArgumentError) as info:
        external.begin("two\nlines")
    assert str(info.value) == "a run name must be a non-empty one-line string, got 'two\\nlines'."


def test_a_record_survives_to_dict_and_from_dict(home):
    from mlnb.runs.records import RunRecord

    final = external.record("round trip", "finished", config={"x": float("inf")})
    again = RunRecord.from_dict(final.to_dict())
    assert (again.id, again.status, again.tags, again.ended) == (
        final.id,
        final.status,
        final.tags,
        final.ended,
    )
    assert again.config == {"x": "inf"}  # to_dict is strict JSON: infinities become text


def test_end_takes_numpy_summaries_and_stores_what_it_returns(home):
    """A sweep hands NumPy numbers: they were a raw TypeError and the run stayed running."""
    np = pytest.importorskip("numpy")
    final = external.end(
        external.begin("np"), "finished", summary={"acc": np.float64(0.5), "n": np.int64(3), 1: 2}
    )
    assert final.summary == {"acc": 0.5, "n": 3, "1": 2}
    assert get_run(final.id).summary == final.summary and get_run(final.id).status == "finished"
