"""mlnb's settings in the IPython profile: ``c.Mlnb.<name>`` and ``%config Mlnb.<name> = ...``.

IPython's convention for per-profile settings is traitlets configuration: a
``Configurable`` whose traits are tagged ``config=True``. ``%load_ext mlnb``
creates one :class:`Mlnb` with the shell as its parent (so ``ipython_config.py``
applies) and lists it in ``shell.configurables`` (so ``%config Mlnb`` shows and
sets it). Its values go to :data:`mlnb.config.profile_values`, where every room
reads them after the environment variables (an ``MLNB_*`` variable still wins).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from traitlets import Integer, Unicode, observe
from traitlets.config import Configurable

from mlnb import config

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell


class Mlnb(Configurable):
    """mlnb's per-profile settings (an ``MLNB_*`` environment variable overrides each)."""

    home = Unicode("", help=config.HOME.help + " (MLNB_HOME; default ./.mlnb)").tag(config=True)
    project = Unicode("", help=config.PROJECT.help + " (MLNB_PROJECT)").tag(config=True)
    seed = Integer(
        None, allow_none=True, min=0, max=2**32 - 1, help=config.SEED.help + " (MLNB_SEED)"
    ).tag(config=True)
    gpu_backend = Unicode("", help=config.GPU_BACKEND.help + " (MLNB_GPU_BACKEND)").tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in self.trait_names(config=True):
            self._publish(name, getattr(self, name))

    @observe("home", "project", "seed", "gpu_backend")
    def _changed(self, change: Any) -> None:
        self._publish(change["name"], change["new"])

    @staticmethod
    def _publish(name: str, value: Any) -> None:
        if value in (None, ""):
            config.profile_values.pop(name, None)
        else:
            config.profile_values[name] = str(value)


def attach(shell: InteractiveShell) -> Mlnb:
    """Create the settings object for ``shell`` and make ``%config Mlnb`` find it."""
    settings = Mlnb(parent=shell)
    configurables = getattr(shell, "configurables", None)
    if isinstance(configurables, list):
        configurables.append(settings)
    return settings


def detach(shell: InteractiveShell, settings: Mlnb) -> None:
    """Undo :func:`attach`: forget the profile values and the ``%config`` entry."""
    configurables = getattr(shell, "configurables", None)
    if isinstance(configurables, list) and settings in configurables:
        configurables.remove(settings)
    config.profile_values.clear()
