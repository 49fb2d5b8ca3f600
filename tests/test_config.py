"""Every MLNB_* setting is read in mlnb/config.py: environment first, then the IPython profile."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlnb import config
from mlnb.exceptions import SeedError
from mlnb.runs import external
from mlnb.seed import resolve_seed

ROOT = Path(__file__).resolve().parents[1]


def test_no_module_but_config_reads_an_mlnb_variable():
    readers = []
    for path in sorted((ROOT / "mlnb").rglob("*.py")):
        if path.name == "config.py" and path.parent.name == "mlnb":
            continue
        text = path.read_text()
        if re.search(
            r"environ(\.get)?\(\s*[\"']MLNB_|environ\[\s*[\"']MLNB_|getenv\(\s*[\"']MLNB_", text
        ):
            readers.append(str(path.relative_to(ROOT)))
    assert readers == []


def test_the_readme_table_lists_every_setting():
    readme = (ROOT / "README.md").read_text()
    for env, trait, default, help_text in config.table():
        row = f"| `{env}` | {f'`{trait}`' if trait else '—'} | {f'`{default}`' if default else '—'} | {help_text} |"
        assert row in readme, f"README's settings table lacks {env}"


def test_environment_wins_over_profile_and_profile_over_default(monkeypatch):
    monkeypatch.delenv("MLNB_PROJECT", raising=False)
    monkeypatch.setattr(config, "profile_values", {})
    assert config.project() == "default" and config.project("pipeline") == "pipeline"
    config.profile_values["project"] = "vision"
    assert config.project("pipeline") == "vision" and config.source(config.PROJECT) == "profile"
    monkeypatch.setenv("MLNB_PROJECT", "nlp")
    assert config.project() == "nlp" and config.source(config.PROJECT) == "MLNB_PROJECT"


def test_mlnb_project_applies_to_logged_and_externally_recorded_runs(home, monkeypatch):
    import mlnb

    monkeypatch.setenv("MLNB_PROJECT", "vision")
    with mlnb.start("by-hand", system_interval=None) as run:
        assert run.project == "vision"
    recorded = external.record("elsewhere", "finished")
    assert recorded.project == "vision"
    assert mlnb.runs.open_store().get_run(recorded.id).project == "vision"
    monkeypatch.delenv("MLNB_PROJECT")
    assert external.record("again", "finished").project == "default"


def test_seed_from_the_environment_or_the_profile_and_a_bad_one_named(monkeypatch):
    monkeypatch.setattr(config, "profile_values", {})
    monkeypatch.setenv("MLNB_SEED", "17")
    assert resolve_seed() == (17, "MLNB_SEED") and resolve_seed(3) == (3, "argument")
    monkeypatch.delenv("MLNB_SEED")
    config.profile_values["seed"] = "23"
    assert resolve_seed() == (23, "profile")
    monkeypatch.setenv("MLNB_SEED", "-4")
    with pytest.raises(SeedError, match="read from the MLNB_SEED environment variable"):
        resolve_seed()


def test_percent_config_sets_the_profile_and_unload_forgets_it(shell, monkeypatch):
    monkeypatch.delenv("MLNB_PROJECT", raising=False)
    monkeypatch.delenv("MLNB_HOME", raising=False)
    shell.run_line_magic("config", "Mlnb.project = 'vision'")
    shell.run_line_magic("config", "Mlnb.home = '/tmp/mlnb-profile-store'")
    assert config.project() == "vision" and config.home() == Path("/tmp/mlnb-profile-store")
    shell.run_line_magic("unload_ext", "mlnb")
    assert config.profile_values == {} and config.project() == "default"
    shell.run_line_magic("load_ext", "mlnb")  # the fixture unloads it again
