"""Loading, reloading and unloading the extension (every magic class) in an in-process shell."""

from __future__ import annotations

from mlnb.magics import MAGIC_CLASSES, loaded_magics


def test_load_registers_every_capability(shell):
    instances = loaded_magics(shell)
    assert len(instances) == len(MAGIC_CLASSES)
    assert "seed" in shell.magics_manager.magics["line"]
    assert "repro" in shell.magics_manager.magics["cell"]


def _mlnb_hooks(shell, event="pre_run_cell"):
    return [cb for cb in shell.events.callbacks[event] if hasattr(cb, "__wrapped_callback__")]


def test_unload_removes_magics_and_hooks(shell):
    shell.run_line_magic("seed", "1 --every-cell -q")
    assert any("every_cell" in cb.__qualname__ for cb in _mlnb_hooks(shell))
    shell.run_line_magic("unload_ext", "mlnb")
    assert "seed" not in shell.magics_manager.magics["line"]
    assert "repro" not in shell.magics_manager.magics["cell"]
    assert _mlnb_hooks(shell) == [] and _mlnb_hooks(shell, "post_run_cell") == []


def test_unload_twice_is_harmless(shell, capsys):
    shell.run_line_magic("unload_ext", "mlnb")
    shell.run_line_magic("unload_ext", "mlnb")
    assert "not loaded" in capsys.readouterr().out


def test_reload_keeps_one_copy_of_each_hook(shell):
    shell.run_line_magic("seed", "1 --every-cell -q")
    shell.run_line_magic("reload_ext", "mlnb")
    # reload drops the old instance's hook; re-enabling registers exactly one again
    shell.run_line_magic("seed", "1 --every-cell -q")
    shell.run_line_magic("seed", "2 --every-cell -q")
    every_cell = [cb for cb in _mlnb_hooks(shell) if "every_cell" in cb.__qualname__]
    assert len(every_cell) == 1
    assert "seed" in shell.magics_manager.magics["line"]


def test_every_magic_answers_help(shell, capsys):
    for instance in loaded_magics(shell):
        for kind, prefix in (("line", "%"), ("cell", "%%")):
            for name in instance.magics[kind]:
                cell = f"{prefix}{name} --help" + ("\npass" if kind == "cell" else "")
                result = shell.run_cell(cell)
                out = capsys.readouterr().out
                assert result.success, cell
                assert out.startswith(f"Usage: {prefix}{name}"), (cell, out[:200])
