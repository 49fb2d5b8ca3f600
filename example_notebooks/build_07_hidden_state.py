"""Write 07_hidden_state.ipynb as a notebook session leaves it: cells run out of order, an
unseeded draw, a file read that no step declares (run: python example_notebooks/build_07_hidden_state.py).

The cells are executed in a real kernel in the order a session would have run them
(``SESSION``), in this folder (where ``extra_labels.txt`` lies), and saved with those outputs
and execution counts. Top to bottom the notebook still runs without an error — which is
why the hidden state goes unnoticed — and ``mlnb check`` says why it is not reproducible.
"""

from __future__ import annotations

import platform
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
TARGET = HERE / "07_hidden_state.ipynb"

CELLS = [
    new_markdown_cell(
        "# Hidden state\n\n"
        "This notebook *looks* finished: every cell has an output. But it was run out of order, "
        "one cell draws random numbers without a seed, and one reads a file written by hand once. "
        "`mlnb check 07_hidden_state.ipynb` restarts it in a new kernel, runs it top to bottom and "
        "says which cells no longer show what they saved, and why."
    ),
    new_code_cell("import numpy as np\nfrom pathlib import Path\n\nthreshold = 0.5"),
    new_code_cell(
        "scores = np.array([0.2, 0.55, 0.7, 0.95])\n"
        "kept = scores[scores > threshold]\n"
        "print(f'kept {len(kept)} of {len(scores)} scores above {threshold}')"
    ),
    new_code_cell(
        "noise = np.random.normal(size=3)  # no seed: new numbers every run\nprint(noise.round(3))"
    ),
    new_code_cell("threshold = 0.8  # tried later — and run before the cell above it"),
    new_code_cell(
        "extra = Path('extra_labels.txt')  # written by hand once; no step declares it\n"
        "labels = extra.read_text().split() if extra.exists() else ['cat', 'dog']\n"
        "print(labels)"
    ),
]
#: the order the session ran the code cells in (indices into CELLS)
SESSION = [1, 4, 2, 3, 5]


def main() -> None:
    from nbclient import NotebookClient

    nb = new_notebook(cells=CELLS)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
    )
    with client.setup_kernel():
        for index in SESSION:
            client.execute_cell(nb.cells[index], index)
    # the kernel is this interpreter (jupyter_client starts `python` as sys.executable)
    nb.metadata["language_info"] = {"name": "python", "version": platform.python_version()}
    nbformat.write(nb, str(TARGET))
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
