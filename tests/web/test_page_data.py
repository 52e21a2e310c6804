"""The data behind each page, without a browser: the library is the reference (the pages
must show exactly its numbers), plus figures checked by hand on a three-ticket workspace."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from web._web_helpers import SLA_TOML

import cxmetrics
from cxmetrics.errors import UserError
from cxmetrics.web import _format as fmt
from cxmetrics.web._agents import agents, check
from cxmetrics.web._channels import channels
from cxmetrics.web._data import TILES, anchor_day, filter_options, overview, spark_window
from cxmetrics.web._filters import Filters
from cxmetrics.web._sla import status as sla_status
from cxmetrics.web._surveys import surveys
from cxmetrics.web._tickets import drillable_choices, tickets
from cxmetrics.web._trends import trends

PLAIN = ["csat", "nps", "ces", "frt", "full_resolution_time", "fcr", "tickets", "bot_resolution_rate"]


def view(ws: cxmetrics.Workspace, **params: str) -> Filters:
    return Filters.parse({k: [v] for k, v in params.items()}, anchor=anchor_day(ws))


def tiles_by_metric(data: dict) -> dict:
    return {t["metric"]: t for t in data["tiles"]}


# -- overview --------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"channel": "email"}, {"period": "90d", "team": "Tier 1"},
                                    {"agent_type": "bot", "period": "365d"}])
def test_overview_values_are_the_librarys(demo_ws: cxmetrics.Workspace, params: dict) -> None:
    f = view(demo_ws, **params)
    data = tiles_by_metric(overview(demo_ws, f))
    ref = {r["metric"]: r for r in demo_ws.metrics(PLAIN, where=f.where, start=f.start, end=f.end).to_pylist()}
    for metric in PLAIN:
        tile, want = data[metric], ref[metric]
        assert tile["value"] == want["value"], metric
        assert tile["n"] == want["n"], metric
        # below n = 10 a rate, score or duration hides its headline (issue 10, item 3)
        hidden = want["value"] is not None and want["unit"] != "count" and want["n"] < 10
        assert tile["hidden"] is hidden, metric
        assert tile["value_text"] == ("—" if hidden else fmt.value(want["value"], want["unit"])), metric
        assert tile["href"].startswith(f"/tickets?metric={metric}&from={f.start}&to={f.end}")
    backlog = demo_ws.metrics(["backlog"], where=f.where, start=f.start, end=f.end).to_pylist()[0]
    assert data["backlog"]["value"] == backlog["value"]


def test_overview_changes_are_the_librarys_tests(demo_ws: cxmetrics.Workspace) -> None:
    f = view(demo_ws, period="90d")
    data = tiles_by_metric(overview(demo_ws, f))
    tests = {r["metric"]: r for r in demo_ws.compare(PLAIN, f.previous(), (f.start, f.end)).to_pylist()}
    for metric in ("csat", "frt", "fcr", "tickets"):
        change, test = data[metric]["change"], tests[metric]
        assert change["delta"] == pytest.approx(test["change"])
        assert change["significant"] is test["significant"]
        assert change["previous_text"] == fmt.value(test["a_value"], test["unit"])
        # good/bad follows the direction, and only a significant change gets a colour
        if not test["significant"]:
            assert change["tone"] == "neutral"


def test_sparklines_are_weekly_library_values(demo_ws: cxmetrics.Workspace) -> None:
    f = view(demo_ws)
    s0, s1 = spark_window(f)
    assert s0.weekday() == 0 and s1.weekday() == 0 and (s1 - s0).days == 84  # 12 complete ISO weeks
    data = tiles_by_metric(overview(demo_ws, f))
    weekly = demo_ws.metrics(["tickets"], start=s0, end=s1, grain="week").to_pylist()
    assert [p["value"] for p in data["tickets"]["spark_points"]] == [r["value"] for r in weekly]
    assert data["tickets"]["spark"]["path"].startswith("M")


def test_cost_tile_is_the_last_complete_month(demo_ws: cxmetrics.Workspace) -> None:
    f = view(demo_ws, period="90d")
    cost = tiles_by_metric(overview(demo_ws, f))["cost_per_resolution"]
    month_start = date(f.end.year, f.end.month, 1)
    prev = date(month_start.year - (month_start.month == 1), (month_start.month - 2) % 12 + 1, 1)
    ref = demo_ws.metrics(["cost_per_resolution"], grain="month", start=prev, end=month_start).to_pylist()
    assert cost["value"] == ref[-1]["value"]
    # costs have no channel: a channel filter says so instead of showing a wrong number
    filtered = tiles_by_metric(overview(demo_ws, view(demo_ws, channel="chat")))["cost_per_resolution"]
    assert not filtered["available"] and "Channel" in filtered["note"]


def test_hand_checked_figures_on_three_tickets(tiny: cxmetrics.Workspace) -> None:
    # the user's targets (issue 10, item 9): CSAT 80%, 90% for email
    (tiny.path / "targets.toml").write_text("[csat]\ntarget = 80\n[csat.by.channel]\nemail = 90\n", encoding="utf-8")
    f = Filters.parse({"from": ["2026-03-02"], "to": ["2026-03-09"]}, anchor=date(2026, 3, 9))
    data = tiles_by_metric(overview(tiny, f))
    # CSAT: scores 5, 4, 2 on 1-5 -> 2 of 3 in the top box = 66.7%.
    # Wilson 95% for 2/3 (z = 1.96): centre (0.6667 + 0.6403) / 2.2805 = 0.5731,
    # half-width 1.96 * sqrt(0.07407 + 0.10671) / 2.2805 = 0.3654 -> 20.8% .. 93.9%.
    # (3 answers are below the headline minimum of 10: the tile hides the value and says why)
    assert data["csat"]["value"] == pytest.approx(200 / 3) and data["csat"]["value_text"] == "—"
    assert data["csat"]["hidden_reason"] == "only 3 answers: a value is shown from n = 10"
    assert data["csat"]["n"] == 3
    assert data["csat"]["ci_text"] == "20.8–93.9%"
    assert data["csat"]["small_sample"] is True  # 3 answers < 30
    # first replies after 30 min, 1 h and 2 h: the median is 1 h
    assert data["frt"]["value"] == 3600 and data["frt"]["hidden"] is True
    # each solved 6 h after creation
    assert data["full_resolution_time"]["value"] == 6 * 3600
    assert data["tickets"]["value_text"] == "3"
    assert data["tickets"]["sub_text"] == "0.4 a day"  # 3 tickets / 7 days
    assert data["backlog"]["value_text"] == "0"
    # the week before holds nothing: no change to claim
    assert data["csat"]["change"] is None
    # CSAT's target is 80%: 66.7% misses it; FRT has none
    assert data["csat"]["target"] == {"text": "80.0%", "met": False, "scope": ""}
    assert data["frt"]["target"] is None
    email = tiles_by_metric(overview(tiny, f.with_dims(channel="email")))
    assert email["csat"]["value"] == 100.0 and email["tickets"]["value_text"] == "2"
    # filtered on email, email's own target applies: 100% meets 90%
    assert email["csat"]["target"] == {"text": "90.0%", "met": True, "scope": "channel = email"}


def test_sla_tile_says_how_to_configure(demo_ws: cxmetrics.Workspace) -> None:
    configured, why = sla_status(demo_ws)
    assert not configured and "sla.toml" in why
    tile = tiles_by_metric(overview(demo_ws, view(demo_ws)))["sla_compliance"]
    assert not tile["available"] and "not configured" in tile["note"]


def test_every_tile_is_there(demo_ws: cxmetrics.Workspace) -> None:
    data = overview(demo_ws, view(demo_ws))
    # the demo has calls and chats: their tiles follow the others (issue 11 item 4)
    assert [t["key"] for t in data["tiles"]] == [t.key for t in TILES] + ["aht", "asa", "service_level", "abandonment"]


def test_filter_options_count_tickets(demo_ws: cxmetrics.Workspace) -> None:
    options = filter_options(demo_ws)
    total = demo_ws.sql("SELECT count(*) AS n FROM ticket_facts WHERE NOT excluded").to_pylist()[0]["n"]
    assert sum(o["n"] for o in options["channel"]) == total
    assert {o["value"] for o in options["agent_type"]} <= {"human", "bot"}


# -- trends ----------------------------------------------------------------------------


def test_trend_series_are_the_librarys(demo_ws: cxmetrics.Workspace) -> None:
    f = view(demo_ws, period="365d")
    data = trends(demo_ws, f, "tickets", "channel", "month")
    lines = [t for t in data["figure"]["data"] if t.get("mode") == "lines+markers"]
    ref = demo_ws.metrics(["tickets"], by=["channel"], grain="month", start=f.start, end=f.end).to_pylist()
    assert sum(v for t in lines for v in t["y"] if v) == sum(r["value"] for r in ref)
    assert {t["name"] for t in lines} == {r["channel"] for r in ref}
    # counts have no interval: no bands
    assert not data["has_bands"] and all(t.get("fill") is None for t in data["figure"]["data"])


def test_trend_has_bands_annotations_and_effects(demo_ws: cxmetrics.Workspace) -> None:
    f = view(demo_ws, period="365d")
    data = trends(demo_ws, f, "csat")
    notes = demo_ws.sql(f"SELECT count(*) AS n FROM annotations WHERE ts >= '{f.start}' AND ts < '{f.end}'").to_pylist()
    assert len(data["figure"]["layout"]["shapes"]) == notes[0]["n"] == len(data["effects"]) > 0
    assert any(t.get("fill") == "tonexty" for t in data["figure"]["data"])  # the 95% band
    launch = next(e for e in data["effects"] if e["label"] == "Chat Assistant launched")
    ref = demo_ws.compare(["csat"], annotation="Chat Assistant launched", days=28).to_pylist()[0]
    assert launch["before"] == fmt.value(ref["a_value"], "percent")
    assert launch["after"] == fmt.value(ref["b_value"], "percent")


def test_trend_checks_its_request(demo_ws: cxmetrics.Workspace) -> None:
    f = view(demo_ws)
    with pytest.raises(UserError, match="Did you mean 'csat'"):
        trends(demo_ws, f, "csta")
    with pytest.raises(UserError, match="split dimension"):
        trends(demo_ws, f, "csat", "colour")
    with pytest.raises(UserError, match="grain"):
        trends(demo_ws, f, "csat", None, "fortnight")


# -- channels, agents, surveys, tickets --------------------------------------------------


def test_channels_match_the_library(demo_ws: cxmetrics.Workspace) -> None:
    f = view(demo_ws, period="90d")
    data = channels(demo_ws, f)
    total = demo_ws.metrics(["tickets"], start=f.start, end=f.end).to_pylist()[0]["value"]
    heat = data["heatmap"]["data"][0]["z"]
    assert sum(map(sum, heat)) == total  # every ticket in one hour-of-week cell
    frt = {r["channel"]: r for r in demo_ws.metrics(["frt"], by=["channel"], start=f.start, end=f.end).to_pylist()}
    for row in data["table"]:
        assert row["cells"][0]["text"] == fmt.value(frt[row["channel"]]["value"], "seconds")


def test_scorecard_is_the_librarys(demo_ws: cxmetrics.Workspace) -> None:
    f = view(demo_ws, period="365d")
    # min_n 10: the small demo's busiest agents have 10-20 CSAT answers (which ones moved when the
    # demo's texts got their own random stream), so several are ranked and several are not
    data = agents(demo_ws, f, min_n=10, rank_by="csat")
    ref = demo_ws.scorecard(start=f.start, end=f.end, min_n=10, rank_by="csat").to_pylist()
    assert {r["agent_id"]: r["rank"] for r in data["rows"]} == {r["agent_id"]: r["rank"] for r in ref}
    assert data["ranked"] == sum(1 for r in ref if r["rank"] is not None) > 0
    assert data["bots"] >= 1  # bots are on the same scorecard
    ranked = [r["rank"] for r in data["rows"] if r["ranked"]]
    assert ranked == sorted(ranked)
    with pytest.raises(UserError, match="min_n"):
        check("0", None)
    with pytest.raises(UserError, match="whole number"):
        check("many", None)
    with pytest.raises(UserError, match="rank_by"):
        check("30", "speed")


def test_scorecard_in_business_hours(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """?hours=business: the agents' first touch and FRT in business hours, on the page, in the
    library and in humans vs bots. Office hours Mon-Fri 09-17 UTC: Friday 16:00 -> Monday 10:00
    is 66 h on the clock and 2 business hours; Monday 10:00 -> 11:00 is 1 h both ways."""
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "schedules.toml").write_text(
        'default = "office"\n[schedules.office]\ntimezone = "UTC"\nhours = { mon-fri = "09:00-17:00" }\n',
        encoding="utf-8")
    (tmp_path / "t.csv").write_text(
        "ticket_id,created_at,channel,status,requester_id,assignee_id,first_reply_at,solved_at\n"
        "B1,2026-03-06T16:00:00Z,email,solved,C1,A1,2026-03-09T10:00:00Z,2026-03-09T12:00:00Z\n"
        "B2,2026-03-09T10:00:00Z,email,solved,C2,A1,2026-03-09T11:00:00Z,2026-03-09T12:00:00Z\n", encoding="utf-8")
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("tickets", tmp_path / "t.csv")
        span = {"start": "2026-03-01", "end": "2026-03-31"}
        (calendar,) = ws.scorecard(**span).to_pylist()
        (business,) = ws.scorecard(**span, hours="business").to_pylist()
        assert calendar["frt"] == 33.5 * 3600 and business["frt"] == 1.5 * 3600  # medians of 66 h, 1 h / 2 h, 1 h
        assert ws.scorecard(**span, hours="business").schema.metadata[b"hours"] == b"business"
        f = Filters.parse({"from": ["2026-03-01"], "to": ["2026-03-31"], "hours": ["business"]},
                          anchor=date(2026, 3, 31))
        page = agents(ws, f)
        cell = next(c for c in page["rows"][0]["cells"] if c["metric"] == "frt")
        assert cell["value"] == 1.5 * 3600 and "hours=business" in cell["href"]
        human = next(c for c in next(t for t in page["types"] if t["type"] == "human")["cells"]
                     if c["metric"] == "frt")
        assert human["value"] == 1.5 * 3600
        with pytest.raises(UserError, match="hours 'office'"):
            ws.scorecard(hours="office")


def test_survey_distributions_add_up_to_n(demo_ws: cxmetrics.Workspace) -> None:
    f = view(demo_ws, period="365d")
    data = surveys(demo_ws, f)
    ref = {r["metric"]: r for r in demo_ws.metrics(["csat", "nps", "ces", "survey_response_rate"], start=f.start,
                                                   end=f.end).to_pylist()}
    for card in data["cards"]:
        assert card["answers"] == ref[card["metric"]]["n"]
    csat_bars = next(c for c in data["cards"] if c["kind"] == "csat")["figure"]["data"][0]
    assert csat_bars["x"] == ["1", "2", "3", "4", "5"]  # the whole scale, given or not
    sent = sum(r["sent"] for r in data["rates"])
    answered = sum(r["answered"] for r in data["rates"])
    assert sent == ref["survey_response_rate"]["n"]
    assert 100 * answered / sent == pytest.approx(ref["survey_response_rate"]["value"])
    for c in data["comments"]:
        assert (c["kind"] == "csat" and c["score"] <= 2) or (c["kind"] == "nps" and c["score"] <= 6)
    assert data["comments"], "the demo has comments behind low scores"


@pytest.mark.parametrize("metric", ["csat", "frt", "tickets", "backlog", "fcr"])
def test_tickets_behind_a_number_are_its_n(demo_ws: cxmetrics.Workspace, metric: str) -> None:
    f = view(demo_ws, channel="email")
    data = tickets(demo_ws, f, metric)
    ref = demo_ws.metrics([metric], where=f.where, start=f.start, end=f.end).to_pylist()[0]
    assert data["total"] == ref["n"]
    assert len(data["rows"]) == min(50, ref["n"])
    assert data["csv_href"].startswith(f"/api/v1/tickets.csv?metric={metric}&from=")
    assert "where=channel%3Aemail" in data["csv_href"]


def test_every_metric_the_tickets_page_offers_has_rows_behind_it(demo_ws: cxmetrics.Workspace) -> None:
    f = view(demo_ws, period="7d")
    choices = drillable_choices()
    assert {"csat", "frt", "frt_p90", "backlog", "tickets", "survey_response_rate"} <= {c["id"] for c in choices}
    assert not {"crr", "cost_per_resolution", "dau"} & {c["id"] for c in choices}
    for c in choices:
        tickets(demo_ws, f, c["id"], page_size=1)  # no UserError: each has a drill-down


def test_tickets_pages_and_extra_filters(demo_ws: cxmetrics.Workspace) -> None:
    f = view(demo_ws, period="90d")
    first, second = tickets(demo_ws, f, "tickets", page=1), tickets(demo_ws, f, "tickets", page=2)
    assert first["pages"] == -(-first["total"] // 50) and second["first"] == 51
    assert {r["ticket_id"] for r in first["rows"]}.isdisjoint(r["ticket_id"] for r in second["rows"])
    monday_9 = tickets(demo_ws, f, "tickets", {"weekday": ["1"], "hour_of_day": ["9"]})
    heat = channels(demo_ws, f)["heatmap"]["data"][0]["z"]
    assert monday_9["total"] == heat[0][9]
    assert "weekday: Monday" in monday_9["filters_text"]
    with pytest.raises(UserError):
        tickets(demo_ws, f, "crr")  # customers, not tickets: nothing to list




@pytest.fixture
def sla_ws(demo_path, tmp_path):  # type: ignore[no-untyped-def]
    import shutil

    shutil.copytree(demo_path, tmp_path / "ws")
    (tmp_path / "ws" / "sla.toml").write_text(SLA_TOML, encoding="utf-8")
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        yield ws


def test_sla_page_applies_every_filter(sla_ws: cxmetrics.Workspace) -> None:
    """A filter the SLA package does not group by (topic, assignee) narrows every SLA number
    on the page and on the overview's tile to the targets of the tickets in the view."""
    from cxmetrics.web._sla import sla

    f = view(sla_ws, period="90d")
    whole = sla(sla_ws, f)  # evaluates the clocks now
    period = f"s.settled_at >= CAST('{f.start}' AS TIMESTAMPTZ) AND s.settled_at < CAST('{f.end}' AS TIMESTAMPTZ)"

    def by_hand(cond: str, group: str = "NULL") -> dict[object, tuple[int, int]]:
        rows = sla_ws.sql(f"""SELECT {group} AS g, count(*) FILTER (WHERE s.state = 'achieved') AS a, count(*) AS n
            FROM sla_targets s JOIN ticket_facts t ON t.source = s.source AND t.ticket_id = s.ticket_id
            WHERE s.state IN ('achieved', 'breached') AND {period} AND {cond} GROUP BY 1""").to_pylist()
        return {r["g"]: (r["a"], r["n"]) for r in rows}

    topic = sla_ws.sql("SELECT t.topic FROM sla_targets s JOIN ticket_facts t USING (source, ticket_id) "
                       "WHERE t.topic IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").to_pylist()[0]["topic"]
    got = sla(sla_ws, f.with_dims(topic=topic))
    a, n = by_hand(f"t.topic = '{topic}'")[None]
    assert (got["overall"]["achieved"], got["overall"]["n"]) == (a, n) and 0 < n < whole["overall"]["n"]
    per_metric = by_hand(f"t.topic = '{topic}'", "s.metric")
    assert {r["metric"]: (r["achieved"], r["n"]) for r in got["by_metric"]} == per_metric
    assert sum(r["n"] for r in got["by_team"]) == n
    # an assignee: the target's own
    agent = got["by_agent"][0]["agent"]
    mine = sla(sla_ws, f.with_dims(assignee=agent))["overall"]
    assert (mine["achieved"], mine["n"]) == by_hand(f"s.assignee_id = '{agent}'")[None]
    # the overview's tile counts the same targets
    tile = tiles_by_metric(overview(sla_ws, f.with_dims(topic=topic)))["sla_compliance"]
    assert tile["n"] == n and tile["value_text"] == got["overall"]["text"]


