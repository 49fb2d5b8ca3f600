"""``mlnb pipeline compile --to kfp``: the kfp SDK compiles it, reads it back, and its local
runner executes it with the same recorded values as ``mlnb pipeline``."""

from __future__ import annotations

import base64
import gzip
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from mlnb.exceptions import MissingDependencyError, PipelineCompileError
from tests.helpers import extra, write_notebook

EXAMPLE = Path(__file__).resolve().parents[2] / "example_notebooks" / "04_pipeline"


@pytest.fixture
def kfp():
    return extra("kfp")


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A fresh copy of example_notebooks/04_pipeline (no runs, no data files)."""
    folder = tmp_path / "04_pipeline"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("runs", "*.csv", "*.pkl"))
    return folder


@pytest.fixture
def local_runner(kfp, tmp_path: Path):
    """kfp's local SubprocessRunner in this interpreter (mlnb reached through PYTHONPATH)."""
    from kfp import local

    local.init(
        runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "kfp-root")
    )
    yield tmp_path / "kfp-root"
    local.config.LocalExecutionConfig.instance = None


def _pipeline_file(folder: Path, steps: dict) -> Path:
    path = folder / "pipeline.yaml"
    path.write_text(yaml.safe_dump({"steps": steps}), encoding="utf-8")
    return path


def _recorder(folder: Path, name: str = "square.ipynb") -> Path:
    return write_notebook(
        folder / name,
        [
            "import mlnb\nsquare = int(x * x)\nmlnb.record('square', square)",
            "mlnb.record('label', f'x={x}')\nmlnb.record('big', x > 3)",
            "mlnb.record('scaled', [v * x for v in scale])",
        ],
        parameters="x = 2\nscale = [1, 2]\nnothing = None",
    )


def test_compiled_pipeline_reads_back_typed_and_self_contained(kfp, example, tmp_path):
    from kfp.components import load_component_from_file

    from mlnb.pipeline import compile_kfp

    out = compile_kfp(example / "pipeline.yaml", tmp_path / "pipeline.kfp.yaml", image="img:1")
    loaded = load_component_from_file(str(out))
    inputs = loaded.component_spec.inputs
    assert {k: (v.type, v.default) for k, v in inputs.items()} == {
        "prepare_n_samples": ("Integer", 400),
        "train_C": ("Float", 1.0),
    }
    assert set(loaded.component_spec.outputs) == {"prepare", "train", "evaluate"}
    text = out.read_text(encoding="utf-8")
    assert str(tmp_path) not in text and str(EXAMPLE) not in text  # no local path leaks in
    spec = yaml.safe_load(text)
    evaluate = spec["components"]["comp-evaluate"]
    assert set(evaluate["inputDefinitions"]["artifacts"]) == {"data_test_csv", "data_model_pkl"}
    assert evaluate["outputDefinitions"]["parameters"]["test_acc"]["parameterType"] == (
        "NUMBER_DOUBLE"
    )
    artifacts = evaluate["outputDefinitions"]["artifacts"]
    assert artifacts["metrics"]["artifactType"]["schemaTitle"] == "system.Metrics"
    assert "executed_notebook" in artifacts
    wiring = spec["root"]["dag"]["tasks"]["evaluate"]["inputs"]["artifacts"]
    assert wiring["data_model_pkl"]["taskOutputArtifact"] == {
        "outputArtifactKey": "data_model_pkl",
        "producerTask": "train",
    }
    executors = spec["deploymentSpec"]["executors"]
    assert {e["container"]["image"] for e in executors.values()} == {"img:1"}
    assert not any("pip install" in " ".join(e["container"]["command"]) for e in executors.values())
    embedded = executors["exec-train"]["container"]["command"][-1].split("embedded='")[1]
    nb = json.loads(gzip.decompress(base64.b64decode(embedded.split("'")[0])))
    original = json.loads((example / "train.ipynb").read_text(encoding="utf-8"))
    assert [c["source"] for c in nb["cells"]] == [c["source"] for c in original["cells"]]
    assert all(c.get("outputs", []) == [] for c in nb["cells"])  # outputs stripped


