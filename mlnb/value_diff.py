"""Compare two Python values the way a model trainer means "the same".

Arrays and tensors are equal when shape, dtype and every element match (NaN equals
NaN), and a difference is reported as the maximum absolute difference. Modules and
optimizers are compared by their ``state_dict``; containers and plain objects
element by element, to a bounded depth. Nothing here imports torch, NumPy or pandas:
values are recognised by their type's module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 6


@dataclass(frozen=True)
class Difference:
    """How two values compare.

    Attributes:
        equal: True, False, or None when they could not be compared.
        max_abs_diff: the largest absolute numeric difference found, if any.
        detail: a short reason when they differ or can't be compared (shape, type, key).
    """

    equal: bool | None
    max_abs_diff: float | None = None
    detail: str = ""


SAME = Difference(True)


def _module_of(value: Any) -> str:
    return type(value).__module__.split(".", 1)[0]


def _is_tensor(value: Any) -> bool:
    return _module_of(value) == "torch" and hasattr(value, "detach") and hasattr(value, "shape")


def _is_ndarray(value: Any) -> bool:
    return _module_of(value) == "numpy" and hasattr(value, "shape") and hasattr(value, "dtype")


def _tensor_to_numpy(tensor: Any) -> Any:
    tensor = tensor.detach()
    if tensor.is_sparse if hasattr(tensor, "is_sparse") else False:
        tensor = tensor.to_dense()
    if tensor.dtype.is_floating_point and tensor.element_size() < 4:  # bfloat16/half
        tensor = tensor.float()
    return tensor.cpu().numpy()


def _diff_arrays(a: Any, b: Any) -> Difference:
    import numpy as np

    if a.shape != b.shape:
        return Difference(False, None, f"shape {tuple(a.shape)} vs {tuple(b.shape)}")
    if a.dtype != b.dtype:
        return Difference(False, None, f"dtype {a.dtype} vs {b.dtype}")
    if a.dtype.kind in "fc":
        if np.array_equal(a, b, equal_nan=True):
            return SAME
        with np.errstate(invalid="ignore"):
            delta = np.abs(a.astype(np.complex128 if a.dtype.kind == "c" else np.float64) - b)
        nan_mismatch = np.isnan(a) != np.isnan(b)
        finite = delta[np.isfinite(delta)]
        worst = float(finite.max()) if finite.size else math.inf
        detail = "NaN in different places" if nan_mismatch.any() else ""
        return Difference(False, worst, detail)
    if a.dtype.kind in "iub":
        if np.array_equal(a, b):
            return SAME
        worst = float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())
        return Difference(False, worst)
    equal = bool(np.array_equal(a, b))
    return Difference(equal)


def _combine(parts: list[tuple[str, Difference]]) -> Difference:
    unequal = [(key, d) for key, d in parts if d.equal is False]
    if not unequal:
        unknown = [(key, d) for key, d in parts if d.equal is None]
        if unknown:
            key, d = unknown[0]
            return Difference(None, None, f"{key}: {d.detail}".strip(": "))
        return SAME
    diffs = [d.max_abs_diff for _, d in unequal if d.max_abs_diff is not None]
    worst = max(diffs) if diffs else None
    first = unequal[0][1]
    where = ", ".join(key for key, _ in unequal[:3]) + ("…" if len(unequal) > 3 else "")
    detail = f"differs at {where}" + (f" ({first.detail})" if first.detail else "")
    return Difference(False, worst, detail)


def diff_values(a: Any, b: Any, _depth: int = 0) -> Difference:
    """Compare ``a`` and ``b``; see the module docstring for the rules."""
    if a is b:
        return SAME
    if _depth > MAX_DEPTH:
        return Difference(None, None, "nested too deeply to compare")
    if _is_tensor(a) or _is_tensor(b):
        if not (_is_tensor(a) and _is_tensor(b)):
            return Difference(False, None, f"type {type(a).__name__} vs {type(b).__name__}")
        return _diff_arrays(_tensor_to_numpy(a), _tensor_to_numpy(b))
    if _is_ndarray(a) and _is_ndarray(b):
        return _diff_arrays(a, b)
    if type(a) is not type(b) and not (_is_number(a) and _is_number(b)):
        return Difference(False, None, f"type {type(a).__name__} vs {type(b).__name__}")
    if _is_number(a):
        return _diff_numbers(a, b)
    if isinstance(a, (str, bytes, type(None))):
        return Difference(a == b)
    if _module_of(a) == "pandas" and hasattr(a, "equals"):
        return _diff_pandas(a, b)
    rng_state = _rng_state(a)
    if rng_state is not None:  # torch/NumPy/Python generators: compare their states
        return diff_values(rng_state, _rng_state(b), _depth + 1)
    if callable(getattr(a, "state_dict", None)) and not isinstance(a, type):
        try:
            return diff_values(a.state_dict(), b.state_dict(), _depth + 1)
        except Exception as exc:
            return Difference(None, None, f"state_dict() failed: {exc}")
    if isinstance(a, dict):
        if set(a) != set(b):
            missing = sorted(map(str, set(a) ^ set(b)))[:3]
            return Difference(False, None, f"keys differ ({', '.join(missing)})")
        return _combine([(repr(k), diff_values(a[k], b[k], _depth + 1)) for k in a])
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return Difference(False, None, f"length {len(a)} vs {len(b)}")
        return _combine(
            [
                (f"[{i}]", diff_values(x, y, _depth + 1))
                for i, (x, y) in enumerate(zip(a, b, strict=True))
            ]
        )
    if isinstance(a, (set, frozenset)):
        return Difference(a == b)
    return _diff_objects(a, b, _depth)


def _rng_state(value: Any) -> Any:
    """The state of a random generator (torch, NumPy legacy/new, Python), else None."""
    if isinstance(value, type):
        return None
    for getter in ("get_state", "getstate"):
        method = getattr(value, getter, None)
        if callable(method) and _module_of(value) in ("torch", "numpy", "random"):
            return method()
    bit_generator = getattr(value, "bit_generator", None)
    if bit_generator is not None and _module_of(value) == "numpy":
        return bit_generator.state
    return None


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, (int, float, complex)):
        return True
    return _module_of(value) == "numpy" and hasattr(value, "dtype") and value.dtype.kind in "iufcb"


def _diff_numbers(a: Any, b: Any) -> Difference:
    try:
        x, y = complex(a), complex(b)
    except (TypeError, ValueError):
        return Difference(a == b)
    if x == y:
        return SAME
    if all(math.isnan(v) for v in (x.real, y.real)) and x.imag == y.imag:
        return SAME
    delta = abs(x - y)
    return Difference(False, delta if not math.isnan(delta) else math.inf)


def _diff_pandas(a: Any, b: Any) -> Difference:
    if a.equals(b):
        return SAME
    if getattr(a, "shape", None) != getattr(b, "shape", None):
        return Difference(False, None, f"shape {a.shape} vs {b.shape}")
    try:
        import numpy as np

        left = a.to_numpy(dtype=np.float64)
        right = b.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        return Difference(False, None, "non-numeric values differ")
    found = _diff_arrays(left, right)
    if found.equal:  # same numbers, different index or column labels
        return Difference(False, None, "labels differ")
    return found


def _diff_objects(a: Any, b: Any, depth: int) -> Difference:
    has_own_eq = type(a).__eq__ is not object.__eq__
    if has_own_eq:
        try:
            result = a == b
            if isinstance(result, bool):
                return Difference(result)
            return Difference(bool(all(result)))
        except Exception as exc:  # an odd __eq__: fall back to attributes
            detail = f"== raised {type(exc).__name__}"
        else:  # pragma: no cover - both branches return
            detail = ""
    else:
        detail = ""
    attributes_a = getattr(a, "__dict__", None)
    attributes_b = getattr(b, "__dict__", None)
    if isinstance(attributes_a, dict) and isinstance(attributes_b, dict):
        return diff_values(attributes_a, attributes_b, depth + 1)
    return Difference(None, None, detail or f"{type(a).__name__} objects cannot be compared")
