"""Pin every random number generator with one call, and keep it pinned.

``pin(42)`` seeds Python's :mod:`random`, NumPy's global RNG, and torch (CPU, every
CUDA device, MPS) when torch is installed, and sets ``PYTHONHASHSEED`` for child
processes. Nothing here needs IPython; the ``%seed`` magic is a thin layer on top.

Environment variables:
    MLNB_SEED: read by ``pin()`` when no seed is given.
    PYTHONHASHSEED: set by ``pin()`` so child processes (DataLoader workers started
        with *spawn*, papermill kernels, subprocesses) hash strings reproducibly. The
        running interpreter's own hash seed is fixed at start-up and cannot change.
    CUBLAS_WORKSPACE_CONFIG: set to ``:4096:8`` by ``pin(deterministic=True)``, as
        cuBLAS needs for deterministic results on CUDA >= 10.2.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import random
import secrets
import sys
from dataclasses import dataclass, field
from typing import Any

from mlnb import config
from mlnb.exceptions import InvalidArgumentError, SeedError
from mlnb.nvml import quiet_torch_import

log = logging.getLogger(__name__)

MIN_SEED = 0
MAX_SEED = 2**32 - 1  # NumPy's legacy seeding accepts 32-bit seeds only
ENV_SEED = config.SEED.env
CUBLAS_DETERMINISTIC = ":4096:8"

DETERMINISTIC_COST = (
    "deterministic mode: cuDNN autotuning is off and some ops use slower deterministic "
    "kernels (often 10-50% slower on GPU), and ops with no deterministic implementation "
    "raise RuntimeError — undo it with torch.use_deterministic_algorithms(False), or limit it "
    "to a block with `with mlnb.pinned(seed, deterministic=True):`."
)

_last_record: PinRecord | None = None


@dataclass(frozen=True)
class PinRecord:
    """What one call of :func:`pin` did.

    Attributes:
        seed: the seed that was used (the one to write down).
        source: where it came from: ``"argument"``, ``"MLNB_SEED"``, ``"profile"`` (``c.Mlnb.seed``) or ``"drawn"``.
        libraries: the generators that were seeded, e.g. ``("random", "numpy", "torch")``.
        skipped: library or setting → why it was not pinned.
        deterministic: torch's determinism settings after the call (empty without torch).
        environment: environment variables the call set.
    """

    seed: int
    source: str = "argument"
    libraries: tuple[str, ...] = ()
    skipped: dict[str, str] = field(default_factory=dict)
    deterministic: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line saying what was pinned and what was skipped."""
        text = f"pinned seed {self.seed} ({self.source}): {', '.join(self.libraries) or 'nothing'}"
        if self.deterministic.get("use_deterministic_algorithms"):
            text += "; deterministic algorithms on"
        if self.skipped:
            text += "; skipped " + "; ".join(f"{k} ({v})" for k, v in self.skipped.items())
        return text

    def __str__(self) -> str:
        return self.summary()


def validate_seed(value: object) -> int:
    """Return ``value`` as an int seed, or raise :class:`SeedError` saying why not.

    Accepts ints, integral floats and strings of digits (as typed in ``%seed`` or
    ``MLNB_SEED``); rejects bools, negatives and values above ``2**32 - 1``.
    """
    if isinstance(value, bool):
        raise SeedError(value, "a bool is not a seed")
    if isinstance(value, str):
        text = value.strip()
        try:
            number = int(text, 10)
        except ValueError:
            raise SeedError(value) from None
    elif isinstance(value, float):
        if not value.is_integer():
            raise SeedError(value, "it has a fractional part")
        number = int(value)
    else:
        try:
            number = int(value.__index__())  # type: ignore[attr-defined]
        except (AttributeError, TypeError):
            raise SeedError(value) from None
    if number < MIN_SEED:
        raise SeedError(value, "it is negative")
    if number > MAX_SEED:
        raise SeedError(value, "it is 2**32 or more")
    return number


def resolve_seed(seed: object | None = None, announce: bool = False) -> tuple[int, str]:
    """The seed to use and where it came from: ``seed`` checked (``"argument"``), else
    ``MLNB_SEED`` or the IPython profile's ``c.Mlnb.seed``, else a drawn one (``"drawn"``).

    Raises:
        SeedError: the seed given, or the one configured, is not a valid seed.
    """
    if seed is not None:
        return validate_seed(seed), "argument"
    configured = config.seed_text()
    if configured:
        where = config.source(config.SEED)
        try:
            return validate_seed(configured), where
        except SeedError as exc:
            origin = f"the {ENV_SEED} environment variable" if where == ENV_SEED else "c.Mlnb.seed"
            raise SeedError(configured, f"read from {origin}") from exc
    drawn = secrets.randbelow(MAX_SEED + 1)
    if announce:
        print(
            f"mlnb: no seed given, drew {drawn} — pass it to pin({drawn}) or set {ENV_SEED}={drawn} to repeat this run."
        )
    return drawn, "drawn"


