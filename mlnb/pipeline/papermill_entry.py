"""What papermill's ``papermill.engine`` entry point loads: mlnb's engine, resolved on use.

papermill loads every entry point while ``import papermill`` is still running. If
that import was itself started by :mod:`mlnb.pipeline.engine` (which needs
papermill's classes), the engine module is half-built at that moment and has no
``MlnbEngine`` yet. So the entry point names this module, which imports nothing,
and its :class:`MlnbEngine` hands every call papermill makes to the real engine.
Once :mod:`mlnb.pipeline.engine` has loaded, it registers the real class under the
same name.
"""

from __future__ import annotations

from typing import Any


def _engine() -> Any:
    from mlnb.pipeline.engine import MlnbEngine

    return MlnbEngine


class MlnbEngine:
    """papermill's view of mlnb's engine (see :class:`mlnb.pipeline.engine.MlnbEngine`)."""

    @classmethod
    def execute_notebook(cls, nb: Any, kernel_name: str, **kwargs: Any) -> Any:
        """Run ``nb`` with mlnb's engine: run record, seed, per-cell saves."""
        return _engine().execute_notebook(nb, kernel_name, **kwargs)

    @classmethod
    def nb_kernel_name(cls, nb: Any, name: str | None = None) -> str:
        """The kernel to use, as papermill's engines decide it."""
        return str(_engine().nb_kernel_name(nb, name))

    @classmethod
    def nb_language(cls, nb: Any, language: str | None = None) -> str:
        """The notebook's language, as papermill's engines decide it."""
        return str(_engine().nb_language(nb, language))
