"""mlnb.seed as a plain library: pin, bounds, state, context manager, cell seeds; a 2-worker
DataLoader with random augmentation gives identical batches in fresh kernels."""

from __future__ import annotations

import hashlib
import json
import os
import random

import numpy as np
import pytest
import torch

from mlnb import seed as seeding
from mlnb.exceptions import InvalidArgumentError, MlnbError, SeedError
from tests.helpers import draws

LOADER = '''
import json, random
import numpy as np, torch
from torch.utils.data import DataLoader, Dataset
import mlnb.seed

class Augmented(Dataset):
    """Each item draws from random, NumPy and torch: all three must be pinned in workers."""
    def __len__(self):
        return 16
    def __getitem__(self, i):
        return torch.tensor([i + random.random(), np.random.normal(), torch.rand(1).item()])

mlnb.seed.pin({seed}, verbose=False)
loader = DataLoader(Augmented(), batch_size=4, shuffle=True, num_workers=2,
                    worker_init_fn=mlnb.seed.worker_init_fn, generator=mlnb.seed.generator(),
                    multiprocessing_context="fork")
epochs = [[batch.tolist() for batch in loader] for _ in range(2)]
print(json.dumps(epochs))
'''


pytestmark = pytest.mark.usefixtures("restore_rng")


def test_pin_makes_every_generator_repeat():
    record = seeding.pin(1234, verbose=False)
    first = draws()
    seeding.pin(1234, verbose=False)
    assert draws() == first
    assert record.seed == 1234 and record.source == "argument"
    assert record.libraries == ("random", "numpy", "torch")
    assert os.environ["PYTHONHASHSEED"] == "1234"
    assert record.environment == {"PYTHONHASHSEED": "1234"}


def test_different_seeds_differ():
    seeding.pin(1, verbose=False)
    a = draws()
    seeding.pin(2, verbose=False)
    assert draws() != a


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "seed must be a whole number from 0 to 4294967295, got 'abc'."),
        (-1, "got -1 (it is negative)."),
        (2**32, "got 4294967296 (it is 2**32 or more)."),
        (1.5, "got 1.5 (it has a fractional part)."),
        (True, "got True (a bool is not a seed)."),
        ([1], "got [1]."),
    ],
)
def test_bad_seeds_are_one_sentence_and_change_nothing(value, message):
    seeding.pin(7, verbose=False)
    state = random.getstate()
    with pytest.raises(SeedError) as caught:
        seeding.pin(value, verbose=False)
    assert str(caught.value).endswith(message)
    assert isinstance(caught.value, MlnbError) and isinstance(caught.value, ValueError)
    assert random.getstate() == state
    assert seeding.current_seed() == 7


def test_accepts_edges_and_numeric_strings():
    assert seeding.pin(0, verbose=False).seed == 0
    assert seeding.pin(2**32 - 1, verbose=False).seed == 2**32 - 1
    assert seeding.pin(" 42 ", verbose=False).seed == 42
    assert seeding.pin(np.int64(9), verbose=False).seed == 9


def test_seed_from_environment(monkeypatch):
    monkeypatch.setenv("MLNB_SEED", "99")
    record = seeding.pin(verbose=False)
    assert (record.seed, record.source) == (99, "MLNB_SEED")


def test_bad_seed_in_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("MLNB_SEED", "lots")
    with pytest.raises(SeedError, match="read from the MLNB_SEED environment variable"):
        seeding.pin(verbose=False)


def test_drawn_seed_is_printed_so_it_can_be_reused(monkeypatch, capsys):
    monkeypatch.delenv("MLNB_SEED", raising=False)
    record = seeding.pin()
    assert record.source == "drawn"
    out = capsys.readouterr().out
    assert f"drew {record.seed}" in out and f"MLNB_SEED={record.seed}" in out
    first = draws()
    seeding.pin(record.seed, verbose=False)
    assert draws() == first


def test_deterministic_sets_torch_flags_and_says_the_cost(capsys):
    record = seeding.pin(3, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert record.deterministic["use_deterministic_algorithms"] is True
    assert "slower" in capsys.readouterr().out


def test_deterministic_without_torch_pins_the_rest(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # "import torch" now fails
    monkeypatch.setattr(seeding, "torch_available", lambda: False)
    monkeypatch.setattr(
        seeding.importlib.util, "find_spec", lambda name: None if name == "torch" else object()
    )
    record = seeding.pin(5, deterministic=True)
    assert record.libraries == ("random", "numpy")
    assert "torch" in record.skipped and "deterministic" in record.skipped
    assert "--deterministic skipped: torch is not installed" in capsys.readouterr().out


def test_cell_seeds_are_stable_and_distinct():
    reseeder = seeding.CellReseeder(42)
    assert reseeder.seed_for("x = 1") == reseeder.seed_for("x = 1  \n\n")
    assert reseeder.seed_for("x = 1") != reseeder.seed_for("x = 2")
    assert seeding.CellReseeder(43).seed_for("x = 1") != reseeder.seed_for("x = 1")
    # the documented derivation: BLAKE2b-64 of "base\0source", low 32 bits (not hash())
    digest = hashlib.blake2b(b"42\x00x = 1", digest_size=8).digest()
    assert seeding.derive_seed(42, "x = 1") == int.from_bytes(digest, "little") % 2**32


def test_reseeder_repeats_a_cell_in_any_order():
    reseeder = seeding.CellReseeder(42)
    reseeder.before_cell("a")
    a1 = draws()
    reseeder.before_cell("b")
    b = draws()
    reseeder.before_cell("a")
    assert draws() == a1 != b


def test_generator_follows_the_pinned_seed():
    seeding.pin(11, verbose=False)
    g1 = seeding.generator()
    g2 = torch.Generator().manual_seed(11)
    assert torch.equal(torch.rand(3, generator=g1), torch.rand(3, generator=g2))


def test_generator_without_a_pin_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(seeding, "_last_record", None)
    with pytest.raises(
        InvalidArgumentError, match=r"nothing is pinned yet — call mlnb.seed.pin\(N\)"
    ):
        seeding.generator()


def test_status_reports_the_pin():
    seeding.pin(8, verbose=False)
    info = seeding.status()
    assert info["seed"] == 8 and info["every cell"] == "off"
    assert info["PYTHONHASHSEED"] == "8"


def _batches(kernel, cell_text, seed: int) -> list:
    nb = kernel([LOADER.format(seed=seed)])
    return json.loads(cell_text(nb.cells[0]).strip().splitlines()[-1])


@pytest.mark.kernel
def test_two_fresh_kernels_give_identical_batches(kernel, cell_text):
    first = _batches(kernel, cell_text, 123)
    second = _batches(kernel, cell_text, 123)
    assert first == second
    assert len(first) == 2 and len(first[0]) == 4
    assert first[0] != first[1]  # the two epochs shuffle and augment differently
    # the workers draw different augmentations for different items
    values = [row[1] for batch in first[0] for row in batch]
    assert len(set(values)) == len(values)


@pytest.mark.kernel
def test_a_different_seed_gives_different_batches(kernel, cell_text):
    assert _batches(kernel, cell_text, 123) != _batches(kernel, cell_text, 124)