def torch_available() -> bool:
    """Whether torch can be imported (without importing it)."""
    return "torch" in sys.modules or importlib.util.find_spec("torch") is not None


def _seed_torch(torch: Any, seed: int, *, thorough: bool = True) -> None:
    """Seed torch's CPU generator and every accelerator that is actually present.

    ``thorough`` also goes through ``torch.manual_seed`` (custom device backends).
    The per-cell path skips it: its lazy CUDA/XPU queueing costs ~0.2 ms a call even
    on machines without those devices, while the checks below cost microseconds.
    """
    if thorough:
        torch.manual_seed(seed)
    else:
        torch.default_generator.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    mps_backend = getattr(getattr(torch, "backends", None), "mps", None)
    if mps_backend is not None and mps_backend.is_available():
        torch.mps.manual_seed(seed)
    xpu = getattr(torch, "xpu", None)
    if not thorough and xpu is not None and xpu.is_available():
        xpu.manual_seed_all(seed)


def deterministic_flags(torch: Any) -> dict[str, Any]:
    return {
        "cudnn.deterministic": bool(torch.backends.cudnn.deterministic),
        "cudnn.benchmark": bool(torch.backends.cudnn.benchmark),
        "use_deterministic_algorithms": bool(torch.are_deterministic_algorithms_enabled()),
        "CUBLAS_WORKSPACE_CONFIG": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    }


def _seed_loaded(seed: int, *, import_torch: bool) -> tuple[list[str], dict[str, str]]:
    """Seed every generator; torch is imported only when ``import_torch``."""
    libraries = ["random"]
    skipped: dict[str, str] = {}
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is None and importlib.util.find_spec("numpy") is not None:
        import numpy
    if numpy is not None:
        numpy.random.seed(seed)
        libraries.append("numpy")
    else:
        skipped["numpy"] = "not installed"
    torch = sys.modules.get("torch")
    if torch is None and import_torch and torch_available():
        torch = quiet_torch_import()
    if torch is not None:
        _seed_torch(torch, seed, thorough=import_torch)
        libraries.append("torch")
    elif import_torch:
        skipped["torch"] = "not installed"
    tf = sys.modules.get("tensorflow")
    if tf is not None and hasattr(tf, "random"):
        tf.random.set_seed(seed)
        libraries.append("tensorflow")
    return libraries, skipped


