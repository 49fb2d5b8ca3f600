"""Provenance captured for every run without being asked.

Recorded in the run's ``provenance`` (and the git diff as an artifact):

* ``seed``: what :mod:`mlnb.seed` pinned (seed, source, libraries, determinism flags);
* ``git``: commit, branch, dirty flag, untracked files; the uncommitted diff is
  stored as the artifact ``git.diff``;
* ``notebook``: the notebook's path and how it was found (``MLNB_NOTEBOOK``,
  VS Code's ``__vsc_ipynb_file__``, papermill's ``PAPERMILL_INPUT_PATH``, the
  ``JPY_SESSION_NAME`` Jupyter sets, or Jupyter's session API);
* ``papermill``: the parameters papermill injected, when run as a pipeline step;
* ``python`` and ``packages``: interpreter and key package versions;
* ``host``: host name, platform, CPUs, memory, pid, argv, working folder;
* ``gpus``: GPU names, memory and driver (NVML), an empty list without GPUs.

Each part is collected on its own: one that fails is recorded as
``{"error": "..."}`` and the others still are.

Environment variables:
    MLNB_NOTEBOOK: the notebook path to record (set by pipelines that know it).
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import platform
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb import config
from mlnb.nvml import NvmlReader

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

ENV_NOTEBOOK = config.NOTEBOOK.env
KEY_PACKAGES = (
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "torch",
    "torchvision",
    "tensorflow",
    "jax",
    "transformers",
    "lightning",
    "xgboost",
    "lightgbm",
    "ipykernel",
    "mlnb",
)
GIT_TIMEOUT = 10.0
MAX_DIFF_BYTES = 5 * 1024 * 1024


def capture(run: Any) -> dict[str, Any]:
    """Collect every provenance part for ``run``, store it, and return it."""
    shell = _shell()
    notebook = _part(lambda: notebook_path(shell))
    parts: dict[str, Any] = {
        "seed": _part(seed_state),
        "notebook": notebook,
        "papermill": _part(lambda: papermill_parameters(shell)),
        "python": _part(python_info),
        "packages": _part(package_versions),
        "host": _part(host_info),
        "gpus": _part(gpu_info),
    }
    folder = Path(notebook["path"]).parent if notebook and notebook.get("path") else Path.cwd()
    parts["git"] = _part(lambda: git_state(folder, run))
    run.provenance = parts
    run.store.append(run.id, provenance=parts)
    return parts


def gpu_info() -> list[dict[str, Any]]:
    """GPU names, memory and driver version through :mod:`mlnb.nvml`; ``[]`` without NVIDIA GPUs."""
    try:
        nv = NvmlReader()
    except Exception:  # no NVML library, no driver or no device: no NVIDIA GPU to report
        return []
    driver = nv.driver_version()
    gpus = []
    for index in range(nv.count):
        handle = nv.handle(index)
        total, _, _ = nv.memory(handle)
        gpus.append(
            {
                "index": index,
                "name": nv.name(handle) or f"GPU {index}",
                "memory_total_bytes": total,
                "driver": driver,
            }
        )
    return gpus


def _part(collect: Callable[[], Any]) -> Any:
    try:
        return collect()
    except Exception as exc:  # one missing part must not lose the others
        return {"error": f"{type(exc).__name__}: {exc}"}


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    return get_ipython()


def seed_state() -> dict[str, Any]:
    """What :mod:`mlnb.seed` has pinned in this process (``seed`` None if nothing)."""
    from mlnb import seed

    status = seed.status()
    record = seed.last_pin()
    if record is not None:
        status["environment"] = dict(record.environment)
    return json.loads(json.dumps(status, default=repr))


def git_state(folder: Path, run: Any = None) -> dict[str, Any]:
    """Commit, branch and dirty state of the git work tree holding ``folder``.

    With a ``run``, the uncommitted diff (``git diff HEAD``) is stored as its
    artifact ``git.diff`` (truncated at 5 MiB, which is then recorded).
    """

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(git_reason(done.stderr))
        return done.stdout

    try:
        commit = git("rev-parse", "HEAD").strip()
    except FileNotFoundError:
        return {"available": False, "reason": "git is not installed"}
    except RuntimeError as exc:
        return {"available": False, "reason": str(exc)}
    status = git("status", "--porcelain", "--untracked-files=normal").splitlines()
    untracked = [line[3:] for line in status if line.startswith("??")]
    info: dict[str, Any] = {
        "available": True,
        "commit": commit,
        "branch": git("rev-parse", "--abbrev-ref", "HEAD").strip(),
        "root": git("rev-parse", "--show-toplevel").strip(),
        "dirty": any(not line.startswith("??") for line in status),
        "untracked": untracked[:200],
    }
    diff = git("diff", "HEAD")
    if diff and run is not None:
        data = diff.encode("utf-8", "replace")
        truncated = len(data) > MAX_DIFF_BYTES
        text = data[:MAX_DIFF_BYTES].decode("utf-8", "ignore")
        run.log_text(
            "git.diff", text, kind="git-diff", meta={"commit": commit, "truncated": truncated}
        )
        info["diff_artifact"] = "git.diff"
        info["diff_truncated"] = truncated
    return info


#: git's messages (lower case) → the reason recorded and shown for a run without git state
_GIT_REASONS = (
    ("not a git repository", "not a git repository"),
    ("ambiguous argument 'head'", "a git repository with no commits yet"),
    ("unknown revision", "a git repository with no commits yet"),
    ("dubious ownership", "git refuses this folder: it belongs to another user"),
)


def git_reason(stderr: str) -> str:
    """Why git gave no state, in a few plain words (not git's ``fatal: ...`` line).

    Also cleans reasons recorded by older mlnb versions, which kept git's own line.
    """
    lowered = stderr.lower()
    for needle, reason in _GIT_REASONS:
        if needle in lowered:
            return reason
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    if not lines:
        return "git failed"
    return lines[-1].removeprefix("fatal: ").removeprefix("error: ")


def notebook_path(shell: InteractiveShell | None = None) -> dict[str, Any] | None:
    """The running notebook's path and where it came from, or None outside a notebook."""
    if config.notebook():
        return {"path": config.notebook(), "source": ENV_NOTEBOOK}
    user_ns = getattr(shell, "user_ns", None) or {}
    if user_ns.get("__vsc_ipynb_file__"):
        return {"path": str(user_ns["__vsc_ipynb_file__"]), "source": "vscode"}
    if user_ns.get("PAPERMILL_INPUT_PATH"):
        return {"path": str(user_ns["PAPERMILL_INPUT_PATH"]), "source": "papermill"}
    if os.environ.get("JPY_SESSION_NAME"):
        return {"path": os.environ["JPY_SESSION_NAME"], "source": "JPY_SESSION_NAME"}
    path = _jupyter_session_path()
    return {"path": path, "source": "jupyter-sessions-api"} if path else None


def _jupyter_session_path() -> str | None:
    """Ask each running Jupyter server which session owns this kernel."""
    try:
        from ipykernel.connect import get_connection_file
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:
        return None
    try:
        kernel_id = Path(get_connection_file()).stem.removeprefix("kernel-")
    except Exception:  # not running in an ipykernel
        return None
    for info_file in sorted(Path(jupyter_runtime_dir()).glob("jpserver-*.json")):
        try:
            server = json.loads(info_file.read_text())
            url = f"{server['url'].rstrip('/')}/api/sessions?token={server.get('token', '')}"
            with urllib.request.urlopen(url, timeout=1.0) as response:
                sessions = json.load(response)
        except (OSError, ValueError, KeyError):
            continue
        for session in sessions:
            if session.get("kernel", {}).get("id") == kernel_id:
                root = server.get("root_dir") or server.get("notebook_dir") or ""
                return str(Path(root) / session.get("path", "")) if root else session.get("path")
    return None


def papermill_parameters(shell: InteractiveShell | None = None) -> dict[str, Any] | None:
    """The parameters papermill injected into this kernel, read from its ``# Parameters`` cell."""
    history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None) or []
    for source in reversed(history):
        if source.lstrip().startswith("# Parameters"):
            return _literal_assignments(source)
    return None


def _literal_assignments(source: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            try:
                params[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                params[node.targets[0].id] = ast.unparse(node.value)
    return json.loads(json.dumps(params, default=repr))


def python_info() -> dict[str, Any]:
    """Interpreter version, implementation and path."""
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
    }


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str]:
    """Installed versions of the key ML packages (missing ones are left out)."""
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    if "mlnb" not in found:
        from mlnb import __version__

        found["mlnb"] = __version__
    return found


def host_info() -> dict[str, Any]:
    """Host name, OS, CPUs, memory and the process (pid, argv, working folder)."""
    import psutil

    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory_bytes": psutil.virtual_memory().total,
        "pid": os.getpid(),
        "argv": list(sys.argv),
        "cwd": os.getcwd(),
    }
