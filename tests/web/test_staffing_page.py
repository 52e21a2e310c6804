"""Issue 14 item 4: the Staffing page (forecast vs arrived with 80/95% bands, agents required vs
scheduled vs staffed, service level predicted vs achieved, one day and channel at a time) and
its one-interval calculator.

The workspace is made by hand, so what arrived and who was staffed are known without the code:
three weeks of phone tickets (09:10, 09:40 and 10:15 every day from Monday 2 March 2026, UTC)
and one email a day at 12:00, then the day shown, Monday 23 March, with phone tickets at 09:05,
09:20, 09:50, 10:10 and 14:00 (per 30 minutes: 09:00 -> 2, 09:30 -> 1, 10:00 -> 1, 14:00 -> 1)
and two shifts: A1 available 09:00-12:00 on phone, A2 available 09:00-10:00 on every channel
(staffed: 2 agents 09:00-10:00, 1 from 10:00 to 12:00, none after). The forecast and the plan
are the library's (`forecast`, `plan`): the page must show exactly those.
"""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import cxmetrics
from cxmetrics.errors import MissingDependencyError, UserError
from cxmetrics.web import _staffing
from cxmetrics.web._staffing import staffing
from web._web_helpers import SCREENSHOTS, Console, Server, serving

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

FIRST = datetime(2026, 3, 2, tzinfo=UTC)
DAY = date(2026, 3, 23)
ON_THE_DAY = ("09:05", "09:20", "09:50", "10:10", "14:00")
ARRIVED = {"09:00": 2, "09:30": 1, "10:00": 1, "14:00": 1}  # per 30 minutes, from ON_THE_DAY by hand
STAFFED = {"09:00": 2.0, "09:30": 2.0, "10:00": 1.0, "10:30": 1.0, "11:00": 1.0, "11:30": 1.0}
SHIFTS_CSV = """agent_id,start,end,activity,channel
A1,2026-03-23T09:00:00Z,2026-03-23T12:00:00Z,available,phone
A2,2026-03-23T09:00:00Z,2026-03-23T10:00:00Z,available,
"""
VIEW = {"day": [DAY.isoformat()], "channel": ["phone"], "interval": ["30m"]}


def _tickets_csv(path: Path) -> Path:
    lines = ["ticket_id,created_at,channel,status,handle_seconds"]
    n = 0
    for d in range(21):
        day = FIRST + timedelta(days=d)
        for hm, channel in (("09:10", "phone"), ("09:40", "phone"), ("10:15", "phone"), ("12:00", "email")):
            n += 1
            h, m = map(int, hm.split(":"))
            handle = 300 if channel == "phone" else 600
            lines.append(f"T{n},{(day + timedelta(hours=h, minutes=m)).isoformat()},{channel},solved,{handle}")
    for hm in ON_THE_DAY:
        n += 1
        h, m = map(int, hm.split(":"))
        lines.append(f"T{n},{datetime(2026, 3, 23, h, m, tzinfo=UTC).isoformat()},phone,open,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build(root: Path, *, shifts: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with cxmetrics.open(root / "ws", create=True) as ws:
        ws.import_file("tickets", _tickets_csv(root / "tickets.csv"))
        if shifts:
            (root / "shifts.csv").write_text(SHIFTS_CSV, encoding="utf-8")
            ws.import_file("shifts", root / "shifts.csv")
        ws.refresh()
    return root / "ws"


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("staffing"))


@pytest.fixture
def ws(ws_path: Path, tmp_path: Path) -> Iterator[cxmetrics.Workspace]:
    shutil.copytree(ws_path, tmp_path / "ws")
    with cxmetrics.open(tmp_path / "ws") as w:
        yield w


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    _staffing._planned.clear()  # the page keeps forecasts per history: each test starts without


def by_time(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["time"]: r for r in d["rows"]}


# -- the page's data ---------------------------------------------------------------------------


