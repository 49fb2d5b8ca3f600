"""Where a run's output notebook goes: the default path, placeholders, and the checks.

Everything here runs before a kernel starts, so a run that could not write its output
is refused with one sentence instead of failing after the notebook ran.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from mlnb.exceptions import InvalidArgumentError

#: the path that means stdin (for the input) or stdout (for the output)
STDIO = "-"


def formatted_output(template: str, params: dict[str, Any]) -> str:
    """``out-{lr}.ipynb`` with the parameters (and papermill's ``pm`` ones) filled in, as
    papermill does to output paths, so the run records the path it really wrote."""
    from papermill.exceptions import PapermillMissingParameterException
    from papermill.parameterize import add_builtin_parameters, parameterize_path

    try:
        return str(parameterize_path(template, add_builtin_parameters(params)))
    except PapermillMissingParameterException as exc:
        raise InvalidArgumentError(
            f"the output path {template} has a placeholder that is not a parameter of this run ({str(exc).lower()})."
        ) from None


def brace_escaped(path: str) -> str:
    """``path`` as papermill must be handed it: it formats output paths again."""
    return path.replace("{", "{{").replace("}", "}}")


def default_output(notebook: Path, run_id: str) -> Path:
    """``runs/<stem>-<run id>.ipynb`` beside the notebook (in the current folder for stdin)."""
    if str(notebook) == STDIO:
        return Path.cwd() / "runs" / f"stdin-{run_id}.ipynb"
    return notebook.resolve().parent / "runs" / f"{notebook.stem}-{run_id}.ipynb"


def check_output(output: Path, notebook: Path) -> None:
    """Refuse an output that would overwrite the input or cannot be written, before anything runs.

    Raises:
        InvalidArgumentError: the output is the input notebook, or its folder cannot be
            created or written (``/proc``, a file in the way, no permission).
    """
    if str(notebook) != STDIO and output.exists() and output.resolve() == notebook.resolve():
        raise InvalidArgumentError(
            f"the output {output} is the input notebook, which the run would overwrite — name another output."
        )
    if output.is_dir():
        raise InvalidArgumentError(f"the output {output} is a folder — name a notebook file.")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=output.parent, prefix=".mlnb-", suffix=".tmp"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InvalidArgumentError(
            f"cannot write the output notebook {output} ({reason}) — pick a writable folder."
        ) from None
