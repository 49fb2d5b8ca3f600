"""Execute every example notebook with papermill and say where the outputs are.

`make demo` runs this. Each notebook under example_notebooks/ (not under out/) is
executed top to bottom in a fresh kernel working in example_notebooks/out/, where the
executed copies go too. Exits non-zero if any notebook fails.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def notebooks() -> list[Path]:
    """Every example notebook, in name order."""
    return sorted(p for p in HERE.glob("*.ipynb"))


def main() -> int:
    import papermill

    OUT.mkdir(exist_ok=True)
    failed = []
    for path in notebooks():
        target = OUT / path.name
        started = time.perf_counter()
        try:
            papermill.execute_notebook(
                str(path), str(target), kernel_name="python3", cwd=str(OUT), progress_bar=False
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
