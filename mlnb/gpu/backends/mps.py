"""Apple Metal (MPS) through ``torch.mps``: allocated and driver-held bytes."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

from mlnb.gpu.backends import BackendUnavailable, BaseBackend
from mlnb.gpu.backends.records import AllocatorStats


def _mps_torch() -> Any | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        return torch if torch.backends.mps.is_available() else None
    except Exception:  # an old torch without torch.backends.mps
        return None


class MpsBackend(BaseBackend):
    """PyTorch's MPS allocator (macOS on Apple silicon)."""

    name = "mps"

    def __init__(self) -> None:
        if sys.platform != "darwin":
            raise BackendUnavailable("MPS is off: Metal is only available on macOS.")
        if "torch" not in sys.modules and importlib.util.find_spec("torch") is None:
            raise BackendUnavailable("MPS is off: torch is not installed.")

    def allocators(self) -> list[AllocatorStats]:
        """Bytes held by tensors and by the Metal driver for this process."""
        torch = _mps_torch()
        if torch is None:
            return []
        recommended = getattr(torch.mps, "recommended_max_memory", None)
        total = int(recommended()) if recommended is not None else None
        allocated = int(torch.mps.current_allocated_memory())
        reserved = int(torch.mps.driver_allocated_memory())
        return [
            AllocatorStats(
                device="mps",
                backend=self.name,
                allocated=allocated,
                reserved=reserved,
                total=total,
                free=max(0, total - reserved) if total is not None else None,
            )
        ]

    def release_cache(self) -> None:
        """``torch.mps.empty_cache()``."""
        torch = _mps_torch()
        if torch is not None:
            torch.mps.empty_cache()
