"""Bad-input tables generated from the option definitions: every numeric option of the runs,
gpu and data commands and of the runs/gpu/whatif/data magics gets 0, -1, nan, inf and 2**63;
every path option gets a missing folder, a file and ``/proc/x``. Whatever the value, the answer
is the command's normal result or ONE sentence (``mlnb: ...`` exit 2, argparse's usage error,
IPython's ``UsageError``) — never a traceback.

A new sub-command or magic joins the tables by itself; one without a base invocation below
fails :func:`test_every_command_and_magic_has_a_base_invocation`.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from mlnb.cli import build_parser, main

pytestmark = pytest.mark.filterwarnings("ignore::mlnb.exceptions.MlnbWarning")

NUMBERS = ("0", "-1", "nan", "inf", str(2**63))
#: CLI arguments that name files or folders (by destination); magics mark theirs metavar PATH
CLI_PATHS = {"home", "out", "dir", "file", "reference", "current", "schema", "infer"}
COMMANDS = ("runs", "gpu", "data")

#: how to call each sub-command and magic when the option under test is left out
#: (a positional path argument is written {its dest}, so a case can swap it)
CLI_BASE: dict[tuple[str, ...], list[str]] = {
    ("runs", "ls"): ["runs", "ls"],
    ("runs", "list"): ["runs", "list"],
    ("runs", "show"): ["runs", "show", "{alpha}"],
    ("runs", "compare"): ["runs", "compare", "{alpha}", "{beta}"],
    ("runs", "rm"): ["runs", "rm", "{alpha}"],
    ("runs", "export"): ["runs", "export", "--to", "tensorboard", "{dir}"],
    ("runs", "importance"): ["runs", "importance", "--metric", "acc"],
    ("gpu",): ["gpu"],
    ("data", "profile"): ["data", "profile", "{file}"],
    ("data", "validate"): ["data", "validate", "{file}", "--infer", "{tmp}/schema.json"],
    ("data", "drift"): ["data", "drift", "{reference}", "{current}"],
}
MAGIC_BASE: dict[str, str] = {
    "run_start": "probe --no-live --system-interval 0",
    "run_stop": "",
    "runs": "",
    "run_show": "{alpha}",
    "run_compare": "{alpha} {beta}",
    "gpu": "",
    "gpu_track": "off",
    "gpu_panel": "--stop",
    "gpu_timeline": "stop",
    "oom_guard": "",
    "whatif": "clf X y",
    "profile": "df --no-widget",
    "validate": "df --infer {tmp}/schema.json",
    "drift": "df df --no-widget",
}
CELL_MAGICS = {"oom_guard"}


def _leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...], inherited: tuple = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, tuple]]:
    """(path, leaf parser, (options of the parsers above it, with where they go in argv))."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser, inherited
        return
    own = tuple((a, len(path)) for a in parser._actions if a.option_strings)
    for name, sub in subs[0].choices.items():
        yield from _leaves(sub, (*path, name), inherited + own)


def _cli_leaves() -> dict[tuple[str, ...], tuple[argparse.ArgumentParser, tuple]]:
    top = build_parser()
    commands = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    return {
        path: (parser, inherited)
        for command in COMMANDS
        for path, parser, inherited in _leaves(commands.choices[command], (command,))
    }


def _magic_parsers() -> dict[str, argparse.ArgumentParser]:
    from mlnb.magics.data import DataMagics
    from mlnb.magics.gpu import GpuMagics
    from mlnb.magics.runs import RunsMagics
    from mlnb.magics.whatif import WhatIfMagics

    found = {}
    for cls in (RunsMagics, GpuMagics, WhatIfMagics, DataMagics):
        for kind in ("line", "cell"):
            for name, method_name in cls.magics[kind].items():
                parser = getattr(getattr(cls, method_name), "parser", None)
                if parser is not None:
                    found[name] = parser
    return found


def _value_cases(actions, is_path) -> list[tuple[str | None, str, bool, int | None]]:
    """(option string or None for a positional, dest, is a path, argv index for an option of a
    parent parser) for every numeric or path argument."""
    cases = []
    for entry in actions:
        action, at = entry if isinstance(entry, tuple) else (entry, None)
        if action.dest in ("help",) or isinstance(action, argparse._SubParsersAction):
            continue
        option = action.option_strings[-1] if action.option_strings else None
        if action.type in (int, float):
            cases.append((option, action.dest, False, at))
        elif is_path(action):
            cases.append((option, action.dest, True, at))
    return cases


def _path_values(tmp: Path) -> list[str]:
    a_file = tmp / "a-file.txt"
    a_file.write_text("not what you meant\n")
    return [str(tmp / "missing-folder" / "sub" / "x.png"), str(a_file), "/proc/x"]


CLI_CASES = [
    (path, option, dest, is_path, at)
    for path, (parser, inherited) in _cli_leaves().items()
    for option, dest, is_path, at in _value_cases(
        [*parser._actions, *inherited], lambda a: a.dest in CLI_PATHS
    )
]
MAGIC_CASES = [
    (name, option, dest, is_path)
    for name, parser in _magic_parsers().items()
    for option, dest, is_path, _at in _value_cases(parser._actions, lambda a: a.metavar == "PATH")
]


