"""Every display.Report subclass in mlnb renders text and escaped HTML through the shared base."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

import pytest
from IPython.lib.pretty import pretty

import mlnb
from mlnb import display

HOSTILE = "<script>&'\""
ESCAPED = "&lt;script&gt;&amp;&#x27;&quot;"


def _all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def _import_everything() -> None:
    for module in pkgutil.walk_packages(mlnb.__path__, "mlnb."):
        if module.name.endswith(".__main__"):  # a program, not a library module
            continue
        try:
            importlib.import_module(module.name)
        except ImportError:  # an optional dependency missing here: its reports cannot exist either
            pass


def _holders():
    from mlnb.gpu.holders import Holder, HoldersReport

    return HoldersReport(
        [Holder(HOSTILE, "Tensor", 1 << 20, 2, ("cuda:0",), (HOSTILE,))],
        {"cuda:0": 1 << 20},
        {"cuda:0": 2 << 20},
        {"cuda:0": 1 << 20},
    )


def _validation():
    from mlnb.data.validate import Anomaly, ValidationReport

    return ValidationReport([Anomaly(HOSTILE, "missing", HOSTILE, [HOSTILE])], 10, 1)


def _frames():
    import pandas as pd

    reference = pd.DataFrame({HOSTILE: ["a", "b", None, "a"] * 10})
    current = pd.DataFrame({HOSTILE: ["c", "c", "c", "a"] * 10})
    return reference, current


def _profile():
    from mlnb.data.profile import profile

    return profile(_frames()[0])


def _drift():
    from mlnb.data.drift import compare

    return compare(*_frames())


def _free():
    from mlnb.gpu.free import FreeReport

    return FreeReport(
        [HOSTILE], 10, 3, {"cuda:0": 9}, {"cuda:0": 5}, {"cuda:0": 9}, {"cuda:0": 5}, 8, 7, None
    )


def _memory():
    from mlnb.gpu.backends.host import ProcessMemory
    from mlnb.gpu.memory import MemoryReport

    return MemoryReport([], ProcessMemory(1, 2, True), HOSTILE)


def _status():
    from mlnb.gpu.backends.records import DeviceStatus
    from mlnb.gpu.status import StatusReport

    return StatusReport([DeviceStatus(0, HOSTILE, "fake", total=10, used=5, free=5)], None)


def _oom():
    from mlnb.gpu.oom import OomReport

    return OomReport("CUDA", HOSTILE, HOSTILE, 1, {}, {}, None, [HOSTILE])


def _repro():
    from mlnb.repro import ReproReport, VariableCheck

    return ReproReport(2, [VariableCheck(HOSTILE, False, None, HOSTILE)], [HOSTILE])


def _check():
    from mlnb.checking.report import CellResult, CheckReport, FileAccess, Finding

    return CheckReport(
        HOSTILE,
        [Finding("differs", HOSTILE, 2)],
        [CellResult(2, "differs", HOSTILE)],
        [FileAccess(HOSTILE, "input", None)],
        runs=1,
    )


def _importance():
    from mlnb.runs.param_importance import Importance, ParameterImportance

    return Importance(
        HOSTILE, "forest", ["abc123"], [ParameterImportance(HOSTILE, 1.0, 0.5, "float")], {}
    )


def _parquet_pair():
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="mlnb-reports-"))
    reference, current = _frames()
    reference.to_parquet(folder / "reference.parquet")
    current.to_parquet(folder / "current.parquet")
    return folder / "reference.parquet", folder / "current.parquet"


def _streamed_profile():
    from mlnb.data.stream import stream_profile

    return stream_profile(_parquet_pair()[0])


def _streamed_drift():
    from mlnb.data.stream import stream_compare

    return stream_compare(*_parquet_pair())


def _attribution():
    from mlnb.gpu.attribution import Attribution, Bar, DeviceBars

    bar = Bar("kernel", HOSTILE, 1 << 30, (4242,), kernel_id="k1", path=HOSTILE, user=HOSTILE)
    return Attribution([DeviceBars(0, HOSTILE, 16 << 30, 2 << 30, [bar])], notes=[HOSTILE])


def _timeline():
    from mlnb.gpu.timeline import timeline_from_snapshot
    from mlnb.gpu.timeline_view import TimelineView

    frames = [{"filename": "/tmp/ipykernel_1/1.py", "line": 3, "name": HOSTILE}]
    trace = [
        {
            "action": "alloc",
            "addr": 16,
            "size": 1 << 20,
            "stream": 0,
            "time_us": 0,
            "frames": frames,
        }
    ]
    block = {"address": 16, "size": 1 << 20, "state": "active_allocated"}
    segment = {"device": 0, "address": 0, "total_size": 1 << 30, "stream": 0, "blocks": [block]}
    timeline = timeline_from_snapshot({"segments": [segment], "device_traces": [trace]})
    return TimelineView(timeline, 0.0, 1.0)


SAMPLES: dict[str, Callable[[], display.Report]] = {
    "mlnb.display.Rendered": lambda: display.Rendered(HOSTILE, f"<p>{ESCAPED}</p>"),
    "mlnb.data.validate.ValidationReport": _validation,
    "mlnb.data.profile.DataProfile": _profile,
    "mlnb.data.drift_report.DriftReport": _drift,
    "mlnb.gpu.holders.HoldersReport": _holders,
    "mlnb.gpu.free.FreeReport": _free,
    "mlnb.gpu.memory.MemoryReport": _memory,
    "mlnb.gpu.status.StatusReport": _status,
    "mlnb.gpu.oom.OomReport": _oom,
    "mlnb.repro.ReproReport": _repro,
    "mlnb.checking.report.CheckReport": _check,
    "mlnb.runs.param_importance.Importance": _importance,
    "mlnb.data.stream.StreamedProfile": _streamed_profile,
    "mlnb.data.stream.StreamedDriftReport": _streamed_drift,
    "mlnb.gpu.attribution.Attribution": _attribution,
    "mlnb.gpu.timeline_view.TimelineView": _timeline,
}


def _report_classes() -> list[type]:
    _import_everything()
    return sorted(_all_subclasses(display.Report), key=lambda c: f"{c.__module__}.{c.__qualname__}")


@pytest.mark.parametrize("cls", _report_classes(), ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_report_renders_text_and_escaped_html(cls):
    name = f"{cls.__module__}.{cls.__qualname__}"
    assert name in SAMPLES, f"add a sample {name} to SAMPLES in {__file__}"
    report = SAMPLES[name]()
    assert type(report) is cls
    text, html = report.text(), report.html()
    assert HOSTILE in text
    assert "<script>" not in html
    assert ESCAPED in html
    assert str(report) == text
    assert report._repr_html_() == html
    assert pretty(report) == text


def test_every_sample_is_a_report_class():
    names = {f"{c.__module__}.{c.__qualname__}" for c in _report_classes()}
    assert set(SAMPLES) <= names


def test_default_html_is_the_escaped_text():
    class Plain(display.Report):
        def text(self) -> str:
            return HOSTILE

    assert Plain().html() == f'<pre class="mlnb-report">{ESCAPED}</pre>'
    assert repr(Plain()) == HOSTILE
    with pytest.raises(TypeError):
        display.Report()  # type: ignore[abstract]
