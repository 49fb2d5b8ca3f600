"""Which files a notebook reads and writes: an audit hook on ``open`` inside the kernel.

:func:`install_code` is run silently in the fresh kernel before the first cell: it adds
a :func:`sys.addaudithook` hook that notes every ``open`` event (``open()``,
``io.open``, ``os.open``, ``pathlib``, pandas and NumPy readers all raise it) outside
Python's own folders, the kernel's runtime files and ``/proc``-like trees.
:func:`report_code`, run after the last cell, hashes each file (SHA-256) and shows the
list as one output of :data:`MIME`; :func:`file_accesses` reads it back.

A file is an *input* when the notebook read it before writing it, an *output* when it
wrote it. Paths inside the working folder are relative to it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mlnb.checking.report import FileAccess

MIME = "application/vnd.mlnb.check-io+json"

_INSTALL = r"""
def _mlnb_check_audit():
    import os, sys, sysconfig
    log = {}
    skip = set()
    for p in [sys.prefix, sys.base_prefix, sys.exec_prefix, *sysconfig.get_paths().values()]:
        if p:
            skip.add(os.path.realpath(p))
    cwd = os.path.realpath(os.getcwd())
    code_only = set()  # sys.path folders that hold the working folder: skip only their code
    for p in sys.path:
        real = os.path.realpath(p) if p else cwd
        if real == cwd or cwd.startswith(real.rstrip(os.sep) + os.sep):
            code_only.add(real.rstrip(os.sep) + os.sep)
        else:
            skip.add(real)
    code_prefix = tuple(code_only)
    code_suffix = (".py", ".pyc", ".so", ".pyd", ".pth")
    home = os.path.expanduser("~")
    for d in (".ipython", ".cache", ".config", ".local", ".jupyter", ".matplotlib", ".keras"):
        skip.add(os.path.join(home, d))
    skip_prefix = tuple(sorted(s.rstrip(os.sep) + os.sep for s in skip if s and s != os.sep))
    system = ("/proc/", "/sys/", "/dev/", "/etc/", "/usr/", "/lib/", "/lib64/", "/System/", "/Library/")
    writing = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    fspath, abspath, isdir = os.fspath, os.path.abspath, os.path.isdir

    def hook(event, args):
        if event != "open":
            return
        path, mode, flags = args
        if path is None or isinstance(path, int):
            return
        try:
            name = abspath(fspath(path))
            if isinstance(name, bytes):
                name = os.fsdecode(name)
        except Exception:
            return
        if name.startswith(system) or name.startswith(skip_prefix) or name.endswith(".pyc"):
            return
        if "ipykernel_" in name or ("kernel-" in name and name.endswith(".json")):
            return
        if name.endswith(code_suffix) and name.startswith(code_prefix):
            return
        if mode:
            wrote = any(ch in mode for ch in "wax+")
        else:
            wrote = bool((flags or 0) & writing)
        entry = log.get(name)
        if entry is None:
            if isdir(name):
                return
            log[name] = ["output" if wrote else "input", wrote]
        elif wrote:
            entry[1] = True

    sys.addaudithook(hook)
    return log

_mlnb_check_io = _mlnb_check_audit()
del _mlnb_check_audit
"""

_REPORT = r"""
def _mlnb_check_report(log):
    import hashlib, json, os
    from IPython.display import display
    cwd = os.getcwd()
    files = []
    for name, (first, wrote) in list(log.items()):
        digest = None
        try:
            h = hashlib.sha256()
            with open(name, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            digest = h.hexdigest()
        except OSError:
            pass
        shown = os.path.relpath(name, cwd) if name.startswith(cwd + os.sep) else name
        files.append({"path": shown, "first": first, "wrote": wrote, "sha256": digest})
    display({"%s": json.dumps(files)}, raw=True)

_mlnb_check_report(_mlnb_check_io)
del _mlnb_check_report
"""


def install_code() -> str:
    """The code that installs the audit hook in a fresh kernel."""
    return _INSTALL


def report_code() -> str:
    """The code that hashes the files seen and shows them as one :data:`MIME` output."""
    return _REPORT % MIME


def file_accesses(
    outputs: Iterable[Mapping[str, Any]],
    declared_inputs: Sequence[str] = (),
    declared_outputs: Sequence[str] = (),
) -> list[FileAccess]:
    """The files from the report cell's outputs, inputs first, each marked declared or not."""
    import json

    raw: list[dict[str, Any]] = []
    for output in outputs:
        data = output.get("data", {})
        if MIME in data:
            text = data[MIME]
            raw = json.loads("".join(text) if isinstance(text, list) else text)
    ins = {os.path.normpath(p) for p in declared_inputs}
    outs = {os.path.normpath(p) for p in declared_outputs}
    files: list[FileAccess] = []
    for entry in raw:
        path = str(entry["path"])
        role = "input" if entry["first"] == "input" else "output"
        declared = os.path.normpath(path) in (ins if role == "input" else outs)
        files.append(FileAccess(path, role, entry.get("sha256"), declared))
        if role == "input" and entry.get("wrote"):  # read, then overwritten: both
            files.append(
                FileAccess(path, "output", entry.get("sha256"), os.path.normpath(path) in outs)
            )
    return sorted(files, key=lambda f: (f.role != "input", f.path))
