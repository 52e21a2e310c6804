"""Unbounded answers (issue 9, item 5): a metric request whose answer (groups x periods x
metrics) would be too large is refused with a 400 before any query runs, and every
metric/dimension combination, custom metrics too, is checked before any work.

The estimate the tests expect is computed here from the raw rows in Python (distinct
values per dimension, hours between the first ticket and the last event), not by the code
under test.
"""

from __future__ import annotations

import math
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cxmetrics
from cxmetrics._demo_run import write_config_files
from cxmetrics.demo import DemoConfig, generate
from cxmetrics.metrics import _custom, _query
from cxmetrics.metrics._registry import registry
from cxmetrics.metrics._spec import Kind

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from cxmetrics.api import create_app
from cxmetrics.api.auth import create_key

ORDER = ("agents", "customers", "tickets", "events", "surveys", "survey_sends", "activity", "funnel", "costs",
         "annotations")
ISSUE_REQUEST = "/api/v1/metrics?metrics=backlog&by=assignee,channel,topic&grain=hour"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A year of the demo (2,000 tickets, 150 assignees)."""
    path = tmp_path_factory.mktemp("answer-size") / "ws"
    with cxmetrics.Workspace(path) as ws:  # a new workspace (open() would want create=True)
        write_config_files(ws, DemoConfig(tickets=2000, seed=7))
        for batch in generate(DemoConfig(tickets=2000, seed=7)):
            for name in ORDER:
                if name in batch and batch[name].num_rows:
                    ws.import_table(name, batch[name], source="demo", label=f"demo:{name}", canonical=True)
        ws.refresh()
    return path


@pytest.fixture
def ws(demo: Path, tmp_path: Path) -> Iterator[cxmetrics.Workspace]:
    shutil.copytree(demo, tmp_path / "ws")
    with cxmetrics.open(tmp_path / "ws") as workspace:
        yield workspace


@pytest.fixture(scope="module")
def client(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    dst = tmp_path_factory.mktemp("answer-size-api") / "ws"
    shutil.copytree(demo, dst)
    app = create_app(dst)
    _, viewer = create_key(app.state.workspace, "viewer", "viewer")
    with TestClient(app) as c:
        yield c, viewer


def _by_hand(ws: cxmetrics.Workspace) -> tuple[int, int]:
    """(assignee x channel x topic groups, hours from the first ticket to the last event),
    from the rows themselves (a missing value is a group of its own)."""
    facts = ws.sql("SELECT assignee_id, channel, topic, created_at, last_event_at FROM ticket_facts").to_pylist()
    groups = math.prod(len({r[c] for r in facts}) for c in ("assignee_id", "channel", "topic"))
    first = min(r["created_at"] for r in facts)
    last = max(r["last_event_at"] for r in facts)
    return groups, math.ceil((last - first).total_seconds() / 3600)


def _no_metric_query(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record any metric query (compiled or custom) that runs."""
    ran: list[str] = []
    records, custom = _query._records, _custom.run_custom

    def spy_records(*args: Any, **kwargs: Any) -> Any:
        ran.append("query")
        return records(*args, **kwargs)

    def spy_custom(*args: Any, **kwargs: Any) -> Any:
        ran.append("custom")
        return custom(*args, **kwargs)

    monkeypatch.setattr(_query, "_records", spy_records)
    monkeypatch.setattr(_query, "run_custom", spy_custom)
    return ran


def test_the_issues_request_is_refused_with_the_estimate_the_limit_and_how_to_narrow(
        client: tuple[TestClient, str], demo: Path) -> None:
    c, viewer = client
    r = c.get(ISSUE_REQUEST, headers={"Authorization": f"Bearer {viewer}"})
    assert r.status_code == 400, r.text[:500]
    err = r.json()["error"]
    assert err["code"] == "answer_too_large"
    with cxmetrics.open(demo, read_only=True) as ws:
        groups, hours = _by_hand(ws)
    assert groups > 1000 and hours > 8000  # the demo's year: 150 assignees, 6 channels, 9 topics
    assert err["details"] == {"estimate": groups * hours, "limit": 1_000_000, "setting": "max_answer_cells"}
    message = err["message"]
    assert f"{groups * hours:,}" in message and "1,000,000" in message
    for hint in ("coarser grain", "fewer dimensions", "shorter period", "filter"):
        assert hint in message, message


