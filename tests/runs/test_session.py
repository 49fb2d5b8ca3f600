"""This process's runs: the active run behind mlnb.log, the registry, finishing at exit."""

from __future__ import annotations

import subprocess
import textwrap
import warnings
from pathlib import Path

import pytest

import mlnb
from mlnb.exceptions import (
    NoActiveRunError,
    RunActiveError,
)
from mlnb.runs import Store, session
from tests.helpers import PYTHON


def test_log_with_no_active_run_names_how_to_start_one(home: Path) -> None:
    with pytest.raises(NoActiveRunError) as caught:
        mlnb.log({"loss": 1.0})
    assert str(caught.value) == (
        "cannot log: no run is active — start one with `run = mlnb.start('name')` or "
        "`%run_start name`, or log to a run object with `run.log(...)`."
    )


def test_second_active_run_is_refused_clearly(home: Path) -> None:
    first = mlnb.start("first", system_interval=None)
    with pytest.raises(RunActiveError) as caught:
        mlnb.start("second", system_interval=None)
    assert str(caught.value) == (
        f"run 'first' ({first.id}) is still active — finish it with `mlnb.finish()` (or `%run_stop`), "
        "or pass replace=True (`%run_start --replace`) to finish it and start the new one, or "
        "active=False to keep both as separate run objects."
    )
    assert mlnb.active_run() is first


def test_replace_finishes_the_active_run(home: Path) -> None:
    first = mlnb.start("first", system_interval=None)
    second = mlnb.start("second", system_interval=None, replace=True)
    assert first.status == "finished" and mlnb.active_run() is second


def _script(home: Path, body: str, child_env) -> subprocess.CompletedProcess[str]:
    code = "import mlnb\n" + textwrap.dedent(body)
    return subprocess.run(
        [PYTHON, "-c", code],
        capture_output=True,
        text=True,
        env=child_env(MLNB_HOME=str(home)),
        check=False,
        timeout=120,
    )


def test_exit_without_finish_flushes_and_finishes(home: Path, child_env) -> None:
    done = _script(
        home,
        """
        run = mlnb.start("script", system_interval=None)
        for i in range(5000):
            run.log({"loss": 1.0 / (i + 1)})
    """,
        child_env,
    )
    assert done.returncode == 0, done.stderr
    with Store(home, readonly=True) as store:
        (record,) = store.list_runs()
        assert record.status == "finished" and store.count_metrics(record.id) == 5000


def test_uncaught_exception_in_a_script_marks_the_run_failed(home: Path, child_env) -> None:
    done = _script(
        home,
        """
        run = mlnb.start("script", system_interval=None)
        run.log({"loss": 1.0})
        raise RuntimeError("out of patience")
    """,
        child_env,
    )
    assert done.returncode == 1 and "RuntimeError: out of patience" in done.stderr
    with Store(home, readonly=True) as store:
        (record,) = store.list_runs()
    assert record.status == "failed" and record.error.startswith("RuntimeError: out of patience")


def test_finished_runs_leave_the_registry(home: Path) -> None:
    run = mlnb.start("x", system_interval=None)
    assert session.live_runs() == [run]
    run.finish()
    assert session.live_runs() == [] and mlnb.active_run() is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run.finish().status == "finished"  # idempotent
