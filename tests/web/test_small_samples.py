"""Issue 10, items 3-5 on the dashboard: tiles hide a headline resting on fewer than 10
observations and say why; a change with nothing before it says "no data before"; the
Agents page ranks a normal team by the lower bound of CSAT's interval, with a minimum chosen
from the period's volume, and shows the intervals. Page data first, then the browser."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import cxmetrics
from cxmetrics.demo import DemoConfig, generate
from cxmetrics.web._agents import agents
from cxmetrics.web._data import anchor_day, overview
from cxmetrics.web._filters import Filters
from cxmetrics.web._trends import annotations, effects_of
from web._web_helpers import SCREENSHOTS, Server, serving

Z = 1.959963984540054
ORDER = ("agents", "customers", "tickets", "events", "surveys", "survey_sends", "activity", "funnel", "costs",
         "annotations")


def _wilson_low(k: int, n: int) -> float:
    p = k / n
    return 100 * (p + Z * Z / (2 * n) - Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))) / (1 + Z * Z / n)


@pytest.fixture(scope="module")
def dense_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo as busy as the default one (about 8,000 tickets a month), over two months."""
    path = tmp_path_factory.mktemp("dense-demo") / "ws"
    with cxmetrics.open(path, create=True) as ws:
        for batch in generate(DemoConfig(tickets=16_000, months=2, seed=5)):
            for name in ORDER:
                if name in batch and batch[name].num_rows:
                    ws.import_table(name, batch[name], source="demo", label=f"demo:{name}", canonical=True)
        ws.refresh()
    # a target on a KPI whose tile can be hidden: the tile must not judge it met or missed
    (path / "targets.toml").write_text("[nps]\ntarget = 30\n", encoding="utf-8")
    return path


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[cxmetrics.Workspace]:
    """Tickets in the week of 2 March 2026 only, and one NPS answer (a promoter)."""
    (tmp_path / "t.csv").write_text(
        "ticket_id,created_at,channel,first_reply_at,solved_at,csat\n"
        + "".join(f"T{i},2026-03-0{2 + i % 5}T09:00:00Z,email,2026-03-0{2 + i % 5}T09:30:00Z,"
                  f"2026-03-0{2 + i % 5}T12:00:00Z,{5 if i % 4 else 2}\n" for i in range(40)), encoding="utf-8")
    (tmp_path / "s.csv").write_text("response_id,kind,scale,score,responded_at\nR1,nps,,10,2026-03-04T10:00:00Z\n",
                                    encoding="utf-8")
    (tmp_path / "a.csv").write_text("annotation_id,ts,label,kind\nlaunch,2026-03-02T00:00:00Z,Launch,other\n",
                                    encoding="utf-8")
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("tickets", tmp_path / "t.csv")
        ws.import_file("surveys", tmp_path / "s.csv")
        ws.import_file("annotations", tmp_path / "a.csv")
        ws.refresh()
        yield ws


WEEK = Filters.parse({"from": ["2026-03-02"], "to": ["2026-03-09"]}, anchor=date(2026, 3, 9))


def test_tile_hides_a_headline_on_one_answer_and_says_why(fresh: cxmetrics.Workspace) -> None:
    tiles = {t["metric"]: t for t in overview(fresh, WEEK)["tiles"]}
    nps = tiles["nps"]
    # one promoter: NPS +100 with the score interval 100 (1 - z^2) / (1 + z^2) = -58.7 .. +100
    assert nps["n"] == 1 and nps["value"] == 100.0 and nps["hidden"] is True and nps["value_text"] == "—"
    assert nps["hidden_reason"] == "only 1 answer: a value is shown from n = 10"
    assert nps["sub_text"] == "n = 1 · 95% CI −58.7 to +100.0"  # the interval stays in view
    assert nps["small_sample"] is True and nps["change"] is None
    # 40 answers: shown, with its badge-free interval
    assert tiles["csat"]["hidden"] is False and tiles["csat"]["value_text"] == "75.0%"


def test_tile_says_no_data_before(fresh: cxmetrics.Workspace) -> None:
    tiles = {t["metric"]: t for t in overview(fresh, WEEK)["tiles"]}
    for metric in ("tickets", "csat"):
        change = tiles[metric]["change"]
        assert change["no_data"] is True and change["verdict"] == "no data before", metric
        assert change["significant"] is None and change["tone"] == "neutral"


def test_trend_effect_with_no_data_before(fresh: cxmetrics.Workspace) -> None:
    f = Filters.parse({"from": ["2026-02-01"], "to": ["2026-03-09"]}, anchor=date(2026, 3, 9))
    effect = effects_of(fresh, f, "csat", annotations(fresh, f))[0]
    assert effect["error"] == "no data before (nothing in the 28 days before it)"


