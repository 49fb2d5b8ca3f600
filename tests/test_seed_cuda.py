"""Seed pinning on a real CUDA device (skipped without one; run on the lent GPU machine)."""

from __future__ import annotations

import statistics
import time

import pytest

torch = pytest.importorskip("torch")

from mlnb import rng_state  # noqa: E402
from mlnb import seed as seeding  # noqa: E402
from mlnb.repro import check_reproducible  # noqa: E402

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.fixture(autouse=True)
def _restore():
    saved = rng_state.get_state()
    yield
    rng_state.set_state(saved)
    torch.use_deterministic_algorithms(False)


def test_pin_repeats_cuda_draws():
    seeding.pin(5, verbose=False)
    a = torch.randn(10_000, device="cuda")
    seeding.pin(5, verbose=False)
    assert torch.equal(a, torch.randn(10_000, device="cuda"))
    seeding.pin(6, verbose=False)
    assert not torch.equal(a, torch.randn(10_000, device="cuda"))


def test_every_cell_reseeds_cuda_and_stays_cheap():
    seeding.pin(1, verbose=False)
    torch.randn(1, device="cuda")  # CUDA initialised
    reseeder = seeding.CellReseeder(1)
    reseeder.before_cell("x")
    a = torch.randn(100, device="cuda")
    reseeder.before_cell("y")
    b = torch.randn(100, device="cuda")
    reseeder.before_cell("x")
    assert torch.equal(a, torch.randn(100, device="cuda"))
    assert not torch.equal(a, b)
    samples = []
    for _ in range(1000):
        started = time.perf_counter()
        reseeder.before_cell("x = 1")
        samples.append(time.perf_counter() - started)
    median_ms = statistics.median(samples) * 1e3
    print(f"\nGPU every-cell re-pin: median {median_ms:.4f} ms per cell over 1000 cells")


def test_pinned_restores_cuda_generator_state():
    seeding.pin(3, verbose=False)
    torch.randn(1, device="cuda")
    expected = torch.randn(100, device="cuda")
    seeding.pin(3, verbose=False)
    torch.randn(1, device="cuda")
    with rng_state.pinned(99, verbose=False):
        torch.randn(1000, device="cuda")
    assert torch.equal(expected, torch.randn(100, device="cuda"))


def test_deterministic_mode_makes_index_add_repeat():
    seeding.pin(0, deterministic=True, verbose=False)
    index = torch.randint(0, 10, (1_000_000,), device="cuda")
    values = torch.randn(1_000_000, device="cuda")

    def once():
        return torch.zeros(10, device="cuda").index_add_(0, index, values)

    assert torch.equal(once(), once())


def test_repro_on_a_cuda_training_cell():
    seeding.pin(0, deterministic=True, verbose=False)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.LazyLinear(2)
    ).cuda()
    model(torch.zeros(1, 3, 16, 16, device="cuda"))
    code = (
        "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "for _ in range(5):\n"
        "    x = torch.randn(32, 3, 16, 16, device='cuda')\n"
        "    loss = model(x).pow(2).mean()\n"
        "    opt.zero_grad(); loss.backward(); opt.step()\n"
        "loss.item()"
    )
    report = check_reproducible(code, {"torch": torch, "model": model}, runs=3)
    print("\n" + report.text())
    assert report.reproducible, report.text()
