"""Issue 13 item 5: the Topics page (volume, share and its tested change, emerging topics,
CSAT / FRT / sentiment / consistency per topic, words and examples, click-through to the
tickets), sentiment on Trends, and sentiment and answer signals on the Agents scorecard.

The workspace is built by hand: 45 tickets imported as events (and CSAT answers), then the
text layer's facts written straight into its tables (schema: migration 0012), as the text
steps write them, so every number below is worked out by hand from the plan:

    topic     before (16 Feb - 1 Mar)  now (2 - 15 Mar)  agent  first reply of ticket i
    refund    2                        14                A1     10 (i + 1) minutes
    login     16                       6                 A2     idem
    shipping  2                        3                 A3     idem
    (none)    0                        1 (no text)       A3     none
Ticket i of each period is created on day i % 13 of it; even i by email, odd i by chat.
"""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import cxmetrics
from cxmetrics.web._agents import agents
from cxmetrics.web._filters import Filters
from cxmetrics.web._tickets import extra_where, tickets
from cxmetrics.web._topics import topics
from cxmetrics.web._trends import trends
from web._web_helpers import SCREENSHOTS, Console, Server, serving

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

BEFORE = datetime(2026, 2, 16, 9, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
PLAN = {"refund": (2, 14, "A1"), "login": (16, 6, "A2"), "shipping": (2, 3, "A3")}
MODEL = "topics-20260301000000-test"
# the discovered topics' names are made from customer text: one of them carries markup
NAMES = {"refund": "refund · money back", "login": "login · password", "shipping": '<i>ship</i> & "track"'}
WORDS = {"refund": ["refund", "money", "back"], "login": ["login", "password", "reset"],
         "shipping": ["parcel", "<b>late</b>"]}
EXAMPLE = {"refund": "I want my money back for order 1234", "login": "I cannot log in since the update",
           "shipping": "Where is my parcel? <script>alert('x')</script>"}
VIEW = {"from": ["2026-03-02"], "to": ["2026-03-16"]}


def tid(key: str, period: str, i: int) -> str:
    return f"{key[:3].upper()}-{period}{i:02d}"


def created(period: str, i: int, n: int) -> datetime:
    return (BEFORE if period == "b" else NOW) + timedelta(days=i % 13, minutes=n)


def _events() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    ev: list[dict[str, str]] = []
    n = 0
    for key, (n_before, n_now, agent) in PLAN.items():
        for period, count in (("b", n_before), ("n", n_now)):
            for i in range(count):
                t, at = tid(key, period, i), created(period, i, n)
                n += 1
                ev += [
                    {"event_id": f"{t}.1", "ticket_id": t, "ts": at.isoformat(), "kind": "created",
                     "actor_type": "customer", "actor_id": f"C{n}", "requester_id": f"C{n}",
                     "channel": "email" if i % 2 == 0 else "chat", "team": "Support", "assignee_id": agent,
                     "topic": f"hd-{key}", "subject": f"{key} question {t}"},
                    {"event_id": f"{t}.2", "ticket_id": t, "ts": (at + timedelta(seconds=1)).isoformat(),
                     "kind": "message", "actor_type": "customer", "actor_id": f"C{n}", "public": "true",
                     "body": f"About my {key}, ticket {t}" + (" <img src=x onerror=alert(1)>" if key == "shipping"
                                                                else "")},
                    {"event_id": f"{t}.3", "ticket_id": t, "ts": (at + timedelta(minutes=10 * (i + 1))).isoformat(),
                     "kind": "message", "actor_type": "agent", "actor_id": agent, "public": "true",
                     "body": f"Reply to {t}"},
                    {"event_id": f"{t}.4", "ticket_id": t, "ts": (at + timedelta(hours=20)).isoformat(),
                     "kind": "status", "actor_type": "agent", "actor_id": agent, "status_to": "solved"},
                ]
    # a ticket with no text at all (no topic from the help desk either)
    ev.append({"event_id": "NON-n00.1", "ticket_id": "NON-n00", "ts": (NOW + timedelta(days=3)).isoformat(),
               "kind": "created", "actor_type": "customer", "actor_id": "C0", "requester_id": "C0",
               "channel": "email", "team": "Support", "assignee_id": "A3"})
    # CSAT: refund tickets 0-3 answer 5, 5, 4, 1 (3 of 4 satisfied); login tickets 0-1 answer 2, 1
    surveys = [{"response_id": f"S-{tid(k, 'n', i)}", "ticket_id": tid(k, "n", i), "kind": "csat",
                "score": str(s), "responded_at": (created("n", i, 0) + timedelta(hours=21)).isoformat()}
               for k, scores in (("refund", (5, 5, 4, 1)), ("login", (2, 1))) for i, s in enumerate(scores)]
    return ev, surveys


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    cols = sorted({k for r in rows for k in r})
    buf = io.StringIO()
    w = csv.DictWriter(buf, cols)
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def write_text_facts(ws: cxmetrics.Workspace) -> None:
    """The text layer's rows for the plan, as its steps write them (migration 0012):
    - a topic model with the three topics, every ticket with text in its topic;
    - sentiment of each customer message (now): refund tickets 0-6 negative (-0.6), the
      others neutral (0.0); login ticket 0 negative (-0.8), the others positive (+0.5);
      shipping neutral (0.0);
    - answer signals of each agent reply (now): refund (A1) personalised for tickets 0-9,
      empathetic for even tickets, one question asked on tickets 0-7 of which 0-5 answered;
      login (A2) personalised for tickets 0-2, never empathetic, nothing asked;
    - resolving replies: refund tickets 0-3 with similarity 0.9, 0.8, 0.7, 0.2 (the last
      apart); login tickets 0-1 with 1.0 and 0.8;
    - refund tickets 0, 1, 2 ended better, worse and the same (two customer messages each)."""
    con = ws.con
    src = ws.sql("SELECT any_value(source) AS s FROM ticket_facts").to_pylist()[0]["s"]
    con.execute("INSERT INTO text_models VALUES (?, 'topics', true, ?, '{}', NULL)", [MODEL, NOW - timedelta(days=1)])
    for topic_id, key in enumerate(PLAN):
        con.execute("INSERT INTO text_topics VALUES (?, ?, ?, ?, ?, ?, 'ticket', ?)",
                    [MODEL, topic_id, NAMES[key], WORDS[key], sum(PLAN[key][:2]), EXAMPLE[key], tid(key, "b", 0)])
        for period in ("b", "n"):
            for i in range(PLAN[key][0 if period == "b" else 1]):
                con.execute("INSERT INTO ticket_text (source, ticket_id, topic_model, topic_id, discovered_topic) "
                            "VALUES (?, ?, ?, ?, ?)", [src, tid(key, period, i), MODEL, topic_id, NAMES[key]])
    con.execute("UPDATE ticket_facts f SET discovered_topic = x.discovered_topic FROM ticket_text x "
                "WHERE x.source = f.source AND x.ticket_id = f.ticket_id")
    # three refund tickets with two customer messages: one ended better, one worse, one the same
    for i, shift in enumerate(("better", "worse", "same")):
        con.execute("UPDATE ticket_text SET customer_messages = 2, sentiment_shift = ? WHERE ticket_id = ?",
                    [shift, tid("refund", "n", i)])
    n = 0
    for key, (_, n_now, agent) in PLAN.items():
        for i in range(n_now):
            t = tid(key, "n", i)
            at = ws.sql("SELECT created_at FROM ticket_facts WHERE ticket_id = ?", [t]).to_pylist()[0]["created_at"]
            score = {"refund": -0.6 if i < 7 else 0.0, "login": -0.8 if i == 0 else 0.5, "shipping": 0.0}[key]
            label = "negative" if score < 0 else "positive" if score > 0 else "neutral"
            con.execute("INSERT INTO message_sentiment VALUES (?, ?, ?, ?, 1, ?, ?, 'default')",
                        [src, f"{t}.2", t, at + timedelta(seconds=1), score, label])
            reply = at + timedelta(minutes=10 * (i + 1))
            if key != "shipping":
                asked = 1 if key == "refund" and i < 8 else 0
                con.execute("INSERT INTO reply_signals VALUES (?, ?, ?, ?, ?, ?, false, ?, ?, ?, ?, ?, NULL, NULL)",
                            [src, f"{t}.3", t, agent, reply, i < (10 if key == "refund" else 3),
                             i < (10 if key == "refund" else 3), key == "refund" and i % 2 == 0, asked,
                             int(asked and i < 6), (i < 6) if asked else None])
            sims = {"refund": (0.9, 0.8, 0.7, 0.2), "login": (1.0, 0.8)}.get(key, ())
            if i < len(sims):
                con.execute("INSERT INTO resolution_answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [src, t, f"{t}.3", agent, reply, MODEL, list(PLAN).index(key), sims[i], src,
                             f"{tid(key, 'n', 0)}.3", sims[i] < 0.5])
            n += 1