def test_every_command_and_magic_has_a_base_invocation():
    assert set(_cli_leaves()) == set(CLI_BASE)
    assert set(_magic_parsers()) == set(MAGIC_BASE)
    assert len(CLI_CASES) >= 8 and len(MAGIC_CASES) >= 8  # the tables are not empty


@pytest.fixture
def world(template, tmp_path, monkeypatch) -> dict[str, str]:
    """A copy of the two-run template store as MLNB_HOME, a small CSV, names for the magics."""
    home = tmp_path / "store"
    shutil.copytree(template.folder, home)
    monkeypatch.setenv("MLNB_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    csv = tmp_path / "data.csv"
    csv.write_text("a,b,c\n" + "".join(f"{i},{i % 3},x{i % 2}\n" for i in range(40)))
    return {
        "alpha": template.ids[0],
        "beta": template.ids[1],
        "csv": str(csv),
        "tmp": str(tmp_path),
    }


def _argv(path, option, dest, at, value, world) -> list[str]:
    """The base invocation of ``path`` with the argument ``dest`` set to ``value``."""
    names = {**world, "file": world["csv"], "reference": world["csv"], "current": world["csv"]}
    names["dir"] = world["tmp"] + "/tb"
    if option is None:  # a positional: swap its placeholder
        names[dest] = value
    argv = [word.format(**names) for word in CLI_BASE[path]]
    if option is None:
        return argv
    if option in argv:  # the base already sets it: replace its value
        index = argv.index(option)
        return [*argv[: index + 1], value, *argv[index + 2 :]]
    if at is not None:  # an option of a parent parser goes before the sub-command
        return [*argv[:at], option, value, *argv[at:]]
    return [*argv, option, value]


@pytest.mark.parametrize(
    ("path", "option", "dest", "is_path", "at"), CLI_CASES, ids=lambda v: str(v)
)
def test_cli_bad_values(world, tmp_path, capsys, path, option, dest, is_path, at):
    tracebacks = []
    for value in _path_values(tmp_path) if is_path else NUMBERS:
        argv = _argv(path, option, dest, at, value, world)
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: "usage: ..." and "error: ...", exit 2
            err = capsys.readouterr().err
            assert exc.code == 2 and "error: " in err, (argv, err)
            continue
        except Exception as exc:  # the failure this table looks for
            capsys.readouterr()
            tracebacks.append(f"mlnb {' '.join(argv)}: {type(exc).__name__}: {exc}")
            continue
        err = capsys.readouterr().err
        lines = [line for line in err.strip().splitlines() if line]
        assert code in (0, 1, 2), (argv, code, err)
        if code == 2:
            assert len(lines) == 1 and lines[0].startswith("mlnb: "), (argv, err)
        assert "Traceback" not in err, (argv, err)
    assert not tracebacks, f"{len(tracebacks)} traceback(s): {tracebacks}"


@pytest.fixture
def magic_world(world, shell, fake_gpu):
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.integers(0, 3, 60).astype(float)})
    label = pd.Series((frame["a"] > 0).astype(int), name="label")
    clf = LogisticRegression().fit(frame, label)
    shell.user_ns.update(clf=clf, X=frame, y=label, df=frame.assign(c=["x", "y"] * 30), bs=8)
    yield shell
    shell.run_line_magic("gpu_panel", "--stop")
    shell.run_line_magic("gpu_track", "off")
    for name in ("clf", "X", "y", "df", "bs"):
        shell.user_ns.pop(name, None)


@pytest.mark.parametrize(("magic", "option", "dest", "is_path"), MAGIC_CASES, ids=lambda v: str(v))
def test_magic_bad_values(magic_world, world, tmp_path, magic, option, dest, is_path):
    from mlnb.runs import session

    shell = magic_world
    base = MAGIC_BASE[magic].format(**world)
    if magic == "gpu_panel":
        base = ""
    tracebacks = []
    for value in _path_values(tmp_path) if is_path else NUMBERS:
        words = base.split()
        if option in words:
            at = words.index(option)
            words[at + 1] = value
        else:
            words += [option, value]
        line = " ".join(words)
        try:
            if magic in CELL_MAGICS:
                shell.run_cell_magic(magic, line, "x = 1\n")
            else:
                shell.run_line_magic(magic, line)
        except UsageError as exc:
            assert "\n" not in str(exc).strip() or str(exc).startswith("Usage"), (line, str(exc))
        except Exception as exc:  # the failure this table looks for
            tracebacks.append(f"%{magic} {line}: {type(exc).__name__}: {exc}")
        finally:
            for run in session.live_runs():
                run.finish()
            shell.run_line_magic("gpu_panel", "--stop")
    assert not tracebacks, f"{len(tracebacks)} traceback(s): {tracebacks}"
