"""Writes: event ingest (idempotent, visible in metrics), uploads, annotations."""

from __future__ import annotations

import time

import pytest

from tests.api.conftest import Api, rows

DAY = {"from": "2026-11-01", "to": "2026-11-02"}  # after the demo's year: only what a test posts


def conversation(ticket: str, reply_after_s: int, channel: str = "chat") -> list[dict[str, object]]:
    """A customer ticket created at 2026-11-01 09:00Z and answered by an agent `reply_after_s` later."""
    m, s = divmod(reply_after_s, 60)
    return [
        {"event_id": f"{ticket}-1", "ticket_id": ticket, "ts": "2026-11-01T09:00:00Z", "kind": "created",
         "actor_type": "customer", "actor_id": "C-9", "channel": channel, "priority": "high", "team": "Tier 1"},
        {"event_id": f"{ticket}-2", "ticket_id": ticket, "ts": f"2026-11-01T09:{m:02d}:{s:02d}Z", "kind": "message",
         "actor_type": "agent", "actor_id": "A-9", "public": True},
    ]


def test_posted_events_show_in_metrics_and_reposting_changes_nothing(fresh_api: Api) -> None:
    api = fresh_api
    before = api.get("/api/v1/metrics", params={"metrics": "tickets,frt", **DAY}).json()["rows"]
    assert {r["metric"]: r["n"] for r in before} == {"tickets": 0, "frt": 0}
    version = api.app.state.hub.version
    events = conversation("API-1", 240) + conversation("API-2", 600, "email")
    r = api.post("/api/v1/events", json=events, params={"source": "api-test"})
    assert r.status_code == 200, r.text
    s = r.json()
    assert (s["read"], s["inserted"], s["updated"], s["unchanged"], s["quarantined"]) == (4, 4, 0, 0, 0)
    assert s["version"] == version + 1 == api.app.state.hub.version
    after = {r["metric"]: r for r in api.get("/api/v1/metrics", params={"metrics": "tickets,frt", **DAY}).json()["rows"]}
    # two tickets; FRT median of 240 s and 600 s = 420 s
    assert after["tickets"]["n"] == 2 and after["frt"]["value"] == pytest.approx(420.0)
    # idempotent: the same batch again (also wrapped as {"events": [...]}) stores nothing
    again = api.post("/api/v1/events", json={"events": events}, params={"source": "api-test"}).json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 4)
    assert again["version"] == version + 1  # nothing changed: no new version
    assert rows(api.ws, "SELECT count(*) FROM events WHERE source = 'api-test'") == [(4,)]
    # an event id posted with new content replaces it: the reply came later
    changed = conversation("API-1", 900)[1:]
    third = api.post("/api/v1/events", json=changed, params={"source": "api-test"}).json()
    assert (third["inserted"], third["updated"]) == (0, 1)
    frt = api.get("/api/v1/metrics", params={"metrics": "frt", **DAY}).json()["rows"][0]
    assert frt["value"] == pytest.approx((900 + 600) / 2)


def test_bad_events_are_quarantined_with_reasons(fresh_api: Api) -> None:
    events = conversation("API-3", 60) + [
        {"event_id": "bad-ts", "ticket_id": "API-3", "ts": "yesterday", "kind": "message", "actor_type": "agent"},
        {"event_id": "bad-kind", "ticket_id": "API-3", "ts": "2026-11-01T10:00:00Z", "kind": "teleport"},
        {"ticket_id": "API-3", "ts": "2026-11-01T10:00:00Z", "kind": "message"},
    ]
    s = fresh_api.post("/api/v1/events", json=events).json()
    assert s["read"] == 5 and s["inserted"] == 2 and s["quarantined"] == 3
    assert s["read"] == s["inserted"] + s["updated"] + s["unchanged"] + s["quarantined"]
    by_line = {q["line"]: q["reason"] for q in s["quarantine"]}
    assert set(by_line) == {3, 4, 5}
    assert "ts 'yesterday'" in by_line[3] and "teleport" in by_line[4] and "event_id" in by_line[5]
    listed = fresh_api.get(f"/api/v1/imports/{s['import_id']}/quarantine").json()["rows"]
    assert sorted(q["line"] for q in listed) == [3, 4, 5]


@pytest.mark.parametrize(("body", "status", "words"), [
    ("not json", 400, "not JSON"),
    ({"rows": []}, 400, "JSON array of events"),
    ([], 400, "no events"),
    ([1, 2], 400, "not a JSON object"),
    ([{"event_id": "x", "bad\"name": 1}], 400, "not a column name"),
])
def test_malformed_bodies_are_refused(fresh_api: Api, body: object, status: int, words: str) -> None:
    kw = {"content": body} if isinstance(body, str) else {"json": body}
    r = fresh_api.post("/api/v1/events", **kw)
    assert r.status_code == status and words in r.json()["error"]["message"], r.text