def build(root: Path, *, text: bool) -> Path:
    ev, surveys = _events()
    path = root / "ws"
    with cxmetrics.open(path, create=True) as ws:
        for kind, rows in (("events", ev), ("surveys", surveys)):
            summary = ws.import_file(kind, _csv(root / f"{kind}.csv", rows))
            assert summary.quarantined == 0, ws.quarantine().to_pylist()
        ws.refresh()
        if text:
            write_text_facts(ws)
    return path


@pytest.fixture(scope="module")
def text_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("topics-text"), text=True)


@pytest.fixture(scope="module")
def plain_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("topics-plain"), text=False)


@pytest.fixture
def ws(text_path: Path) -> Iterator[cxmetrics.Workspace]:
    with cxmetrics.open(text_path) as w:
        yield w


def view(**dims: str) -> Filters:
    return Filters.parse({**VIEW, **{k: [v] for k, v in dims.items()}}, anchor=date(2026, 3, 16))


def rows_by_name(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in d["rows"]}


def cell(row: dict[str, Any], metric: str) -> dict[str, Any]:
    return next(c for c in row["cells"] if c["metric"] == metric)


def z_two_proportions(k1: int, n1: int, k2: int, n2: int) -> float:
    """A simple reference (the pooled two-proportion z) for which shares moved for real."""
    p = (k1 + k2) / (n1 + n2)
    return (k2 / n2 - k1 / n1) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))


