"""The faces of ``mlnb check``: the pytest plugin, ``%check_notebook``, ``mlnb step init``'s warnings."""

from __future__ import annotations

import pytest

from tests.check.planted import saved, stdout

pytestmark = pytest.mark.kernel


def _plugin_args() -> tuple[str, ...]:
    """Load the plugin by name only where installing mlnb has not registered its
    ``pytest11`` entry point (pytest refuses to register one plugin twice)."""
    from importlib.metadata import entry_points

    installed = any(
        ep.value == "mlnb.checking.pytest_plugin" for ep in entry_points(group="pytest11")
    )
    return () if installed else ("-p", "mlnb.checking.pytest_plugin")


def test_pytest_plugin_makes_each_notebook_an_item(pytester):
    good = saved(pytester.path / "nbs" / "good.ipynb", [("print(2 + 2)", 1, [stdout("4\n")])])
    saved(pytester.path / "nbs" / "bad.ipynb", [("print(3 * 3)", 1, [stdout("10\n")])])
    saved(pytester.path / "nbs" / ".ipynb_checkpoints" / "bad-checkpoint.ipynb", [("1/0", 1, [])])
    result = pytester.runpytest_subprocess(*_plugin_args(), "--mlnb-check", "nbs", "-q")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*✗ not reproducible: *bad.ipynb — 1 problem(s)*",
            "*cell 1  differs  stdout: 1 number(s) changed: 10 → 9*",
        ]
    )
    assert good.exists()
    # without the flag, notebooks are not collected
    plain = pytester.runpytest_subprocess(*_plugin_args(), "nbs", "-q")
    assert plain.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_magic_checks_and_keeps_the_report(shell, tmp_path, capsys):
    from IPython.core.error import UsageError

    path = saved(tmp_path / "m.ipynb", [("y = x + 1", 1, []), ("x = 1", 2, [])])
    shell.run_line_magic("check_notebook", f"{path} --static-only -o rep")
    report = shell.user_ns["rep"]
    assert not report.reproducible and report.runs == 0
    assert "used-before-defined" in capsys.readouterr().out
    with pytest.raises(UsageError, match="does not exist"):
        shell.run_line_magic("check_notebook", str(tmp_path / "nope.ipynb"))
    shell.run_line_magic("check_notebook", "--help")
    assert "Usage: %check_notebook" in capsys.readouterr().out
