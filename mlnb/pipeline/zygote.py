"""A pre-loaded process that forks one fresh kernel process per run: ``python -m mlnb.pipeline.zygote``.

Starting an IPython kernel costs most of a short notebook's time: the interpreter
imports IPython, ipykernel, zmq and tornado, then the notebook imports its libraries.
The zygote pays that once. It imports ipykernel and the modules named on its command
line (the notebook's imports, see :mod:`mlnb.pipeline.preload`), never runs user code,
and then, for each request, ``fork()``\\ s a child that becomes the kernel: the child
starts a new session, takes the request's environment, working directory and
``sys.argv``, reseeds the generators a fresh interpreter would seed from the OS, and
runs ``IPKernelApp`` on the request's connection file — the same entry point
``python -m ipykernel_launcher`` runs. Every run therefore still gets its own process
that nothing else ran in; only the imports are shared (copy-on-write).

Protocol on stdin/stdout, one JSON object per line. After loading, the zygote writes
``{"ready": true, "pid": P, "unsafe": null | "why", "unfit": [...], "threads": N}``:
``unsafe`` says why forking would not be safe (a Python thread running — fork copies
only the calling thread, so a lock it held stays held — or CUDA initialised) and
``unfit`` lists modules that printed, warned or failed while importing, or pulled in a
module that must see the running kernel (a child would not repeat the output, so it
would differ from a fresh kernel's; the parent starts a zygote without them). Native
thread pools that BLAS libraries start on import (``threads``) are allowed: they
handle ``fork`` as ``multiprocessing`` and PyTorch's DataLoader workers rely on. Then each ``{"argv": [...], "env": {...},
"cwd": "..."}`` is answered with ``{"pid": N}`` (or ``{"error": "..."}``). End of input
ends the zygote; its kernels notice (their parent is gone) and exit.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import json
import os
import signal
import sys
import warnings
from pathlib import Path
from typing import Any, TextIO

from mlnb.pipeline.preload import sensitive

#: what every kernel imports while starting; loaded before the notebook's modules
KERNEL_MODULES = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.iostream",
    "ipykernel.heartbeat",
    "ipykernel.comm",
    "ipykernel.debugger",
    "IPython.core.interactiveshell",
    "IPython.core.completer",
    "jupyter_client.session",
    "mlnb.pipeline.seeding",
    "mlnb.runs.trial",
)


def thread_count() -> int:
    """Threads in this process as the OS sees them (native ones included)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading

        return threading.active_count()


def unsafe_reason() -> str | None:
    """Why forking this process now would not give a sound kernel, or None."""
    import threading

    if threading.active_count() > 1:
        names = ", ".join(
            t.name for t in threading.enumerate() if t is not threading.current_thread()
        )
        return f"a module started Python threads while importing ({names}); fork copies only one"
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    if cuda is not None and getattr(cuda, "is_initialized", lambda: False)():
        return "CUDA was initialised while importing (a forked child cannot use it)"
    return None


def outside_folder(name: str) -> bool:
    """Whether ``name`` is installed (found, and not a file of the working directory, which
    the notebook may change between runs)."""
    try:
        spec = importlib.util.find_spec(name.split(".")[0])
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    places = [spec.origin or "", *(spec.submodule_search_locations or [])]
    here = str(Path.cwd())
    return not any(p == here or p.startswith(here + os.sep) for p in places if p)


def load(modules: list[str], judge: bool = True) -> list[str]:
    """Import ``modules`` quietly; returns those unfit to share: they printed, warned,
    failed, or pulled in a module that must see the running kernel
    (:data:`mlnb.pipeline.preload.KERNEL_SENSITIVE`). Without ``judge`` (the kernel's
    own modules, whose start-up messages no notebook shows) none is unfit."""
    unfit = []
    for name in modules:
        if name in sys.modules or (judge and not outside_folder(name)):
            continue
        sink = io.StringIO()
        before = set(sys.modules)
        with (
            warnings.catch_warnings(record=True) as caught,
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
        ):
            warnings.simplefilter("always")
            try:
                importlib.import_module(name)
            except Exception:  # the kernel reports it when the cell runs
                unfit += [name] if judge else []
                continue
        pulled = set(sys.modules) - before
        if judge and (sink.getvalue() or caught or any(sensitive(m) for m in pulled)):
            unfit.append(name)
    return unfit


def become_kernel(request: dict[str, Any], imported_env: dict[str, str]) -> None:
    """In the forked child: take the request's session, files and environment, run the kernel.

    ``imported_env`` holds the variables the zygote's imports set (a fresh kernel would
    have set them while importing the same modules)."""
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)  # a kernel's stdout goes where the zygote's stderr goes
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ.update(imported_env)
    sys.argv = list(request["argv"])
    numpy = sys.modules.get("numpy")
    if numpy is not None:  # a fresh interpreter seeds NumPy's global generator from the OS
        numpy.random.seed()
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(argv=sys.argv[1:])


def fork_kernel(request: dict[str, Any], imported_env: dict[str, str]) -> int:
    """Fork a child that becomes the kernel; returns its pid (the child never returns)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        become_kernel(request, imported_env)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # report, then leave without running the zygote loop
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def serve(requests: TextIO, replies: TextIO, modules: list[str]) -> None:
    """Load, say whether forking is safe, then fork a kernel for each request."""
    environment = dict(os.environ)
    load(list(KERNEL_MODULES), judge=False)
    unfit = load(modules)
    unsafe = unsafe_reason()
    imported_env = {k: v for k, v in os.environ.items() if environment.get(k) != v}
    # children are reaped by the OS as they exit: no zombies for liveness checks to see
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)

    def reply(message: dict[str, Any]) -> None:
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    ready = {"ready": True, "pid": os.getpid(), "unsafe": unsafe, "unfit": unfit}
    reply({**ready, "threads": thread_count(), "loaded": len(sys.modules)})
    for line in requests:
        if not line.strip():
            continue
        try:
            reply({"pid": fork_kernel(json.loads(line), imported_env)})
        except (OSError, ValueError, KeyError) as exc:
            reply({"error": f"{type(exc).__name__}: {exc}"})


def main() -> None:
    """Entry point: modules to pre-load are the arguments; the protocol runs on stdin/stdout."""
    # as ipykernel_launcher does: the working directory is not on the path while loading
    # (IPython puts it back in each kernel)
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]
    # ipykernel reads its parent's pid from the environment when it is imported: the
    # kernels' parent is this process, and they exit when it goes
    os.environ["JPY_PARENT_PID"] = str(os.getpid())
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.stdin, replies, sys.argv[1:])
    # nothing is left to flush or close: leave without tearing down every loaded module
    # (ipykernel, debugpy, the notebook's libraries), which costs a second on a busy machine
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