def test_upload_reconciles_and_quarantines(fresh_api: Api) -> None:
    csv_text = ("ticket_id,created_at,channel,first_reply_at,solved_at,csat\n"
                "UP-1,2026-11-01T08:00:00Z,email,2026-11-01T08:30:00Z,2026-11-01T12:00:00Z,5\n"
                "UP-2,2026-11-01T09:00:00Z,chat,2026-11-01T09:01:00Z,,\n"
                "UP-3,2026-11-01T10:00:00Z,chat,,2026-10-01T10:00:00Z,\n"
                "UP-4,2026-11-01T11:00:00Z,phone,,,9\n")
    r = fresh_api.post("/api/v1/imports/tickets", files={"file": ("flat.csv", csv_text, "text/csv")},
                       data={"source": "upload"})
    assert r.status_code == 200, r.text
    s = r.json()
    assert (s["read"], s["inserted"], s["quarantined"]) == (4, 2, 2)
    reasons = " ".join(q["reason"] for q in s["quarantine"])
    assert "before created_at" in reasons and "csat 9" in reasons
    frt = fresh_api.get("/api/v1/metrics", params={"metrics": "frt,tickets", **DAY, "where": "source:upload"}).json()
    got = {x["metric"]: x for x in frt["rows"]}
    assert got["tickets"]["n"] == 2 and got["frt"]["value"] == pytest.approx((1800 + 60) / 2)
    # the same file again: nothing new, and the quarantine holds this upload's rejects only
    again = fresh_api.post("/api/v1/imports/tickets", files={"file": ("flat.csv", csv_text, "text/csv")},
                           data={"source": "upload"}).json()
    assert (again["inserted"], again["unchanged"], again["quarantined"]) == (0, 2, 2)
    logged = fresh_api.get("/api/v1/imports").json()["rows"]
    assert logged[0]["import_id"] == again["import_id"] and logged[0]["read"] == 4


def test_upload_with_a_mapping(fresh_api: Api) -> None:
    csv_text = "Ticket;Opened;Via\nMAP-1;01/11/2026 08:00;E-mail\n"
    mapping = ('[columns]\n"Ticket" = "ticket_id"\n"Opened" = "created_at"\n"Via" = "channel"\n'
               '[timestamps]\ndayfirst = true\n[values.channel]\n"E-mail" = "email"\n')
    s = fresh_api.post("/api/v1/imports/tickets", files={"file": ("export.csv", csv_text, "text/csv"),
                                                        "mapping": ("m.toml", mapping, "text/plain")}).json()
    assert s["inserted"] == 1, s
    assert rows(fresh_api.ws, "SELECT channel, created_at::VARCHAR FROM tickets WHERE ticket_id = 'MAP-1'") == [
        ("email", "2026-11-01 08:00:00+00")]
    bad = fresh_api.post("/api/v1/imports/tickets", files={"file": ("e.csv", csv_text, "text/csv"),
                                                          "mapping": ("m.toml", "[columns\n", "text/plain")})
    assert bad.status_code == 400 and bad.json()["error"]["message"]
    assert fresh_api.post("/api/v1/imports/widgets", files={"file": ("e.csv", csv_text)}).status_code == 422


def test_annotations_create_list_delete(fresh_api: Api) -> None:
    api = fresh_api
    r = api.post("/api/v1/annotations", json={"ts": "2026-06-01T00:00:00Z", "label": "New macro set", "kind": "policy",
                                              "annotation_id": "macros"})
    assert r.status_code == 201 and r.json()["rows"][0]["source"] == "api"
    listed = api.get("/api/v1/annotations", params={"from": "2026-05-31", "to": "2026-06-02"}).json()["rows"]
    assert [a["annotation_id"] for a in listed] == ["macros"]
    bad = api.post("/api/v1/annotations", json={"ts": "2026-06-01T00:00:00Z", "label": "x", "kind": "party"})
    assert bad.status_code == 400 and "party" in bad.json()["error"]["message"]
    assert api.post("/api/v1/annotations", json={"label": "no time"}).status_code == 422
    assert api.client.delete("/api/v1/annotations/macros", headers=api.h()).status_code == 200
    assert api.client.delete("/api/v1/annotations/macros", headers=api.h()).status_code == 404
    assert api.get("/api/v1/annotations", params={"from": "2026-05-31", "to": "2026-06-02"}).json()["rows"] == []


def test_without_waiting_the_facts_follow_and_writes_share_a_refresh(fresh_api: Api) -> None:
    api = fresh_api
    refresher = api.app.state.refresher
    refresher.max_delay_s = 3.0  # a wide window, so the three writes surely land in one
    before_refreshes, before_version = refresher.refreshes, api.app.state.hub.version
    answers = [api.post("/api/v1/events", json=conversation(f"NW-{i}", 60 * (i + 1)), params={"wait": "false"}).json()
               for i in range(3)]
    assert all(a["inserted"] == 2 and a["visible"] is False for a in answers)
    assert api.app.state.hub.wait_for(before_version + 1, 15)  # published after the delay
    deadline = time.monotonic() + 15
    while api.get("/api/v1/metrics", params={"metrics": "tickets", **DAY}).json()["rows"][0]["n"] < 3:
        assert time.monotonic() < deadline
    # three quick writes, one refresh (they arrived within one delay)
    assert refresher.refreshes - before_refreshes == 1 and api.app.state.hub.version == before_version + 1
    frt = api.get("/api/v1/metrics", params={"metrics": "frt", **DAY}).json()["rows"][0]
    assert frt["n"] == 3 and frt["value"] == pytest.approx(120.0)  # median of 60, 120, 180 s


