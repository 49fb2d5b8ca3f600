"""Every ``MLNB_*`` setting, read in one place.

A setting is looked up, in this order, in: the argument a call was given (the
caller's business), the environment variable, the IPython profile
(``c.Mlnb.<name>`` in ``ipython_config.py`` or ``%config Mlnb.<name> = ...`` once
``%load_ext mlnb`` ran; see :mod:`mlnb.magics.settings`), then the built-in
default. Values are read at call time, so a variable set after ``import mlnb``
(``os.environ["MLNB_HOME"] = ...``, ``monkeypatch.setenv``) takes effect.

This module imports nothing of mlnb's: every room may read it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    """One ``MLNB_*`` setting.

    Attributes:
        env: the environment variable.
        profile: the ``c.Mlnb.<profile>`` trait name, or ``""`` where a profile makes no sense.
        default: the built-in default, as text (``""``: none).
        help: one sentence for the README's table and ``mlnb info``.
    """

    env: str
    profile: str
    default: str
    help: str


HOME = Setting("MLNB_HOME", "home", ".mlnb", "the run store folder (runs.db and artifacts/)")
PROJECT = Setting(
    "MLNB_PROJECT",
    "project",
    "",
    "the project of every new run, logged or executed (unset: `default`; pipeline runs `pipeline`)",
)
SEED = Setting(
    "MLNB_SEED", "seed", "", "the seed `pin()`, `%seed` and pipeline runs use when given none"
)
NOTEBOOK = Setting(
    "MLNB_NOTEBOOK",
    "",
    "",
    "the notebook path a run records as its own (set by pipelines that know it)",
)
GPU_BACKEND = Setting(
    "MLNB_GPU_BACKEND",
    "gpu_backend",
    "auto",
    "GPU readers to use: auto, or a comma list such as nvml,torch or fake",
)
GPU_FAKE = Setting(
    "MLNB_GPU_FAKE", "", "", "JSON spec of the simulated GPU the fake backend shows (tests, demos)"
)

#: every setting, in the order the README lists them
SETTINGS: tuple[Setting, ...] = (HOME, PROJECT, SEED, NOTEBOOK, GPU_BACKEND, GPU_FAKE)

#: values set through the IPython profile (``c.Mlnb.*`` / ``%config``): trait name → text
profile_values: dict[str, str] = {}


def read(setting: Setting) -> str:
    """The setting's text: environment, else IPython profile, else its default (``""``: unset)."""
    value = os.environ.get(setting.env)
    if value not in (None, ""):
        return value.strip()
    if setting.profile:
        value = profile_values.get(setting.profile)
        if value not in (None, ""):
            return str(value).strip()
    return setting.default


def source(setting: Setting) -> str:
    """Where :func:`read` found the value: the variable's name, ``"profile"`` or ``"default"``."""
    if os.environ.get(setting.env) not in (None, ""):
        return setting.env
    if setting.profile and profile_values.get(setting.profile) not in (None, ""):
        return "profile"
    return "default"


def home() -> Path:
    """The run store folder, absolute: ``MLNB_HOME``, else ``./.mlnb``."""
    return Path(read(HOME)).expanduser().absolute()


def project(default: str = "default") -> str:
    """The project of a new run that was given none: ``MLNB_PROJECT``, else ``default``."""
    return read(PROJECT) or default


def seed_text() -> str:
    """The seed text of ``MLNB_SEED`` (or the profile), ``""`` when unset (not checked here)."""
    return read(SEED)


def notebook() -> str:
    """``MLNB_NOTEBOOK``: the notebook path a run should record, ``""`` when unset."""
    return read(NOTEBOOK)


def gpu_backend() -> str:
    """``MLNB_GPU_BACKEND``: ``auto`` or a comma list of backend names (lower case)."""
    return read(GPU_BACKEND).lower() or "auto"


def gpu_fake() -> str:
    """``MLNB_GPU_FAKE``: the fake backend's JSON spec, ``""`` for its default."""
    return read(GPU_FAKE)


def table() -> list[tuple[str, str, str, str]]:
    """(variable, ``c.Mlnb`` trait, default, meaning) for every setting: the README's table."""
    return [
        (s.env, f"c.Mlnb.{s.profile}" if s.profile else "", s.default, s.help) for s in SETTINGS
    ]