def pin(
    seed: int | str | None = None, *, deterministic: bool = False, verbose: bool = True
) -> PinRecord:
    """Seed every random number generator in this process and return what was done.

    Seeds :mod:`random`, NumPy's global RNG, torch (CPU, all CUDA devices, MPS) when
    torch is installed, and TensorFlow when it is already imported. JAX has no global
    RNG to pin: pass it ``jax.random.key(record.seed)``. Also sets ``PYTHONHASHSEED``
    for child processes; the running interpreter's hash seed cannot be changed.

    Args:
        seed: a whole number in ``[0, 2**32 - 1]``. ``None`` reads ``MLNB_SEED`` from
            the environment, else draws a seed and prints it so it can be reused.
        deterministic: also make torch deterministic: cuDNN deterministic with
            benchmarking off, ``torch.use_deterministic_algorithms(True)`` and
            ``CUBLAS_WORKSPACE_CONFIG``. This costs speed (see ``DETERMINISTIC_COST``).
            ``False`` leaves torch's determinism settings as they are.
        verbose: print a drawn seed and the cost of deterministic mode.

    Returns:
        A :class:`PinRecord` with the seed used, the libraries seeded and what was skipped.

    Raises:
        SeedError: the seed is not a whole number in ``[0, 2**32 - 1]``.
    """
    global _last_record
    value, source = resolve_seed(seed, announce=verbose)
    environment = {"PYTHONHASHSEED": str(value)}
    os.environ["PYTHONHASHSEED"] = str(value)
    libraries, skipped = _seed_loaded(value, import_torch=True)
    flags: dict[str, Any] = {}
    torch = sys.modules.get("torch")
    if deterministic:
        if torch is None:
            skipped["deterministic"] = (
                "torch is not installed, so there is nothing to make deterministic"
            )
            if verbose:
                print(
                    "mlnb: --deterministic skipped: torch is not installed; random and numpy are pinned."
                )
        else:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_DETERMINISTIC
            environment["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_DETERMINISTIC
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
            torch.use_deterministic_algorithms(True)
            if verbose:
                print(f"mlnb: {DETERMINISTIC_COST}")
    if torch is not None:
        flags = deterministic_flags(torch)
    record = PinRecord(
        seed=value,
        source=source,
        libraries=tuple(libraries),
        skipped=skipped,
        deterministic=flags,
        environment=environment,
    )
    _last_record = record
    log.debug("%s", record.summary())
    return record


def last_pin() -> PinRecord | None:
    """The record of the most recent :func:`pin` in this process, if any."""
    return _last_record


def restore_last_pin(record: PinRecord | None) -> None:
    """Make ``record`` the last pin again (:func:`mlnb.rng_state.set_state` restores it)."""
    global _last_record
    _last_record = record


def current_seed() -> int | None:
    """The seed of the most recent :func:`pin`, or ``None`` if nothing was pinned."""
    return _last_record.seed if _last_record else None


# --- per-cell seeds -----------------------------------------------------------


def derive_seed(base: int, key: str) -> int:
    """A seed in ``[0, 2**32 - 1]`` from a base seed and a string (a cell's source).

    Stable across processes and Python versions (BLAKE2b, not ``hash()``), so the
    same cell under the same base seed always gets the same stream, and different
    cells get different ones.
    """
    digest = hashlib.blake2b(f"{base}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & MAX_SEED


def normalize_source(source: str) -> str:
    """A cell's source with trailing whitespace and blank edge lines removed."""
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


class CellReseeder:
    """Re-pins the generators before each cell from the base seed and the cell's source.

    A cell then produces the same numbers however often and in whatever order it is
    re-run, and two different cells draw from different streams. Only libraries
    already imported are re-seeded, so this never imports torch by itself.
    """

    def __init__(self, base_seed: int) -> None:
        self.base_seed = validate_seed(base_seed)
        self.last_seed: int | None = None

    def seed_for(self, source: str) -> int:
        """The seed a cell with this source gets."""
        return derive_seed(self.base_seed, normalize_source(source))

    def before_cell(self, source: str) -> int:
        """Re-pin for a cell about to run; returns the seed used."""
        seed = self.seed_for(source)
        _seed_loaded(seed, import_torch=False)
        self.last_seed = seed
        return seed


# --- DataLoader helpers ----------------------------------------------------------


def worker_init_fn(worker_id: int) -> None:
    """Seed ``random`` and NumPy in a torch DataLoader worker from torch's worker seed.

    torch gives each worker the seed ``base_seed + worker_id``, where ``base_seed``
    is drawn from the loader's generator each epoch. torch >= 1.9 also seeds
    ``random`` and NumPy in workers itself; this function makes that explicit and
    keeps it true for other torch versions and for custom worker launchers. Pass as
    ``DataLoader(..., worker_init_fn=mlnb.seed.worker_init_fn,
    generator=mlnb.seed.generator())``.
    """
    import torch

    worker_seed = torch.initial_seed() % (MAX_SEED + 1)
    random.seed(worker_seed)
    numpy = sys.modules.get("numpy")
    if numpy is None and importlib.util.find_spec("numpy") is not None:
        import numpy
    if numpy is not None:
        numpy.random.seed(worker_seed)


def generator(seed: int | None = None, device: str = "cpu") -> Any:
    """A ``torch.Generator`` seeded with ``seed`` (default: the last pinned seed).

    Give it to a DataLoader (``generator=``) so shuffling and worker seeds are
    reproducible independently of other draws from torch's global generator.

    Raises:
        InvalidArgumentError: no seed is given and nothing has been pinned yet.
        SeedError: ``seed`` is not a whole number in ``[0, 2**32 - 1]``.
    """
    import torch

    if seed is None:
        if _last_record is None:
            raise InvalidArgumentError(
                "no seed given and nothing is pinned yet — call mlnb.seed.pin(N) first "
                "or pass generator(seed=N)."
            )
        value = _last_record.seed
    else:
        value = validate_seed(seed)
    gen = torch.Generator(device=device)
    gen.manual_seed(value)
    return gen


def status(reseeder: CellReseeder | None = None) -> dict[str, Any]:
    """What is pinned right now, as a dict (the ``%seed`` magic shows it as a table)."""
    record = _last_record
    torch = sys.modules.get("torch")
    info: dict[str, Any] = {
        "seed": record.seed if record else None,
        "source": record.source if record else None,
        "libraries": list(record.libraries) if record else [],
        "skipped": dict(record.skipped) if record else {},
        "every cell": (
            f"on (base seed {reseeder.base_seed}, last cell seed {reseeder.last_seed})"
            if reseeder
            else "off"
        ),
        "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED"),
        ENV_SEED: os.environ.get(ENV_SEED),
    }
    if torch is not None:
        info.update(deterministic_flags(torch))
    return info
