"""`import mlnb` and `%load_ext mlnb` must not pull in heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "pandas", "matplotlib", "papermill", "ipywidgets", "sklearn", "mlflow")


def _modules_after(code: str) -> dict[str, bool]:
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=120
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_mlnb_imports_no_heavy_library():
    loaded = _modules_after("import mlnb; mlnb.__version__")
    assert not any(loaded.values()), f"import mlnb imported {[m for m, v in loaded.items() if v]}"


def test_load_ext_imports_no_heavy_library():
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'mlnb')\n"
        "assert 'seed' in ip.magics_manager.magics['line']\n"
    )
    loaded = _modules_after(code)
    assert not any(loaded.values()), (
        f"%load_ext mlnb imported {[m for m, v in loaded.items() if v]}"
    )


def test_lazy_public_names_resolve():
    import mlnb

    assert mlnb.pin is mlnb.seed.pin
    assert callable(mlnb.check_reproducible)
    assert "pin" in dir(mlnb)
