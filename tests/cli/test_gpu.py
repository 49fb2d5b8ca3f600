"""``mlnb gpu [status|memory] [--json]`` on the fake GPU, and a bad backend as one line."""

from __future__ import annotations

import json

from mlnb.cli import main


def test_cli_gpu_table_json_and_bad_backend(fake_gpu, capsys, monkeypatch):
    from mlnb.gpu import backends

    assert main(["gpu"]) == 0
    assert "fake:0  Fake H100" in capsys.readouterr().out
    assert main(["gpu", "memory", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["allocators"][0]["device"] == "cuda:0" and payload["note"] is None
    monkeypatch.setenv("MLNB_GPU_BACKEND", "cuda9")
    backends.reset()
    assert main(["gpu"]) == 2
    assert capsys.readouterr().err.startswith(
        "mlnb: unknown GPU backend 'cuda9' in MLNB_GPU_BACKEND;"
    )
