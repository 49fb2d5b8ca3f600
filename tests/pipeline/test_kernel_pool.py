"""Warm kernels: forked from a pre-loaded zygote, yet one fresh process per trial.

Real kernels throughout: a sweep whose first trial mutates everything it can (globals,
an imported module, NumPy's generator) and whose second trial looks for it; warm and
cold output notebooks compared cell by cell; a timeout, a dying kernel, and the cases
where forking is unsafe and kernels start the usual way.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from mlnb.pipeline.kernel_pool import WarmKernelSource
from mlnb.pipeline.kernels import KernelKind, stop_kernel
from mlnb.pipeline.run import RunTask
from mlnb.pipeline.section import section_of, values_of
from mlnb.pipeline.sweep import sweep
from tests.helpers import START_TIMEOUT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux")

#: trial 0 changes what it can; every trial first records what it found
PROBE = textwrap.dedent(
    """\
    import os, sys, json
    preloaded = 'numpy' in sys.modules
    import numpy as np
    import mlnb
    mlnb.record('first_draw', float(np.random.rand()))
    mlnb.record('saw_global', 'leak' in globals())
    mlnb.record('saw_module_attr', hasattr(np, 'leaked_by_trial') or hasattr(json, 'leaked_by_trial'))
    mlnb.record('preloaded', preloaded)
    mlnb.record('pid', os.getpid())
    mlnb.record('parent', os.getppid())
    if x == 0:
        leak = 1
        np.leaked_by_trial = 0
        json.leaked_by_trial = 0
        np.random.seed(12345)
        np.random.rand(1000)
    """
)


def _trials(result):
    return [values_of(t.record) for t in result.trials]


def test_no_variable_module_state_or_generator_leaks_from_trial_1_to_trial_2(notebook, tmp_path):
    path = notebook("probe.ipynb", [PROBE], parameters="x = 0")
    result = sweep(
        path,
        {"x": [0, 1, 2]},
        jobs=1,
        seed=7,
        output_dir=tmp_path / "sw",
        progress=False,
        start_timeout=START_TIMEOUT,
    )
    assert [t.status for t in result.trials] == ["finished"] * 3
    first, second, third = _trials(result)
    assert all(v["preloaded"] for v in (first, second, third))  # numpy came from the zygote
    assert len({first["pid"], second["pid"], third["pid"]}) == 3  # a process per trial
    assert first["parent"] == second["parent"] == third["parent"]  # all forked by one zygote
    assert not second["saw_global"] and not second["saw_module_attr"]
    # same pinned seed, same first draw: trial 0 reseeding NumPy did not reach trial 1
    assert first["first_draw"] == second["first_draw"] == third["first_draw"]


def test_cold_sweep_has_no_zygote(notebook, tmp_path):
    path = notebook("probe.ipynb", [PROBE], parameters="x = 0")
    result = sweep(
        path, {"x": [1, 2]}, jobs=1, seed=7, output_dir=tmp_path / "c", progress=False, warm=False
    )
    first, second = _trials(result)
    assert not first["preloaded"] and first["parent"] != first["pid"]
    assert not second["saw_global"]


def _comparable(path: Path) -> list[dict]:
    """The cells as a reader sees them: source, outputs, count, tags, mlnb's status (the
    kernel's pid, which IPython puts in cell file names, differs between any two runs)."""
    nb = nbformat.read(path, as_version=4)
    return [
        {
            "source": cell.source,
            "outputs": json.loads(
                re.sub(r"ipykernel_\d+", "ipykernel_PID", json.dumps(cell.get("outputs")))
            ),
            "count": cell.get("execution_count"),
            "tags": cell.metadata.get("tags"),
            "status": cell.metadata.get("mlnb", {}).get("status"),
            "exception": cell.metadata.get("papermill", {}).get("exception"),
        }
        for cell in nb.cells
    ]


