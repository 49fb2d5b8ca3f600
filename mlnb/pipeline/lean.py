"""Keep mlnb's own processes from importing an optional module nothing in them uses.

``import nbformat`` imports jsonschema, which imports ``rfc3987_syntax`` when it is
installed (it comes with Jupyter's event schemas) to check the ``iri`` string formats —
and that module compiles 39 grammars while importing: 0.8 s on this machine when quiet,
3 s under load, in every process that reads a notebook. nbformat validates without format
checkers, so the processes mlnb starts for itself (sweep workers) and the ``mlnb`` command
(:func:`mlnb.cli.command`) mark the module as absent before nbformat loads; jsonschema then
skips those formats, as it does where the module is not installed. Kernels, and Python code
that imports mlnb as a library, are left alone.
"""

from __future__ import annotations

import sys

#: optional modules jsonschema imports for format checks that nbformat never runs
UNUSED_OPTIONAL = ("rfc3987_syntax",)


def skip_unused_optional_imports() -> list[str]:
    """Mark :data:`UNUSED_OPTIONAL` modules absent in this process, unless already imported;
    returns the names marked."""
    marked = []
    for name in UNUSED_OPTIONAL:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]  # the documented way to block an import
            marked.append(name)
    return marked
