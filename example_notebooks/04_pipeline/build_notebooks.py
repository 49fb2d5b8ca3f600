"""Write the three step notebooks of this example with nbformat (run once; outputs are committed)."""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

STEPS = {
    "prepare": (
        "Make a small classification data set and split it into train and test files.",
        "n_samples = 400  # rows in total\nnoise = 0.05    # fraction of flipped labels",
        [
            "import numpy as np\nfrom sklearn.datasets import make_classification\n\nimport mlnb",
            "X, y = make_classification(n_samples=n_samples, n_features=8, n_informative=4, flip_y=noise, random_state=0)\n"
            "data = np.column_stack([X, y])\n"
            "split = int(0.75 * len(data))\n"
            "np.savetxt('data/train.csv', data[:split], delimiter=',')\n"
            "np.savetxt('data/test.csv', data[split:], delimiter=',')\n"
            "mlnb.record('train_rows', split)\nmlnb.record('test_rows', len(data) - split)",
        ],
    ),
    "train": (
        "Fit a logistic regression on the training file; record the validation accuracy.",
        "C = 1.0          # inverse regularisation strength\nmax_iter = 200\n"
        "save_model = True  # write data/model.pkl (the sweep turns it off: trials must not clobber it)",
        [
            "import pickle\n\nimport numpy as np\nfrom sklearn.linear_model import LogisticRegression\nfrom sklearn.model_selection import train_test_split\n\nimport mlnb",
            "data = np.loadtxt('data/train.csv', delimiter=',')\n"
            "X_train, X_val, y_train, y_val = train_test_split(data[:, :-1], data[:, -1], test_size=0.3, random_state=0)\n"
            "model = LogisticRegression(C=C, max_iter=max_iter).fit(X_train, y_train)\n"
            "mlnb.record('train_acc', model.score(X_train, y_train))\n"
            "mlnb.record('val_acc', model.score(X_val, y_val))",
            "if save_model:\n    with open('data/model.pkl', 'wb') as handle:\n        pickle.dump(model, handle)",
        ],
    ),
    "evaluate": (
        "Score the trained model on the held-out test file.",
        "threshold = 0.5",
        [
            "import pickle\n\nimport numpy as np\n\nimport mlnb",
            "test = np.loadtxt('data/test.csv', delimiter=',')\n"
            "with open('data/model.pkl', 'rb') as handle:\n    model = pickle.load(handle)\n"
            "predicted = (model.predict_proba(test[:, :-1])[:, 1] >= threshold).astype(float)\n"
            "mlnb.record('test_acc', float((predicted == test[:, -1]).mean()))",
        ],
    ),
}


def main() -> None:
    for name, (purpose, parameters, cells) in STEPS.items():
        nb = nbformat.v4.new_notebook()
        params = nbformat.v4.new_code_cell(parameters)
        params.metadata["tags"] = ["parameters"]
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}\n\n{purpose}"), params]
        nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
        nb.metadata["kernelspec"] = KERNELSPEC
        nbformat.write(nb, str(HERE / f"{name}.ipynb"))


if __name__ == "__main__":
    main()