# -- the Topics page's data ----------------------------------------------------------------


def test_volume_share_and_change_per_discovered_topic(ws: cxmetrics.Workspace) -> None:
    d = topics(ws, view())
    assert d["discovered"] and d["dimension"] == "discovered_topic" and d["model"]["k"] == 3
    assert d["total_text"] == "24"  # 14 + 6 + 3 + the ticket without text
    rows = rows_by_name(d)
    assert [r["name"] for r in d["rows"]] == [NAMES["refund"], NAMES["login"], NAMES["shipping"], "No topic"]
    refund, login, shipping = rows[NAMES["refund"]], rows[NAMES["login"]], rows[NAMES["shipping"]]
    assert (refund["tickets"], refund["before"]) == (14, 2)
    assert (refund["share_text"], refund["before_share_text"]) == ("58.3%", "10.0%")  # 14/24, 2/20
    assert refund["change"]["text"] == "+48.3 pts"
    assert (login["share_text"], login["before_share_text"], login["change"]["text"]) == ("25.0%", "80.0%",
                                                                                       "−55.0 pts")
    assert (shipping["share_text"], shipping["change"]["text"]) == ("12.5%", "+2.5 pts")  # 3/24 against 2/20
    assert rows["No topic"]["tickets"] == 1 and rows["No topic"]["share_text"] == "4.2%"
    # which shares moved for real, by a simple reference test: refund rose, login fell, shipping is noise
    assert z_two_proportions(2, 20, 14, 24) > 1.96 and z_two_proportions(16, 20, 6, 24) < -1.96
    assert abs(z_two_proportions(2, 20, 3, 24)) < 1.96
    assert refund["change"]["significant"] and login["change"]["significant"]
    assert not shipping["change"]["significant"]
    # emerging: a significant rise only
    assert [r["name"] for r in d["emerging"]] == [NAMES["refund"]]
    assert refund["change"]["emerging"] and not login["change"]["emerging"] and not shipping["change"]["emerging"]
    assert not rows["No topic"]["change"]["emerging"]