def test_agents_page_ranks_a_normal_team_by_the_lower_bound(dense_path: Path) -> None:
    with cxmetrics.open(dense_path) as ws:
        f = Filters.parse({}, anchor=anchor_day(ws))  # the default view: the last 28 days
        d = agents(ws, f)
        # what a user checks: the CSAT answers each agent has in the view
        answers = {r["assignee"]: r for r in ws.metrics(["csat"], by=["assignee"], start=f.start,
                                                        end=f.end).to_pylist() if r["assignee"]}
    counts = sorted(r["n"] for r in answers.values())
    median = (counts[(len(counts) - 1) // 2] + counts[len(counts) // 2]) / 2
    assert d["min_n"] == max(5, min(30, math.ceil(median / 2)))
    ranked = [r for r in d["rows"] if r["ranked"]]
    humans = [r for r in ranked if r["type"] == "human"]
    assert len(humans) >= 20 and ranked[0]["type"] == "human"
    for r in ranked:
        a = answers[r["agent_id"]]
        k = round(a["value"] * a["n"] / 100)
        assert r["score"] == pytest.approx(_wilson_low(k, a["n"]))  # ranked on Wilson's lower bound
        csat = next(c for c in r["cells"] if c["metric"] == "csat")
        assert csat["ci"] and csat["n"] >= d["min_n"]
    scores = [r["score"] for r in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(r["rank"] == 1 + sum(s > r["score"] + 1e-9 for s in scores) for r in ranked)


# -- in the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dense_server(dense_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    import shutil

    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    path = tmp_path_factory.mktemp("dense-server") / "ws"
    shutil.copytree(dense_path, path)
    app = create_app(path, watch_alerts=False)
    _, admin = create_key(app.state.workspace, "browser admin", "admin")
    with serving(app, "cxmetrics-dense-server") as url:
        yield Server(url, admin, admin, app, path)


@pytest.fixture
def dense_page(browser: Any, dense_server: Server) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    form = {"key": dense_server.admin, "next": "/favicon.ico"}
    assert context.request.post(dense_server.url + "/login", form=form).ok
    try:
        yield context.new_page()
    finally:
        context.close()


def _small_nps_day(ws: cxmetrics.Workspace) -> date:
    """A day of the view whose NPS rests on 1 to 9 answers."""
    end = anchor_day(ws)
    for back in range(1, 60):
        day = end - timedelta(days=back)
        n = ws.metrics(["nps"], start=day, end=day + timedelta(days=1)).to_pylist()[0]["n"]
        if 1 <= n < 10:
            return day
    raise AssertionError("no day with 1-9 NPS answers in the dense demo")


def test_browser_tile_hidden_below_the_minimum(dense_page: Any, dense_server: Server) -> None:
    with dense_server.cursor() as ws:
        day = _small_nps_day(ws)
        row = ws.metrics(["nps"], start=day, end=day + timedelta(days=1)).to_pylist()[0]
    dense_page.goto(f"{dense_server.url}/?from={day}&to={day + timedelta(days=1)}")
    tile = dense_page.locator("#tile-nps")
    tile.wait_for()
    assert tile.locator(".tile-value").inner_text().strip() == "—"
    assert tile.locator(".tile-value").get_attribute("data-value") == ""
    reason = tile.locator(".tile-hidden").inner_text()
    word = "answer" if row["n"] == 1 else "answers"
    assert reason == f"only {row['n']} {word}: a value is shown from n = 10"
    assert "95% CI" in tile.locator(".tile-sub").inner_text()
    assert tile.locator(".badge.warn").inner_text().strip() == "small sample"
    # too few answers to show the value are too few to call its target met or missed
    target = tile.locator(".row.target").inner_text()
    assert "Target +30" in target and "too few to judge" in target
    assert "met" not in target and "missed" not in target
    tile.screenshot(path=str(SCREENSHOTS / "tile_hidden_below_minimum.png"))


def test_browser_agents_ranked_by_lower_bound_with_intervals(dense_page: Any, dense_server: Server) -> None:
    dense_page.goto(f"{dense_server.url}/agents")
    table = dense_page.locator("#scorecard")
    table.wait_for()
    with dense_server.cursor() as ws:
        d = agents(ws, Filters.parse({}, anchor=anchor_day(ws)))
    assert dense_page.locator("#rank-min").inner_text() == str(d["min_n"])
    assert "lower bound" in dense_page.locator("#rank-statistic").inner_text()
    first = table.locator("tbody tr").first
    cells = first.locator("td")
    assert cells.nth(0).inner_text().strip() == "1"
    assert cells.nth(1).inner_text().strip().startswith(d["rows"][0]["score_text"])
    csat_ci = next(c["ci"] for c in d["rows"][0]["cells"] if c["metric"] == "csat")
    assert first.locator(".score-sub").inner_text().strip().endswith(csat_ci)  # the interval beside the rank
    assert first.locator(".badge").first.inner_text().strip() == "human"
    # the CSAT column carries the interval the rank rests on
    assert first.locator(".sub.ci").inner_text().strip() == next(c["ci"] for c in d["rows"][0]["cells"]
                                                                 if c["metric"] == "csat")
    dense_page.screenshot(path=str(SCREENSHOTS / "agents_ranked_by_lower_bound.png"), full_page=False)
