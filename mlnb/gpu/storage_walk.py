"""Which tensor storages one value reaches: tensors, modules, optimizers, containers, objects.

:class:`StorageWalker` follows parameters, buffers, gradients, optimizer state and tensors
nested in lists, tuples, dicts, sets and object attributes to a bounded depth, counting each
storage once by its device and data pointer. It imports nothing: a value that is not a tensor
of an already-imported torch is skipped by its type, decided once per type and cached.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from typing import Any

MAX_VISITS = 200_000  # per variable: a huge list is sampled, not walked forever
_ATOMIC = (int, float, complex, str, bytes, bytearray, bool, type(None), range, slice)
_SKIP_TYPES = (
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    type,
    types.CodeType,
    types.FrameType,
    types.GeneratorType,
)
_SKIP_MODULES = (
    "IPython.",
    "ipykernel.",
    "traitlets.",
    "zmq.",
    "tornado.",
    "asyncio.",
    "threading",
    "logging",
    "_io",
    "jupyter_client.",
)

# kinds a type is classified into (cached per type)
ATOM, TENSOR, _FAKE, _MODULE, _OPTIMIZER, _SEQUENCE, _MAPPING, _OBJECT = range(8)


class StorageWalker:
    """Finds the storages reachable from one value; type decisions are cached."""

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        torch = sys.modules.get("torch")
        self.tensor_type = torch.Tensor if torch is not None else None
        self.module_type = torch.nn.Module if torch is not None else None
        self.optimizer_type = torch.optim.Optimizer if torch is not None else None
        fake = sys.modules.get("mlnb.gpu.backends.fake")
        self.fake_type = fake.FakeBlock if fake is not None else None
        self.kinds: dict[type, int] = {}

    def kind(self, cls: type) -> int:
        found = self.kinds.get(cls)
        if found is None:
            found = self.kinds[cls] = self._classify(cls)
        return found

    def _classify(self, cls: type) -> int:
        if issubclass(cls, _ATOMIC) or issubclass(cls, _SKIP_TYPES):
            return ATOM
        if self.tensor_type is not None and issubclass(cls, self.tensor_type):
            return TENSOR
        if self.fake_type is not None and issubclass(cls, self.fake_type):
            return _FAKE
        if self.module_type is not None and issubclass(cls, self.module_type):
            return _MODULE
        if self.optimizer_type is not None and issubclass(cls, self.optimizer_type):
            return _OPTIMIZER
        if issubclass(cls, (list, tuple, set, frozenset)):
            return _SEQUENCE
        if issubclass(cls, Mapping):
            return _MAPPING
        module = getattr(cls, "__module__", "") or ""
        if module.startswith(_SKIP_MODULES) or module in ("numpy", "builtins"):
            return ATOM
        return _OBJECT

    def walk(self, value: Any) -> tuple[dict[tuple[str, int], tuple[str, int]], int, int, bool]:
        """Storages ``{key: (device, nbytes)}``, tensor count, graph-tensor count, truncated."""
        storages: dict[tuple[str, int], tuple[str, int]] = {}
        seen: set[int] = set()
        tensors = graphs = visits = 0
        truncated = False
        stack: list[tuple[Any, int, int]] = [(value, 0, self.kind(type(value)))]
        kinds = self.kinds
        classify = self.kind
        add_tensor = self._add_tensor
        max_depth = self.max_depth
        while stack:
            obj, depth, kind = stack.pop()
            ident = id(obj)
            if ident in seen:
                continue
            seen.add(ident)
            visits += 1
            if visits > MAX_VISITS:
                truncated = True
                break
            if kind == TENSOR:
                tensors += 1
                graphs += self._add_tensor(obj, storages)
                continue
            if kind == _FAKE:
                tensors += 1
                storages[(f"fake-cuda:{obj.device}", id(obj))] = (f"cuda:{obj.device}", obj.nbytes)
                continue
            if kind == _MODULE:
                for tensor in _module_tensors(obj):
                    if id(tensor) not in seen:
                        seen.add(id(tensor))
                        tensors += 1
                        graphs += self._add_tensor(tensor, storages)
                children: Any = [v for k, v in vars(obj).items() if k not in _MODULE_INTERNALS]
            elif kind == _OPTIMIZER:
                children = [obj.state, [g.get("params", ()) for g in obj.param_groups]]
            elif depth >= max_depth:
                truncated = True
                continue
            elif kind == _SEQUENCE:
                children = obj
            elif kind == _MAPPING:
                try:
                    children = list(obj.values())
                except Exception:  # a mapping whose values() misbehaves
                    continue
            else:
                children = getattr(obj, "__dict__", None)
                if not isinstance(children, dict):
                    continue
                children = children.values()
            depth += 1
            for child in children:
                child_kind = kinds.get(type(child))
                if child_kind is None:
                    child_kind = classify(type(child))
                if child_kind == ATOM:
                    continue
                if child_kind == TENSOR:  # the common leaf, handled without a stack round trip
                    ident = id(child)
                    if ident not in seen:
                        seen.add(ident)
                        visits += 1
                        tensors += 1
                        graphs += add_tensor(child, storages)
                    continue
                stack.append((child, depth, child_kind))
        return storages, tensors, graphs, truncated

    def _add_tensor(self, tensor: Any, storages: dict[tuple[str, int], tuple[str, int]]) -> int:
        _add_storage(tensor, storages)
        if tensor.is_leaf:
            grad = tensor.grad
            if grad is not None:
                _add_storage(grad, storages)
            return 0
        return 1 if tensor.grad_fn is not None else 0


_MODULE_INTERNALS = frozenset({"_parameters", "_buffers", "_modules"})


def _module_tensors(module: Any) -> list[Any]:
    found = list(module.parameters())
    found.extend(module.buffers())
    return found


_CUDA_NAMES = [f"cuda:{i}" for i in range(64)]


def _device_name(tensor: Any) -> str | None:
    """``"cpu"``, ``"cuda:0"``, ``"mps"``...; None for meta tensors (no memory)."""
    if tensor.is_cuda:
        index = tensor.get_device()
        return _CUDA_NAMES[index] if 0 <= index < len(_CUDA_NAMES) else f"cuda:{index}"
    if tensor.is_cpu:
        return "cpu"
    if tensor.is_meta:
        return None
    if tensor.is_mps:
        return "mps"
    return str(tensor.device)


def _add_storage(tensor: Any, storages: dict[tuple[str, int], tuple[str, int]]) -> None:
    device = _device_name(tensor)
    if device is None:
        return
    try:
        storage = tensor.untyped_storage()
        pointer, nbytes = storage.data_ptr(), storage.nbytes()
    except Exception:  # sparse or exotic tensors: count their elements by identity
        pointer, nbytes = -id(tensor), tensor.element_size() * tensor.numel()
    if nbytes:
        storages[(device, pointer)] = (device, nbytes)
