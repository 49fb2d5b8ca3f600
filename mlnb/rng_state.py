"""Save and restore every generator :func:`mlnb.seed.pin` touches, and pin inside a block.

``with mlnb.pinned(0): ...`` pins, runs the block, then puts random, NumPy, torch (CPU,
CUDA, its deterministic flags), the seed environment variables and mlnb's last pin back
as they were; ``%%repro`` uses :func:`get_state`/:func:`set_state` to re-run a cell from
the same state.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mlnb.seed import PinRecord, deterministic_flags, last_pin, pin, restore_last_pin


@dataclass
class RngState:
    """A snapshot of every generator :func:`pin` touches, for :func:`set_state`."""

    python: Any
    numpy: Any = None
    torch_cpu: Any = None
    torch_cuda: list[Any] | None = None
    deterministic: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, str | None] = field(default_factory=dict)
    last_record: PinRecord | None = None


_ENV_KEYS = ("PYTHONHASHSEED", "CUBLAS_WORKSPACE_CONFIG")


def get_state() -> RngState:
    """Snapshot the state of random, NumPy, torch (CPU and CUDA) and mlnb's settings."""
    state = RngState(python=random.getstate())
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        state.numpy = numpy.random.get_state()
    torch = sys.modules.get("torch")
    if torch is not None:
        state.torch_cpu = torch.get_rng_state()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state.torch_cuda = torch.cuda.get_rng_state_all()
        state.deterministic = deterministic_flags(torch)
    state.environment = {key: os.environ.get(key) for key in _ENV_KEYS}
    state.last_record = last_pin()
    return state


def set_state(state: RngState) -> None:
    """Restore a snapshot taken by :func:`get_state`."""
    random.setstate(state.python)
    numpy = sys.modules.get("numpy")
    if numpy is not None and state.numpy is not None:
        numpy.random.set_state(state.numpy)
    torch = sys.modules.get("torch")
    if torch is not None:
        if state.torch_cpu is not None:
            torch.set_rng_state(state.torch_cpu)
        if state.torch_cuda is not None:
            torch.cuda.set_rng_state_all(state.torch_cuda)
        flags = state.deterministic
        if flags:
            torch.backends.cudnn.deterministic = flags["cudnn.deterministic"]
            torch.backends.cudnn.benchmark = flags["cudnn.benchmark"]
            torch.use_deterministic_algorithms(flags["use_deterministic_algorithms"])
    for key, value in state.environment.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    restore_last_pin(state.last_record)


@contextlib.contextmanager
def pinned(
    seed: int | str | None = None, *, deterministic: bool = False, verbose: bool = True
) -> Iterator[PinRecord]:
    """Pin inside a ``with`` block and restore every generator's previous state on exit.

    Example:
        >>> with pinned(0) as record:
        ...     x = random.random()
    """
    saved = get_state()
    try:
        yield pin(seed, deterministic=deterministic, verbose=verbose)
    finally:
        set_state(saved)