def test_the_day_against_the_library_and_by_hand(ws: cxmetrics.Workspace) -> None:
    from cxmetrics.workforce._forecast import forecast
    from cxmetrics.workforce._plan import plan

    d = staffing(ws, VIEW)
    assert d["state"] == "ok" and d["channel"] == "phone" and d["day"] == DAY and not d["future"]
    rows = by_time(d)
    assert len(rows) == 48 and list(rows)[:2] == ["00:00", "00:30"]
    # what arrived and who was staffed: by hand
    assert {t: r["actual"] for t, r in rows.items() if r["actual"]} == ARRIVED
    assert sum(r["actual"] for r in rows.values()) == len(ON_THE_DAY)
    assert {t: r["staffed"] for t, r in rows.items() if r["staffed"]} == STAFFED
    # the forecast and the plan: the library's, interval by interval
    fc = forecast(ws, channel="phone", interval="30m", horizon="1d", start=DAY).to_pylist()
    pl = plan(ws, start=DAY, end=DAY + timedelta(days=1), channel="phone", interval="30m").to_pylist()
    for r, f, p in zip(d["rows"], fc, pl, strict=True):
        assert r["t"] == f["interval_start"].strftime("%Y-%m-%dT%H:%M")
        assert (r["volume"], r["lo80"], r["hi80"], r["lo95"], r["hi95"]) == \
            (f["volume"], f["lo80"], f["hi80"], f["lo95"], f["hi95"])
        assert (r["agents"], r["scheduled"], r["sl"], r["sl_actual"]) == \
            (p["agents"], p["scheduled"], p["service_level"], p["actual_service_level"])
    # the history has phone contacts at 09:00, 09:30 and 10:00 only: the forecast peaks there
    assert max(rows.values(), key=lambda r: r["volume"])["time"] in ("09:00", "09:30", "10:00")
    assert d["summary"]["actual"] == "5" and d["summary"]["forecast"] == f"{sum(f['volume'] for f in fc):,.0f}"
    short = [t for t, r in rows.items() if r["short"]]
    assert d["summary"]["short"] == len(short)
    assert all((rows[t]["staffed"] or 0) < rows[t]["agents"] for t in short)


def test_the_charts_carry_the_bands_and_the_three_agent_lines(ws: cxmetrics.Workspace) -> None:
    d = staffing(ws, VIEW)
    names = [t.get("name") for t in d["volume_figure"]["data"]]
    assert names == [None, "95% interval", None, "80% interval", "forecast", "arrived"]
    hi95, lo95, hi80, lo80, mean, arrived = (t["y"] for t in d["volume_figure"]["data"])
    assert all(a <= b <= c <= e for a, b, c, e in zip(lo95, lo80, hi80, hi95, strict=True))
    assert len(mean) == 48 and max(mean) > 0
    assert sum(arrived) == 5
    agents = {t["name"]: t["y"] for t in d["agents_figure"]["data"]}
    assert set(agents) == {"required", "to schedule (after shrinkage)", "staffed (shifts)"}
    assert [y for y in agents["staffed (shifts)"] if y] == list(STAFFED.values())
    sl = {t["name"]: t["y"] for t in d["sl_figure"]["data"]}
    assert "predicted" in sl and sl["target 80% in 20 s"] == [80.0, 80.0]


def test_default_day_channel_and_bad_choices(ws: cxmetrics.Workspace) -> None:
    d = staffing(ws, {})
    # the data end on 23 March (long before today): the first day to plan is the next one
    assert d["day"] == date(2026, 3, 24) and d["future"] and d["channel"] == "phone"  # busiest channel
    assert all(r["actual"] is None for r in d["rows"]) and d["summary"]["actual"] is None
    assert d["channels"] == ["phone", "email"]
    assert _staffing.default_day(date(2026, 3, 23), date(2026, 3, 23)) == date(2026, 3, 23)  # live: today
    with pytest.raises(UserError, match="channel 'fax' has no contacts in this workspace: choose one of phone, email"):
        staffing(ws, {"channel": ["fax"]})
    with pytest.raises(UserError, match="day '23/03/2026' is not a date"):
        staffing(ws, {"day": ["23/03/2026"]})
    with pytest.raises(UserError, match="interval '2h' is not one the page shows"):
        staffing(ws, {"interval": ["2h"]})
    assert staffing(ws, {"day": ["2026-03-02"], "channel": ["phone"]})["state"] == "no_history"


