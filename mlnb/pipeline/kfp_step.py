"""What a compiled Kubeflow component runs inside its pod: one notebook step, by mlnb.

The component's own code (written by :mod:`mlnb.pipeline.kfp_compile`) is a call
to :func:`run_step` and :func:`typed_outputs`, so the logic lives here, tested,
and not in generated text. The step runs in a fresh folder laid out like the
pipeline's: its notebook (unpacked or fetched), the files it reads (copied from
their input artifacts) and the folders of the files it writes; then the files it
wrote go to their output artifacts, the executed notebook to its own, numbers it
recorded to the Metrics artifact. Nothing here imports kfp.
"""

from __future__ import annotations

import base64
import gzip
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb import config
from mlnb.exceptions import PipelineError

if TYPE_CHECKING:
    from mlnb.runs.records import RunRecord


def unpack(data: str) -> bytes:
    """Bytes packed by :func:`mlnb.pipeline.kfp_plan.embed_notebook` (gzip + base64)."""
    return gzip.decompress(base64.b64decode(data.encode("ascii")))


def fetch(uri: str) -> bytes:
    """A notebook read through papermill's I/O (``http(s)://``, ``s3://``, ``gs://``, ``abs://``, paths)."""
    from papermill.iorw import papermill_io

    return papermill_io.read(uri).encode("utf-8")


def restore_ints(value: Any, default: Any) -> Any:
    """Whole numbers Kubeflow turned into floats inside a list or dict, back to ints.

    KFP carries list and dict inputs as protobuf Structs, whose numbers are all
    doubles; where the compiled default had an int, the int comes back.
    """
    whole = isinstance(value, float) and value.is_integer()
    if whole and isinstance(default, int) and not isinstance(default, bool):
        return int(value)
    if isinstance(value, list) and isinstance(default, list):
        fallback = default[-1] if default else None
        return [
            restore_ints(v, default[i] if i < len(default) else fallback)
            for i, v in enumerate(value)
        ]
    if isinstance(value, dict) and isinstance(default, dict):
        return {k: restore_ints(v, default.get(k)) for k, v in value.items()}
    return value


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copyfile(source, target)


def _log_metrics(metrics: Any, values: Mapping[str, Any]) -> None:
    """Numbers (not booleans) into a KFP Metrics artifact (anything with ``log_metric``)."""
    for name, value in values.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            metrics.log_metric(name, float(value))