def test_quality_per_topic(ws: cxmetrics.Workspace) -> None:
    rows = rows_by_name(topics(ws, view()))
    refund, login, shipping = rows[NAMES["refund"]], rows[NAMES["login"]], rows[NAMES["shipping"]]
    # CSAT: 5, 5, 4, 1 -> 3 of 4 satisfied; login 2, 1 -> none; shipping: no answers
    assert (cell(refund, "csat")["text"], cell(refund, "csat")["n"]) == ("75.0%", 4)
    assert cell(login, "csat")["text"] == "0.0%" and cell(shipping, "csat")["text"] == "—"
    # median first response: refund 10..140 minutes -> 75 min; login 10..60 -> 35 min; shipping 10, 20, 30
    assert cell(refund, "frt")["text"] == "1h 15m" and cell(login, "frt")["text"] == "35m 00s"
    assert cell(shipping, "frt")["text"] == "20m 00s"
    # negative sentiment: 7 of 14, 1 of 6, 0 of 3
    assert [cell(r, "sentiment_negative")["text"] for r in (refund, login, shipping)] == ["50.0%", "16.7%", "0.0%"]
    # consistency: mean of 100 x (0.9, 0.8, 0.7, 0.2) = 65; (1.0, 0.8) -> 90
    assert cell(refund, "consistency")["text"] == "65.00" and cell(login, "consistency")["text"] == "90.00"
    assert cell(shipping, "consistency")["text"] == "—"


def test_trend_words_and_examples(ws: cxmetrics.Workspace) -> None:
    d = topics(ws, view())
    refund = rows_by_name(d)[NAMES["refund"]]
    assert refund["words"] == "refund, money, back"
    assert refund["example"] == EXAMPLE["refund"] and refund["example_ticket"] == "REF-b00"
    # the latest three tickets of the view: created on days 12, 11 and 10 of the period
    assert [e["ticket_id"] for e in refund["examples"]] == ["REF-n12", "REF-n11", "REF-n10"]
    assert refund["examples"][0]["text"] == "refund question REF-n12 — About my refund, ticket REF-n12"
    # weekly tickets: the week of 2 March holds days 0-6 of the period (i % 13 in 0..6: 8 tickets of 14),
    # the week of 9 March the 6 others, and the week of 16 February the 2 before
    title = refund["spark_title"]
    assert "week of 2026-03-02: 8 tickets" in title and "week of 2026-03-09: 6 tickets" in title
    assert "week of 2026-02-16: 2 tickets" in title and refund["spark"] is not None


def test_filters_narrow_every_number(ws: cxmetrics.Workspace) -> None:
    # email: even tickets. refund now 0, 2, .., 12 (7; 4 of them negative: 0, 2, 4, 6), before 0 (1 of 10)
    d = topics(ws, view(channel="email"))
    refund = rows_by_name(d)[NAMES["refund"]]
    assert d["total_text"] == "13"  # 7 + 3 + 2 + the ticket without text
    assert (refund["tickets"], refund["before"], refund["share_text"]) == (7, 1, "53.8%")
    assert cell(refund, "sentiment_negative")["text"] == "57.1%"
    assert cell(refund, "csat")["n"] == 2  # tickets 0 and 2 answered (5, 4)
    assert all(e["ticket_id"] in {tid("refund", "n", i) for i in range(0, 14, 2)} for e in refund["examples"])
    # every link carries the view's filters and the topic
    q = parse_qs(urlsplit(refund["tickets_href"]).query)
    assert q["channel"] == ["email"] and q["discovered_topic"] == [NAMES["refund"]]
    assert q["from"] == ["2026-03-02"] and q["to"] == ["2026-03-16"]


