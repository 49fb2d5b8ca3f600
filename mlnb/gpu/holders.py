"""``holders(namespace)``: which variables hold tensor memory, and how much nobody holds.

For every user variable it walks tensors, ``nn.Module`` parameters, buffers and
gradients, optimizer state, and tensors nested in lists, tuples, dicts, sets and
object attributes (to a bounded depth), counting each storage once — views and
shared parameters are not double-counted. Rows are sorted by bytes.

"Unreachable" bytes are the allocator's allocated bytes minus everything reachable
from a variable: memory kept alive by a traceback (``sys.last_traceback``), the
output cache (``Out``, ``_``), closures or a leak. CPU tensors work the same way —
only the unreachable figure needs an allocator that counts, which the CPU lacks.

Works on any device and imports nothing: with torch not imported there can be
no tensor, and the walk only looks at what the variables already reference.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mlnb import display

MAX_DEPTH = 4
MAX_VISITS = 200_000  # per variable: a huge list is sampled, not walked forever
MAX_SHARED_NAMES = 5  # a storage shared by thousands of views names only a few
HIDDEN_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})
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
_ATOM, _TENSOR, _FAKE, _MODULE, _OPTIMIZER, _SEQUENCE, _MAPPING, _OBJECT = range(8)


class Holder(NamedTuple):
    """One variable and the tensor memory reachable from it.

    Attributes:
        name: the variable's name.
        type_name: its type, e.g. ``"Tensor"``, ``"Linear"``, ``"list"``.
        nbytes: bytes of the distinct storages reachable from it.
        tensors: how many tensors (parameters, gradients, state...) it reaches.
        devices: the devices those tensors live on.
        shared_with: other variables that reach some of the same storages (at most five named).
        graph_tensors: tensors that carry an autograd graph (``grad_fn`` set).
        truncated: the walk stopped early (depth or size bound), so this is a lower bound.
    """

    name: str
    type_name: str
    nbytes: int
    tensors: int
    devices: tuple[str, ...]
    shared_with: tuple[str, ...] = ()
    graph_tensors: int = 0
    truncated: bool = False


@dataclass(frozen=True)
class HoldersReport(display.Report):
    """Every holding variable, largest first, and the bytes no variable reaches.

    Attributes:
        holders: one :class:`Holder` per variable that reaches tensor memory.
        reachable: device -> bytes reachable from some variable (each storage once).
        allocated: device -> bytes the allocator says are allocated.
        unreachable: device -> allocated minus reachable, for devices with an allocator.
    """

    holders: list[Holder]
    reachable: dict[str, int]
    allocated: dict[str, int] = field(default_factory=dict)
    unreachable: dict[str, int] = field(default_factory=dict)

    def top(self, n: int = 5) -> list[Holder]:
        """The ``n`` largest holders."""
        return self.holders[:n]

    def notes(self) -> list[str]:
        """Sentences about unreachable memory, one per device kind."""
        lines = [
            f"{device}: {display.human_bytes(n)} allocated but reachable from no variable "
            "(a traceback, Out/_ or a closure holds it — `%gpu free` releases those)."
            for device, n in self.unreachable.items()
            if n > 0
        ]
        if "cpu" in self.reachable:
            lines.append(
                "cpu: allocated-but-unreachable bytes are not measurable (the CPU allocator keeps no count)."
            )
        return lines

    def rows(self, limit: int | None = None) -> list[tuple[str, ...]]:
        """Table rows."""
        shown = self.holders if limit is None else self.holders[:limit]
        return [
            (
                h.name,
                h.type_name,
                display.human_bytes(h.nbytes) + ("+" if h.truncated else ""),
                str(h.tensors),
                ", ".join(h.devices),
                ", ".join(h.shared_with) or "—",
            )
            for h in shown
        ]

    HEADERS = ("variable", "type", "bytes", "tensors", "device", "shares storage with")

    def text(self, limit: int | None = 20) -> str:
        """Plain-text table plus the unreachable notes."""
        if not self.holders:
            body = "mlnb: no variable holds a tensor."
        else:
            body = display.text_table(self.HEADERS, self.rows(limit))
        return "\n".join([body, *self.notes()])

    def html(self, limit: int | None = 20) -> str:
        """HTML table (escaped) plus the notes."""
        import html

        if not self.holders:
            body = "<p>mlnb: no variable holds a tensor.</p>"
        else:
            body = display.html_table(
                self.HEADERS, self.rows(limit), caption="who holds tensor memory"
            )
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self.notes())
        return body + notes


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
            return _ATOM
        if self.tensor_type is not None and issubclass(cls, self.tensor_type):
            return _TENSOR
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
            return _ATOM
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
            if kind == _TENSOR:
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
                if child_kind == _ATOM:
                    continue
                if child_kind == _TENSOR:  # the common leaf, handled without a stack round trip
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


def visible_names(namespace: Mapping[str, Any]) -> list[str]:
    """The user variables of a namespace (IPython's ``_``-names, ``In``/``Out`` excluded)."""
    return [n for n in namespace if not n.startswith("_") and n not in HIDDEN_NAMES]


def holders(
    namespace: Mapping[str, Any] | None = None,
    *,
    max_depth: int = MAX_DEPTH,
    allocated: Mapping[str, int] | None = None,
) -> HoldersReport:
    """Which variables hold tensor memory, largest first, and the bytes nobody reaches.

    Args:
        namespace: the variables to inspect; defaults to the IPython user namespace,
            or the caller's globals outside IPython.
        max_depth: how deep to follow containers and object attributes.
        allocated: device -> allocated bytes; defaults to the active allocators.

    Returns:
        A :class:`HoldersReport`.
    """
    if namespace is None:
        namespace = _default_namespace()
    if allocated is None:
        from mlnb.gpu.memory import allocated_by_device

        allocated = allocated_by_device()
    walker = StorageWalker(max_depth)
    kinds, classify = walker.kinds, walker.kind
    per_name: dict[str, tuple[Any, dict, int, int, bool]] = {}
    owners: dict[tuple[str, int], list[str]] = {}
    for name, value in namespace.items():
        kind = kinds.get(type(value))
        if kind is None:
            kind = classify(type(value))
        if kind == _ATOM or name[:1] == "_" or name in HIDDEN_NAMES:
            continue
        if kind == _TENSOR:
            storages: dict[tuple[str, int], tuple[str, int]] = {}
            graphs = walker._add_tensor(value, storages)
            tensors, truncated = 1, False
        else:
            storages, tensors, graphs, truncated = walker.walk(value)
        if not storages and not graphs:
            continue
        per_name[name] = (value, storages, tensors, graphs, truncated)
        for key in storages:
            owners.setdefault(key, []).append(name)
    rows: list[Holder] = []
    reachable: dict[str, int] = {}
    counted: set[tuple[str, int]] = set()
    for name, (value, storages, tensors, graphs, truncated) in per_name.items():
        shared: dict[str, None] = {}
        devices: set[str] = set()
        total = 0
        for key, (device, nbytes) in storages.items():
            total += nbytes
            devices.add(device)
            sharers = owners[key]
            if len(sharers) > 1 and len(shared) < MAX_SHARED_NAMES:
                for other in sharers[: MAX_SHARED_NAMES + 1]:
                    if other != name:
                        shared[other] = None
            if key not in counted:
                counted.add(key)
                reachable[device] = reachable.get(device, 0) + nbytes
        rows.append(
            Holder(
                name,
                type(value).__name__,
                total,
                tensors,
                tuple(sorted(devices)),
                tuple(shared)[:MAX_SHARED_NAMES],
                graphs,
                truncated,
            )
        )
    rows.sort(key=lambda h: (-h.nbytes, h.name))
    unreachable = {device: max(0, n - reachable.get(device, 0)) for device, n in allocated.items()}
    return HoldersReport(rows, reachable, dict(allocated), unreachable)


def user_namespace() -> dict[str, Any] | None:
    """The running IPython shell's user namespace, None outside IPython."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a core dependency
        return None
    return shell.user_ns if shell is not None else None


def _default_namespace() -> Mapping[str, Any]:
    found = user_namespace()
    if found is not None:
        return found
    return sys._getframe(2).f_globals  # the caller of holders()
