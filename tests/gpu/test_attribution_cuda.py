"""On a real CUDA GPU: two kernels holding 1 GiB and 2 GiB show as such; the memory timeline.

Skipped without CUDA (this development machine has none; the test is written for a
GPU machine). The figures are PRINTED (run with ``-s``):
``pytest tests/gpu/test_attribution_cuda.py -m gpu -s``.
"""

from __future__ import annotations

import os
import time

import pytest

torch = pytest.importorskip("torch")

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

GIB = 1024**3
#: the CUDA context and allocator rounding on top of the tensor itself
CONTEXT_ALLOWANCE = GIB


@pytest.fixture
def two_kernels():
    """Two real ipykernels holding a 1 GiB and a 2 GiB tensor on cuda:0."""
    from jupyter_client.manager import KernelManager

    env = dict(os.environ)
    env.pop("MLNB_GPU_BACKEND", None)
    managers = []
    for gib in (1, 2):
        manager = KernelManager(kernel_name="python3")
        manager.start_kernel(env=env)
        client = manager.client()
        client.start_channels()
        client.wait_for_ready(timeout=120)
        reply = client.execute_interactive(
            f"import torch; held = torch.empty({gib} * 1024**3, dtype=torch.uint8, device='cuda:0')",
            timeout=120,
        )
        assert reply["content"]["status"] == "ok", reply
        managers.append((manager, client, gib))
    yield managers
    for manager, client, _ in managers:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_two_kernels_holding_1_and_2_gib(two_kernels):
    from mlnb.gpu import backends
    from mlnb.gpu.attribution import KernelRef, attribute
    from mlnb.gpu.status import status

    os.environ.pop("MLNB_GPU_BACKEND", None)
    backends.reset()
    refs = [
        KernelRef(f"k{gib}", pid=manager.provisioner.pid, path=f"holds_{gib}gib.ipynb")
        for manager, _, gib in two_kernels
    ]
    started = time.perf_counter()
    result = attribute(status().devices, refs)
    elapsed = time.perf_counter() - started
    print("\n" + result.text())
    print(f"attribution read in {elapsed * 1e3:.0f} ms")
    if not result.pids_visible:
        pytest.skip("NVML cannot see this container's pids; the self-report path applies")
    bars = {b.path: b for d in result.devices for b in d.bars if b.path}
    for gib in (1, 2):
        used = bars[f"holds_{gib}gib.ipynb"].used
        assert used is not None and gib * GIB <= used <= gib * GIB + CONTEXT_ALLOWANCE, used


def test_memory_timeline_on_cuda():
    from mlnb.gpu import timeline
    from mlnb.gpu.timeline_view import view

    timeline.start()
    blocks = [torch.empty(256 * 1024**2, dtype=torch.uint8, device="cuda") for _ in range(4)]
    del blocks[1:]
    recorded = timeline.stop()
    largest = recorded.largest(3)
    print("\n" + view(recorded).text())
    assert largest[0].size >= 256 * 1024**2
    assert any("test_attribution_cuda.py" in frame for frame in largest[0].frames)
    assert recorded.peak >= 4 * 256 * 1024**2
    del blocks
