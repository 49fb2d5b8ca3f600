"""``papermill.execute_notebook``'s signature, defaults and return value on mlnb's engine.

For code written against papermill: the same keywords, the executed notebook returned,
papermill's exceptions raised — and every run seeded and recorded.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from mlnb.exceptions import InvalidArgumentError
from mlnb.pipeline.execution import execute
from mlnb.pipeline.outputs import STDIO
from mlnb.pipeline.papermill_io import notebook_path
from mlnb.pipeline.run_errors import run_error
from mlnb.pipeline.section import section_of

if TYPE_CHECKING:
    from nbformat import NotebookNode


def nbclient_options(options: dict[str, Any]) -> dict[str, Any]:
    """The keywords papermill would hand to nbclient's client (its settings); refuse others.

    Raises:
        InvalidArgumentError: a keyword neither papermill, nbclient nor mlnb knows (papermill
            ignores it silently, so a typo would change nothing).
    """
    from nbclient import NotebookClient

    unknown = sorted(set(options) - set(NotebookClient.class_trait_names()))
    if unknown:  # before any kernel starts
        raise InvalidArgumentError(f"execute_notebook got unknown keyword {unknown[0]!r}.")
    return dict(options)


def execute_notebook(
    input_path: str | os.PathLike[str] | NotebookNode,
    output_path: str | os.PathLike[str],
    parameters: dict[str, Any] | None = None,
    engine_name: str | None = None,
    request_save_on_cell_execute: bool = True,
    prepare_only: bool = False,
    kernel_name: str | None = None,
    language: str | None = None,
    progress_bar: bool = True,
    log_output: bool = False,
    stdout_file: Any = None,
    stderr_file: Any = None,
    start_timeout: int = 60,
    report_mode: bool = False,
    cwd: str | os.PathLike[str] | None = None,
    **engine_kwargs: Any,
) -> NotebookNode:
    """``papermill.execute_notebook`` with mlnb's engine: the same keywords, defaults and
    return value (the executed notebook), and papermill's exceptions
    (``PapermillExecutionError`` for a failing cell), so code written for papermill works
    unchanged — and every run is seeded and recorded.

    ``cwd=None`` is the current folder, as with papermill. ``engine_kwargs`` take
    ``execution_timeout`` and ``autosave_cell_every`` (papermill's engine keywords), the
    settings of nbclient's ``NotebookClient`` (``allow_errors``, ``iopub_timeout``, ...; papermill
    hands them to the client too), and mlnb's ``seed``, ``pin_seed``, ``strict``, ``timeout``, ``start_retries`` and ``tags``.
    ``input_path`` is a path, ``"-"`` (stdin) or a NotebookNode, as with papermill (a
    NotebookNode is run from a temporary copy; the run store keeps it by content hash).
    """
    import nbformat

    options: dict[str, Any] = {"autosave_cell_every": 30, **engine_kwargs}
    mlnb_options = {
        "seed": options.pop("seed", None),
        "timeout": options.pop("timeout", None),
        "execution_timeout": options.pop("execution_timeout", None),
        "start_retries": options.pop("start_retries", 2),
        "pin_seed": options.pop("pin_seed", True),
        "strict": options.pop("strict", False),
        "autosave_cell_every": options.pop("autosave_cell_every"),
        "tags": tuple(options.pop("tags", ())),
    }
    client_options = nbclient_options(options)
    seed = mlnb_options.pop("seed")
    with notebook_path(input_path) as path:
        record, failure = execute(
            path,
            parameters,
            output_path,
            seed,
            kernel=kernel_name,
            language=language,
            cwd=os.getcwd() if cwd is None else cwd,
            start_timeout=start_timeout,
            engine=engine_name,
            prepare_only=prepare_only,
            report_mode=report_mode,
            request_save_on_cell_execute=request_save_on_cell_execute,
            progress_bar=progress_bar,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            raise_on_failure=False,
            rerun_of=None,
            kernels=None,
            prewarm_next=False,
            client_options=client_options,
            **mlnb_options,
        )
    if failure is not None:
        raise failure
    if record.status != "finished":
        raise run_error(record)
    output = section_of(record).output
    if output == STDIO:
        return None  # type: ignore[return-value]  # written to stdout, as papermill does
    return nbformat.read(output, as_version=4)
