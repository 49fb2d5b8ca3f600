"""A 2-worker DataLoader with random augmentation gives identical batches in fresh kernels."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.kernel

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


def _batches(kernel, cell_text, seed: int) -> list:
    nb = kernel([LOADER.format(seed=seed)])
    return json.loads(cell_text(nb.cells[0]).strip().splitlines()[-1])


def test_two_fresh_kernels_give_identical_batches(kernel, cell_text):
    first = _batches(kernel, cell_text, 123)
    second = _batches(kernel, cell_text, 123)
    assert first == second
    assert len(first) == 2 and len(first[0]) == 4
    assert first[0] != first[1]  # the two epochs shuffle and augment differently
    # the workers draw different augmentations for different items
    values = [row[1] for batch in first[0] for row in batch]
    assert len(set(values)) == len(values)


def test_a_different_seed_gives_different_batches(kernel, cell_text):
    assert _batches(kernel, cell_text, 123) != _batches(kernel, cell_text, 124)