def test_empty_states_say_what_to_do(tmp_path: Path, ws: cxmetrics.Workspace,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with cxmetrics.open(tmp_path / "empty", create=True) as empty:
        d = staffing(empty, {})
    assert d["state"] == "no_data" and d["import_command"] == "cxmetrics import calls FILE"
    assert d["calc"]["result"]["agents"] == 14  # the calculator needs no history
    no_shifts = build(tmp_path / "plain", shifts=False)
    with cxmetrics.open(no_shifts) as w:
        d = staffing(w, VIEW)
    assert not d["has_shifts"] and all(r["staffed"] is None for r in d["rows"])
    assert {t: r["actual"] for t, r in by_time(d).items() if r["actual"]} == ARRIVED

    def missing(*args: Any, **kwargs: Any) -> Any:
        raise MissingDependencyError("forecasting needs statsmodels: pip install 'cxmetrics[workforce]'")

    monkeypatch.setattr("cxmetrics.workforce._forecast.forecast", missing)
    d = staffing(ws, VIEW)
    assert d["state"] == "no_extra" and d["extra_command"] == "pip install 'cxmetrics[workforce]'"


def test_calculator_is_metrics_worked_check() -> None:
    c = _staffing.calculator({})  # 100 contacts in 30 min, AHT 180 s, 80/20: METRICS.md's check
    assert c["error"] is None
    r = c["result"]
    assert (r["agents"], r["service_level"], r["p_wait"], r["occupancy"], r["scheduled"]) == \
        (14, "88.8%", "17.4%", "71.4%", 14)
    r = _staffing.calculator({"calc_shrinkage": ["30%"], "calc_aht": ["3m"]})["result"]
    assert (r["agents"], r["scheduled"]) == (14, 20)
    assert _staffing.calculator({"calc_aht": ["soon"]})["error"].startswith("AHT 'soon' is not a duration")
    assert "target '80'" in _staffing.calculator({"calc_target": ["80"]})["error"]
    assert "volume 'lots'" in _staffing.calculator({"calc_volume": ["lots"]})["error"]


def test_the_forecast_is_not_refitted_for_data_after_the_day(ws: cxmetrics.Workspace,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    from cxmetrics.workforce import _forecast as module

    calls: list[Any] = []
    real = module.forecast

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("start"))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "forecast", counted)
    first = staffing(ws, VIEW)
    fits = len(calls)  # the page's forecast and the plan's
    assert fits >= 1 and all(str(c)[:10] == "2026-03-23" for c in calls)
    assert staffing(ws, VIEW)["rows"] == first["rows"] and len(calls) == fits
    # a contact after the day changes neither its forecast nor its actuals: nothing is refitted
    later = tmp_path / "later.csv"
    later.write_text("ticket_id,created_at,channel,status\nL1,2026-03-25T09:00:00Z,phone,open\n", encoding="utf-8")
    ws.import_file("tickets", later)
    ws.refresh()
    assert staffing(ws, VIEW)["rows"] == first["rows"] and len(calls) == fits
    # one before it does: the forecast is fitted again
    before = tmp_path / "before.csv"
    before.write_text("ticket_id,created_at,channel,status\nB1,2026-03-20T09:00:00Z,phone,open\n", encoding="utf-8")
    ws.import_file("tickets", before)
    ws.refresh()
    again = staffing(ws, VIEW)
    assert len(calls) == 2 * fits
    assert sum(r["volume"] for r in again["rows"]) != pytest.approx(sum(r["volume"] for r in first["rows"]))