def test_default_image_pip_installs_mlnb_and_the_notebooks_imports(kfp, example, tmp_path):
    from mlnb.pipeline.kfp_compile import compile_kfp

    out = compile_kfp(example / "pipeline.yaml", tmp_path / "p.yaml")
    command = " ".join(yaml.safe_load(out.read_text())["deploymentSpec"]["executors"]["exec-train"]["container"]["command"])  # fmt: skip
    assert "pip install" in command and "mlnb[kfp]" in command
    assert "scikit-learn==" in command and "numpy==" in command


@pytest.mark.kernel
def test_local_runner_records_what_mlnb_pipeline_records(kfp, example, capsys):
    """example_notebooks/04_pipeline/run_kubeflow_local.py: compile, run on kfp.local, compare."""
    spec = importlib.util.spec_from_file_location("demo", example / "run_kubeflow_local.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    try:
        assert demo.main(example) == 0
    finally:
        kfp.local.config.LocalExecutionConfig.instance = None
    out = capsys.readouterr().out
    assert "\nsame values\n" in out
    (run,) = [p for p in (example / "runs" / "kfp-local").iterdir() if p.is_dir()]
    model = run / "train" / "data_model_pkl"
    assert model.read_bytes() == (example / "data" / "model.pkl").read_bytes()
    executed = json.loads((run / "evaluate" / "executed_notebook").read_text())
    assert executed["metadata"]["mlnb"]["run"]["status"] == "finished"
    output = json.loads((run / "train" / "executor_output.json").read_text())
    metrics = output["artifacts"]["metrics"]["artifacts"][0]["metadata"]
    assert metrics == {"train_acc": 0.7142857142857143, "val_acc": 0.7333333333333333}


@pytest.mark.kernel
def test_notebook_component_runs_with_typed_inputs_and_outputs(kfp, tmp_path, local_runner):
    from kfp.components import load_component_from_file

    from mlnb.pipeline.kfp_compile import compile_kfp_component

    out = compile_kfp_component(_recorder(tmp_path), tmp_path / "square.yaml", image="python:3.11")
    component = load_component_from_file(str(out))
    inputs = component.component_spec.inputs
    assert {k: v.type for k, v in inputs.items()} == {"x": "Integer", "scale": "List"}
    outputs = {k: v.type for k, v in component.component_spec.outputs.items()}
    assert outputs["square"] == "Integer" and outputs["label"] == "String"
    assert outputs["big"] == "Boolean" and outputs["scaled"] == "List"
    task = component(x=5, scale=[1, 3])
    assert task.outputs["square"] == 25 and task.outputs["label"] == "x=5"
    assert task.outputs["big"] is True
    assert task.outputs["scaled"] == [5, 15]
    assert task.outputs["recorded"]["square"] == 25


@pytest.mark.kernel
def test_notebook_fetched_from_a_uri(kfp, tmp_path, local_runner, capsys):
    import functools
    import http.server
    import threading

    from kfp.components import load_component_from_file

    from mlnb.pipeline.kfp_compile import compile_kfp_component

    served = tmp_path / "served"
    _recorder(served)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        uri = f"http://127.0.0.1:{server.server_port}/nbs"
        (served / "nbs").mkdir()
        shutil.copy(served / "square.ipynb", served / "nbs" / "square.ipynb")
        out = compile_kfp_component(
            served / "square.ipynb", tmp_path / "c.yaml", image="python:3.11", notebook_uri=uri
        )
        text = out.read_text()
        assert f"{uri}/square.ipynb" in text and "embedded=None" in text
        component = load_component_from_file(str(out))
        assert component(x=3).outputs["square"] == 9
        _recorder(served / "nbs")  # the same notebook ...
        notebook = json.loads((served / "nbs" / "square.ipynb").read_text())
        notebook["cells"][1]["source"] = "square = 0"  # ... edited after compiling
        (served / "nbs" / "square.ipynb").write_text(json.dumps(notebook))
        capsys.readouterr()
        with pytest.raises(RuntimeError, match="square"):  # kfp.local: the task failed
            component(x=3)
        assert "is not the one compiled (its cells differ)" in capsys.readouterr().out
    finally:
        server.shutdown()
        server.server_close()


def test_a_file_no_step_writes_is_embedded(kfp, tmp_path):
    from mlnb.pipeline.kfp_plan import plan_pipeline

    _recorder(tmp_path)
    (tmp_path / "lookup.csv").write_text("a,b\n1,2\n")
    plan = plan_pipeline(
        _pipeline_file(tmp_path, {"s": {"notebook": "square.ipynb", "inputs": ["./lookup.csv"]}})
    )
    (artifact,) = plan.components[0].inputs
    assert artifact.path == "lookup.csv" and artifact.producer is None
    assert gzip.decompress(base64.b64decode(artifact.embedded)) == b"a,b\n1,2\n"


def test_awkward_names_still_compile(kfp, tmp_path):
    from kfp.components import load_component_from_file

    from mlnb.pipeline.kfp_compile import compile_kfp

    write_notebook(tmp_path / "nb" / "n.ipynb", ["pass"], parameters="values = 1\nrun_step = 2")
    steps = {'3 "odd" step': {"notebook": "nb/n.ipynb", "params": {"values": 5, "run_step": 3}}}
    out = compile_kfp(_pipeline_file(tmp_path, steps), tmp_path / "p.yaml", image="python:3.11")
    inputs = load_component_from_file(str(out)).component_spec.inputs
    assert set(inputs) == {"step_3_odd_step_values", "step_3_odd_step_run_step"}


# --- bad input: one sentence each ---------------------------------------------------------


def test_absolute_notebook_path_says_write_it_relative(kfp, tmp_path):
    from mlnb.pipeline.kfp_compile import compile_kfp

    notebook = _recorder(tmp_path)
    path = _pipeline_file(tmp_path, {"sq": {"notebook": str(notebook)}})
    with pytest.raises(PipelineCompileError) as info:
        compile_kfp(path, tmp_path / "p.yaml")
    assert str(info.value) == (
        f"pipeline.yaml, step 'sq': notebook {notebook} is an absolute path, which does not exist "
        "inside a Kubeflow pod — write it relative to pipeline.yaml and keep the file in that folder."
    )
    assert not (tmp_path / "p.yaml").exists()


@pytest.mark.parametrize(
    ("key", "value", "phrase"),
    [
        ("inputs", ["/data/train.csv"], "is an absolute path"),
        ("outputs", ["../elsewhere.csv"], "lies outside the folder of pipeline.yaml"),
        ("inputs", ["missing.csv"], "is written by no step and does not exist"),
    ],
)
def test_files_a_pod_cannot_have(tmp_path, key, value, phrase):
    from mlnb.pipeline.kfp_plan import plan_pipeline

    _recorder(tmp_path)
    path = _pipeline_file(tmp_path, {"sq": {"notebook": "square.ipynb", key: value}})
    with pytest.raises(PipelineCompileError, match=phrase):
        plan_pipeline(path)


def test_reading_a_file_a_later_step_writes(tmp_path):
    from mlnb.pipeline.kfp_plan import plan_pipeline

    _recorder(tmp_path)
    steps = {
        "a": {"notebook": "square.ipynb", "inputs": ["x.csv"]},
        "b": {"notebook": "square.ipynb", "outputs": ["x.csv"], "upstream": ["a"]},
    }
    with pytest.raises(PipelineCompileError) as info:
        plan_pipeline(_pipeline_file(tmp_path, steps))
    assert "add 'b' to the upstream of 'a'" in str(info.value)


def test_names_that_would_clash(tmp_path):
    from mlnb.pipeline.kfp_plan import plan_pipeline

    _recorder(tmp_path)
    steps = {"s": {"notebook": "square.ipynb", "params": {"metrics": 1}}}
    with pytest.raises(
        PipelineCompileError, match="has the name of one of the component's outputs"
    ):
        plan_pipeline(_pipeline_file(tmp_path, steps))
    write_notebook(tmp_path / "bx.ipynb", ["pass"], parameters="b_x = 0")
    steps = {
        "a": {"notebook": "bx.ipynb", "params": {"b_x": 1}},
        "a-b": {"notebook": "square.ipynb", "params": {"x": 2}},
    }
    with pytest.raises(PipelineCompileError) as info:
        plan_pipeline(_pipeline_file(tmp_path, steps))
    assert "becomes the pipeline input 'a_b_x', which parameter 'b_x' of step 'a' already is" in (
        str(info.value)
    )
    steps = {"a-b": {"notebook": "square.ipynb"}, "a_b": {"notebook": "square.ipynb"}}
    with pytest.raises(PipelineCompileError, match="component name 'a_b', which another step"):
        plan_pipeline(_pipeline_file(tmp_path, steps))


def test_unknown_parameter_refused_as_mlnb_pipeline_refuses_it(tmp_path):
    from mlnb.exceptions import PipelineSpecError
    from mlnb.pipeline.kfp_plan import plan_pipeline

    _recorder(tmp_path)
    steps = {"sq": {"notebook": "square.ipynb", "params": {"y": 1}}}
    with pytest.raises(PipelineSpecError, match="'y'"):
        plan_pipeline(_pipeline_file(tmp_path, steps))


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "is None"), (float("nan"), "is nan"), ("2024-01-01", None)],
)
def test_parameter_types_kfp_cannot_express(tmp_path, value, shown):
    from mlnb.pipeline.kfp_plan import plan_pipeline

    _recorder(tmp_path)
    path = tmp_path / "pipeline.yaml"
    literal = {None: "null", "2024-01-01": "2024-01-01"}.get(value, ".nan")
    path.write_text(f"steps:\n  sq:\n    notebook: square.ipynb\n    params: {{x: {literal}}}\n")
    with pytest.raises(PipelineCompileError) as info:
        plan_pipeline(path)
    message = str(info.value)
    assert message.startswith("pipeline.yaml, step 'sq': parameter 'x' ")
    assert shown is None or shown in message
    assert "which no Kubeflow pipeline input can hold" in message


def test_kfp_not_installed_names_the_extra(monkeypatch, tmp_path):
    from mlnb.pipeline.kfp_compile import compile_kfp

    monkeypatch.setitem(sys.modules, "kfp", None)  # `import kfp` now raises ImportError
    with pytest.raises(MissingDependencyError) as info:
        compile_kfp(tmp_path / "pipeline.yaml", tmp_path / "p.yaml")
    assert str(info.value) == (
        "compiling to Kubeflow Pipelines needs kfp, which is not installed — "
        'run `pip install "mlnb[kfp]"`.'
    )


def test_unknown_target(tmp_path):
    from mlnb.pipeline.kfp_compile import compile_to

    with pytest.raises(PipelineCompileError) as info:
        compile_to("argo", tmp_path / "pipeline.yaml", tmp_path / "p.yaml")
    assert str(info.value) == "unknown compile target 'argo'; known targets: kfp, kfp-component."


def test_package_must_be_yaml(kfp, tmp_path):
    from mlnb.pipeline.kfp_compile import compile_kfp_component

    with pytest.raises(PipelineCompileError, match=r"must end in \.yaml or \.yml"):
        compile_kfp_component(_recorder(tmp_path), tmp_path / "c.json")
