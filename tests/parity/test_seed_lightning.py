"""Parity: ``mlnb.pin`` against Lightning's ``seed_everything`` on the same seeds.

Exact: after pinning the same seed, random, NumPy's global generator and torch's CPU
generator give bit-identical draws, and both accept exactly the seeds
``[0, 2**32 - 1]``. By design (the test says how): the DataLoader worker seeds are
derived differently (Lightning mixes a SeedSequence, mlnb uses torch's per-worker
seed), so the workers are compared on the properties a user relies on — reproducible
run to run, different from worker to worker.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from mlnb.exceptions import SeedError
from mlnb.seed import MAX_SEED, pin, worker_init_fn
from tests.helpers import extra

seed_module = extra("lightning.fabric.utilities.seed")
torch = pytest.importorskip("torch", reason="torch (the CPU build) is a test dependency")

SEEDS = [0, 1, 42, 2**31 - 1, 2**31, MAX_SEED]


def _draws() -> tuple[list[float], list[float], list[float]]:
    return (
        [random.random() for _ in range(5)],
        np.random.rand(5).tolist(),
        torch.rand(5).tolist(),
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_the_same_seed_gives_bit_identical_draws(seed: int) -> None:
    seed_module.seed_everything(seed, verbose=False)
    lightning = _draws()
    pin(seed, verbose=False)
    mlnb = _draws()
    assert mlnb == lightning  # tolerance: none, every draw bit for bit


@pytest.mark.parametrize("bad", [-1, MAX_SEED + 1, 2**63])
def test_both_refuse_the_same_out_of_range_seeds(bad: int) -> None:
    with pytest.raises(ValueError, match="not in bounds"):
        seed_module.seed_everything(bad, verbose=False)
    with pytest.raises(SeedError):
        pin(bad, verbose=False)


def test_both_accept_a_seed_written_as_text() -> None:
    seed_module.seed_everything("7", verbose=False)  # type: ignore[arg-type]
    lightning = _draws()
    assert pin("7", verbose=False).seed == 7
    assert _draws() == lightning


def _worker_draws(init, base: int) -> list[tuple[int, float]]:
    class Draws(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return 4

        def __getitem__(self, index: int) -> tuple[int, float]:
            info = torch.utils.data.get_worker_info()
            return info.id, float(np.random.rand())

    loader = torch.utils.data.DataLoader(
        Draws(),
        batch_size=None,
        num_workers=2,
        worker_init_fn=init,
        generator=torch.Generator().manual_seed(base),
        multiprocessing_context="fork",
    )
    return [(int(worker), value) for worker, value in loader]


@pytest.mark.parametrize(
    "init",
    [worker_init_fn, lambda worker_id: seed_module.pl_worker_init_function(worker_id, rank=0)],
    ids=["mlnb", "lightning"],
)
def test_dataloader_workers_are_reproducible_and_distinct_like_lightnings(init) -> None:
    first = _worker_draws(init, base=11)
    again = _worker_draws(init, base=11)
    assert first == again  # the same generator seed: the same draws, worker for worker
    by_worker: dict[int, list[float]] = {}
    for worker, value in first:
        by_worker.setdefault(worker, []).append(value)
    assert len(by_worker) == 2 and by_worker[0] != by_worker[1]  # no two workers alike
    assert _worker_draws(init, base=12) != first  # another epoch seed, other draws
