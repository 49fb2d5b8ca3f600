"""Errors of the reproducibility check (:mod:`mlnb.checking`, ``mlnb check``)."""

from __future__ import annotations

from mlnb.exceptions.base import MlnbError


class CheckError(MlnbError):
    """A notebook ``mlnb check`` cannot check (empty, another language, bad options)."""


class EmptyNotebookError(CheckError):
    """A notebook with no code to run."""

    def __init__(self, path: object) -> None:
        self.path = path
        super().__init__(f"{path} has no code cells, so there is nothing to check.")


class UnsupportedLanguageError(CheckError):
    """A notebook written for a kernel of another language than Python."""

    def __init__(self, path: object, language: str) -> None:
        self.path = path
        self.language = language
        super().__init__(
            f"{path} is a {language} notebook; mlnb check supports Python notebooks only."
        )
