"""OOM detection, the guard, find_batch_size — driven by real and fake out-of-memory errors on CPU."""

from __future__ import annotations

import gc
import weakref

import pytest

from mlnb.exceptions import InvalidArgumentError, OutOfMemoryError
from mlnb.gpu import find_batch_size, is_oom_error, oom_guard
from mlnb.gpu.oom import halving, suggestions
from tests.helpers import GIB

torch = pytest.importorskip("torch")

OOM_MESSAGES = [
    "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.15 GiB of which 10.81 MiB is free.",
    "CUDA error: out of memory\nCUDA kernel errors might be asynchronously reported",
    "MPS backend out of memory (MPS allocated: 17.00 GB, other allocations: 1.20 GB, max allowed: 18.13 GB). Tried to allocate 256.00 MB on private pool.",
    "cuDNN error: CUDNN_STATUS_NOT_SUPPORTED. This error may appear if you passed in a non-contiguous input.",
    "CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`",
    "HIP out of memory. Tried to allocate 20.00 MiB",
    "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to allocate 1125899906842624 bytes.",
]


@pytest.mark.parametrize("message", OOM_MESSAGES)
def test_oom_messages_are_recognised(message):
    assert is_oom_error(RuntimeError(message))


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError("mat1 and mat2 shapes cannot be multiplied (4x3 and 5x6)"),
        RuntimeError("CUDA error: device-side assert triggered"),
        ValueError("CUDA out of memory"),  # not what torch raises
        KeyError("memory"),
    ],
)
def test_other_errors_are_not_oom(exc):
    assert not is_oom_error(exc)


def test_torch_oom_type_and_real_cpu_allocator_failure():
    assert is_oom_error(torch.OutOfMemoryError("anything"))
    assert is_oom_error(MemoryError())
    with pytest.raises(RuntimeError) as info:
        torch.empty(2**50, dtype=torch.uint8)  # a petabyte: the real CPU allocator refuses
    assert is_oom_error(info.value)


def _fails_holding(tensor_box):
    big = torch.ones(50_000_000, dtype=torch.uint8)
    tensor_box.append(weakref.ref(big))
    raise torch.OutOfMemoryError(
        "CUDA out of memory. Tried to allocate 4.00 GiB. GPU 0 has a total capacity of 16 GiB"
    )


def test_guard_releases_the_traceback_and_raises_one_sentence():
    refs = []
    with pytest.raises(OutOfMemoryError) as info, oom_guard(namespace={}, show=False) as guard:
        _fails_holding(refs)
    gc.collect()
    assert refs[0]() is None  # the frame that held the tensor was cleared
    assert (
        str(info.value)
        == "out of memory (CUDA) — the traceback was released; see the report above."
    )
    assert info.value.__cause__ is None and info.value.__suppress_context__
    report = guard.report
    assert report is info.value.report
    assert (report.kind, report.asked) == ("CUDA", "4.00 GiB")
    assert report.frames_cleared >= 1
    assert report.text().startswith("mlnb: out of memory (CUDA); it tried to allocate 4.00 GiB.")


def test_guard_can_suppress_and_reports_what_is_free(fake_gpu, capsys):
    kept = fake_gpu.allocate(4 * GIB)
    with oom_guard(namespace={"kept": kept}, suppress=True) as guard:
        fake_gpu.allocate(100 * GIB)
    text = capsys.readouterr().out
    assert guard.report.free == {"cuda:0": 16 * GIB - GIB - 4 * GIB}
    assert "now: cuda:0 11.0 GiB free, 4.0 GiB allocated" in text
    assert "top holders: kept 4.0 GiB." in text


def test_non_oom_error_passes_through_untouched():
    error = ValueError("not memory")
    with pytest.raises(ValueError) as info, oom_guard(namespace={}) as guard:
        raise error
    assert info.value is error
    assert info.value.__traceback__ is not None
    assert guard.report is None


def test_suggestions_detect_a_list_of_graph_carrying_losses():
    from mlnb.gpu import holders

    weight = torch.randn(4, requires_grad=True)
    namespace = {"losses": [(weight * i).sum() for i in range(3)], "preds": weight * 2}
    advice = suggestions(holders(namespace, allocated={}), "bs")
    assert advice[0] == (
        "`losses` holds 3 tensors that carry autograd graphs — accumulate `loss.item()` (a float) "
        "instead, so each step's graph is freed."
    )
    assert advice[1].startswith(
        "`preds` carries an autograd graph — compute it under `torch.no_grad()`"
    )
    assert advice[2] == "a smaller `bs` (`--retry-batch bs` halves it until the cell fits)."


def _workload(limit, calls):
    def run(batch_size):
        calls.append(batch_size)
        if batch_size > limit:
            raise RuntimeError(f"CUDA out of memory. Tried to allocate {batch_size} MiB")
        return batch_size * 10

    return run


def test_find_batch_size_halves_until_it_fits():
    calls = []
    fit = find_batch_size(_workload(70, calls), start=512)
    assert (fit.batch_size, fit.result, fit.tried) == (64, 640, (512, 256, 128, 64))
    assert calls == [512, 256, 128, 64]


def test_find_batch_size_on_the_fake_gpu(fake_gpu):
    def step(batch_size):
        activations = fake_gpu.allocate(batch_size * 64 * 1024**2)  # 64 MiB a sample
        return activations.nbytes

    fit = find_batch_size(step, start=1024, min=8)
    true_max = (15 * GIB) // (64 * 1024**2)  # 240 samples fit in the 15 GiB free
    assert fit.batch_size == 128 and fit.batch_size <= true_max < 2 * fit.batch_size


def test_find_batch_size_gives_up_at_min():
    with pytest.raises(OutOfMemoryError) as info:
        find_batch_size(_workload(0, []), start=100, min=20)
    assert str(info.value) == "out of memory even at batch size 20 (tried 100, 50, 25, 20)."


def test_find_batch_size_does_not_retry_other_errors():
    calls = []

    def broken(batch_size):
        calls.append(batch_size)
        raise KeyError("label")

    with pytest.raises(KeyError):
        find_batch_size(broken, start=64)
    assert calls == [64]


def test_find_batch_size_as_a_decorator():
    @find_batch_size(start=32, min=4)
    def train(batch_size, epochs):
        if batch_size > 8:
            raise torch.OutOfMemoryError("CUDA out of memory.")
        return batch_size * epochs

    fit = train(epochs=3)
    assert (fit.batch_size, fit.result) == (8, 24)


@pytest.mark.parametrize(
    ("start", "minimum", "message"),
    [
        (0, 1, "find_batch_size: start must be a whole number ≥ 1, got 0."),
        (8.0, 1, "find_batch_size: start must be a whole number ≥ 1, got 8.0."),
        (8, 0, "find_batch_size: min must be a whole number ≥ 1, got 0."),
        (4, 8, "find_batch_size: start (4) is below min (8)."),
    ],
)
def test_find_batch_size_bad_sizes(start, minimum, message):
    with pytest.raises(InvalidArgumentError) as info:
        find_batch_size(lambda b: b, start=start, min=minimum)
    assert str(info.value) == message


def test_halving_always_ends_at_min():
    assert list(halving(100, 16)) == [100, 50, 25, 16]
    assert list(halving(8, 8)) == [8]