def test_warm_and_cold_trials_write_the_same_notebooks_and_records(notebook, tmp_path):
    cells = [
        "import numpy as np\nimport mlnb\nprint('draw', np.random.rand())\nmlnb.record('y', x * 2)",
        "import warnings\nwarnings.warn('careful')\nx",
        "import os, sys\nprint(type(sys.modules['__main__']).__name__, sys.argv[1:2], sys.path.index(''))\n"
        "print(sorted(os.environ), os.path.exists('same.ipynb'))",
        "assert x != 2, 'x may not be 2'",
    ]
    path = notebook("same.ipynb", cells, parameters="x = 0")
    runs = {
        warm: sweep(
            path,
            {"x": [1, 2]},
            jobs=1,
            seed=3,
            output_dir=tmp_path / str(warm),
            progress=False,
            warm=warm,
        )
        for warm in (True, False)
    }
    for warm_trial, cold_trial in zip(runs[True].trials, runs[False].trials, strict=True):
        assert warm_trial.status == cold_trial.status
        warm_section, cold_section = section_of(warm_trial.record), section_of(cold_trial.record)
        assert warm_section.values == cold_section.values
        assert warm_section.cell_index == cold_section.cell_index
        assert warm_trial.record.error == cold_trial.record.error
        assert _comparable(Path(warm_trial.output)) == _comparable(Path(cold_trial.output))
    assert [t.status for t in runs[True].trials] == ["finished", "failed"]


@pytest.fixture
def warm_source():
    source = WarmKernelSource(start_timeout=START_TIMEOUT)
    yield source
    source.close()


def test_timeout_interrupts_a_forked_kernel_and_keeps_the_interrupt(
    notebook, tmp_path, warm_source
):
    path = notebook("slow.ipynb", ["import time\ntime.sleep(60)"])
    task = RunTask(str(path), output=str(tmp_path / "o.ipynb"), timeout=4, warm=True)
    record = task.execute(warm_source)
    assert record.status == "killed" and "4 s timeout" in (record.error or "")
    outputs = nbformat.read(tmp_path / "o.ipynb", as_version=4).cells[-1].outputs
    assert any(o.get("ename") == "KeyboardInterrupt" for o in outputs)
    assert warm_source.forked >= 1


def test_a_forked_kernel_that_dies_is_recorded_crashed(notebook, tmp_path, warm_source):
    path = notebook("die.ipynb", ["import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"])
    record = RunTask(str(path), output=str(tmp_path / "o.ipynb"), warm=True).execute(warm_source)
    assert record.status == "crashed" and "DeadKernelError" in (record.error or "")


def _site_module(tmp_path: Path, name: str, body: str, monkeypatch) -> None:
    """A module importable from outside the notebook's folder (on PYTHONPATH)."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / f"{name}.py").write_text(body)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ["PYTHONPATH"]]))


def test_a_module_that_starts_threads_turns_warm_kernels_off(
    notebook, tmp_path, monkeypatch, warm_source
):
    _site_module(
        tmp_path,
        "spins",
        "import threading, time\nthreading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n",
        monkeypatch,
    )
    path = notebook("nb/t.ipynb", ["import spins\nprint('ok')"])
    kind = KernelKind("python3", str(path.parent), 1)
    km = warm_source.acquire(kind, prewarm_next=False, imports=["spins"])
    stop_kernel(km)
    assert "Python threads" in warm_source.cold_reasons[kind]
    assert warm_source.forked == 0
    record = RunTask(str(path), output=str(tmp_path / "o.ipynb"), warm=True).execute(warm_source)
    assert record.status == "finished"  # the kernel started the usual way


def test_a_module_that_prints_on_import_is_left_to_the_kernel(
    notebook, tmp_path, monkeypatch, warm_source
):
    _site_module(tmp_path, "chatty", "print('chatty imported')\n", monkeypatch)
    path = notebook("nb/t.ipynb", ["import chatty\nimport json"])
    task = RunTask(str(path), output=str(tmp_path / "o.ipynb"), warm=True, prewarm_next=False)
    record = task.execute(warm_source)
    assert record.status == "finished" and warm_source.forked == 1 and not warm_source.cold_reasons
    texts = [o.get("text", "") for o in nbformat.read(tmp_path / "o.ipynb", 4).cells[-1].outputs]
    assert texts == ["chatty imported\n"]  # printed in the trial, as in a fresh kernel


def test_no_warm_is_one_option_for_the_cli_and_the_magics(notebook):
    from mlnb.pipeline.calls import sweep_call
    from mlnb.pipeline.options import NO_WARM, SWEEP, TUNE, add_options

    assert NO_WARM in SWEEP and NO_WARM in TUNE  # the magics take the same lists
    path = str(notebook("t.ipynb", ["pass"]))
    parser = argparse.ArgumentParser()
    parser.add_argument("notebook")
    add_options(parser, SWEEP)
    assert sweep_call(parser.parse_args([path, "-p", "x=1,2", "--no-warm"]), "s")["warm"] is False
    assert sweep_call(parser.parse_args([path, "-p", "x=1,2"]), "s")["warm"] is True
