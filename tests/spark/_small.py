"""A small demo workspace and its tables export, for the Spark tests that run commands end
to end (a catalog as the source, serving what Spark built): 600 tickets of the demo's
generator in Europe/London, with its business hours and SLA policies, facts refreshed. Built
once per run; a test that changes the export works on a copy."""

from __future__ import annotations

from pathlib import Path

import pytest

import cxmetrics
from cxmetrics._demo_run import ORDER, write_config_files
from cxmetrics.demo import DemoConfig, generate
from cxmetrics.exports._tables import export_tables

TICKETS = 600
TIMEZONE = "Europe/London"


_BUILT: list[tuple[Path, Path]] = []


def small_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(workspace, tables export) of the run's small demo."""
    if not _BUILT:
        _BUILT.append(_build(tmp_path_factory.mktemp("small-demo")))
    return _BUILT[0]


def _build(root: Path) -> tuple[Path, Path]:
    config = DemoConfig(tickets=TICKETS, seed=18, timezone=TIMEZONE)
    with cxmetrics.open(root / "ws", create=True) as ws:
        ws.configure(timezone=TIMEZONE)
        write_config_files(ws, config)  # business hours, SLA policies
        for batch in generate(config):
            for name in ORDER:
                if name in batch and batch[name].num_rows:
                    ws.import_table(name, batch[name], source="demo", label=f"demo:{name}", canonical=True)
        export_tables(ws, root / "tables")
    return root / "ws", root / "tables"