def test_click_through_lists_the_topics_tickets(ws: cxmetrics.Workspace) -> None:
    for key, expected in (("refund", 14), ("shipping", 3)):
        row = rows_by_name(topics(ws, view()))[NAMES[key]]
        params = parse_qs(urlsplit(row["tickets_href"]).query)
        f = Filters.parse(params, anchor=date(2026, 3, 16))
        listed = tickets(ws, f, params["metric"][0], extra_where(params))
        assert listed["total"] == expected
        assert {r["ticket_id"] for r in listed["rows"]} == {tid(key, "n", i) for i in range(expected)}
    # a quality cell opens the rows it counts: the refund messages scored, 14 of them
    neg = cell(rows_by_name(topics(ws, view()))[NAMES["refund"]], "sentiment_negative")
    params = parse_qs(urlsplit(neg["href"]).query)
    f = Filters.parse(params, anchor=date(2026, 3, 16))
    listed = tickets(ws, f, params["metric"][0], extra_where(params))
    assert listed["total"] == 14 and listed["headline"] == "14 customer messages behind Negative sentiment"
    label = listed["headings"].index("Sentiment")
    assert sorted(r["cells"][label] for r in listed["rows"]) == ["negative"] * 7 + ["neutral"] * 7
    # and a scorecard cell its agent's replies: A1's 8 replies to a question, 6 answering it
    params = parse_qs(urlsplit(next(c for c in next(r for r in agents(ws, view(), min_n=1)["rows"]
                                                   if r["agent_id"] == "A1")["text_cells"]
                                    if c["metric"] == "reply_thorough")["href"]).query)
    listed = tickets(ws, Filters.parse(params, anchor=date(2026, 3, 16)), "reply_thorough", extra_where(params))
    assert listed["headline"] == "8 replies behind Thorough replies"
    assert sorted(r["value"] for r in listed["rows"]) == ["no"] * 2 + ["yes"] * 6


def test_sentiment_shift_lists_its_tickets(ws: cxmetrics.Workspace) -> None:
    """A sentiment_shift number (nps kind, over tickets: no survey score) opens its tickets,
    each with what it counts for: +1 better, -1 worse, 0 the same."""
    assert ws.metrics(["sentiment_shift"], start="2026-03-02", end="2026-03-16").to_pylist()[0]["n"] == 3
    listed = tickets(ws, view(), "sentiment_shift")
    assert listed["total"] == 3 and listed["headline"] == "3 tickets behind Sentiment shift"
    shift = listed["headings"].index("Shift")
    assert sorted((r["ticket_id"], r["cells"][shift], r["value"]) for r in listed["rows"]) == [
        ("REF-n00", "better", "1"), ("REF-n01", "worse", "-1"), ("REF-n02", "same", "0")]


def test_help_desk_topics_without_a_topic_model(plain_path: Path) -> None:
    with cxmetrics.open(plain_path) as w:
        d = topics(w, view())
    assert not d["discovered"] and d["dimension"] == "topic"
    assert d["discover_command"] == "cxmetrics topics discover --auto"
    rows = rows_by_name(d)
    assert (rows["hd-refund"]["tickets"], rows["hd-refund"]["share_text"]) == (14, "58.3%")
    assert rows["hd-refund"]["change"]["emerging"] and rows["hd-refund"]["words"] == ""
    assert [e["ticket_id"] for e in rows["hd-refund"]["examples"]] == ["REF-n12", "REF-n11", "REF-n10"]
    # no text layer: no sentiment or consistency columns, and the page says how to get them
    assert [c["metric"] for c in d["columns"]] == ["csat", "frt"]
    assert d["missing"] == ["Negative sentiment", "Consistency"]
    assert rows_by_name(d)["hd-login"]["tickets_href"].endswith("topic=hd-login")


# -- the page over HTTP --------------------------------------------------------------------


def _client(path: Path) -> Iterator[TestClient]:
    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    app = create_app(path, watch_alerts=False)
    _, viewer = create_key(app.state.workspace, "topics viewer", "viewer")
    with TestClient(app) as c:
        assert c.post("/login", data={"key": viewer, "next": "/"}, follow_redirects=False).status_code == 303
        yield c