def test_the_60_metric_variant_is_refused_too(client: tuple[TestClient, str]) -> None:
    c, viewer = client
    # metrics that can be cut by assignee (review metrics refuse ticket dimensions, with a 400 of their own)
    plain = [s for s in registry() if s.kind is not Kind.CUSTOM and s.source != "reviews"]
    names = ([s.id for s in plain] + [f"{s.id}_p90" for s in plain if s.kind is Kind.DURATION])[:60]
    assert len(names) == 60
    r = c.get(f"/api/v1/metrics?metrics={','.join(names)}&by=assignee,channel,topic&grain=hour",
              headers={"Authorization": f"Bearer {viewer}"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "answer_too_large", r.text[:500]
    assert r.json()["error"]["details"]["estimate"] > 60 * 1_000_000


def test_refusal_comes_before_any_metric_query(ws: cxmetrics.Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ran = _no_metric_query(monkeypatch)
    with pytest.raises(cxmetrics.AnswerTooLargeError) as info:
        ws.metrics(["backlog", "csat"], by=["assignee", "channel", "topic"], grain="hour")
    assert ran == []
    groups, hours = _by_hand(ws)
    assert info.value.estimate == groups * hours * 2 and info.value.limit == 1_000_000


def test_dashboard_sized_requests_pass(ws: cxmetrics.Workspace) -> None:
    # the trends page (a metric by assignee, daily, over the year) and the overview's weekly sparklines
    daily = ws.metrics(["csat"], by=["assignee"], grain="day", start="2025-11-01", end="2026-11-01")
    assert len(daily) > 100
    weekly = ws.metrics(["csat", "frt", "fcr", "tickets"], grain="week", start="2025-11-01", end="2026-11-01")
    assert {r["metric"] for r in weekly.to_pylist()} == {"csat", "frt", "fcr", "tickets"}


def test_a_filter_or_a_coarser_grain_brings_the_same_question_under_the_limit(ws: cxmetrics.Workspace) -> None:
    two = [r["assignee_id"] for r in ws.sql(
        "SELECT assignee_id FROM ticket_facts WHERE assignee_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 2"
    ).to_pylist()]
    rows = ws.metrics(["tickets"], by=["assignee", "channel", "topic"], grain="day",
                      where={"assignee": two, "channel": ["email"]}).to_pylist()
    assert rows and {r["assignee"] for r in rows} <= set(two) and {r["channel"] for r in rows} == {"email"}
    by_month = ws.metrics(["tickets"], by=["assignee", "channel"], grain="month").to_pylist()
    # every created ticket counted once
    assert sum(r["value"] for r in by_month) == ws.sql(
        "SELECT count(*) AS n FROM ticket_facts WHERE NOT excluded").to_pylist()[0]["n"]


def test_the_limit_is_a_setting_and_the_library_user_can_lift_it(ws: cxmetrics.Workspace) -> None:
    channels = len({r["channel"] for r in ws.sql("SELECT channel FROM ticket_facts").to_pylist()})
    # channels x 2 metrics cells
    with pytest.raises(cxmetrics.AnswerTooLargeError):
        ws.metrics(["csat", "frt"], by=["channel"], max_cells=2 * channels - 1)
    assert len(ws.metrics(["csat", "frt"], by=["channel"], max_cells=2 * channels)) <= 2 * channels
    ws.configure(max_answer_cells=str(channels))
    with pytest.raises(cxmetrics.AnswerTooLargeError, match="max_answer_cells"):
        ws.metrics(["csat", "frt"], by=["channel"])
    assert len(ws.metrics(["csat", "frt"], by=["channel"], max_cells=None)) > 0
    with pytest.raises(cxmetrics.SettingsError, match="max_answer_cells"):
        ws.configure(max_answer_cells="lots")


def test_a_custom_metric_is_checked_before_the_others_run(ws: cxmetrics.Workspace,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ran = _no_metric_query(monkeypatch)
    # backlog (custom) cannot be cut by hour of day; csat (compiled) can and would run first
    with pytest.raises(cxmetrics.UserError, match="backlog cannot be grouped or filtered by 'hour_of_day'"):
        ws.metrics(["csat", "backlog"], by=["hour_of_day"])
    assert ran == []


def test_a_custom_metric_with_a_dimension_its_rows_lack_is_a_400(client: tuple[TestClient, str]) -> None:
    c, viewer = client
    # avg_response_time runs over reply intervals, which have no customer segment
    r = c.get("/api/v1/metrics?metrics=avg_response_time&by=segment", headers={"Authorization": f"Bearer {viewer}"})
    assert r.status_code == 400, r.text[:500]
    assert "segment" in r.json()["error"]["message"] and "avg_response_time" in r.json()["error"]["message"]
