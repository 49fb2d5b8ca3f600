"""The pipeline on Kubeflow Pipelines' local runner: compile it, run it, compare with `mlnb pipeline`.

`python example_notebooks/04_pipeline/run_kubeflow_local.py` compiles pipeline.yaml to
runs/pipeline.kfp.yaml (what you would upload to Kubeflow), runs that file with kfp's
local SubprocessRunner in this interpreter (no cluster, no Docker; mlnb must be
importable, e.g. through PYTHONPATH), runs the same pipeline with `mlnb pipeline`, and
prints both sets of recorded values. Exits non-zero if they differ. Needs
`pip install 'mlnb[kfp]'`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: the local runner runs each step in this interpreter and ignores the image; on a cluster
#: it must hold mlnb[kfp], scikit-learn and numpy (see docs/pipeline.md, "Kubeflow Pipelines")
IMAGE = "python:3.11"


def kubeflow_local_values(package: Path, pipeline_root: Path) -> dict[str, Any]:
    """Each step's recorded values, from running the compiled package on kfp.local.

    (kfp 2.7 also lists each step's Metrics artifact among the pipeline's outputs: left out.)
    """
    from kfp import local
    from kfp.components import load_component_from_file

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(pipeline_root))
    outputs = load_component_from_file(str(package))().outputs
    return {name: value for name, value in outputs.items() if isinstance(value, dict)}


def main(folder: Path = HERE) -> int:
    from mlnb.pipeline import compile_kfp
    from mlnb.pipeline.dag import run_pipeline

    package = compile_kfp(
        folder / "pipeline.yaml", folder / "runs" / "pipeline.kfp.yaml", image=IMAGE
    )
    print(f"== compiled {package}")
    on_kubeflow = kubeflow_local_values(package, folder / "runs" / "kfp-local")
    result = run_pipeline(folder / "pipeline.yaml")
    by_mlnb = {step.name: step.values for step in result.steps}
    print("\n== recorded values: step, kfp.local, mlnb pipeline")
    for name, values in by_mlnb.items():
        print(f"{name:9} {on_kubeflow.get(name)}  {values}")
    same = on_kubeflow == by_mlnb
    print("same values" if same else "the values differ")
    return 0 if same and result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
