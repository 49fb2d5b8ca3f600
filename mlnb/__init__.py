"""mlnb — a notebook toolkit for people who train models in notebooks.

``%load_ext mlnb`` registers the magics of every capability. Each capability is
also a plain Python module (``mlnb.seed``, ...) usable without IPython.

Importing ``mlnb`` is cheap on purpose: torch, pandas, matplotlib, papermill and
ipywidgets are imported only by the functions that need them, and the public
names below are resolved lazily (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlnb import lazy as _lazy

__version__ = "0.1.0"

# public name -> "module:attribute", resolved on first access
_LAZY: dict[str, str] = {
    "pin": "mlnb.seed:pin",
    "pinned": "mlnb.rng_state:pinned",
    "get_state": "mlnb.rng_state:get_state",
    "set_state": "mlnb.rng_state:set_state",
    "check_reproducible": "mlnb.repro:check_reproducible",
    "check": "mlnb.checking.api:check",
    "MlnbError": "mlnb.exceptions:MlnbError",
    "WhatIf": "mlnb.whatif.explorer:WhatIf",
    "start": "mlnb.runs.session:start",
    "log": "mlnb.runs.session:log",
    "log_many": "mlnb.runs.session:log_many",
    "finish": "mlnb.runs.session:finish",
    "active_run": "mlnb.runs.session:active_run",
    "record": "mlnb.pipeline.record:record",
    "oom_guard": "mlnb.gpu.oom:oom_guard",
    "find_batch_size": "mlnb.gpu.oom:find_batch_size",
}
_SUBMODULES = (
    "seed",
    "repro",
    "exceptions",
    "display",
    "hooks",
    "cli",
    "magics",
    "whatif",
    "data",
    "runs",
    "gpu",
    "pipeline",
    "checking",
)

__all__ = [*sorted(_LAZY), "__version__", "load_ipython_extension", "unload_ipython_extension"]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from IPython.core.interactiveshell import InteractiveShell

    from mlnb.checking.api import check  # noqa: F401
    from mlnb.exceptions import MlnbError  # noqa: F401
    from mlnb.gpu.oom import find_batch_size, oom_guard  # noqa: F401
    from mlnb.pipeline.record import record  # noqa: F401
    from mlnb.repro import check_reproducible  # noqa: F401
    from mlnb.rng_state import get_state, pinned, set_state  # noqa: F401
    from mlnb.seed import pin  # noqa: F401
    from mlnb.whatif.explorer import WhatIf  # noqa: F401


__getattr__, __dir__ = _lazy.attach(__name__, _LAZY, globals(), _SUBMODULES)


def load_ipython_extension(shell: InteractiveShell) -> None:
    """Register every mlnb magic on ``shell`` (called by ``%load_ext mlnb``)."""
    from mlnb.magics import register_all

    register_all(shell)


def unload_ipython_extension(shell: InteractiveShell) -> None:
    """Remove every magic and hook mlnb registered (called by ``%unload_ext mlnb``)."""
    from mlnb.magics import unregister_all

    unregister_all(shell)
