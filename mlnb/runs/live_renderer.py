"""Render live plot figures in a helper process, so a redraw never holds the training process's GIL.

Drawing a figure with matplotlib takes tens of milliseconds of pure Python; in the
kernel that trains, that time is taken from the training loop however the drawing
thread is scheduled. :class:`Renderer` starts ``python -m mlnb.runs.live_figure``
once and hands it each figure's spec over a pipe; the plot's thread only waits for
the answer. If the helper cannot start or dies, figures are drawn in this process
instead (the live plot then throttles itself harder: see :mod:`mlnb.runs.live`).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from mlnb.exceptions import LivePlotError

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds mlnb/


class Renderer:
    """Draws figure specs to SVG, in a helper process when it can.

    Args:
        use_helper: False draws in this process from the start (``bench/live_plot.py``
            measures both).

    Attributes:
        in_process: True once drawing happens in this process (the helper is gone).
        helper_seconds: CPU seconds the helper spent on the last figure (0 in-process).
    """

    def __init__(self, use_helper: bool = True) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self.in_process = not use_helper
        self.helper_seconds = 0.0
        if not use_helper:
            return
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "mlnb.runs.live_figure"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=_helper_environment(),
            )
        except OSError:
            self.in_process = True

    def render(self, spec: dict[str, Any]) -> bytes:
        """The figure as SVG bytes.

        Raises:
            LivePlotError: matplotlib could not draw the figure.
        """
        with self._lock:
            if self._process is not None:
                try:
                    ok, payload, self.helper_seconds = self._ask(self._process, spec)
                except (OSError, EOFError, ValueError, pickle.UnpicklingError):
                    self._stop_helper()
                    self.in_process = True
                else:
                    if not ok:
                        raise LivePlotError(f"the live plot could not be drawn: {payload}")
                    return bytes(payload)
        from mlnb.runs.live_figure import render_svg

        self.helper_seconds = 0.0
        return render_svg(spec)

    @staticmethod
    def _ask(process: subprocess.Popen[bytes], spec: dict[str, Any]) -> tuple[bool, Any, float]:
        assert process.stdin is not None and process.stdout is not None
        data = pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL)
        process.stdin.write(len(data).to_bytes(4, "big") + data)
        process.stdin.flush()
        header = process.stdout.read(4)
        if len(header) < 4:
            raise EOFError("the live plot helper exited")
        answer = pickle.loads(process.stdout.read(int.from_bytes(header, "big")))
        return bool(answer[0]), answer[1], float(answer[2])

    def _stop_helper(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):  # a helper that already died: broken pipe
                process.stdin.close()  # the helper exits at end of input
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def close(self) -> None:
        """Stop the helper process (idempotent)."""
        with self._lock:
            self._stop_helper()


def _helper_environment() -> dict[str, str]:
    """This process's environment, with mlnb importable and matplotlib headless."""
    env = dict(os.environ)
    paths = [_PACKAGE_ROOT, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env["MPLBACKEND"] = "Agg"
    return env
