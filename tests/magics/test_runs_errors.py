"""A runs error raised by a cell (``mlnb.log`` after ``%run_stop``) is one sentence, no traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlnb.exceptions import NoActiveRunError

SENTENCE = (
    "NoActiveRunError: cannot log: no run is active — start one with `run = mlnb.start('name')` "
    "or `%run_start name`, or log to a run object with `run.log(...)`."
)


@pytest.mark.kernel
def test_log_after_run_stop_is_one_sentence_in_a_kernel(
    kernel: object, home: Path, monkeypatch: pytest.MonkeyPatch, child_env
) -> None:
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    nb = kernel(
        [
            "%load_ext mlnb\nimport mlnb",
            "%run_start a --system-interval 0 --no-live",
            "mlnb.log({'loss': 1.0})",
            "%run_stop",
            "mlnb.log({'loss': 1.0})",
            "def train():\n    mlnb.log({'loss': 2.0})\ntrain()",
            "print(type(__import__('sys').last_value).__name__)",
            "1 / 0",
            "%unload_ext mlnb",
            "mlnb.log({'loss': 1.0})",
        ],
        allow_errors=True,
    )
    errors = {
        i: out
        for i, cell in enumerate(nb.cells)
        for out in cell.outputs
        if out.output_type == "error"
    }
    assert set(errors) == {4, 5, 7, 9}
    for i in (4, 5):  # the whole output is the sentence: no frame, no file, no "Traceback"
        assert errors[i].traceback == [SENTENCE], errors[i].traceback
        assert errors[i].ename == "NoActiveRunError"
    assert nb.cells[6].outputs[0].text.strip() == "NoActiveRunError"  # %tb / %debug still work
    # other errors keep IPython's traceback
    assert len(errors[7].traceback) > 1 and errors[7].ename == "ZeroDivisionError"
    # without the extension IPython shows its usual traceback again
    assert len(errors[9].traceback) > 1 and errors[9].ename == "NoActiveRunError"


def test_one_line_errors_in_process_and_removed_with_the_extension(
    shell: object, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell("import mlnb")  # type: ignore[attr-defined]
    result = shell.run_cell("mlnb.log({'loss': 1.0})")  # type: ignore[attr-defined]
    assert isinstance(result.error_in_exec, NoActiveRunError)  # the cell still fails
    out = capsys.readouterr()
    shown = (out.out + out.err).strip()
    assert shown == SENTENCE, shown
    assert sys.last_value is result.error_in_exec
    shell.run_line_magic("unload_ext", "mlnb")  # type: ignore[attr-defined]
    assert shell.custom_exceptions == ()  # type: ignore[attr-defined]
    shell.run_line_magic("load_ext", "mlnb")  # type: ignore[attr-defined]
    assert len(shell.custom_exceptions) == 1  # type: ignore[attr-defined]


def test_a_previous_custom_handler_keeps_working(
    shell: object, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = []

    def mine(self: object, etype: type, value: BaseException, tb: object, tb_offset: object = None) -> None:  # fmt: skip
        seen.append(etype)

    shell.run_line_magic("unload_ext", "mlnb")  # type: ignore[attr-defined]
    shell.set_custom_exc((KeyError,), mine)  # type: ignore[attr-defined]
    try:
        shell.run_line_magic("load_ext", "mlnb")  # type: ignore[attr-defined]
        shell.run_cell("{}['x']")  # type: ignore[attr-defined]
        assert seen == [KeyError]
        shell.run_cell("import mlnb\nmlnb.log({'a': 1.0})")  # type: ignore[attr-defined]
        assert capsys.readouterr().out.strip() == SENTENCE
        shell.run_line_magic("unload_ext", "mlnb")  # type: ignore[attr-defined]
        assert shell.custom_exceptions == (KeyError,)  # type: ignore[attr-defined]
    finally:
        shell.set_custom_exc((), None)  # type: ignore[attr-defined]
        shell.run_line_magic("load_ext", "mlnb")  # type: ignore[attr-defined]
