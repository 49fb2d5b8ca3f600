"""The store-damage matrix: every kind of damage × every entry point that reads or writes runs.

Each cell asserts what the user sees — the runs, or ONE sentence (``mlnb: ...`` and exit 2
from the CLI, a ``UsageError`` from ``%runs``, an ``MlnbError`` from the library, a JSON
``message`` and never a 500 from the server) — and that the store's files are byte for byte
what they were whenever the entry point only reads, or refused to write.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
import tornado.httpclient

from tests.faults.conftest import DAMAGES, Damaged
from tests.helpers import file_states

pytestmark = pytest.mark.filterwarnings("ignore::mlnb.exceptions.MlnbWarning")

NOT_READABLE = r"runs\.db is not a readable run store \(.+\); mlnb left it untouched — move it aside or set MLNB_HOME to another folder\."
MALFORMED = r"runs\.db is not a readable run store \(database disk image is malformed\); mlnb left it untouched"
DAMAGED = r"the run store .*runs\.db is damaged \(table {}\); mlnb left it untouched"
LOCKED_READ = r"the run store .*runs\.db is locked by another process \(it held the store for more than 0\.2 s\); nothing was read or changed — try again when that process is done\."
LOCKED_WRITE = r"the run store .*runs\.db stayed locked by another process for 0\.3 s — nothing was lost in memory"
READ_ONLY = r"the run store folder .* is read-only — set MLNB_HOME to a writable folder; nothing was written"
NO_RUN = r"no run '[0-9a-f]{12}' in the run store at .* — `mlnb runs ls` lists the runs\."

OK = "ok"
READERS = ("ls", "show", "compare", "export", "%runs", "table")
WRITERS = ("rm", "start")
ENTRIES = READERS + WRITERS


def everywhere(expected: str, **overrides: str) -> dict[str, str]:
    table = dict.fromkeys(ENTRIES, expected)
    table.update({k.replace("pct_", "%"): v for k, v in overrides.items()})
    return table


#: damage → entry point → "ok" or the regex the one sentence must match
EXPECTED: dict[str, dict[str, str]] = {
    "truncated": everywhere(MALFORMED),
    "zero-length": everywhere(OK, show=NO_RUN, compare=NO_RUN, rm=NO_RUN),
    "garbage": everywhere(NOT_READABLE.replace(r"\(.+\)", r"\(file is not a database\)")),
    "damaged pages": everywhere(MALFORMED),
    "garbage WAL": everywhere(OK),
    "newer schema": everywhere(
        r"the run store .*runs\.db has schema version 99, newer than this mlnb understands \(\d+\) — upgrade mlnb to read it\."
    ),
    "dropped table": everywhere(DAMAGED.format("metric_chunks is missing")),
    "dropped column": everywhere(DAMAGED.format("runs lacks column summary")),
    "bad JSON row": everywhere(OK),
    "bad metric blob": everywhere(OK),
    "directory instead of file": everywhere(
        r"runs\.db is a folder, not a run store file; mlnb left it untouched — move it aside or set MLNB_HOME to another folder\."
    ),
    "foreign SQLite file": everywhere(
        r"runs\.db is a SQLite file but not an mlnb run store; mlnb left it untouched — move it aside or set MLNB_HOME to another folder\."
    ),
    "read-only folder": everywhere(OK, rm=READ_ONLY, start=READ_ONLY),
    "MLNB_HOME a file": everywhere(
        r"MLNB_HOME points at .*not-a-folder\.txt, which is a file, not a folder — set MLNB_HOME to a folder for the run store\."
    ),
    "locked by another process": everywhere(LOCKED_READ, rm=LOCKED_READ, start=LOCKED_WRITE),
}
assert set(EXPECTED) == set(DAMAGES)


@dataclass
class Outcome:
    kind: str  # "ok", "sentence" or "traceback"
    text: str  # the sentence, or what was shown / raised


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Outcome:
    from mlnb.cli import main

    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    except BaseException as exc:  # what the matrix is looking for
        return Outcome("traceback", f"{type(exc).__name__}: {exc}")
    out, err = capsys.readouterr()
    if code == 0:
        return Outcome("ok", out)
    lines = err.strip().splitlines()
    if code == 2 and len(lines) == 1 and lines[0].startswith("mlnb: "):
        return Outcome("sentence", lines[0].removeprefix("mlnb: "))
    return Outcome("traceback", f"exit {code}: {err}")


def _library(fn) -> Outcome:
    from IPython.core.error import UsageError

    from mlnb.exceptions import MlnbError

    try:
        result = fn()
    except (MlnbError, UsageError) as exc:
        return Outcome("sentence", str(exc))
    except BaseException as exc:
        return Outcome("traceback", f"{type(exc).__name__}: {exc}")
    return Outcome("ok", str(result))


def run_entry(entry: str, d: Damaged, tmp_path, capsys, shell) -> Outcome:
    alpha, beta = d.ids
    if entry == "ls":
        return _cli(["runs", "ls"], capsys)
    if entry == "show":
        return _cli(["runs", "show", alpha], capsys)
    if entry == "compare":
        return _cli(["runs", "compare", alpha, beta], capsys)
    if entry == "rm":
        return _cli(["runs", "rm", alpha], capsys)
    if entry == "export":
        return _cli(["runs", "export", "--to", "tensorboard", str(tmp_path / "tb")], capsys)
    if entry == "%runs":
        outcome = _library(lambda: shell.run_line_magic("runs", ""))
        if outcome.kind == "ok":
            outcome.text = capsys.readouterr().out
        return outcome
    if entry == "table":
        import mlnb.runs

        return _library(lambda: mlnb.runs.table().to_string())
    if entry == "start":
        import mlnb.runs

        def start() -> str:
            run = mlnb.runs.start("probe", system_interval=None, active=False)
            run.log({"x": 1.0})
            return run.finish().status

        return _library(start)
    raise AssertionError(entry)


def check(outcome: Outcome, expected: str, where: str) -> None:
    assert outcome.kind != "traceback", f"{where}: a traceback: {outcome.text}"
    if expected == OK:
        assert outcome.kind == "ok", f"{where}: expected it to work, got: {outcome.text}"
        return
    assert outcome.kind == "sentence", f"{where}: expected one sentence, it worked: {outcome.text}"
    assert "\n" not in outcome.text and "Traceback" not in outcome.text, where
    assert re.search(expected, outcome.text), f"{where}: {outcome.text!r} !~ {expected!r}"


@pytest.mark.parametrize("damaged", list(DAMAGES), indirect=True)
@pytest.mark.parametrize("entry", ENTRIES)
def test_entry_point_on_a_damaged_store(damaged, entry, tmp_path, capsys, request):
    expected = EXPECTED[damaged.name][entry]
    shell = request.getfixturevalue("shell") if entry == "%runs" else None
    before = file_states(damaged.home)
    outcome = run_entry(entry, damaged, tmp_path, capsys, shell)
    check(outcome, expected, f"{damaged.name} × {entry}")
    changes = entry in WRITERS and outcome.kind == "ok"
    if not changes:
        assert file_states(damaged.home) == before, f"{damaged.name} × {entry} changed the store"
    if outcome.kind == "ok" and entry in ("ls", "%runs", "table") and damaged.name != "zero-length":
        assert "alpha" in outcome.text and "beta" in outcome.text  # every intact run still listed


async def _fetch(jp_fetch, *path: str) -> tuple[int, dict]:
    try:
        response = await jp_fetch("mlnb", "api", *path, method="GET")
    except tornado.httpclient.HTTPClientError as exc:
        assert exc.response is not None
        return exc.code, json.loads(exc.response.body.decode())
    return response.code, json.loads(response.body.decode())


@pytest.mark.parametrize("damaged", list(DAMAGES), indirect=True)
async def test_server_on_a_damaged_store(damaged, jp_fetch):
    """List, detail and metrics: never a 500; a broken store is a 200 list with the sentence as
    ``message`` and a 503 with it for one run; an intact run still answers 200."""
    expected = EXPECTED[damaged.name]["ls"]
    before = file_states(damaged.home)
    alpha = damaged.ids[0]
    replies = {
        "list": await _fetch(jp_fetch, "runs"),
        "detail": await _fetch(jp_fetch, "runs", alpha),
        "metrics": await _fetch(jp_fetch, "runs", alpha, "metrics"),
    }
    server_errors = [route for route, (code, _) in replies.items() if code == 500]
    assert not server_errors, f"{damaged.name}: 500 from {server_errors}: {replies}"
    code, listing = replies["list"]
    assert code == 200, listing
    if expected == OK:
        names = {r["name"] for r in listing["runs"]}
        assert names == (set() if damaged.name == "zero-length" else {"alpha", "beta"}), listing
    else:
        assert listing["runs"] == [] and re.search(expected, listing["message"]), listing
    for route in ("detail", "metrics"):
        code, reply = replies[route]
        where = f"{damaged.name} × {route}"
        if expected != OK:
            assert code == 503 and re.search(expected, reply["message"]), (where, reply)
        elif damaged.name == "zero-length":
            assert code == 404 and reply["message"] == f"no run {alpha} in the store.", where
        else:
            assert code == 200, (where, reply)
    assert file_states(damaged.home) == before