def run_step(
    *,
    step: str,
    notebook: str,
    params: Mapping[str, Any],
    executed: str,
    embedded: str | None = None,
    uri: str | None = None,
    cells_sha256: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    seed: int = 0,
    kernel: str | None = None,
    timeout: float | None = None,
    inputs: Mapping[str, str] | None = None,
    embedded_inputs: Mapping[str, str] | None = None,
    outputs: Mapping[str, str] | None = None,
    metrics: Any = None,
) -> dict[str, Any]:
    """Run one step's notebook with mlnb in a fresh folder and hand its files to KFP.

    Args:
        step: the step's name (run tags, messages).
        notebook: the notebook's path relative to the pipeline's folder.
        params: the parameters to inject.
        executed: where the executed notebook goes (an output artifact's path).
        embedded: the notebook packed by the compiler; else ``uri`` is fetched.
        uri: where to fetch the notebook from.
        cells_sha256: the compiled notebook's cell hash; a fetched notebook whose cells
            differ is refused (Kubeflow's cache keys on the component, not on the URI's content).
        defaults: the compiled parameter values (to restore ints in lists and dicts).
        seed, kernel, timeout: as in :func:`mlnb.pipeline.run.run`.
        inputs: relative path → input artifact path, copied in before the run.
        embedded_inputs: relative path → packed bytes of a file no step writes.
        outputs: relative path → output artifact path, copied out after the run.
        metrics: a KFP ``Metrics`` artifact; the recorded numbers are logged to it.

    Returns:
        The values the notebook recorded.

    The run record goes to ``$MLNB_HOME`` (mount a volume there to keep it); when that
    is unset, to a folder under the pod's temporary directory, since its working
    directory may be read-only.

    Raises:
        RunFailedError, RunKilledError, RunCrashedError: the notebook did not finish
            (the executed notebook is written first).
        PipelineError: a fetched notebook that is not the compiled one, or a run that
            finished without writing a declared output.
    """
    from mlnb.pipeline.section import values_of

    if embedded is None and uri is None:
        raise PipelineError(f"step {step!r} has neither an embedded notebook nor a URI.")
    outputs = dict(outputs or {})
    _default_home_to_temp()
    workdir = Path(tempfile.mkdtemp(prefix="mlnb-kfp-"))
    try:
        target = workdir / notebook
        _write_notebook(target, step, embedded, uri, cells_sha256)
        _lay_out(workdir, inputs or {}, embedded_inputs or {}, outputs)
        defaults = defaults or {}
        record = _run_notebook(
            target,
            {k: restore_ints(v, defaults.get(k)) for k, v in params.items()},
            workdir=workdir,
            step=step,
            executed=Path(executed),
            seed=seed,
            kernel=kernel,
            timeout=timeout,
        )
        _copy_outputs(workdir, step, outputs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    values = dict(values_of(record))
    if metrics is not None:
        _log_metrics(metrics, values)
    return values


def _default_home_to_temp() -> None:
    """Point ``$MLNB_HOME`` under the temporary directory when it is unset: the pod's working
    directory may be read-only, and the kernels the run starts inherit the variable."""
    if config.source(config.HOME) == "default":
        os.environ[config.HOME.env] = str(Path(tempfile.gettempdir()) / "mlnb-home")


def _run_notebook(
    target: Path,
    params: dict[str, Any],
    *,
    workdir: Path,
    step: str,
    executed: Path,
    seed: int,
    kernel: str | None,
    timeout: float | None,
) -> RunRecord:
    """Run ``target`` in ``workdir`` with strict parameters, copy the executed notebook to
    ``executed`` (also when the run failed), and return the run record.

    Raises:
        RunFailedError, RunKilledError, RunCrashedError: the notebook did not finish.
    """
    from mlnb.pipeline.run import run, run_error

    written = workdir / ".mlnb-kfp" / target.name
    record = run(
        target,
        params,
        output=written,
        seed=seed,
        kernel=kernel,
        cwd=workdir,
        timeout=timeout,
        strict=True,
        tags=["kubeflow", f"step:{step}"],
        raise_on_failure=False,
    )
    if written.exists():
        _copy(written, executed)
    if record.status != "finished":
        raise run_error(record)
    return record


def _copy_outputs(workdir: Path, step: str, outputs: Mapping[str, str]) -> None:
    """Copy each declared output out of ``workdir`` to its artifact path.

    Raises:
        PipelineError: the run did not write one of them.
    """
    missing = [p for p in outputs if not (workdir / p).exists()]
    if missing:
        raise PipelineError(
            f"step {step!r} finished but did not write its declared output {', '.join(missing)}."
        )
    for relative, artifact in outputs.items():
        _copy(workdir / relative, Path(artifact))


def _write_notebook(
    target: Path, step: str, embedded: str | None, uri: str | None, cells_sha256: str | None
) -> None:
    """The step's notebook, unpacked or fetched; a fetched one must have the compiled cells."""
    from mlnb.pipeline.dag import notebook_content_hash

    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(unpack(embedded) if embedded is not None else fetch(str(uri)))
    if uri is not None and cells_sha256 and notebook_content_hash(target) != cells_sha256:
        raise PipelineError(
            f"step {step!r}: the notebook at {uri} is not the one compiled (its cells differ) — upload the notebook as it was compiled, or compile again."
        )


def _lay_out(
    workdir: Path,
    inputs: Mapping[str, str],
    embedded_inputs: Mapping[str, str],
    outputs: Mapping[str, str],
) -> None:
    """Files the step reads copied in, packed ones unpacked, folders for what it writes made."""
    for relative, source in inputs.items():
        _copy(Path(source), workdir / relative)
    for relative, packed in embedded_inputs.items():
        (workdir / relative).parent.mkdir(parents=True, exist_ok=True)
        (workdir / relative).write_bytes(unpack(packed))
    for relative in outputs:
        (workdir / relative).parent.mkdir(parents=True, exist_ok=True)


def _coerced(value: Any, type_name: str) -> tuple[bool, Any]:
    if isinstance(value, bool):
        return type_name == "bool", value
    if type_name == "float" and isinstance(value, (int, float)):
        return True, float(value)
    if type_name == "int" and isinstance(value, float) and value.is_integer():
        return True, int(value)
    expected = {"int": int, "str": str, "list": list, "dict": dict}.get(type_name)
    return expected is not None and isinstance(value, expected), value


def typed_outputs(step: str, values: Mapping[str, Any], declared: Mapping[str, str]) -> tuple:
    """The component's return value: each declared recorded value in its type, then all of them.

    Raises:
        PipelineError: a declared name was not recorded, or its value has another type.
    """
    result: list[Any] = []
    for name, type_name in declared.items():
        if name not in values:
            raise PipelineError(
                f"step {step!r} did not record {name!r}, which its compiled component declares as an output — record it on every run, or recompile."
            )
        ok, value = _coerced(values[name], type_name)
        if not ok:
            shown = type(values[name]).__name__
            raise PipelineError(
                f"step {step!r} recorded {name!r} as a {shown}, but its compiled component declares a {type_name} output — wrap the recorded expression in {shown}(...) so its type shows, and recompile."
            )
        result.append(value)
    return (*result, dict(values))
