"""The %pipeline_* magics in a real kernel: each drives the library and shows its result."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.kernel


def test_pipeline_magics_run_sweep_rerun_step_and_status(notebook, tmp_path, cell_text, kernel):
    path = notebook("s.ipynb", ["import mlnb\nmlnb.record('y', x * 10)"])
    spec = tmp_path / "p.yaml"
    spec.write_text("steps:\n  only:\n    notebook: s.ipynb\n    params: {x: 2}\n")
    missing = tmp_path / "missing.ipynb"
    quoted = notebook(
        "q.ipynb",
        ["import mlnb\nmlnb.record('msg', msg)\nmlnb.record('cfg', cfg)"],
        parameters="msg = 'a'\ncfg = {}",
    )
    nb = kernel(
        [
            "%load_ext mlnb",
            f"%pipeline_step {path}",
            f"%pipeline_run {path} {tmp_path / 'o.ipynb'} -p x 3 --seed 5 -o rec",
            "from mlnb.pipeline import section_of\nprint(rec.status, section_of(rec).values, section_of(rec).seed)",
            f"%pipeline_sweep {path} -p x=1,2 --jobs 2 --metric y --output-dir {tmp_path / 'sw'} -o sw",
            "print([(t.params['x'], t.status) for t in sw.trials], sw.best.params)",
            "%pipeline_rerun {rec.id}",
            f"%pipeline {spec} --status",
            f"%pipeline_run {missing}",
            f"%pipeline_run {path} -p x 2.5 --strict",
            f"%pipeline_step {path} --write",
            # issue 14 item 7: quotes group words and are removed, as in a shell
            f'%pipeline_run {quoted} {tmp_path / "q-out.ipynb"} -p msg "hello world" -y "{{cfg: {{lr: 0.1, layers: [32]}}}}" -o qrec',
            "print(repr(section_of(qrec).values['msg']), section_of(qrec).values['cfg'])",
            f'%pipeline_run {path} -p x "oops',
        ],
        allow_errors=True,
        cwd=str(tmp_path),
    )
    texts = [cell_text(c) for c in nb.cells]
    assert "x          int   1" in texts[1]
    assert texts[2].startswith("mlnb: run ") and f"-> {tmp_path / 'o.ipynb'} (seed 5)" in texts[2]
    assert texts[3].strip() == "finished {'y': 30} 5"
    assert "best: trial 1 (y=20, max) x=2" in texts[4]
    assert texts[5].strip() == "[(1, 'finished'), (2, 'finished')] {'x': 2}"
    assert "✓ reproduced: all 1 recorded values are the same" in texts[6]
    assert "only  stale   never ran" in texts[7] and "1 of 1 steps stale: only" in texts[7]
    assert texts[8].strip() == f"UsageError: notebook {missing} does not exist."
    assert texts[9].strip() == "UsageError: parameter 'x' is int (default 1), got float 2.5."
    assert texts[10].strip() == "UsageError: %pipeline_step: --write goes with --init."
    assert texts[12].strip() == "'hello world' {'lr': 0.1, 'layers': [32]}"
    assert texts[13].strip() == (
        "UsageError: cannot split the line into words (no closing quotation) — close every quote."
    )
