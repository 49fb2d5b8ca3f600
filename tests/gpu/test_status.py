"""status(): the devices and their processes, as text and escaped HTML."""

from __future__ import annotations

from mlnb.gpu import backends, status
from tests.helpers import GIB


def test_status_lists_fake_device_with_processes(fake_gpu):
    report = status()
    (device,) = list(report)
    assert (device.name, device.total, device.used, device.utilization) == (
        "Fake H100",
        16 * GIB,
        GIB,
        40,
    )
    row = report.rows()[0]
    assert row == (
        "fake:0",
        "Fake H100",
        "1.0 GiB",
        "16.0 GiB",
        "6",
        "40",
        "55",
        "210",
        "trainer[4242] 1.0 GiB",
    )
    assert report.no_gpu_sentence() is None
    block = fake_gpu.allocate(3 * GIB)
    assert status().devices[0].used == 4 * GIB
    del block


def test_status_html_escapes_device_names(monkeypatch):
    from mlnb.gpu.backends import fake

    monkeypatch.setenv("MLNB_GPU_BACKEND", "fake")
    monkeypatch.setenv(
        "MLNB_GPU_FAKE", '{"devices": [{"name": "<script>x</script>", "total": 1024}]}'
    )
    monkeypatch.setattr(fake, "_instance", None)
    backends.reset()
    html = status().html()
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    backends.reset()
