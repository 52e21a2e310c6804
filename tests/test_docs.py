"""The README documents every import kind, every column of every format, every setting
and every CLI command: a user never has to read the source."""

from __future__ import annotations

from pathlib import Path

from cxmetrics.cli import main
from cxmetrics.ingest import KINDS
from cxmetrics.settings import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_import_kind_and_column_is_documented():
    for name, kind in KINDS.items():
        assert f"`{name}`" in README, name
        for col in kind.inputs:
            assert col.name in README, (name, col.name)


def test_every_setting_is_documented():
    for s in SETTINGS:
        assert f"`{s.name}`" in README and s.default in README, s.name


def test_every_cli_command_is_documented():
    for name in main.commands:
        assert f"  {name}" in README or f"cxmetrics {name}" in README, name


def test_quickstart_has_the_two_commands_and_ci_runs_the_test_one():
    assert ".venv/bin/cxmetrics demo" in README
    assert "./scripts/test" in README
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "./scripts/test" in ci


def test_every_metric_is_documented_as_declared():
    # the README's metric table is generated from the registry: regenerate it with
    # `.venv/bin/python scripts/gen_metric_docs.py` when a declaration changes
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "gen_metric_docs.py"
    spec = importlib.util.spec_from_file_location("gen_metric_docs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.table() in README
