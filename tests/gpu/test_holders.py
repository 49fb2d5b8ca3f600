"""holders(): which variables hold tensor memory, on CPU tensors (the walk is device-agnostic)."""

from __future__ import annotations

import pytest

from mlnb.gpu import holders
from tests.helpers import GIB

torch = pytest.importorskip("torch")


def _by_name(report):
    return {h.name: h for h in report.holders}


def test_shared_storage_counted_once_and_sorted_by_bytes():
    big = torch.zeros(1000, 1000)  # 4 MB
    view = big[:10]
    small = torch.zeros(10)
    report = holders({"big": big, "view": view, "small": small, "n": 3}, allocated={})
    rows = _by_name(report)
    assert rows["big"].nbytes == rows["view"].nbytes == 4_000_000
    assert rows["big"].shared_with == ("view",)
    assert report.reachable == {"cpu": 4_000_000 + 40}  # the view's storage counted once
    assert [h.name for h in report.holders] == ["big", "view", "small"]
    assert "n" not in rows


def test_module_parameters_buffers_grads_and_optimizer_state():
    model = torch.nn.Sequential(torch.nn.Linear(100, 50), torch.nn.BatchNorm1d(50))
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(8, 100)).sum().backward()
    optimizer.step()
    rows = _by_name(holders({"model": model, "optimizer": optimizer}, allocated={}))
    params = sum(p.numel() * 4 for p in model.parameters())
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    assert rows["model"].nbytes == 2 * params + buffers  # weights + their grads + BN buffers
    assert rows["model"].tensors == 7
    exp_avg = sum(
        s["exp_avg"].numel() * 4 + s["exp_avg_sq"].numel() * 4 for s in optimizer.state.values()
    )
    steps = sum(s["step"].numel() * s["step"].element_size() for s in optimizer.state.values())
    assert (
        rows["optimizer"].nbytes == 2 * params + exp_avg + steps
    )  # params (+grads) it holds + its state
    assert rows["optimizer"].shared_with == ("model",)


def test_nested_containers_and_attributes_with_bounded_depth():
    class Trainer:
        pass

    trainer = Trainer()
    trainer.history = {
        "batches": [(torch.ones(256),)]
    }  # depth: attr -> dict -> list -> tuple -> tensor
    deep = [[[[[[torch.ones(1000)]]]]]]
    report = holders({"trainer": trainer, "deep": deep}, allocated={})
    rows = _by_name(report)
    assert rows["trainer"].nbytes == 1024 and not rows["trainer"].truncated
    assert "deep" not in rows  # beyond the default depth
    rows = _by_name(holders({"deep": deep}, max_depth=8, allocated={}))
    assert rows["deep"].nbytes == 4000


def test_graph_carrying_tensors_are_counted():
    weight = torch.randn(10, requires_grad=True)
    losses = [(weight * i).sum() for i in range(5)]
    values = [x.item() for x in losses]
    rows = _by_name(holders({"losses": losses, "values": values, "weight": weight}, allocated={}))
    assert rows["losses"].graph_tensors == 5
    assert rows["weight"].graph_tensors == 0
    assert "values" not in rows


def test_ipython_names_are_skipped():
    tensor = torch.ones(4)
    rows = _by_name(
        holders({"_": tensor, "_3": tensor, "Out": {3: tensor}, "x": tensor}, allocated={})
    )
    assert list(rows) == ["x"]


def test_unreachable_is_allocated_minus_reachable(fake_gpu):
    kept = fake_gpu.allocate(GIB)
    lost = [fake_gpu.allocate(2 * GIB)]  # not in the namespace we pass
    report = holders({"kept": kept})
    assert report.reachable == {"cuda:0": GIB}
    assert report.unreachable == {"cuda:0": 2 * GIB}
    assert report.notes()[0].startswith("cuda:0: 2.0 GiB allocated but reachable from no variable")
    del lost


def test_cpu_unreachable_is_said_to_be_not_measurable():
    report = holders({"x": torch.ones(3)}, allocated={})
    assert report.notes() == [
        "cpu: allocated-but-unreachable bytes are not measurable (the CPU allocator keeps no count)."
    ]
    assert "x" in report.text()


def test_empty_namespace_says_so():
    assert holders({"a": 1}, allocated={}).text() == "mlnb: no variable holds a tensor."
