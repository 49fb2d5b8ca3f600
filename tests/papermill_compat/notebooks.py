"""The suite's own notebooks, one per behaviour of issue 15 (written with nbformat, not copied
from papermill's fixtures)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat

from tests.helpers import PYTHON3, make_notebook


def write(
    path: Path,
    cells: list[str],
    parameters: str | None = None,
    kernelspec: dict[str, str] | None = PYTHON3,
    minor: int | None = None,
) -> Path:
    """A notebook: an optional cell tagged ``parameters``, then ``cells``."""
    nb = make_notebook(cells, parameters, kernelspec)
    if minor is None:
        nbformat.write(nb, str(path))
        return path
    data: dict[str, Any] = json.loads(nbformat.writes(nb))
    data["nbformat_minor"] = minor  # an older 4.x file: no cell ids
    for cell in data["cells"]:
        cell.pop("id", None)
    path.write_text(json.dumps(data, indent=1))
    return path


SHOW = "print(repr({name}), type({name}).__name__)"

#: name -> notebook spec; each is run by both tools in the test of the same name
NOTEBOOKS: dict[str, dict[str, Any]] = {
    "no_parameters_cell": {"cells": ["print(msg, n)"]},
    "parameters_syntax_error": {
        "parameters": "msg = 'default'\nif True print('broken')",
        "cells": ["print(msg)"],
    },
    "nbformat_4_4": {"parameters": "var = 1", "cells": ["print(var)"], "minor": 4},
    "kernel_named_python": {
        "parameters": "x = 1",
        "cells": ["print(x * 2)"],
        "kernelspec": {"name": "python", "display_name": "Python", "language": "python"},
    },
    "sys_exit_zero": {"cells": ["print('before')", "import sys\nsys.exit(0)", "print('never')"]},
    "sys_exit_one": {"cells": ["print('before')", "import sys\nsys.exit(1)", "print('never')"]},
    "line_magic_error": {"cells": ["print('ok')", "%this_magic_does_not_exist", "print('never')"]},
    "cell_raises": {"parameters": "d = 0", "cells": ["x = 1", "1 / d", "print('never')"]},
    "execution_timeout": {
        "cells": ["print('start', flush=True)", "import time\ntime.sleep(60)", "print('never')"]
    },
    "report_mode": {"parameters": "a = 1", "cells": ["print(a)"]},
    "values": {
        "parameters": "i = 1\nf = 0.5\nflag = False\nnothing = None\nlabel = 'x'\nitems = [1]",
        "cells": [
            "\n".join(
                SHOW.format(name=n)
                for n in (
                    "i",
                    "f",
                    "neg",
                    "tiny",
                    "ninf",
                    "text_list",
                    "dash",
                    "flag",
                    "nothing",
                    "raw",
                    "from_yaml",
                    "from_file",
                    "from_b64",
                    "items",
                )
            )
        ],
    },
    "str_default": {
        "parameters": "label = 'x'\nitems = [1]",
        "cells": [SHOW.format(name="label"), SHOW.format(name="items")],
    },
    "stdio": {"parameters": "n = 1", "cells": ["print(n + 1)"]},
    "no_kernelspec": {"cells": ["print('ran')"], "kernelspec": None},
    "loop": {
        "cells": ["print('looping', flush=True)", "import time\nwhile True:\n    time.sleep(0.1)"]
    },
}


def make(folder: Path, name: str) -> Path:
    """Write notebook ``name`` of :data:`NOTEBOOKS` into ``folder``."""
    spec = dict(NOTEBOOKS[name])
    return write(
        folder / f"{name}.ipynb",
        spec.pop("cells"),
        spec.pop("parameters", None),
        spec.pop("kernelspec", PYTHON3),
        spec.pop("minor", None),
    )
