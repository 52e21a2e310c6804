"""Fixtures: a small demo workspace built once per session, copied for each app.

`api` is a module-scoped app over a private copy (reads and writes of one module do
not leak into another); `fresh_api` a function-scoped one for tests that write.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import cxmetrics
from cxmetrics._demo_run import write_config_files
from cxmetrics.demo import DemoConfig, generate

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from cxmetrics.api import create_app
from cxmetrics.api.auth import create_key

DEMO_TICKETS = 2000
ORDER = ("agents", "customers", "tickets", "events", "surveys", "survey_sends", "activity", "funnel", "costs",
         "annotations")


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace of 2,000 tickets with its facts refreshed (source 'demo'), and the
    demo's schedules.toml and sla.toml."""
    path = tmp_path_factory.mktemp("api-demo") / "ws"
    with cxmetrics.open(path, create=True) as ws:
        write_config_files(ws, DemoConfig(tickets=DEMO_TICKETS, seed=7))  # business hours, SLA policies
        # a write waits for another for up to a minute before its 503 (4 s by default): on a
        # loaded machine (the suite's other worker) a refresh may hold the workspace longer,
        # and what these tests check is what the writes store (tests/security checks the 503)
        ws.configure(write_wait="60")
        for batch in generate(DemoConfig(tickets=DEMO_TICKETS, seed=7)):
            for name in ORDER:
                if name in batch and batch[name].num_rows:
                    ws.import_table(name, batch[name], source="demo", label=f"demo:{name}", canonical=True)
        ws.refresh()
    return path


@dataclass
class Api:
    """A running app with a test client and an admin and a viewer key."""

    client: TestClient
    path: Path
    admin: str
    viewer: str

    @property
    def app(self):  # type: ignore[no-untyped-def]
        return self.client.app

    @property
    def ws(self) -> cxmetrics.Workspace:
        return self.client.app.state.workspace

    def h(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.admin}"}

    def get(self, url: str, token: str | None = None, **kw):  # type: ignore[no-untyped-def]
        return self.client.get(url, headers=self.h(token), **kw)

    def post(self, url: str, token: str | None = None, **kw):  # type: ignore[no-untyped-def]
        return self.client.post(url, headers=self.h(token), **kw)


def _api(src: Path, dst: Path, **kwargs: object) -> Iterator[Api]:
    shutil.copytree(src, dst)
    app = create_app(dst, **kwargs)  # type: ignore[arg-type]
    _, admin = create_key(app.state.workspace, "test admin", "admin")
    _, viewer = create_key(app.state.workspace, "test viewer", "viewer")
    with TestClient(app) as client:
        yield Api(client, dst, admin, viewer)


@pytest.fixture(scope="module")
def api(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from _api(demo_dir, tmp_path_factory.mktemp("api") / "ws")


@pytest.fixture
def fresh_api(demo_dir: Path, tmp_path: Path) -> Iterator[Api]:
    yield from _api(demo_dir, tmp_path / "ws")


def rows(ws: cxmetrics.Workspace, query: str, params: list | None = None) -> list[tuple]:
    return [tuple(r.values()) for r in ws.sql(query, params).to_pylist()]