@pytest.fixture(scope="module")
def client(text_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    import shutil

    copy = tmp_path_factory.mktemp("topics-served") / "ws"
    shutil.copytree(text_path, copy)
    yield from _client(copy)


def test_the_page_renders_escaped_customer_text(client: TestClient) -> None:
    r = client.get("/topics?from=2026-03-02&to=2026-03-16")
    assert r.status_code == 200, r.text
    page = r.text
    assert '<a class="nav-link active" href="/topics' in page
    assert "Discovered topics" in page and "58.3%" in page and "+48.3 pts" in page and "emerging" in page
    # topic names, words and examples are customer text: shown, never run
    for raw in ("<i>ship</i>", "<b>late</b>", "<script>alert('x')</script>", "<img src=x onerror=alert(1)>"):
        assert raw not in page
    assert "&lt;i&gt;ship&lt;/i&gt; &amp; &#34;track&#34;" in page  # (markupsafe writes " as &#34;)
    assert "&lt;script&gt;alert(" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;late&lt;/b&gt;" in page
    # the link to the shipping topic's tickets carries its name url-encoded
    assert "discovered_topic=%3Ci%3Eship%3C%2Fi%3E+%26+%22track%22" in page


def test_the_page_follows_the_filters_and_empty_views(client: TestClient) -> None:
    r = client.get("/topics?from=2026-03-02&to=2026-03-16&channel=chat")
    assert r.status_code == 200 and "11 tickets created" in r.text  # odd tickets: 7 + 3 + 1
    empty = client.get("/topics?from=2025-01-01&to=2025-02-01")
    assert empty.status_code == 200 and "No tickets in this view" in empty.text
    bad = client.get("/topics?from=2026-03-02")
    assert bad.status_code == 400 and "give both" in bad.text


def test_the_page_without_a_topic_model_says_how_to_discover(plain_path: Path,
                                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    import shutil

    copy = tmp_path_factory.mktemp("topics-plain-served") / "ws"
    shutil.copytree(plain_path, copy)
    for c in _client(copy):
        r = c.get("/topics?from=2026-03-02&to=2026-03-16")
        assert r.status_code == 200, r.text
        assert "Help desk topics" in r.text and "cxmetrics topics discover --auto" in r.text
        assert "hd-refund" in r.text and "cxmetrics text refresh" in r.text
        assert "Negative sentiment and consistency per topic appear once the text layer is on" in r.text
        a = c.get("/agents?from=2026-03-02&to=2026-03-16&min_n=1")
        assert a.status_code == 200 and "Columns from the texts (Sentiment, Personalised" in a.text
        assert "text-col" not in a.text
        t = c.get("/trends?from=2026-03-02&to=2026-03-16&metric=sentiment_mean")
        assert t.status_code == 200 and "No text facts yet" in t.text and 'id="sentiment-note"' in t.text


def test_tickets_page_filters_by_discovered_topic(client: TestClient) -> None:
    r = client.get("/tickets?metric=tickets&from=2026-03-02&to=2026-03-16&discovered_topic="
                   + "refund+%C2%B7+money+back")
    assert r.status_code == 200
    # (a filter of the bar since issue 11: named by its label, as Channel and Team are)
    assert "14 tickets created" in r.text and "Discovered topic: refund · money back" in r.text
    # ticket ids link to the ticket page
    links = set(re.findall(r'class="ticket-link" href="[^"]*">(REF-n\d\d)</a>', r.text))
    assert links == {tid("refund", "n", i) for i in range(14)}


# -- sentiment on Trends -------------------------------------------------------------------


def test_trends_show_customer_sentiment_when_scored(ws: cxmetrics.Workspace) -> None:
    d = trends(ws, view(), "frt", grain="week")
    s = d["sentiment"]
    assert s is not None and not s["empty"]
    mean = {p["period"]: (p["value"], p["n"]) for p in s["points"]["sentiment_mean"]}
    negative = {p["period"]: (p["value"], p["n"]) for p in s["points"]["sentiment_negative"]}
    # the week of 2 March: messages of tickets created on days 0-6 of the period:
    #   refund i = 0..6 (7 at -0.6) and 13 (0.0); login 0 (-0.8), 1..5 (+0.5 each); shipping 0..2 (0.0)
    #   17 messages, 8 negative, sum -4.2 - 0.8 + 2.5 = -2.5
    assert negative["2026-03-02"][1] == 17 and negative["2026-03-02"][0] == pytest.approx(100 * 8 / 17)
    assert mean["2026-03-02"][0] == pytest.approx(-2.5 / 17)
    # the week of 9 March: refund i = 7..12, all neutral
    assert mean["2026-03-09"] == (pytest.approx(0.0), 6) and negative["2026-03-09"][0] == 0.0
    # a point opens the messages behind it, in the view's filters
    bars = s["figure"]["data"][0]
    assert "metric=sentiment_negative&from=2026-03-02&to=2026-03-09" in bars["customdata"][0]


def test_trends_without_text_facts_say_how_to_get_them(plain_path: Path) -> None:
    with cxmetrics.open(plain_path) as w:
        d = trends(w, view(), "frt")
        assert d["sentiment"] is None and d["text_command"] == "cxmetrics text refresh"
        assert trends(w, view(), "sentiment_negative")["text_hint"] == "cxmetrics text refresh"


# -- sentiment and answer signals on the scorecard -----------------------------------------


def test_scorecard_carries_sentiment_and_answer_signals(ws: cxmetrics.Workspace) -> None:
    d = agents(ws, view(), min_n=1, rank_by="solved_tickets")
    assert [c["metric"] for c in d["text_columns"]] == ["sentiment_mean", "reply_personalised", "reply_empathetic",
                                                        "reply_thorough", "consistency"]
    assert d["text_missing"] == []
    cells = {r["agent_id"]: {c["metric"]: c for c in r["text_cells"]} for r in d["rows"]}
    a1, a2, a3 = cells["A1"], cells["A2"], cells["A3"]
    # A1 (refund): sentiment (7 x -0.6 + 7 x 0) / 14; personalised 10/14; empathetic 7/14 (even tickets);
    # thorough 6 of the 8 replies to a question; consistency 100 x mean(0.9, 0.8, 0.7, 0.2)
    assert [a1[m]["text"] for m in ("sentiment_mean", "reply_personalised", "reply_empathetic", "reply_thorough",
                                    "consistency")] == ["-0.30", "71.4%", "50.0%", "75.0%", "65.00"]
    assert a1["reply_thorough"]["n"] == 8 and a1["sentiment_mean"]["n"] == 14
    # A2 (login): (-0.8 + 5 x 0.5) / 6 = 0.283; 3/6 personalised; never empathetic; nothing asked
    assert [a2[m]["text"] for m in ("sentiment_mean", "reply_personalised", "reply_empathetic", "reply_thorough",
                                    "consistency")] == ["0.28", "50.0%", "0.0%", "—", "90.00"]
    # A3 (shipping): neutral customers, no scored replies
    assert a3["sentiment_mean"]["text"] == "0.00" and a3["reply_personalised"]["text"] == "—"
    q = parse_qs(urlsplit(a1["reply_thorough"]["href"]).query)
    assert q["metric"] == ["reply_thorough"] and q["assignee"] == ["A1"]
    # the view's filters narrow them too: email tickets only -> A1's even tickets, 4 of 7 customers negative
    email = agents(ws, view(channel="email"), min_n=1, rank_by="solved_tickets")
    a1_email = next(r for r in email["rows"] if r["agent_id"] == "A1")
    assert next(c for c in a1_email["text_cells"] if c["metric"] == "sentiment_mean")["text"] == "-0.34"  # -2.4 / 7


def test_scorecard_without_text_facts_says_how_to_get_them(plain_path: Path) -> None:
    with cxmetrics.open(plain_path) as w:
        d = agents(w, view(), min_n=1)
    assert d["text_columns"] == [] and all(r["text_cells"] == [] for r in d["rows"])
    assert d["text_missing"] == ["Sentiment", "Personalised", "Empathetic", "Thorough", "Consistency"]


def test_agents_and_trends_pages_render_the_text_columns(client: TestClient) -> None:
    agents_page = client.get("/agents?from=2026-03-02&to=2026-03-16&min_n=1")
    assert agents_page.status_code == 200, agents_page.text
    assert re.search(r'<th class="r text-col" title="Mean sentiment score[^"]*">Sentiment</th>', agents_page.text)
    # (the cell carries its sort value since issue 11: data-sort after data-metric)
    assert re.search(r'data-metric="reply_personalised"[^>]*><a href="/tickets\?metric=reply_personalised', agents_page.text)
    trends_page = client.get("/trends?from=2026-03-02&to=2026-03-16&metric=csat")
    assert trends_page.status_code == 200 and 'id="sentiment-chart"' in trends_page.text


# -- in a real browser ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def text_server(text_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app over a copy of the hand-made workspace, served on a free loopback port."""
    import shutil

    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    path = tmp_path_factory.mktemp("topics-browser") / "ws"
    shutil.copytree(text_path, path)
    app = create_app(path, watch_alerts=False)
    _, admin = create_key(app.state.workspace, "topics admin", "admin")
    with serving(app, "cxmetrics-topics-server") as url:
        yield Server(url, admin, admin, app, path)


def test_topics_page_in_a_browser(browser: Any, text_server: Server) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    assert context.request.post(text_server.url + "/login", form={"key": text_server.admin, "next": "/"}).ok
    page = context.new_page()
    console = Console(page)
    try:
        page.goto(text_server.url + "/topics?from=2026-03-02&to=2026-03-16")
        page.wait_for_selector("#topics-table tbody tr")
        page.wait_for_selector("#live.on")
        assert page.inner_text("#topics-table tbody tr:first-child .topic-name") == NAMES["refund"]
        # customer text shows as text: the markup in a topic's name is not rendered as markup
        assert page.locator("#topics-table i").count() == 0
        assert page.inner_text("#topic-3 .topic-name") == NAMES["shipping"]
        page.click("#topic-1 details.examples summary")
        assert "REF-n12" in page.inner_text("#topic-1 details.examples")
        assert page.inner_text("#emerging").startswith("Emerging:") and NAMES["refund"] in page.inner_text("#emerging")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "topics.png"), full_page=True)
        # a topic's tickets, one click away
        page.click("#topic-1 td:nth-child(2) a")
        page.wait_for_url(re.compile(r".*/tickets\?metric=tickets&.*discovered_topic=refund"))
        assert page.inner_text("#tickets-title") == "14 tickets created"
        # sentiment on Trends, the text columns on the scorecard
        page.goto(text_server.url + "/trends?from=2026-03-02&to=2026-03-16&metric=csat&grain=day")
        page.wait_for_selector("#sentiment-chart .main-svg")
        page.screenshot(path=str(SCREENSHOTS / "trends-sentiment.png"), full_page=True)
        page.goto(text_server.url + "/agents?from=2026-03-02&to=2026-03-16&min_n=1")
        page.wait_for_selector("#scorecard tbody tr")
        assert "SENTIMENT\tPERSONALISED" in page.inner_text("#scorecard thead").upper()
        page.screenshot(path=str(SCREENSHOTS / "agents-text.png"), full_page=True)
        assert page.locator(".error-box").count() == 0
        assert console.errors == [], console.errors
    finally:
        context.close()


