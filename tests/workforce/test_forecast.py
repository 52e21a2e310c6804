"""Arrivals, the forecast and its backtest (issue 14; docs/workforce.md, "Forecast").

Counts are worked out by hand; the forecast is checked against series drawn from a known
Poisson rate, so its mean is compared with the truth and its intervals with how often the
draws fall inside them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner
from conftest import write

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.errors import UnknownNameError, UserError
from cxmetrics.workforce._intervals import interval_starts, parse_horizon, parse_interval
from cxmetrics.workforce._forecast import arrivals, backtest, fitted_models, forecast

LONDON = ZoneInfo("Europe/London")


def tickets(ws: cxmetrics.Workspace, times: list[datetime], channel: str | list[str] = "phone",
            status: list[str] | None = None) -> None:
    n = len(times)
    ws.import_table("tickets", pa.table({
        "ticket_id": [f"T{i}" for i in range(n)],
        "created_at": pa.array(times, pa.timestamp("us", tz="UTC")),
        "channel": [channel] * n if isinstance(channel, str) else channel,
        "status": status or ["solved"] * n,
    }))


def draw(rate: np.ndarray, starts: list[datetime], interval_s: int, seed: int) -> list[datetime]:
    """Poisson counts of `rate` per interval, each arrival at a uniform time inside it."""
    rng = np.random.default_rng(seed)
    out = []
    for r, s in zip(rate, starts, strict=True):
        for _ in range(rng.poisson(r)):
            out.append(s.astimezone(UTC) + timedelta(seconds=float(rng.uniform(0, interval_s))))
    return out


# -- intervals ---------------------------------------------------------------------------------


def test_interval_lengths_and_their_errors():
    assert [parse_interval(x) for x in ("15m", "30m", "1h", "2h", "1d")] == [900, 1800, 3600, 7200, 86_400]
    assert parse_horizon("14d", 1800) == 14 * 86_400 and parse_horizon("6w", 3600) == 42 * 86_400
    with pytest.raises(UserError, match="interval '50m' does not divide a day"):
        parse_interval("50m")
    with pytest.raises(UserError, match="interval 'soon' is not a length"):
        parse_interval("soon")
    with pytest.raises(UserError, match="horizon '10m' is shorter than one interval"):
        parse_horizon("10m", 1800)


def test_local_days_have_23_and_25_hours_when_the_clocks_change():
    spring = interval_starts(datetime(2026, 3, 29), datetime(2026, 3, 30), 3600, "Europe/London")
    autumn = interval_starts(datetime(2026, 10, 25), datetime(2026, 10, 26), 3600, "Europe/London")
    assert len(spring) == 23 and len(autumn) == 25
    # 01:00 is skipped in spring; in autumn it comes twice (BST, then GMT)
    assert [s.strftime("%H:%M%z") for s in spring[:2]] == ["00:00+0000", "02:00+0100"]
    assert [s.strftime("%H:%M%z") for s in autumn[1:3]] == ["01:00+0100", "01:00+0000"]


# -- arrivals ----------------------------------------------------------------------------------


def test_arrivals_counted_by_hand_across_the_autumn_clock_change(ws, tmp_path):
    ws.configure(timezone="Europe/London")
    utc = lambda h, m: datetime(2026, 10, 24, 23, 0, tzinfo=UTC) + timedelta(hours=h, minutes=m)  # noqa: E731
    # 25 Oct 2026: 00:00 BST is 23:00 UTC on the 24th; clocks go back at 02:00 BST (01:00 UTC)
    tickets(ws, [utc(0, 30),             # 00:30 BST          -> 00:00
                 utc(1, 10), utc(1, 50),  # 01:10, 01:50 BST   -> the first 01:00
                 utc(2, 5),              # 01:05 GMT          -> the second 01:00
                 utc(3, 59),             # 02:59 GMT          -> 02:00
                 utc(4, 0),              # 03:00 GMT          -> 03:00
                 utc(2, 30)],            # spam: left out
            status=["solved"] * 6 + ["spam"])
    # T0 was a call (its creation is that arrival); a call back on it later is an arrival of its
    # own, on the ticket's channel
    write(tmp_path / "calls.csv", "call_id,ticket_id,arrived_at,answered_at,agent_id\n"
          "C1,T0,2026-10-24T23:30:00Z,2026-10-24T23:30:30Z,A1\n"
          "C2,T0,2026-10-25T01:40:00Z,2026-10-25T01:40:30Z,A1\n")
    ws.import_file("calls", tmp_path / "calls.csv")
    got = arrivals(ws, interval="1h", start=date(2026, 10, 25), end=date(2026, 10, 26))
    assert got.num_rows == 25  # a 25-hour day, every hour listed, zeros included
    rows = got.to_pylist()
    assert {r["channel"] for r in rows} == {"phone"}
    assert [r["volume"] for r in rows[:6]] == [1, 2, 2, 1, 1, 0]  # the second 01:00 holds the call at 01:40 GMT
    assert [r["interval_start"].strftime("%H:%M%z") for r in rows[1:3]] == ["01:00+0100", "01:00+0000"]
    assert sum(r["volume"] for r in rows) == 7
    # a day bucket is the whole local day: 25 hours
    day = arrivals(ws, interval="1d", start=date(2026, 10, 25), end=date(2026, 10, 26)).to_pylist()
    # midnight is still BST
    assert [(r["interval_start"].isoformat(), r["volume"]) for r in day] == [("2026-10-25T00:00:00+01:00", 7)]


def test_arrivals_in_the_spring_have_23_hours_and_default_to_the_history_span(ws):
    ws.configure(timezone="Europe/London")
    # 29 Mar 2026: 00:30 GMT, then 02:30 BST (01:30 UTC): no 01:00 interval exists
    tickets(ws, [datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
                 datetime(2026, 3, 29, 22, 59, tzinfo=UTC)], channel=["phone", "email", "phone"])
    got = arrivals(ws, interval="1h").to_pylist()  # the span of the history: 00:00 to 23:00 BST
    phone = [r for r in got if r["channel"] == "phone"]
    email = [r for r in got if r["channel"] == "email"]
    assert len(phone) == len(email) == 23  # 00:00, 02:00 ... 23:00: 23 hours on the clock
    assert phone[0]["volume"] == 1 and phone[-1]["volume"] == 1 and email[1]["volume"] == 1
    assert email[1]["interval_start"].strftime("%H:%M%z") == "02:00+0100"
    assert [r["volume"] for r in arrivals(ws, interval="1d", channel="email").to_pylist()] == [1]


def test_unknown_channel_is_named_with_the_closest(ws):
    tickets(ws, [datetime(2026, 3, 2, 9, tzinfo=UTC)])
    with pytest.raises(UnknownNameError, match="Unknown channel 'phon'. Did you mean 'phone'"):
        arrivals(ws, channel="phon")


# -- the forecast against a known rate ----------------------------------------------------------


DAY = np.array([0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1, 3, 8, 12, 14, 13, 11, 12, 13, 12, 10, 8, 6, 4, 3, 2, 1, 0.5])
WEEK = np.array([1.0, 1.1, 1.05, 1.0, 0.9, 0.35, 0.25])  # mon..sun


def truth(starts: list[datetime]) -> np.ndarray:
    return np.array([DAY[s.hour] * WEEK[s.weekday()] for s in starts])


def test_the_forecast_finds_a_known_weekly_profile_and_its_intervals_cover_as_stated(ws):
    hist = interval_starts(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC), 3600, "UTC")
    tickets(ws, draw(truth(hist) * 3, hist, 3600, seed=1))  # 12 weeks, about 1,700 contacts a week
    got = forecast(ws, interval="1h", horizon="28d", start=date(2026, 3, 30)).to_pylist()
    assert len(got) == 28 * 24 and got[0]["interval_start"] == datetime(2026, 3, 30, tzinfo=UTC)
    assert [r["day_type"] for r in got[:48:24]] == ["mon", "tue"]
    rate = truth([r["interval_start"] for r in got]) * 3
    mean = np.array([r["volume"] for r in got])
    # the mean: within 5% of the truth over the week, and hour by hour within 4 standard errors
    # of a 12-observation mean (sqrt(rate/12)), plus the 1 contact that rounding zeros can move
    assert abs(mean.sum() / rate.sum() - 1) < 0.05
    assert np.all(np.abs(mean - rate) < 4 * np.sqrt(rate / 12) + 1)
    # fresh draws from the truth land inside the 80% / 95% intervals about that often
    inside80, inside95 = [], []
    for seed in range(10):
        y = np.random.default_rng(100 + seed).poisson(rate)
        inside80.append(np.mean([r["lo80"] <= v <= r["hi80"] for r, v in zip(got, y, strict=True)]))
        inside95.append(np.mean([r["lo95"] <= v <= r["hi95"] for r, v in zip(got, y, strict=True)]))
    assert 0.74 <= np.mean(inside80) <= 0.88 and 0.91 <= np.mean(inside95) <= 0.985
    assert all(0 <= r["lo95"] <= r["lo80"] <= r["hi80"] <= r["hi95"] for r in got)


def test_a_holiday_is_its_own_day_type(ws):
    # Mondays 2, 16 Feb and 2, 16 Mar are holidays in the schedule: a fifth of a Monday's contacts
    holidays = {date(2026, 2, 2), date(2026, 2, 16), date(2026, 3, 2), date(2026, 3, 16), date(2026, 4, 6)}
    write(ws.path / "schedules.toml", '[schedules.default]\ntimezone = "UTC"\nhours = "24/7"\n'
          'holidays = ["2026-02-02", "2026-02-16", "2026-03-02", "2026-03-16", "2026-04-06"]\n')
    hist = interval_starts(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC), 86_400, "UTC")
    rate = np.array([200 * WEEK[s.weekday()] * (0.2 if s.date() in holidays else 1) for s in hist])
    tickets(ws, draw(rate, hist, 86_400, seed=2))
    got = {r["interval_start"].date(): r for r in forecast(ws, interval="1d", horizon="14d",
                                                           start=date(2026, 3, 30)).to_pylist()}
    easter_monday, monday = got[date(2026, 4, 6)], got[date(2026, 3, 30)]
    assert easter_monday["day_type"] == "holiday" and monday["day_type"] == "mon"
    assert easter_monday["volume"] == pytest.approx(40, rel=0.25)  # the holidays' level, not a Monday's 200
    assert monday["volume"] == pytest.approx(200, rel=0.1)
    assert easter_monday["hi95"] < monday["lo95"]


def test_short_history_still_forecasts_and_none_is_a_clear_error(ws):
    hist = interval_starts(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 6, tzinfo=UTC), 3600, "UTC")
    times = draw(np.array([DAY[s.hour] * 5 for s in hist]), hist, 3600, seed=3)
    tickets(ws, times)
    first = min(times).replace(minute=0, second=0, microsecond=0)  # the history starts at its first contact's hour
    got = forecast(ws, interval="1h", horizon="1d", start=date(2026, 3, 6)).to_pylist()
    mean = np.array([r["volume"] for r in got])  # four days: the time-of-day profile alone
    assert len(got) == 24 and np.corrcoef(mean, DAY * 5)[0, 1] > 0.95
    days = round((datetime(2026, 3, 6, tzinfo=UTC) - first).total_seconds() / 86_400, 2)
    assert fitted_models(forecast(ws, interval="1h", horizon="1d", start=date(2026, 3, 6)))["phone"] == {
        "structure": "time of day", "fit_from": first.isoformat(), "days": days, "trend": False}
    with pytest.raises(UserError, match="channel 'phone' has no contacts before 2026-03-01T00:00:00"):
        forecast(ws, interval="1h", start=date(2026, 3, 1))


def test_an_empty_workspace_cannot_be_forecast(ws):
    with pytest.raises(UserError, match="no contacts in the workspace to forecast from"):
        forecast(ws)


def test_only_history_before_the_start_is_used(ws):
    hist = interval_starts(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC), 86_400, "UTC")
    tickets(ws, draw(np.full(len(hist), 100.0), hist, 86_400, seed=4))
    before = forecast(ws, interval="1d", horizon="7d", start=date(2026, 2, 23)).to_pylist()
    tickets_after = [datetime(2026, 2, 24, 12, tzinfo=UTC)] * 5000  # a flood after the start changes nothing
    ws.import_table("tickets", pa.table({"ticket_id": [f"X{i}" for i in range(5000)],
                                         "created_at": pa.array(tickets_after, pa.timestamp("us", tz="UTC")),
                                         "channel": ["phone"] * 5000}))
    assert forecast(ws, interval="1d", horizon="7d", start=date(2026, 2, 23)).to_pylist() == before


# -- backtest ----------------------------------------------------------------------------------


def test_backtest_scores_against_the_seasonal_naive_forecast(ws):
    hist = interval_starts(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC), 3600, "UTC")
    rate = truth(hist) * 8
    times = draw(rate, hist, 3600, seed=5)
    # each contact a chat with probability 1/3: two independent Poisson series
    chat = np.random.default_rng(7).random(len(times)) < 1 / 3
    tickets(ws, times, channel=["chat" if c else "phone" for c in chat])
    b = backtest(ws, interval="1h", weeks=2, start=date(2026, 3, 16))
    assert (b.train_end, b.test_end) == (datetime(2026, 3, 16, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC))
    assert b.n == 2 * 2 * 7 * 24 and {c["channel"] for c in b.channels} == {"chat", "phone"}
    # recomputed from the forecast and the arrivals: MAE over the seasonal naive's (the last training week)
    pred = forecast(ws, interval="1h", horizon="14d", start=date(2026, 3, 16), channel="phone").to_pylist()
    act = {r["interval_start"]: r["volume"] for r in arrivals(ws, interval="1h", channel="phone",
                                                                       end=date(2026, 3, 30)).to_pylist()}
    err = sum(abs(act[r["interval_start"]] - r["volume"]) for r in pred)
    naive = sum(abs(act[r["interval_start"]] - act[r["interval_start"] - timedelta(weeks=1 + (i >= 168))])
                for i, r in enumerate(pred))
    phone = next(c for c in b.channels if c["channel"] == "phone")
    assert phone["mase"] == pytest.approx(err / naive)
    assert phone["coverage80"] == pytest.approx(np.mean([r["lo80"] <= act[r["interval_start"]] <= r["hi80"]
                                                         for r in pred]))
    # a known stable rate: the model beats last week's counts (noise twice over) clearly; one
    # draw of 672 intervals: coverage within a few standard errors of nominal (the test above
    # checks it over many draws)
    assert b.mase < 0.85 and 0.72 <= b.coverage80 <= 0.9 and 0.9 <= b.coverage95 <= 0.99
    assert json.loads(json.dumps(b.as_dict()))["train_end"] == "2026-03-16T00:00:00+00:00"


def test_backtest_needs_a_week_of_history_before_the_weeks_it_tests(ws):
    tickets(ws, [datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 9, 9, tzinfo=UTC)])
    with pytest.raises(UserError, match="needs at least one week of history before"):
        backtest(ws, interval="1d", weeks=1)


# -- the command -------------------------------------------------------------------------------


def test_cli_forecast_and_backtest(tmp_path):
    path = tmp_path / "w"
    with cxmetrics.open(path, create=True) as ws:
        hist = interval_starts(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC), 86_400, "UTC")
        tickets(ws, draw(np.full(len(hist), 50.0), hist, 86_400, seed=6))
    run = CliRunner().invoke
    out = run(main, ["--workspace", str(path), "forecast", "--interval", "1d", "--horizon", "7d", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert len(rows) == 7 and rows[0]["interval_start"] == "2026-03-02T00:00:00+00:00"
    assert set(rows[0]) == {"channel", "interval_start", "volume", "lo80", "hi80", "lo95", "hi95", "day_type"}
    assert 40 < rows[0]["volume"] < 60
    out = run(main, ["--workspace", str(path), "forecast", "--interval", "1d", "--backtest", "--weeks", "2"])
    assert out.exit_code == 0, out.output
    assert "forecast [2026-02-16 00:00, 2026-03-02 00:00)" in out.output and "mase" in out.output
    out = run(main, ["--workspace", str(path), "forecast", "--interval", "7m"])
    assert out.exit_code == 1 and "UserError: interval '7m' does not divide a day" in out.output
    out = run(main, ["--workspace", str(path), "forecast", "--channel", "fone"])
    assert out.exit_code == 1 and "UnknownNameError: Unknown channel 'fone'" in out.output


def test_the_demo_year_at_daily_grain_beats_the_seasonal_naive_forecast(ws):
    # the year `cxmetrics demo` generates (its default size; trend, months, weekdays, Christmas):
    # the last four weeks forecast day by day from the 13 weeks before
    from cxmetrics.demo import DemoConfig, generate

    for batch in generate(DemoConfig()):
        for name in ("tickets", "events"):
            if name in batch:
                ws.import_table(name, batch[name], source="demo", canonical=True)
    b = backtest(ws, interval="1d", weeks=4)
    assert (b.train_end, b.test_end) == (datetime(2026, 10, 4, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    assert b.n == 6 * 28  # six channels
    assert b.mase < 0.9 and 0.7 <= b.coverage80 <= 0.9 and b.coverage95 >= 0.9  # measured 0.74, 0.82, 0.95


def test_a_backtest_across_the_autumn_clock_change_scores_all_25_hours_of_its_day(ws):
    ws.configure(timezone="Europe/London")
    hist = interval_starts(datetime(2026, 8, 31), datetime(2026, 11, 2), 3600, "Europe/London")
    tickets(ws, draw(truth(hist) * 4, hist, 3600, seed=8))
    b = backtest(ws, interval="1h", weeks=1, start=date(2026, 10, 19))  # Mon 19 - Sun 25 Oct
    assert b.n == 7 * 24 + 1 and b.test_end == datetime(2026, 10, 26, tzinfo=LONDON)
    pred = forecast(ws, interval="1h", horizon="7d", start=date(2026, 10, 19)).to_pylist()
    assert len(pred) == 169 and [r["day_type"] for r in pred[-25:]] == ["sun"] * 25


def test_a_backtest_past_the_end_of_the_history_is_refused(ws):
    hist = interval_starts(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC), 86_400, "UTC")
    tickets(ws, draw(np.full(len(hist), 20.0), hist, 86_400, seed=9))
    assert backtest(ws, interval="1d", weeks=2, start=date(2026, 2, 16)).n == 14  # up to 2 Mar: the last day's end
    with pytest.raises(UserError, match="runs to 2026-03-09T00:00:00.00:00, past the end of the history"):
        backtest(ws, interval="1d", weeks=2, start=date(2026, 2, 23))
