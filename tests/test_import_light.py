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


#: every mlnb module ``%load_ext mlnb`` may import: the names of the magics are registered,
#: each capability is imported when one of its magics first runs; the GPU self-report hooks
#: (mlnb.magics.gpu_report, with the tracked hooks and the error family) are registered at load
LOAD_EXT_MODULES = {
    "mlnb",
    "mlnb.config",
    "mlnb.lazy",
    "mlnb.magics",
    "mlnb.magics.settings",
    "mlnb.magics.gpu_report",
    "mlnb.hooks",
    "mlnb.exceptions",
    "mlnb.exceptions.base",
    "mlnb.exceptions.checking",
    "mlnb.exceptions.data",
    "mlnb.exceptions.gpu",
    "mlnb.exceptions.pipeline",
    "mlnb.exceptions.runs",
    "mlnb.exceptions.whatif",
}


def _run_probe(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    )
    return out.stdout.strip().splitlines()[-1]


def test_load_ext_imports_only_the_allowed_mlnb_modules():
    code = (
        "import json, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'mlnb')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'mlnb' or m.startswith('mlnb.'))))\n"
    )
    assert set(json.loads(_run_probe(code))) == LOAD_EXT_MODULES


def test_every_magic_answers_help_before_its_capability_is_imported():
    from mlnb.magics import CAPABILITIES

    code = (
        "import contextlib, io, json, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "from mlnb.magics import CAPABILITIES\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'mlnb')\n"
        "answers = {}\n"
        "for spec, kinds in CAPABILITIES.items():\n"
        "    before = spec.partition(':')[0] in sys.modules\n"
        "    for kind, names in kinds.items():\n"
        "        for name in names:\n"
        "            out = io.StringIO()\n"
        "            with contextlib.redirect_stdout(out):\n"
        "                if kind == 'line':\n"
        "                    ip.run_line_magic(name, '--help')\n"
        "                else:\n"
        "                    ip.run_cell_magic(name, '--help', 'pass')\n"
        "            answers[name] = [before, out.getvalue()[:200]]\n"
        "print(json.dumps(answers))\n"
    )
    answers = json.loads(_run_probe(code))
    for kinds in CAPABILITIES.values():
        for kind, names in kinds.items():
            prefix = "%" if kind == "line" else "%%"
            for name in names:
                assert answers[name][1].startswith(f"Usage: {prefix}{name}"), answers[name]
    assert answers["seed"][0] is False  # the first magic of a capability imported it


def test_the_table_of_magic_names_matches_the_classes():
    from mlnb.magics import CAPABILITIES, _magic_class

    for spec, kinds in CAPABILITIES.items():
        declared = {kind: tuple(methods) for kind, methods in _magic_class(spec).magics.items()}
        assert {k: set(v) for k, v in declared.items()} == {
            k: set(kinds.get(k, ())) for k in declared
        }, spec


def test_a_run_started_in_the_cell_that_imports_mlnb_runs_logs_that_cell(tmp_path):
    code = (
        "import json, os\n"
        f"os.environ['MLNB_HOME'] = {str(tmp_path)!r}\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'mlnb')\n"
        "ip.run_cell('x = 1')\n"
        'ip.run_cell(\'import mlnb\\nrun = mlnb.start("r", system_interval=None)\\nrun.log({"a": 1.0})\')\n'
        'ip.run_cell(\'mlnb.log({"a": "text"})\')\n'
        "ip.run_cell('record = mlnb.finish()')\n"
        "run = ip.user_ns['run']\n"
        "cells = run.store.cells(run.id)\n"
        "points = run.store.metrics(run.id)\n"
        "print(json.dumps([[c.source, c.status] for c in cells] + [[p.cell for p in points]]))\n"
    )
    result = json.loads(_run_probe(code))
    assert result[0][0].startswith("import mlnb") and result[0][1] == "ok"
    assert result[1] == ['mlnb.log({"a": "text"})', "error"]
    assert result[-1] == [1]  # the point logged in that first cell belongs to it
