"""A notebook's parameters: what its ``parameters`` cell declares, and checking what is passed.

The ``parameters`` cell is parsed with :mod:`ast` (``name = literal`` and ``name: type =
literal``; IPython syntax such as ``%matplotlib`` is turned into Python first). Passed
parameters are checked against it — a name the cell does not define, a value whose type
differs from the default's, a notebook without such a cell, a cell that does not parse.
By default these are *warnings* (:class:`~mlnb.exceptions.ParameterWarning`) and the values
are injected anyway, as papermill does; ``strict=True`` (``--strict``) refuses them before a
kernel starts. One check always refuses: values must be JSON data (str, int, float, bool,
None, list, dict) — papermill would inject anything else as its ``repr``, which is code.

The command line follows papermill's conventions: ``-p name value`` (typed like papermill:
True/False/None, int, float, else the string — except where the default's type says
otherwise: a ``str`` default keeps the text, a list/dict default reads it as YAML), ``-r name
value`` (raw string), ``-y YAML``, ``-f file.yaml`` and ``-b BASE64-YAML``; YAML keeps dates as
text, as papermill's loader does.

The parts live in :mod:`~mlnb.pipeline.parameters_cell` (reading the cell),
:mod:`~mlnb.pipeline.parameters_check` (checking what is passed) and
:mod:`~mlnb.pipeline.parameters_cli` (the command-line forms); this module re-exports them.
"""

from __future__ import annotations

from mlnb.pipeline.parameters_cell import (
    PARAMETERS_TAG,
    Parameter,
    cell_tags,
    literal_assignment,
    notebook_parameters,
    parameters_cell_index,
    parse_parameters,
    python_source,
    source_text,
    syntax_error,
)
from mlnb.pipeline.parameters_check import (
    JSON_TYPES,
    PAPERMILL_PATH_NAMES,
    check_json_value,
    check_parameters,
    parameter_problems,
    warning_text,
)
from mlnb.pipeline.parameters_cli import (
    check_name,
    cli_parameters,
    resolve_cli_value,
    resolve_papermill_type,
    split_assignment,
    yaml_load,
)

__all__ = [
    "JSON_TYPES",
    "PAPERMILL_PATH_NAMES",
    "PARAMETERS_TAG",
    "Parameter",
    "cell_tags",
    "check_json_value",
    "check_name",
    "check_parameters",
    "cli_parameters",
    "literal_assignment",
    "notebook_parameters",
    "parameter_problems",
    "parameters_cell_index",
    "parse_parameters",
    "python_source",
    "resolve_cli_value",
    "resolve_papermill_type",
    "source_text",
    "split_assignment",
    "syntax_error",
    "warning_text",
    "yaml_load",
]
