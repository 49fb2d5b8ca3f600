"""`make demo`'s notebook runner starts quiet kernels: no unencrypted-TCP warning per notebook."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import child_env

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.kernel

SCRIPT = """
import sys, nbformat, papermill
sys.path.insert(0, {examples!r})
from run_examples import kernel_config
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
nb.metadata["kernelspec"] = {{"name": "python3", "display_name": "Python 3", "language": "python"}}
nbformat.write(nb, "in.ipynb")
{call}
print(nbformat.read("out.ipynb", as_version=4).cells[0].outputs[0]["text"].strip())
"""
CALL = 'papermill.execute_notebook("in.ipynb", "out.ipynb", kernel_name="python3", progress_bar=False{extra})'  # fmt: skip


def _run(tmp_path: Path, extra: str) -> subprocess.CompletedProcess[str]:
    code = SCRIPT.format(examples=str(REPO / "example_notebooks"), call=CALL.format(extra=extra))
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_the_demo_kernels_use_ipc_and_do_not_warn(tmp_path: Path) -> None:
    plain = _run(tmp_path, "")  # the peer: papermill's default, TCP
    assert "without encryption" in plain.stderr  # so the check below can fail
    quiet = _run(tmp_path, ", config=kernel_config()")
    assert quiet.stdout.strip() == "42"
    assert "without encryption" not in quiet.stderr


def test_the_demo_runs_through_mlnb_engine_quietly(tmp_path: Path) -> None:
    # what run_examples.py passes: IPC kernels and mlnb's engine (a recorded run, the kernel
    # stopped at once), with nothing on stderr but papermill's own progress-free run
    done = _run(tmp_path, ', config=kernel_config(), engine_name="mlnb"')
    assert done.stdout.strip() == "42"
    assert "without encryption" not in done.stderr and "ERROR" not in done.stderr
