"""mlnb.hooks.ShellHooks: a failing hook warns once and never breaks the cell."""

from __future__ import annotations


def test_failing_hook_warns_once_and_never_breaks_the_cell(shell):
    import warnings

    from mlnb.hooks import ShellHooks

    hooks = ShellHooks(shell, owner="test")

    def broken(info):
        raise RuntimeError("boom")

    hooks.register("broken", "pre_run_cell", broken)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = shell.run_cell("x_hook = 1")
            second = shell.run_cell("x_hook = 2")
        assert first.success and second.success
        assert shell.user_ns["x_hook"] == 2
        messages = [str(w.message) for w in caught if "boom" in str(w.message)]
        assert len(messages) == 1
        assert "your cell ran normally" in messages[0]
    finally:
        hooks.clear()
