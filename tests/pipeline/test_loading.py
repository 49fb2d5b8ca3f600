"""Bad notebooks and kernels are refused with one sentence before a kernel starts."""

from __future__ import annotations

import json

import pytest

from mlnb.exceptions import InvalidNotebookError, KernelNotFoundError, NotebookNotFoundError
from mlnb.pipeline.loading import installed_kernels, load_notebook, resolve_kernel


def test_missing_notebook(tmp_path):
    with pytest.raises(NotebookNotFoundError) as info:
        load_notebook(tmp_path / "nope.ipynb")
    assert str(info.value) == f"notebook {tmp_path / 'nope.ipynb'} does not exist."


def test_not_json(tmp_path):
    path = tmp_path / "bad.ipynb"
    path.write_text("import this\n")
    with pytest.raises(InvalidNotebookError) as info:
        load_notebook(path)
    assert (
        str(info.value)
        == f"{path} is not a valid notebook: it is not JSON (Expecting value at line 1, column 1)"
    )


def test_schema_violation_is_nbformats_message_shortened(tmp_path):
    path = tmp_path / "schema.ipynb"
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "source": "1",
                "metadata": {},
                "outputs": [],
                "execution_count": "one",
                "id": "a",
            }
        ],
    }
    path.write_text(json.dumps(nb))
    with pytest.raises(InvalidNotebookError) as info:
        load_notebook(path)
    message = str(info.value)
    assert message.startswith(f"{path} is not a valid notebook: ")
    assert (
        "'one' is not of type 'integer'" in message and "\n" not in message and len(message) < 300
    )


def test_unknown_kernel_lists_installed_ones():
    installed = sorted(installed_kernels())
    with pytest.raises(KernelNotFoundError) as info:
        resolve_kernel({"metadata": {}}, "no-such-kernel")
    assert (
        str(info.value)
        == f"no kernel named 'no-such-kernel' is installed; installed kernels: {', '.join(installed)}."
    )


def test_kernel_defaults_to_the_notebooks_kernelspec():
    name, spec = resolve_kernel({"metadata": {"kernelspec": {"name": "python3"}}}, None)
    assert name == "python3" and spec["language"] == "python"
