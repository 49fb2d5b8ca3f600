"""Item 12: magics that showed a traceback from inside mlnb — now one sentence, or the user's own
cell traceback exactly as a plain cell shows it. In-process shell (``shell`` fixture)."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from mlnb.runs import Store, session
from tests.helpers import strip_ansi


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "1e300"])
def test_gpu_panel_interval_must_be_finite(shell, fake_gpu, value):
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("gpu_panel", f"--interval {value}")
    assert str(caught.value) == (
        f"panel interval must be a number of seconds from 0.05 to 3600, got {float(value)!r}."
    )
    shell.run_line_magic("gpu_panel", "--stop")  # nothing started, nothing to overflow


def test_run_start_with_a_bad_interval_leaves_no_run(shell, home, capsys):
    for value in ("-1", "nan", "inf"):
        with pytest.raises(UsageError) as caught:
            shell.run_line_magic("run_start", f"x --no-live --system-interval {value}")
        assert str(caught.value) == (
            "system-metrics interval must be a number of seconds from 0.05 to 86400 (0 or None "
            f"turns sampling off), got {float(value)!r}."
        )
        assert session.active_run() is None
    shell.run_line_magic("run_start", "y --no-live --system-interval 0")  # not refused
    assert session.active_run().name == "y"
    shell.run_line_magic("run_stop", "")
    with Store(readonly=True) as store:
        assert [r.name for r in store.list_runs()] == ["y"]


def test_run_compare_draws_a_metric_named_like_mathtext(shell, home, capsys):
    import mlnb.runs

    ids = []
    for name in ("$a$", "b"):
        run = mlnb.runs.start(name, system_interval=None, active=False)
        for step in range(3):
            run.log({r"$\undefinedcmd$": float(step), "plain$": 1.0}, step=step)
        ids.append(run.finish().id)
    shell.run_line_magic("run_compare", " ".join(ids))
    figure = mlnb.runs.compare(ids)
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == [r"\$\undefinedcmd\$", r"plain\$"]  # shown literally, not as a formula


@pytest.mark.parametrize("magic", ["repro", "oom_guard"])
def test_a_syntax_error_in_the_cell_shows_like_a_plain_cell(shell, capsys, magic):
    result = shell.run_cell(f"%%{magic}\nx = 1\ny = (\n")
    shown = [line.strip() for line in strip_ansi(capsys.readouterr().out).strip().splitlines()]
    assert not result.success and isinstance(result.error_in_exec, Exception)
    assert len(shown) == 4 and shown[0].startswith("Cell In["), shown  # no mlnb frame
    assert shown[0].endswith(", line 2") and shown[1:] == [
        "y = (",
        "^",
        "SyntaxError: '(' was never closed",
    ]


@pytest.mark.parametrize("magic", ["repro", "oom_guard"])
def test_top_level_await_is_one_sentence(shell, magic):
    with pytest.raises(UsageError) as caught:
        shell.run_cell_magic(magic, "", "import asyncio\nawait asyncio.sleep(0)\n")
    assert str(caught.value) == (
        f"%%{magic} cannot run top-level `await` ('await' outside function) — run that code in "
        "a plain cell, or put it in an async function and call asyncio.run(...) in the cell."
    )