def test_emerging_is_the_librarys_verdict(ws: cxmetrics.Workspace) -> None:
    """The page and `cxmetrics topics --discovered` (ws.topics) flag the same topics."""
    for dims in ({}, {"channel": "email"}, {"channel": "chat"}):
        f = view(**dims)
        page = {r["name"]: bool(r["change"] and r["change"]["emerging"]) for r in topics(ws, f)["rows"] if not r["none"]}
        lib = {r["topic"]: bool(r["emerging"]) for r in ws.topics(start=f.start, end=f.end, where=f.where, limit=100,
                                                                 discovered=True).to_pylist() if r["topic"]}
        assert page == {**dict.fromkeys(page, False), **lib}, dims


def test_tickets_in_no_topic_say_what_to_do(tmp_path: Path) -> None:
    """Tickets with neither a help desk topic nor a discovered one: the page says how to
    discover topics rather than showing an empty table."""
    (tmp_path / "t.csv").write_text("ticket_id,created_at,channel\nT1,2026-03-03T09:00:00Z,email\n", encoding="utf-8")
    with cxmetrics.open(tmp_path / "ws", create=True) as w:
        w.import_file("tickets", tmp_path / "t.csv")
        w.refresh()
    for c in _client(tmp_path / "ws"):
        r = c.get("/topics?from=2026-03-02&to=2026-03-16")
        assert r.status_code == 200 and "No topics on the tickets in this view" in r.text
        assert "cxmetrics topics discover --auto" in r.text and 'id="topics-table"' not in r.text
