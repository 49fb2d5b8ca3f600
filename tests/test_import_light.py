"""`import mlnb`, `%load_ext mlnb` and `mlnb --version/--help` must not pull in heavy libraries;
the lazy public names resolve."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "torch",
    "pandas",
    "matplotlib",
    "papermill",
    "ipywidgets",
    "sklearn",
    "mlflow",
    "tensorboard",
)


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


def test_load_ext_then_a_cell_with_runs_imported_stays_light():
    code = (
        "import mlnb, mlnb.runs\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance(); ip.run_line_magic('load_ext', 'mlnb')\n"
        "ip.run_cell('x = 1')\n"
    )
    loaded = _modules_after(code)
    assert not any(loaded.values()), f"imported {[m for m, v in loaded.items() if v]}"


def test_mlnb_version_and_help_import_no_heavy_library():
    for flag in ("--version", "--help"):
        code = (
            "import contextlib, io\n"
            "from mlnb.cli import main\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            f"    main([{flag!r}])\n"
        )
        loaded = _modules_after(code)
        assert not any(loaded.values()), (
            f"mlnb {flag} imported {[m for m, v in loaded.items() if v]}"
        )


def test_every_subcommand_module_imports_no_heavy_library():
    from mlnb.cli import SUBCOMMANDS

    modules = ", ".join(module for module, _help in SUBCOMMANDS.values())
    assert all(module.startswith("mlnb.cli.") for module, _help in SUBCOMMANDS.values())
    loaded = _modules_after(f"import mlnb.cli.common, {modules}")
    assert not any(loaded.values()), f"{modules} imported {[m for m, v in loaded.items() if v]}"


def test_lazy_public_names_resolve():
    import mlnb

    assert mlnb.pin is mlnb.seed.pin
    assert callable(mlnb.check_reproducible)
    assert "pin" in dir(mlnb)


def test_top_level_lazy_names():
    import mlnb
    import mlnb.gpu

    assert mlnb.find_batch_size is mlnb.gpu.find_batch_size
    assert mlnb.oom_guard is mlnb.gpu.oom_guard
