"""Comparing runs: tables with filters, NaN-aware sorting, curves, parallel coordinates."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import mlnb
from mlnb.exceptions import InvalidArgumentError, RunNotFoundError
from mlnb.runs import compare, metrics_frame, parallel_coordinates, table


@pytest.fixture
def three_runs(home: Path) -> list[str]:
    ids = []
    for name, lr, loss, project, tags in (
        ("low", 0.01, 0.30, "cnn", ["sweep"]),
        ("diverged", 1.0, math.nan, "cnn", ["sweep"]),
        ("high", 0.1, 0.10, "mlp", []),
    ):
        run = mlnb.start(
            name,
            project=project,
            config={"lr": lr, "opt": {"name": "adam"}},
            tags=tags,
            system_interval=None,
        )
        for step in range(5):
            run.log({"loss": loss * (5 - step), "acc": step / 5}, step=step)
        run.finish("failed" if math.isnan(loss) else "finished")
        ids.append(run.id)
    return ids


def test_table_has_params_and_summaries_and_filters(three_runs: list[str]) -> None:
    frame = table()
    assert list(frame.columns[:9]) == [
        "id",
        "name",
        "project",
        "status",
        "started",
        "duration_s",
        "tags",
        "config.lr",
        "config.opt.name",
    ]
    assert set(frame["name"]) == {"low", "diverged", "high"}
    assert list(table(project="cnn")["name"]) == ["diverged", "low"]  # newest first
    assert list(table(tags=["sweep"], status="finished")["name"]) == ["low"]
    assert table(project="nothing").empty


def test_one_tag_as_a_string_is_that_tag_not_its_letters(three_runs: list[str]) -> None:
    """``tags="sweep"`` was read as the tags s, w, e, p: nothing matched, silently."""
    assert sorted(table(tags="sweep")["name"]) == ["diverged", "low"]
    assert [r.name for r in mlnb.runs.open_store().list_runs(tags="sweep", status="finished")] == [
        "low"
    ]


def test_nan_stays_nan_and_sorts_last_both_ways(three_runs: list[str]) -> None:
    ascending = table(sort_by="loss")
    descending = table(sort_by="loss", ascending=False)
    assert list(ascending["name"]) == ["high", "low", "diverged"]
    assert list(descending["name"]) == ["low", "high", "diverged"]
    assert math.isnan(ascending["loss"].iloc[-1])  # never turned into 0
    assert list(ascending[ascending["loss"] < 1]["name"]) == ["high", "low"]  # NaN fails filters


def test_bad_sort_column_is_one_sentence(three_runs: list[str]) -> None:
    with pytest.raises(
        InvalidArgumentError, match=r"cannot sort by 'los': not a column — columns are id, name, "
    ):
        table(sort_by="los")


def test_metrics_frame_is_long_form(three_runs: list[str]) -> None:
    frame = metrics_frame(["low", "high"], ["loss"])
    assert list(frame.columns) == ["run_id", "run", "key", "step", "value", "time", "cell"]
    assert len(frame) == 10 and set(frame["run"]) == {"low", "high"}


def test_compare_overlays_one_line_per_run(three_runs: list[str]) -> None:
    figure = compare(["low", "diverged", "high"], ["loss", "acc"])
    loss_axes, acc_axes = figure.axes
    assert loss_axes.get_title() == "loss" and len(loss_axes.lines) == 3
    assert [line.get_label().split(" ")[0] for line in acc_axes.lines] == [
        "low",
        "diverged",
        "high",
    ]
    assert list(loss_axes.lines[0].get_xdata()) == [0, 1, 2, 3, 4]
    with pytest.raises(RunNotFoundError, match="no run 'nope'"):
        compare(["nope"])
    with pytest.raises(InvalidArgumentError, match=r"none of the runs logged missing\."):
        compare(["low"], ["missing"])


def test_parallel_coordinates_draws_a_line_per_run(three_runs: list[str]) -> None:
    figure = parallel_coordinates("loss", ["lr", "opt.name"])
    (ax,) = figure.axes
    lines = [line for line in ax.lines if len(line.get_xdata()) == 3]
    assert len(lines) == 3
    assert sum(line.get_linestyle() == "--" for line in lines) == 1  # the NaN run, grey and dashed
    assert [t.get_text() for t in ax.get_xticklabels()] == ["lr", "opt.name", "loss"]
    with pytest.raises(InvalidArgumentError, match=r"no run has a summary metric 'f1'\."):
        parallel_coordinates("f1")


def test_returned_figures_display_as_pictures_without_matplotlib_inline(
    three_runs: list[str],
) -> None:
    """What IPython shows for the returned figure: a PNG, not ``<Figure size ...>``."""
    from IPython.core.formatters import DisplayFormatter

    formatter = DisplayFormatter()
    for figure in (compare(["low", "high"], ["loss"]), parallel_coordinates("loss", ["lr"])):
        data, _ = formatter.format(figure)
        assert data["image/png"].startswith(b"\x89PNG") and len(data["image/png"]) > 5_000