def test_sla_page_is_the_sla_packages(sla_ws: cxmetrics.Workspace) -> None:
    from cxmetrics.sla import compliance
    from cxmetrics.web._sla import sla

    f = view(sla_ws, period="90d")
    data = sla(sla_ws, f)  # evaluates the clocks now, then reads
    assert data["configured"]
    ref = compliance(sla_ws.con, start=f.start, end=f.end).to_pylist()[0]
    assert (data["overall"]["n"], data["overall"]["achieved"]) == (ref["n"], ref["achieved"]) and ref["n"] > 0
    assert data["overall"]["text"] == fmt.value(ref["compliance"], "percent")
    by = {(r["policy"], r["metric"]): r for r in compliance(sla_ws.con, by=["policy", "metric"], start=f.start,
                                                              end=f.end).to_pylist()}
    assert {(r["policy"], r["metric"]): r["n"] for r in data["by_policy"]} == {k: r["n"] for k, r in by.items()}
    # a filter sums the package's groups: email's compliance is the package's for email
    email = sla(sla_ws, f.with_dims(channel="email"))["overall"]
    ref_email = next(r for r in compliance(sla_ws.con, by=["channel"], start=f.start, end=f.end).to_pylist()
                     if r["channel"] == "email")
    assert (email["n"], email["achieved"]) == (ref_email["n"], ref_email["achieved"])
    # the overview's tile agrees, and the change is tested
    tile = tiles_by_metric(overview(sla_ws, f))["sla_compliance"]
    assert tile["available"] and tile["value_text"] == data["overall"]["text"] and tile["n"] == ref["n"]
    assert tile["change"] is None or tile["change"]["verdict"] in ("real change", "noise")
    # its weekly points are each week's compliance, asked of the package one week at a time
    for point in tile["spark_points"]:
        monday = date.fromisoformat(point["period"])
        week = compliance(sla_ws.con, start=monday, end=monday + timedelta(days=7)).to_pylist()[0]
        assert point["value"] == week["compliance"], point["period"]
    assert any(p["value"] is not None for p in tile["spark_points"])
    with pytest.raises(UserError, match="within"):
        sla(sla_ws, f, within="1y")
