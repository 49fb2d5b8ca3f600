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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mlnb import display
from mlnb.gpu.storage_walk import ATOM, TENSOR, StorageWalker

MAX_DEPTH = 4
MAX_SHARED_NAMES = 5  # a storage shared by thousands of views names only a few
HIDDEN_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})


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
        if kind == ATOM or name[:1] == "_" or name in HIDDEN_NAMES:
            continue
        if kind == TENSOR:
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
