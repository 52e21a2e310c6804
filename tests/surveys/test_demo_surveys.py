"""The demo's surveys: `cxmetrics demo` writes a surveys.toml (a CSAT after solve and a
relationship NPS) that never tries to mail anyone, and shows collection with a survey link
to the running server instead."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import cxmetrics
from cxmetrics._demo_run import ORDER, SOURCE, summary_report, survey_link_line, surveys_lines, write_config_files
from cxmetrics.demo import DemoConfig, generate
from cxmetrics.surveys._config import SurveysConfig, Trigger
from cxmetrics.surveys._sends import run

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

END = dt.datetime(2026, 12, 2, 14, 10, 27, tzinfo=dt.UTC)
CONFIG = DemoConfig(tickets=1500, seed=5, end=END)


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sv-demo") / "ws"
    with cxmetrics.open(path, create=True) as ws:
        write_config_files(ws, CONFIG)
        for batch in generate(CONFIG):
            for name in ORDER:
                if name in batch and batch[name].num_rows:
                    ws.import_table(name, batch[name], source=SOURCE, label=f"demo:{name}", canonical=True)
        ws.refresh()
    return path


@pytest.fixture
def demo(demo_path: Path, tmp_path: Path) -> Iterator[cxmetrics.Workspace]:
    """A copy per test (the tests write sends)."""
    import shutil

    copy = tmp_path / "ws"
    shutil.copytree(demo_path, copy)
    with cxmetrics.open(copy) as ws:
        yield ws


def test_the_demo_writes_a_csat_after_solve_and_a_relationship_nps(demo_path: Path) -> None:
    config = SurveysConfig.load(demo_path)
    by_name = {s.name: s for s in config.surveys}
    assert set(by_name) == {"csat_after_solve", "nps_quarterly"}
    csat, nps = by_name["csat_after_solve"], by_name["nps_quarterly"]
    assert (csat.kind, csat.scale, csat.trigger, csat.delay_s, csat.reminder_s) == (
        "csat", "1-5", Trigger.SOLVED, 3600.0, 3 * 86400.0)
    assert (nps.kind, nps.scale, nps.trigger, nps.every_s, nps.segment) == (
        "nps", "0-10", Trigger.RELATIONSHIP, 90 * 86400.0, {"tier": ("enterprise",)})
    assert config.email is None  # no SMTP server: the demo mails nobody


def test_a_users_own_surveys_toml_is_never_overwritten(tmp_path: Path) -> None:
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        own = '[[surveys]]\nname = "mine"\nkind = "ces"\n'
        (ws.path / "surveys.toml").write_text(own, encoding="utf-8")
        written = write_config_files(ws, CONFIG)
        assert "surveys.toml" not in written
        assert (ws.path / "surveys.toml").read_text(encoding="utf-8") == own


def test_the_demos_surveys_plan_no_mail(demo: cxmetrics.Workspace) -> None:
    """Every send the rules would make has no address (the demo's customers have no e-mail
    and their ids are not addresses), so no e-mail is planned and no SMTP server is asked:
    without an [email] table a due e-mail would be an error, and none is."""
    enterprise = demo.sql("SELECT count(*) AS n FROM customers WHERE source = 'demo' AND tier = 'enterprise' "
                          "AND (churned_at IS NULL OR churned_at > ?)", [END]).to_pylist()[0]["n"]
    assert enterprise > 0
    first = run(demo, now=END)  # the first sight of the definitions: older solves are not surveyed
    later = run(demo, now=END + dt.timedelta(hours=2))  # the last hour's solves are due now
    for report in (first, later):
        assert report.planned == report.delivered == report.failed == 0, report.to_dict()
    # the NPS asks every enterprise customer still a customer in its first cycle: none has an address
    assert later.skipped.get("no_address", 0) >= enterprise
    counts = demo.sql("SELECT (SELECT count(*) FROM survey_requests) AS requests, "
                      "(SELECT count(*) FROM survey_deliveries) AS deliveries").to_pylist()[0]
    assert counts == {"requests": 0, "deliveries": 0}


def test_the_served_demo_offers_a_survey_link_that_opens_with_the_top_score(demo: cxmetrics.Workspace) -> None:
    from cxmetrics.api import create_app

    url = "http://127.0.0.1:8765/"
    line = survey_link_line(demo, url)
    assert line is not None
    link = re.search(r"http://127\.0\.0\.1:8765/s/\S+", line)
    assert link is not None, line
    ticket = re.search(r"ticket (\S+),", line)
    assert ticket is not None and link.group(0).endswith("?score=5")
    # the latest solved demo ticket without an answer, by hand
    expected = demo.sql(
        "SELECT ticket_id FROM ticket_facts f WHERE source = 'demo' AND status IN ('solved', 'closed') "
        "AND NOT excluded AND NOT coalesce(bot_contained, false) AND ticket_id NOT IN "
        "(SELECT ticket_id FROM surveys WHERE source = 'demo' AND ticket_id IS NOT NULL) "
        "ORDER BY last_solved_at DESC, ticket_id LIMIT 1").to_pylist()[0]["ticket_id"]
    assert ticket.group(1) == expected
    # a link send: in survey_sends at once, nothing to mail; made once however often the demo serves
    assert survey_link_line(demo, url) is not None
    sends = demo.sql("SELECT ticket_id, survey, delivery, kind FROM survey_sends WHERE source = 'demo' "
                     "AND delivery IS NOT NULL").to_pylist()
    assert sends == [{"ticket_id": expected, "survey": "csat_after_solve", "delivery": "link", "kind": "csat"}]
    assert demo.sql("SELECT count(*) AS n FROM survey_deliveries").to_pylist()[0]["n"] == 0
    path = demo.path
    demo.close()
    # the page opens with 5 selected and records nothing until the customer confirms
    with TestClient(create_app(path, watch_alerts=False, sync_connectors=False)) as client:
        r = client.get(urlsplit(link.group(0)).path + "?score=5")
        assert r.status_code == 200
        checked = re.findall(r'<input type="radio" name="score" value="(\d+)"[^>]*\bchecked\b', r.text)
        assert checked == ["5"]
        with client.app.state.workspace.cursor(auto_refresh=False) as ws:  # type: ignore[attr-defined]
            n = ws.sql("SELECT count(*) AS n FROM surveys WHERE origin = 'collected'").to_pylist()[0]["n"]
        assert n == 0


def test_the_summary_says_what_is_defined_and_that_nothing_is_mailed(demo: cxmetrics.Workspace) -> None:
    [line] = surveys_lines(demo)
    assert "csat_after_solve (csat 1-5, 1h after a solve)" in line
    assert "nps_quarterly (nps 0-10, every 90d to tier enterprise customers)" in line
    assert "nothing is mailed (no [email] table)" in line
    assert line in summary_report(demo, CONFIG, 1.0, 0)


def test_a_broken_surveys_toml_is_reported_and_the_demo_serves_all_the_same(demo: cxmetrics.Workspace) -> None:
    (demo.path / "surveys.toml").write_text('[[surveys]]\nname = "csat"\nkind = "csat"\ndelya = "1h"\n',
                                            encoding="utf-8")
    line = survey_link_line(demo, "http://127.0.0.1:8765/")
    assert line is not None and line.startswith("Surveys: ") and "unknown key 'delya'" in line
    assert "Did you mean 'delay'?" in line
    [summary] = surveys_lines(demo)
    assert "unknown key 'delya'" in summary
