"""`mlnb run` beside `papermill` on the same notebooks (issue 15): each test runs one of the
suite's notebooks through both and compares exit codes, outputs, execution counts, error
marking and injected values. Where mlnb deliberately differs, the test says why.

papermill runs in-process through its own click command (``papermill.cli.papermill``; its
import is the slow part of a subprocess); stdin/stdout and Ctrl-C need real processes.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from mlnb.cli import main as mlnb_main
from mlnb.runs.store import Store
from tests.helpers import PYTHON, START_TIMEOUT
from tests.papermill_compat.notebooks import make

pytestmark = pytest.mark.kernel

MLNB_TAGS = ("mlnb-error",)


def papermill(args: list[str]) -> int:
    """papermill's command line, in this process: its exit status (1 for an exception, as
    click's standalone mode turns it into a traceback and status 1)."""
    from papermill.cli import papermill as command

    try:
        command.main(args=args, standalone_mode=False, prog_name="papermill")
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception:
        return 1
    return 0


def mlnb(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``mlnb run`` in this process: exit status and stderr."""
    try:
        code = mlnb_main(["run", *args, "--start-timeout", str(START_TIMEOUT)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def _text(value: Any) -> str:
    """A multiline string as nbformat writes it on disk: a str or a list of lines."""
    return "".join(value) if isinstance(value, list) else str(value)


def view(nb: Any) -> dict[str, Any]:
    """What both tools must agree on, without timings and mlnb's own additions (the
    ``mlnb-error`` tag and ``metadata.mlnb``, which papermill does not write)."""
    cells = []
    for cell in nb["cells"]:
        streams: dict[str, str] = {}
        others = []
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":  # chunks may split differently: join them
                streams[output["name"]] = streams.get(output["name"], "") + _text(output["text"])
            elif output["output_type"] == "error":
                others.append(("error", output["ename"], output["evalue"]))
            else:
                others.append((output["output_type"], dict(output.get("data", {}))))
        cells.append(
            {
                "type": cell["cell_type"],
                "source": _text(cell["source"]),
                "count": cell.get("execution_count"),
                "tags": [t for t in cell["metadata"].get("tags", []) if t not in MLNB_TAGS],
                "streams": streams,
                "outputs": others,
                "status": cell["metadata"].get("papermill", {}).get("status"),
                "exception": cell["metadata"].get("papermill", {}).get("exception"),
                "jupyter": cell["metadata"].get("jupyter"),
            }
        )
    meta = nb["metadata"]
    return {
        "cells": cells,
        "kernelspec": meta.get("kernelspec"),
        "parameters": meta.get("papermill", {}).get("parameters"),
        "exception": meta.get("papermill", {}).get("exception"),
    }


def both(
    folder: Path, name: str, args: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], int, dict[str, Any], str]:
    """Run notebook ``name`` with ``args`` through papermill, then mlnb run."""
    path = make(folder, name)
    pm_out, ml_out = folder / f"{name}-pm.ipynb", folder / f"{name}-mlnb.ipynb"
    pm_code = papermill([str(path), str(pm_out), "--no-progress-bar", *args])
    capsys.readouterr()
    ml_code, ml_err = mlnb([str(path), str(ml_out), *args], capsys)
    pm_view = view(nbformat.read(str(pm_out), as_version=4)) if pm_out.exists() else {}
    ml_view = view(nbformat.read(str(ml_out), as_version=4)) if ml_out.exists() else {}
    return pm_code, pm_view, ml_code, ml_view, ml_err


def injected(view_: dict[str, Any]) -> str:
    return next(c["source"] for c in view_["cells"] if "injected-parameters" in c["tags"])


def test_no_parameters_cell_injects_at_the_top(tmp_path, capsys):
    pm, pm_nb, ml, ml_nb, err = both(
        tmp_path, "no_parameters_cell", ["-p", "msg", "Hello", "-p", "n", "3"], capsys
    )
    assert (pm, ml) == (0, 0) and pm_nb == ml_nb
    assert ml_nb["cells"][0]["tags"] == ["injected-parameters"]
    assert ml_nb["cells"][1]["streams"] == {"stdout": "Hello 3\n"}
    assert "has no cell tagged `parameters`" in err and "--strict refuses" in err  # mlnb's warning


def test_a_parameters_cell_with_a_syntax_error_injects_then_fails_there(tmp_path, capsys):
    pm, pm_nb, ml, ml_nb, err = both(
        tmp_path, "parameters_syntax_error", ["-p", "msg", "Hello"], capsys
    )
    assert (pm, ml) == (1, 1) and pm_nb == ml_nb
    failing = [c for c in ml_nb["cells"] if c["outputs"]]
    assert failing[0]["outputs"][0][1] == "SyntaxError" and "parameters" in failing[0]["tags"]
    assert "does not parse (SyntaxError at line 2: invalid syntax)" in err
    assert "its parameters are: none" not in err  # what mlnb wrongly said before


def test_nbformat_4_4_takes_a_value_of_another_type(tmp_path, capsys):
    pm, pm_nb, ml, ml_nb, err = both(tmp_path, "nbformat_4_4", ["-p", "var", "It works"], capsys)
    assert (pm, ml) == (0, 0) and pm_nb == ml_nb
    assert ml_nb["cells"][2]["streams"] == {"stdout": "It works\n"}
    assert "parameter 'var' is int (default 1), got str 'It works'" in err


def test_a_kernel_named_python_runs(tmp_path, capsys):
    pm, pm_nb, ml, ml_nb, _ = both(tmp_path, "kernel_named_python", ["-p", "x", "21"], capsys)
    assert (pm, ml) == (0, 0) and pm_nb == ml_nb
    assert ml_nb["kernelspec"]["name"] == "python"  # kept: no -k, no rewrite
    assert ml_nb["cells"][2]["streams"] == {"stdout": "42\n"}


@pytest.mark.parametrize(("name", "code"), [("sys_exit_zero", 0), ("sys_exit_one", 1)])
def test_sys_exit(name, code, tmp_path, capsys):
    pm, pm_nb, ml, ml_nb, _ = both(tmp_path, name, [], capsys)
    assert pm == ml == code and pm_nb == ml_nb
    assert [c["count"] for c in ml_nb["cells"] if c["type"] == "code"] == [1, 2, None]


def test_a_line_magic_error_marks_its_cell(tmp_path, capsys):
    pm, pm_nb, ml, ml_nb, err = both(tmp_path, "line_magic_error", [], capsys)
    assert pm == ml == 1 and pm_nb == ml_nb
    assert ml_nb["cells"][0]["type"] == "markdown"  # papermill's error banner, In [2]
    assert "In [2]" in ml_nb["cells"][0]["source"]
    assert "UsageError: Line magic function `%this_magic_does_not_exist` not found" in err


def test_a_failing_cell_has_the_same_banner_and_counts(tmp_path, capsys):
    """Before, mlnb's seed cell shifted every count: the banner said In [3] for papermill's In [2]."""
    pm, pm_nb, ml, ml_nb, err = both(tmp_path, "cell_raises", [], capsys)
    assert pm == ml == 1 and pm_nb == ml_nb
    assert "In [3]" in ml_nb["cells"][0]["source"]  # parameters (1), x = 1 (2), 1 / d (3)
    assert "failed in cell 3 (In [3]): ZeroDivisionError" in err


def test_a_per_cell_timeout_keeps_the_interrupt_in_the_cell(tmp_path, capsys):
    pm, pm_nb, ml, ml_nb, err = both(
        tmp_path, "execution_timeout", ["--execution-timeout", "2"], capsys
    )
    assert pm == ml == 1 and pm_nb == ml_nb
    assert ml_nb["cells"][1]["outputs"] == [("error", "KeyboardInterrupt", "")]
    assert "a cell ran longer than the 2 s execution timeout" in err
    assert "Task exception was never retrieved" not in err


def test_report_mode_hides_inputs(tmp_path, capsys):
    pm, pm_nb, ml, ml_nb, _ = both(
        tmp_path, "report_mode", ["--report-mode", "-p", "a", "5"], capsys
    )
    assert (pm, ml) == (0, 0) and pm_nb == ml_nb
    assert all(c["jupyter"] == {"source_hidden": True} for c in ml_nb["cells"])


def test_every_value_form_is_injected_as_papermill_injects_it(tmp_path, capsys):
    (tmp_path / "file.yaml").write_text("from_file: 2019-01-01\n")  # a date stays text
    b64 = base64.b64encode(b"from_b64: [1, 2]").decode()
    args = [
        "-p", "i", "10", "-p", "f", "3", "-p", "neg", "-3", "-p", "tiny", "-1e-3",
        "-p", "ninf", "-inf", "-p", "text_list", "[1, 2]", "-p", "dash", "--x",
        "-p", "flag", "True", "-p", "nothing", "None", "-r", "raw", "1.5",
        "-y", "from_yaml: {a: [1, 2]}", "-f", "file.yaml", "-b", b64, "-p", "items", "[3]",
    ]  # fmt: skip
    pm, pm_nb, ml, ml_nb, _ = both(tmp_path, "values", args, capsys)
    assert (pm, ml) == (0, 0)
    # mlnb reads -p on a list default as a list (papermill: the string "[3]"); all else equal
    assert pm_nb["parameters"] == {**ml_nb["parameters"], "items": "[3]"}
    assert ml_nb["parameters"]["items"] == [3]
    printed = ml_nb["cells"][2]["streams"]["stdout"].splitlines()
    assert printed[:13] == [
        "10 int", "3 int", "-3 int", "-0.001 float", "-inf float", "'[1, 2]' str", "'--x' str",
        "True bool", "None NoneType", "'1.5' str", "{'a': [1, 2]} dict", "'2019-01-01' str",
        "[1, 2] list",
    ]  # fmt: skip
    assert pm_nb["cells"][2]["streams"]["stdout"].splitlines()[:13] == printed[:13]


def test_a_str_default_keeps_digits_as_text(tmp_path, capsys):
    """Deliberate: `-p label 007` for `label = 'x'` is the string '007' in mlnb (the default's
    type says text); papermill injects the int 7 and the notebook gets a number."""
    pm, pm_nb, ml, ml_nb, _ = both(tmp_path, "str_default", ["-p", "label", "007"], capsys)
    assert (pm, ml) == (0, 0)
    assert pm_nb["parameters"] == {"label": 7} and ml_nb["parameters"] == {"label": "007"}


def test_no_kernelspec_runs_in_python3(tmp_path, capsys):
    """Deliberate: papermill refuses a notebook without a kernelspec ("No kernel name found")
    unless -k is given; mlnb runs it in python3 and warns."""
    pm, _, ml, ml_nb, err = both(tmp_path, "no_kernelspec", [], capsys)
    assert pm == 1 and ml == 0
    assert "names no kernel in its metadata; running it in python3" in err
    assert ml_nb["kernelspec"] is None  # still no rewrite without -k
    assert ml_nb["cells"][0]["streams"] == {"stdout": "ran\n"}


def test_the_seed_is_pinned_without_a_cell_and_no_seed_leaves_it(tmp_path, capsys):
    path = make(tmp_path, "stdio")
    code, _ = mlnb([str(path), "a.ipynb", "--seed", "5"], capsys)
    code2, _ = mlnb([str(path), "b.ipynb", "--no-seed"], capsys)
    assert code == code2 == 0
    a, b = (nbformat.read(str(tmp_path / n), as_version=4) for n in ("a.ipynb", "b.ipynb"))
    assert [c.execution_count for c in a.cells] == [1, 2]
    assert a.metadata.mlnb.run.provenance["pipeline"]["seed"] == 5
    assert b.metadata.mlnb.run.provenance["pipeline"]["seed"] is None
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "a.ipynb", "b.ipynb", "stdio.ipynb"
    ]  # fmt: skip  # nothing beside the output (.mlnb-store is MLNB_HOME here)


def _child_env() -> dict[str, str]:
    from tests.helpers import child_env

    return child_env(PYDEVD_DISABLE_FILE_VALIDATION="1")


def test_stdin_and_stdout(tmp_path):
    """`-` in and `-` out: one notebook document on stdout (mlnb wrote 13 concatenated ones)."""
    path = make(tmp_path, "stdio")
    raw = path.read_bytes()
    outs = {}
    for tool, cmd in {
        "papermill": [PYTHON, "-m", "papermill", "-", "-", "-p", "n", "41"],
        "mlnb": [PYTHON, "-m", "mlnb.cli", "run", "-", "-", "-p", "n", "41"],
    }.items():
        done = subprocess.run(
            cmd, input=raw, capture_output=True, env=_child_env(), cwd=tmp_path, timeout=240
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        outs[tool] = view(json.loads(done.stdout))  # exactly one JSON document
    assert outs["papermill"] == outs["mlnb"]
    assert outs["mlnb"]["cells"][2]["streams"] == {"stdout": "42\n"}


def _interrupt(cmd: list[str], out: Path, cwd: Path) -> tuple[int, str]:
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_child_env(), cwd=cwd
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        time.sleep(0.3)
        try:
            cells = json.loads(out.read_text())["cells"]
            if any(_text(o.get("text", "")) == "looping\n" for o in cells[0].get("outputs", [])):
                break
        except (OSError, ValueError, IndexError):  # not written yet, or half-written
            pass
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=180)
    return proc.returncode, err


def test_ctrl_c_keeps_the_interrupt_in_the_cell(tmp_path):
    """Deliberate: mlnb exits 130 with one line (papermill: "Aborted!", status 1, and
    ZMQ tracebacks); both cells hold the KeyboardInterrupt."""
    path = make(tmp_path, "loop")
    pm_out, ml_out = tmp_path / "pm.ipynb", tmp_path / "ml.ipynb"
    pm_code, _ = _interrupt([PYTHON, "-m", "papermill", str(path), str(pm_out)], pm_out, tmp_path)
    ml_code, ml_err = _interrupt(
        [PYTHON, "-m", "mlnb.cli", "run", str(path), str(ml_out)], ml_out, tmp_path
    )
    assert (pm_code, ml_code) == (1, 130)
    pm_nb, ml_nb = (view(json.loads(p.read_text())) for p in (pm_out, ml_out))
    assert (
        pm_nb["cells"][1]["outputs"]
        == ml_nb["cells"][1]["outputs"]
        == [("error", "KeyboardInterrupt", "")]
    )
    assert [c["count"] for c in pm_nb["cells"]] == [c["count"] for c in ml_nb["cells"]] == [1, 2]
    assert ml_err.strip().splitlines()[-1].startswith("mlnb: interrupted; run ")
    assert "Traceback" not in ml_err and "Task exception" not in ml_err


def test_papermill_engine_mlnb_through_the_entry_point(tmp_path, _compat_env):
    """`papermill --engine mlnb` finds the engine through the `papermill.engine` entry-point
    group (a dist-info declaring it, as installing mlnb writes from pyproject.toml), runs the
    notebook like papermill's own engine and leaves a run record in the store."""
    import tomllib

    from tests.helpers import REPO

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]
    target = declared["papermill.engine"]["mlnb"]
    site = tmp_path / "site"
    dist = site / "mlnb_engine_probe-0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mlnb-engine-probe\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text(f"[papermill.engine]\nmlnb = {target}\n")
    path = make(tmp_path, "report_mode")
    env = _child_env()
    env["PYTHONPATH"] = os.pathsep.join([str(site), env["PYTHONPATH"]])
    env["MLNB_SEED"] = "9"
    probe = subprocess.run(
        [PYTHON, "-c", "from papermill.engines import papermill_engines as e; "
         "print(e.get_engine('mlnb').__module__, 'mlnb.pipeline.engine' in __import__('sys').modules)"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    # papermill loads the entry point while it imports: a module that imports nothing
    assert probe.stdout.split() == ["mlnb.pipeline.papermill_entry", "False"], probe.stderr[-2000:]
    engine_first = subprocess.run(
        [PYTHON, "-c", "import mlnb.pipeline.engine as m; from papermill.engines import "
         "papermill_engines as e; print(e.get_engine('mlnb') is m.MlnbEngine)"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    # importing mlnb's engine first (it imports papermill, which loads the entry point
    # while the engine module is half-built) works, and the real engine is registered
    assert engine_first.stdout.split() == ["True"], engine_first.stderr[-2000:]
    runs = {}
    for engine in ("mlnb", "nbclient"):
        out = tmp_path / f"{engine}.ipynb"
        done = subprocess.run(
            [PYTHON, "-m", "papermill", str(path), str(out), "--engine", engine, "-p", "a", "3"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=240,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        runs[engine] = json.loads(out.read_text())
    assert view(runs["mlnb"]) == view(runs["nbclient"])
    record = runs["mlnb"]["metadata"]["mlnb"]["run"]
    assert record["status"] == "finished" and record["provenance"]["pipeline"]["seed"] == 9
    with Store(_compat_env, readonly=True) as store:
        stored = store.get_run(record["id"])
    section = stored.provenance["pipeline"]
    assert stored.status == "finished" and section["params"] == {"a": 3}
    assert Path(section["snapshot"]).read_bytes() == path.read_bytes()
    assert "mlnb" not in runs["nbclient"]["metadata"]
