"""%seed and %%repro in a real ipykernel (nbclient), outputs asserted."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.kernel


def test_seed_magics_end_to_end(kernel, cell_text):
    nb = kernel(
        [
            "%load_ext mlnb",
            "%seed 42",
            "import numpy as np, torch\nprint(np.random.rand(), float(torch.rand(1)))",
            "%seed 42 -q\nprint(np.random.rand(), float(torch.rand(1)))",
            "%seed",
            "%seed --help",
        ]
    )
    assert "mlnb: pinned seed 42 (argument): random, numpy" in cell_text(nb.cells[1])
    first, again = cell_text(nb.cells[2]).split(), cell_text(nb.cells[3]).split()
    assert first == again
    status = cell_text(nb.cells[4])
    assert "seed" in status and "42" in status and "every cell" in status and "off" in status
    assert "Usage: %seed [--deterministic] [--every-cell] [--off] [-q] [seed]" in cell_text(
        nb.cells[5]
    )


def test_every_cell_repeats_a_cell_and_separates_cells(kernel, cell_text):
    same = "print(repr(np.random.rand()), repr(float(torch.rand(1))))"
    nb = kernel(
        [
            "%load_ext mlnb\nimport numpy as np, torch",
            "%seed 7 --every-cell",
            same,
            "print(repr(np.random.rand()), repr(float(torch.rand(1))))  # another cell",
            same,
            same,
            "%seed --off",
            same,
        ]
    )
    assert "every cell is re-pinned from base seed 7" in cell_text(nb.cells[1])
    a, other, a_again, a_third = (cell_text(nb.cells[i]) for i in (2, 3, 4, 5))
    assert a == a_again == a_third
    assert other != a
    assert "every-cell re-pinning is off" in cell_text(nb.cells[6])
    assert cell_text(nb.cells[7]) != a


def test_repro_reports_and_keeps_one_run(kernel, cell_text):
    nb = kernel(
        [
            "%load_ext mlnb\nimport numpy as np, time\nruns = 0",
            "%%repro --runs 3\nruns += 1\nw = np.random.randn(4)\nw.sum()",
            "%%repro\nnoisy = np.random.default_rng(time.perf_counter_ns()).random(2)",
            "print(runs)",
        ]
    )
    text = cell_text(nb.cells[1])
    assert "✓ reproducible over 3 runs: 2 variables and the result identical (runs, w)" in text
    assert "np.float64(" in text or "Out" in text or text.strip().splitlines()[-1]
    assert "✗ not reproducible over 2 runs: noisy differs (max |Δ| = " in cell_text(nb.cells[2])
    assert cell_text(nb.cells[3]).strip() == "1"


def test_bad_input_is_one_sentence(kernel, cell_text):
    nb = kernel(
        [
            "%load_ext mlnb",
            "%seed abc",
            "%seed -5",
            "%seed 4294967296",
            "%seed 1 --frobnicate",
            "%seed --every-cell --off",
            "%%repro --runs 1\nx = 1",
            "%unload_ext mlnb",
            "%unload_ext mlnb",
        ],
        allow_errors=True,
    )
    # IPython prints a UsageError as one line on stderr: no traceback from inside mlnb
    shown = [cell_text(cell) for cell in nb.cells[1:7]]
    assert shown == [
        "UsageError: seed must be a whole number from 0 to 4294967295, got 'abc'.\n",
        "UsageError: seed must be a whole number from 0 to 4294967295, got '-5' (it is negative).\n",
        "UsageError: seed must be a whole number from 0 to 4294967295, got '4294967296' (it is 2**32 or more).\n",
        "UsageError: unrecognized arguments: --frobnicate. Usage: %seed [--deterministic] [--every-cell] [--off] [-q] [seed]\n",
        "UsageError: %seed: use either --every-cell or --off, not both.\n",
        "UsageError: %%repro: --runs must be at least 2, got 1.\n",
    ]
    assert cell_text(nb.cells[7]) == ""
    assert "The mlnb extension is not loaded." in cell_text(nb.cells[8])


def test_repro_on_a_raising_cell_shows_the_error_once_and_does_not_rerun(
    kernel, cell_text, strip_ansi
):
    nb = kernel(
        [
            "%load_ext mlnb\ncalls = []\ndef step(n):\n    calls.append(n)\n    return 1 / n",
            "%%repro --runs 3\nresult = step(0)",
            "print(len(calls), 'result' in globals())",
        ],
        allow_errors=True,
    )
    errors = [o for o in nb.cells[1].outputs if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == "ZeroDivisionError"
    traceback = strip_ansi("\n".join(errors[0].traceback))
    assert "result = step(0)" in traceback and "return 1 / n" in traceback
    assert "mlnb/repro.py" not in traceback and "run_cell_magic" not in traceback
    assert cell_text(nb.cells[2]).strip() == "1 False"


def test_a_usage_error_fails_the_cell(kernel):
    from nbclient.exceptions import CellExecutionError

    with pytest.raises(CellExecutionError, match="seed must be a whole number"):
        kernel(["%load_ext mlnb", "%seed abc", "print('not reached')"])
