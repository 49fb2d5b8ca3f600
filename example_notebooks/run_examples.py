"""Execute every example notebook with papermill and say where the outputs are.

`make demo` runs this. Each notebook under example_notebooks/ (not under out/) is
executed top to bottom in a fresh kernel working in example_notebooks/out/, where the
executed copies go too. Exits non-zero if any notebook fails. Kernels talk over Unix
sockets (IPC) where there are some, as mlnb's own pipeline kernels do: over TCP every
kernel warns on stderr that it runs without encryption. Each runs through papermill with
mlnb's engine (a recorded run, a drawn seed pinned), which stops the kernel at once when
the notebook ends: papermill's default engine shuts it down gracefully, and the interrupt
jupyter_client sends first is sometimes logged by the idle kernel as
``ERROR | KeyboardInterrupt caught in kernel`` in the middle of the demo's output.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def notebooks() -> list[Path]:
    """Every example notebook, in name order."""
    return sorted(p for p in HERE.glob("*.ipynb"))


def kernel_config() -> Any:
    """The kernel manager's settings: IPC transport on POSIX, with a socket path of its own."""
    from traitlets.config import Config

    if os.name != "posix":
        return Config()
    prefix = os.path.join(tempfile.gettempdir(), f"mlnb-demo-{uuid.uuid4().hex[:12]}-ipc")
    return Config({"KernelManager": {"transport": "ipc", "ip": prefix}})


def main() -> int:
    import papermill

    OUT.mkdir(exist_ok=True)
    failed = []
    for path in notebooks():
        target = OUT / path.name
        started = time.perf_counter()
        try:
            papermill.execute_notebook(
                str(path),
                str(target),
                kernel_name="python3",
                cwd=str(OUT),
                progress_bar=False,
                config=kernel_config(),
                engine_name="mlnb",
            )
        except Exception as exc:  # report every notebook, then fail
            failed.append(path.name)
            print(f"FAILED  {path.name}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            continue
        print(f"ok      {path.name:32s} {time.perf_counter() - started:5.1f} s  -> {target}")
    print(
        f"\n{len(notebooks()) - len(failed)} of {len(notebooks())} example notebooks ran; outputs in {OUT}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