def test_today_is_live_without_refitting_on_each_arrival(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cxmetrics.workforce import _forecast as module

    today = datetime.now(UTC).date()
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
    rows = ["ticket_id,created_at,channel,status,handle_seconds"]
    for d in range(1, 22):  # three weeks of history, one phone call a day at 00:00:01
        rows.append(f"H{d},{(midnight - timedelta(days=d, seconds=-1)).isoformat()},phone,solved,300")
    rows.append(f"N1,{(midnight + timedelta(seconds=1)).isoformat()},phone,open,")
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    calls: list[Any] = []
    real = module.forecast
    monkeypatch.setattr(module, "forecast", lambda *a, **k: calls.append(1) or real(*a, **k))
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("tickets", tmp_path / "t.csv")
        ws.refresh()
        d = staffing(ws, {"channel": ["phone"]})
        assert d["day"] == today and d["live"]  # the data reach today: today is shown
        first = by_time(d)["00:00"]["actual"]
        assert first == 1
        now = datetime.now(UTC)
        assert all(r["actual"] is None for r in d["rows"]
                   if datetime.fromisoformat(r["t"]).replace(tzinfo=UTC) > now)  # not begun: nothing yet
        fits = len(calls)
        # another contact arrives today: it is counted at once, and nothing is fitted again
        (tmp_path / "n2.csv").write_text("ticket_id,created_at,channel,status\n"
                                        f"N2,{(midnight + timedelta(seconds=2)).isoformat()},phone,open\n",
                                        encoding="utf-8")
        ws.import_file("tickets", tmp_path / "n2.csv")
        ws.refresh()
        assert by_time(staffing(ws, {"channel": ["phone"]}))["00:00"]["actual"] == 2
        assert len(calls) == fits


# -- the page over HTTP ------------------------------------------------------------------------


def _client(path: Path) -> Iterator[TestClient]:
    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    app = create_app(path, watch_alerts=False)
    _, viewer = create_key(app.state.workspace, "staffing viewer", "viewer")
    with TestClient(app) as c:
        assert c.post("/login", data={"key": viewer, "next": "/"}, follow_redirects=False).status_code == 303
        yield c


@pytest.fixture(scope="module")
def client(ws_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    copy = tmp_path_factory.mktemp("staffing-served") / "ws"
    shutil.copytree(ws_path, copy)
    yield from _client(copy)


def test_the_page_renders(client: TestClient) -> None:
    r = client.get("/staffing?day=2026-03-23&channel=phone&interval=30m")
    assert r.status_code == 200, r.text
    page = r.text
    assert '<a class="nav-link active" href="/staffing' in page
    assert 'id="staffing-day">Monday 23 March 2026<' in page and 'value="2026-03-23"' in page
    assert '<option value="phone" selected>' in page and 'id="period-label"' not in page
    for chart in ("volume-chart", "agents-chart", "sl-chart"):
        assert f'id="{chart}"' in page
    nine = r'<tr><td>09:00</td><td class="r">[\d.]+</td><td class="r">[\d–]*</td>\s*<td class="r">2</td>'
    assert re.search(nine, page)  # the interval table: 2 contacts arrived at 09:00-09:30
    assert 'id="shifts-note"' not in page and 'id="calc-agents">14<' in page
    assert 'href="/staffing?day=2026-03-22&amp;channel=phone&amp;interval=30m"' in page  # the day before
    bad = client.get("/staffing?channel=fax")
    assert bad.status_code == 400 and "channel &#39;fax&#39; has no contacts" in bad.text
    calc = client.get("/staffing?day=2026-03-23&channel=phone&calc_volume=200&calc_aht=180&calc_interval=30m")
    assert calc.status_code == 200 and 'id="calc-agents">24<' in calc.text  # 20 Erlangs: 23 agents 70.2%, 24 80.9%
    wrong = client.get("/staffing?calc_aht=soon")
    assert wrong.status_code == 200 and 'id="calc-error"' in wrong.text and "AHT &#39;soon&#39;" in wrong.text


def test_the_page_of_an_empty_workspace_says_what_to_import(tmp_path: Path) -> None:
    with cxmetrics.open(tmp_path / "ws", create=True):
        pass
    for c in _client(tmp_path / "ws"):
        r = c.get("/staffing")
        assert r.status_code == 200 and "No contacts to plan from" in r.text
        assert "cxmetrics import calls FILE" in r.text and 'id="calculator"' in r.text


# -- in a real browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def staffing_server(ws_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    path = tmp_path_factory.mktemp("staffing-browser") / "ws"
    shutil.copytree(ws_path, path)
    app = create_app(path, watch_alerts=False)
    _, admin = create_key(app.state.workspace, "staffing admin", "admin")
    with serving(app, "cxmetrics-staffing-server") as url:
        yield Server(url, admin, admin, app, path)


def test_staffing_page_in_a_browser(browser: Any, staffing_server: Server) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    assert context.request.post(staffing_server.url + "/login", form={"key": staffing_server.admin, "next": "/"}).ok
    page = context.new_page()
    console = Console(page)
    try:
        page.goto(staffing_server.url + "/staffing?day=2026-03-23&channel=phone")
        for chart in ("volume-chart", "agents-chart", "sl-chart"):
            page.wait_for_selector(f"#{chart} .main-svg")
        page.wait_for_selector("#live.on")
        assert page.inner_text("#sum-actual") == "5"
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "staffing.png"), full_page=True)
        # the calculator, as a user fills it in
        page.fill("#c-volume", "200")
        page.click("#calc-submit")
        page.wait_for_url(re.compile(r".*calc_volume=200.*"))
        assert page.inner_text("#calc-agents") == "24"
        assert page.input_value("#s-day") == "2026-03-23"  # the day chosen stays
        # another channel, from the picker
        page.select_option("#s-channel", "email")
        page.wait_for_url(re.compile(r".*channel=email.*"))
        page.wait_for_selector("#volume-chart .main-svg")
        assert "email" in page.inner_text("#staffing-summary h2")
        assert page.locator(".error-box").count() == 0
        assert console.errors == [], console.errors
    finally:
        context.close()


def test_the_default_channel_is_one_that_can_be_staffed(tmp_path: Path) -> None:
    """Email is the busiest channel but has no handle time (it cannot be planned): the page opens
    on phone, which has (the page opened on an error box: regression)."""
    from cxmetrics.web._staffing import _channels

    rows = ["ticket_id,created_at,channel,handle_seconds"]
    rows += [f"E{i},2026-03-02T10:0{i}:00Z,email," for i in range(3)] + ["P1,2026-03-02T10:00:00Z,phone,300"]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("tickets", tmp_path / "t.csv")
        ws.refresh()
        assert _channels(ws) == ["phone", "email"]
