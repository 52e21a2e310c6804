"""Fixtures for the scheduled-report tests.

- `demo_path`: a 3,000-ticket demo over the three months up to now (so the last complete week
  has data), with SLA policies and targets, made once per session.
- `ws_path`: a fresh copy of it for one test (the ledger is written).
- `smtp`: a real SMTP server (aiosmtpd) on a free loopback port that keeps what it receives;
  `smtp.alerts_toml()` is an alerts.toml whose e-mail destination points at it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

import cxmetrics
from cxmetrics.demo import DemoConfig, generate
from reports._reports_helpers import MailServer, free_port
from web._web_helpers import SLA_TOML

ORDER = ("agents", "customers", "tickets", "events", "surveys", "survey_sends", "activity", "funnel", "costs",
         "annotations")
TARGETS_TOML = """[fcr]
target = 40
[frt]
target = "1h"
[full_resolution_time]
target = "1d"
[sla_compliance]
target = 90
"""


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reports-demo") / "ws"
    with cxmetrics.open(path, create=True) as ws:
        for batch in generate(DemoConfig(tickets=3000, seed=7, months=3, end=datetime.now(UTC))):
            for name in ORDER:
                if name in batch and batch[name].num_rows:
                    ws.import_table(name, batch[name], source="demo", label=f"demo:{name}", canonical=True)
        ws.refresh()
    (path / "sla.toml").write_text(SLA_TOML, encoding="utf-8")
    (path / "targets.toml").write_text(TARGETS_TOML, encoding="utf-8")
    return path


@pytest.fixture
def ws_path(demo_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    shutil.copytree(demo_path, path)
    return path


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    server = MailServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        server.release()  # a stalled session must not keep the controller from stopping
        controller.stop()
