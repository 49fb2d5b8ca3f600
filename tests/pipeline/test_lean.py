"""mlnb's own processes skip jsonschema's optional rfc3987_syntax; library users keep it."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import PYTHON


def _run(code: str) -> str:
    done = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_marked_modules_are_absent_and_nbformat_still_validates():
    out = _run(
        "from mlnb.pipeline.lean import skip_unused_optional_imports as s\n"
        "print(s(), s())\n"
        "import sys, nbformat\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x = 1')])\n"
        "nbformat.validate(nb)\n"
        "print(sys.modules['rfc3987_syntax'] is None)"
    )
    assert out.splitlines() == ["['rfc3987_syntax'] []", "True"]


def test_importing_mlnb_leaves_the_module_alone():
    out = _run("import mlnb, mlnb.pipeline.sweep, sys; print('rfc3987_syntax' in sys.modules)")
    assert out == "False"
    assert sys.modules.get("rfc3987_syntax", "absent") is not None  # not marked in this process


def test_the_mlnb_command_skips_it_and_imports_only_its_sub_command(notebook):
    path = notebook("t.ipynb", ["y = x + 1"], parameters="x = 1")
    out = _run(
        "import sys\n"
        "from mlnb.cli import command\n"
        f"sys.argv = ['mlnb', 'step', 'inspect', {str(path)!r}]\n"
        "code = command()\n"
        "print(code, sys.modules['rfc3987_syntax'] is None, 'nbformat' in sys.modules)\n"
        "print(sorted(m for m in sys.modules if m.startswith('mlnb.cli.')))"
    )
    lines = out.splitlines()
    assert lines[-2] == "0 True True"  # it read the notebook, without the module
    assert lines[-1] == "['mlnb.cli.common', 'mlnb.cli.step']"


def test_a_misspelt_or_missing_sub_command_imports_none():
    out = _run(
        "import sys, contextlib, io\n"
        "from mlnb.cli import main\n"
        "for argv in (['rn', 'x.ipynb'], ['--help'], []):\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "        main(argv)\n"
        "print(sorted(m for m in sys.modules if m.startswith('mlnb.cli.')))"
    )
    assert out == "['mlnb.cli.common']"
