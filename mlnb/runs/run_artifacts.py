"""A run's files: its artifact folder, safe artifact names, copied files, text and checkpoints.

:class:`RunArtifacts` is the part of :class:`~mlnb.runs.run.Run` that stores files
beside the run (``$MLNB_HOME/artifacts/<run id>/``) and records them in the store.
Every name is checked to stay inside the run's folder (no absolute paths, no
``..``, no symbolic link leading out).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlnb.exceptions import InvalidArgumentError
from mlnb.runs.records import artifact_for_file
from mlnb.runs.store import Store


class RunArtifacts:
    """Artifact methods of a run; the run supplies ``id`` and ``store``."""

    id: str
    store: Store

    def run_dir(self) -> Path:
        """The folder for this run's artifacts (created on demand)."""
        path = self.store.artifacts_dir / self.id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def artifact_path(self, name: str) -> Path:
        """Where an artifact called ``name`` is stored: always inside :meth:`run_dir`.

        Raises:
            InvalidArgumentError: ``name`` is empty, absolute, or climbs out with ``..``.
        """
        text = os.fspath(name) if isinstance(name, (str, os.PathLike)) else None
        parts = Path(text).parts if text else ()
        if (
            not text
            or Path(text).is_absolute()
            or text.startswith(("/", "\\"))
            or ".." in parts
            or "\x00" in text
            or not parts
        ):
            raise InvalidArgumentError(
                f"artifact name {name!r} must be a relative path inside the run's folder "
                "(no leading '/', no '..'), e.g. 'plots/loss.png'."
            )
        folder = self.run_dir()
        target = folder / text
        if not target.resolve().is_relative_to(folder.resolve()):
            raise InvalidArgumentError(
                f"artifact name {name!r} leads outside the run's folder {folder} (through a "
                "symbolic link); choose another name."
            )
        return target

    def log_artifact(
        self,
        path: str | os.PathLike[str],
        name: str | None = None,
        *,
        kind: str = "file",
        meta: Mapping[str, Any] | None = None,
        move: bool = False,
    ) -> Path:
        """Copy a file into the run's artifact folder; returns where it was stored.

        Raises:
            InvalidArgumentError: ``path`` is not a file.
        """
        source = Path(path)
        if not source.is_file():
            raise InvalidArgumentError(f"log_artifact: {source} is not a file.")
        target = self.artifact_path(name or source.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.resolve() != target.resolve():
            (shutil.move if move else shutil.copy2)(source, target)
        self.store.add_artifact(
            self.id, artifact_for_file(target, name or source.name, kind, meta or {})
        )
        return target

    def log_text(
        self, name: str, text: str, *, kind: str = "file", meta: Mapping[str, Any] | None = None
    ) -> Path:
        """Store ``text`` as an artifact file named ``name`` (a relative path inside the run's folder).

        Raises:
            InvalidArgumentError: ``name`` is absolute or climbs out of the folder with ``..``.
        """
        target = self.artifact_path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        self.store.add_artifact(self.id, artifact_for_file(target, name, kind, meta or {}))
        return target

    def save_checkpoint(
        self,
        obj: Any,
        *,
        metric: str,
        value: float | None = None,
        mode: str = "min",
        keep: int = 3,
        step: int | None = None,
    ) -> Any:
        """Save ``obj`` with torch.save and keep the best ``keep`` checkpoints; see :mod:`mlnb.runs.checkpoints`."""
        from mlnb.runs import checkpoints

        return checkpoints.save_checkpoint(
            self, obj, metric=metric, value=value, mode=mode, keep=keep, step=step
        )

    def best_checkpoint(self) -> Any:
        """The best checkpoint saved so far, or None; see :mod:`mlnb.runs.checkpoints`."""
        from mlnb.runs import checkpoints

        return checkpoints.best_checkpoint(self)