def test_concurrent_writes_and_refreshes_lose_nothing(fresh_api: Api) -> None:
    """Every ticket posted from three clients at once, with refreshes coalesced in between,
    ends up in the facts exactly as a full refresh derives them."""
    import threading

    from cxmetrics.facts import refresh_facts

    api = fresh_api
    api.app.state.refresher.max_delay_s = 0.05

    def client(c: int) -> None:
        for b in range(6):
            events = [e for i in range(20) for e in conversation(f"ST-{c}-{b}-{i}", 30 + i + 60 * c)]
            r = api.post("/api/v1/events", json=events, params={"wait": "false", "source": "stress"})
            assert r.status_code == 200 and r.json()["inserted"] == 40, r.text

    threads = [threading.Thread(target=client, args=(c,)) for c in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    last = api.post("/api/v1/events", json=conversation("ST-last", 5), params={"source": "stress"}).json()
    assert last["visible"] is True
    query = "SELECT count(*), sum(frt_s), count(*) FILTER (frt_s IS NULL) FROM ticket_facts WHERE source = 'stress'"
    incremental = rows(api.ws, query)
    assert incremental[0][0] == 3 * 6 * 20 + 1 and incremental[0][2] == 0
    with api.app.state.derive_lock, api.ws.cursor(auto_refresh=False) as cur:
        refresh_facts(cur.con, full=True)
    assert rows(api.ws, query) == incremental


def test_with_the_text_layer_on_the_answer_comes_with_the_facts_and_the_text_facts_follow(fresh_api: Api) -> None:
    from cxmetrics.text._store import refresh_text

    api = fresh_api
    with api.ws.cursor(auto_refresh=False) as cur:
        refresh_text(cur, steps=("sentiment",))  # the text layer on (as `cxmetrics text refresh` turns it on)
    refresher = api.app.state.refresher
    text_before, version = refresher.text_refreshes, api.app.state.hub.version
    events = conversation("TX-1", 300)
    events.insert(1, {"event_id": "TX-1-0", "ticket_id": "TX-1", "ts": "2026-11-01T09:01:00Z", "kind": "message",
                      "actor_type": "customer", "actor_id": "C-1", "public": True,
                      "body": "This is terrible, my order never arrived and nobody answers."})
    r = api.post("/api/v1/events", json=events, params={"source": "api-test"}).json()
    assert r["inserted"] == 3 and r["visible"] is True and r["version"] == version + 1
    frt = api.get("/api/v1/metrics", params={"metrics": "frt", **DAY}).json()["rows"][0]
    assert frt["n"] == 1 and frt["value"] == pytest.approx(300.0)  # the facts: at once
    # the text facts: a moment later, in a refresh of their own, announced on the hub
    assert api.app.state.hub.wait_for(version + 2, 15)
    assert refresher.text_refreshes == text_before + 1
    scored = rows(api.ws, "SELECT label FROM message_sentiment WHERE source = 'api-test' AND ticket_id = 'TX-1'")
    assert scored == [("negative",)]
    # and the text layer's status says so
    status = api.get("/api/v1/text/status")
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["on"] is True and body["pending_tickets"] == 0
    assert body["rows"]["message_sentiment"] == rows(api.ws, "SELECT count(*) FROM message_sentiment")[0][0]
    assert {m["kind"]: m["model_id"] for m in body["models"]} == {"sentiment": "default", "topics": None}


def test_the_text_status_counts_the_tickets_whose_text_facts_are_pending(fresh_api: Api) -> None:
    from cxmetrics.text._store import refresh_text

    api = fresh_api
    assert api.get("/api/v1/text/status").json()["on"] is False  # not on yet: nothing pending
    with api.ws.cursor(auto_refresh=False) as cur:
        refresh_text(cur, steps=("sentiment",))
        # two tickets written straight to the store, past the server's refresher: their text is pending
        cur.import_table("events", __import__("pyarrow").table(
            {k: [str(e.get(k)) if e.get(k) is not None else None for e in conversation("P-1", 60) + conversation(
                "P-2", 60)] for k in ("event_id", "ticket_id", "ts", "kind", "actor_type", "actor_id")}),
            source="api-test", label="direct")
    api.app.state.hub.publish(["events"])  # (a new version: the status is not answered from the cache)
    body = api.get("/api/v1/text/status").json()
    assert body["on"] is True and body["pending_tickets"] == 2
