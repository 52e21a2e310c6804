"""Connector benchmark: a Zendesk export against our own import of the same tickets.

Writes N tickets (default 100k) twice: as a Zendesk export (incremental ticket export pages
of 1000 tickets; each ticket's ten events as ticket audits for even ids and as incremental
ticket events with comment events for odd ids, in pages of 1000; users and groups pages),
and as our flat tickets CSV of the same tickets (the issue's reference: first reply, solve,
replies, reopens as the events give them). Optionally (`--references flat,events`) also as
our events CSV of the same ten events per ticket, the same information the Zendesk export
carries. Each import runs in its own fresh interpreter into a fresh workspace and prints its
own peak RSS; throughput is tickets per second, so every import is measured on the same
tickets (rows per second are given too: the Zendesk and events imports write 11 rows a
ticket, the flat one 4). The ratio is Zendesk's rate over the flat import's in the same run.

    python bench/connectors_bench.py --tickets 100000          # JSON in bench/out/connectors.json
    python bench/connectors_bench.py --tickets 10000 --references flat,events
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

PAGE = 1000  # the incremental exports' page size
AGENTS = 200
END_USERS = 50_000
GROUPS = {360001: "Tier 1", 360002: "Tier 2", 360003: "Billing"}
CHANNELS = ("email", "web", "chat", "voice", "native_messaging", "twitter")
# how our importer names those channels (the flat file says it as we store it)
OURS = {"email": "email", "web": "web", "chat": "chat", "voice": "phone", "native_messaging": "messaging",
        "twitter": "social"}
PRIORITIES = ("low", "normal", "high", "urgent")
TYPES = ("question", "incident", "problem", "task")
EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)
SUBDOMAIN = "https://bench.zendesk.com/api/v2"

ZENDESK = """
import cxmetrics, resource, sys, time
from cxmetrics.connectors import import_zendesk
t = time.perf_counter()
with cxmetrics.open(sys.argv[2], create=True) as ws:
    s = import_zendesk(ws, sys.argv[1])
    c = ws.counts()
tables = s.tables
r = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - t, tables["tickets"].inserted, tables["events"].inserted,
      sum(x.quarantined for x in tables.values()), c["tickets"] + c["events"] + c["agents"],
      r.ru_utime + r.ru_stime, r.ru_maxrss / 1024)
"""

OURS_IMPORT = """
import cxmetrics, resource, sys, time
t = time.perf_counter()
with cxmetrics.open(sys.argv[2], create=True) as ws:
    s = ws.import_file(sys.argv[3], sys.argv[1])
    c = ws.counts()
tickets = c["tickets"]
r = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - t, tickets, c["events"], s.quarantined, c["tickets"] + c["events"] + c["agents"],
      r.ru_utime + r.ru_stime, r.ru_maxrss / 1024)
"""


def iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def timeline(i: int) -> dict[str, Any]:
    """Ticket i's facts: the same ones feed every format."""
    created = EPOCH + timedelta(seconds=(i * 311) % 31_536_000)
    return {
        "id": 1_000_000 + i, "created": created, "reply": created + timedelta(seconds=120 + i % 7200),
        "answer": created + timedelta(seconds=9000 + i % 3600), "note": created + timedelta(seconds=14000),
        "solve": created + timedelta(seconds=20000 + i % 86400), "channel": CHANNELS[i % len(CHANNELS)],
        "priority": PRIORITIES[(i // 7) % 4], "group": 360001 + i % 3, "type": TYPES[(i // 3) % 4],
        "requester": 10_000_000 + i % END_USERS, "agent": 20_000 + i % AGENTS,
        "subject": f"Subject of ticket {i}, about " + ("a refund", "a login problem", "a late parcel")[i % 3],
        "tags": ["vip", "billing"] if i % 4 == 0 else ["billing"],
    }


def zendesk_ticket(t: dict[str, Any]) -> dict[str, Any]:
    """A ticket as the incremental ticket export returns it (Tickets API JSON format)."""
    tid = t["id"]
    return {
        "url": f"{SUBDOMAIN}/tickets/{tid}.json", "id": tid, "external_id": None,
        "via": {"channel": t["channel"], "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": iso(t["created"]), "updated_at": iso(t["solve"]), "generated_timestamp": 0,
        "type": t["type"], "subject": t["subject"], "raw_subject": t["subject"],
        "description": "Hello, I need help with my order.", "priority": t["priority"], "status": "solved",
        "recipient": None, "requester_id": t["requester"], "submitter_id": t["requester"],
        "assignee_id": t["agent"], "organization_id": None, "group_id": t["group"], "collaborator_ids": [],
        "follower_ids": [], "email_cc_ids": [], "forum_topic_id": None, "problem_id": None, "has_incidents": False,
        "is_public": True, "due_at": None, "tags": t["tags"], "custom_fields": [{"id": 27642, "value": None}],
        "satisfaction_rating": {"score": "unoffered"}, "sharing_agreement_ids": [], "custom_status_id": 1,
        "fields": [{"id": 27642, "value": None}], "followup_ids": [], "ticket_form_id": 1, "brand_id": 1,
        "allow_channelback": False, "allow_attachments": True, "from_messaging_channel": False,
    }


def _comment(eid: int, author: int, body: str, public: bool) -> dict[str, Any]:
    return {"id": eid, "type": "Comment", "author_id": author, "body": body, "html_body": f"<p>{body}</p>",
            "plain_body": body, "public": public, "attachments": [], "audit_id": eid // 10}


def audits(t: dict[str, Any]) -> list[dict[str, Any]]:
    """Ticket t's ten events as ticket audits (Ticket Audits API): 2 + 3 + 2 + 1 + 2."""
    tid, c, a = t["id"], t["requester"], t["agent"]
    base = tid * 100

    def audit(n: int, at: datetime, author: int, events: list[dict[str, Any]]) -> dict[str, Any]:
        return {"id": base + n * 10, "ticket_id": tid, "created_at": iso(at), "author_id": author,
                "metadata": {"system": {"client": "Mozilla/5.0", "ip_address": "192.0.2.1", "location": "Berlin"},
                             "custom": {}},
                "via": {"channel": "web" if author == a else t["channel"],
                        "source": {"from": {}, "to": {}, "rel": None}},
                "events": events}

    b = base
    return [
        audit(1, t["created"], c, [
            _comment(b + 11, c, "Hello, I need help with my order.", True),
            {"id": b + 12, "type": "Create", "field_name": "status", "value": "new"},
            {"id": b + 13, "type": "Create", "field_name": "priority", "value": t["priority"]},
            {"id": b + 14, "type": "Create", "field_name": "group_id", "value": str(t["group"])}]),
        audit(2, t["reply"], a, [
            _comment(b + 21, a, "Thanks, could you send the order number?", True),
            {"id": b + 22, "type": "Change", "field_name": "status", "value": "pending", "previous_value": "new"},
            {"id": b + 23, "type": "Change", "field_name": "assignee_id", "value": str(a), "previous_value": None}]),
        audit(3, t["answer"], c, [
            _comment(b + 31, c, "It is 12345.", True),
            {"id": b + 32, "type": "Change", "field_name": "status", "value": "open", "previous_value": "pending"}]),
        audit(4, t["note"], a, [_comment(b + 41, a, "Checked with the warehouse.", False)]),
        audit(5, t["solve"], a, [
            _comment(b + 51, a, "Your parcel ships today.", True),
            {"id": b + 52, "type": "Change", "field_name": "status", "value": "solved", "previous_value": "open"}]),
    ]


def ticket_events(t: dict[str, Any]) -> list[dict[str, Any]]:
    """The same ten events as incremental ticket events with comment events (child_events
    carry the changed field as a key; times in `timestamp`, Unix seconds)."""
    out = []
    for au in audits(t):
        children = []
        for e in au["events"]:
            if e["type"] == "Comment":
                children.append({"id": e["id"], "event_type": "Comment", "via": "Web form", "author_id": e["author_id"],
                                 "body": e["body"], "html_body": e["html_body"], "comment_public": e["public"],
                                 "public": e["public"], "attachments": []})
            else:
                child = {"id": e["id"], "event_type": e["type"], "via": "Web form", e["field_name"]: e["value"]}
                if e["type"] == "Change":
                    child["previous_value"] = e["previous_value"]
                children.append(child)
        ts = int(datetime.fromisoformat(au["created_at"].replace("Z", "+00:00")).timestamp())
        out.append({"id": au["id"], "ticket_id": t["id"], "timestamp": ts, "created_at": au["created_at"],
                    "updater_id": au["author_id"], "via": {"channel": au["via"]["channel"]},
                    "system": au["metadata"]["system"], "event_type": "Audit", "child_events": children,
                    "merged_ticket_ids": []})
    return out


def _write(path: Path, body: dict[str, Any]) -> None:
    path.write_text(json.dumps(body, separators=(",", ":")))


def write_zendesk(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pages = (n + PAGE - 1) // PAGE
    audit_buf: list[dict[str, Any]] = []
    event_buf: list[dict[str, Any]] = []
    n_audits = n_events = 0

    def flush_audits(final: bool) -> None:
        nonlocal n_audits, audit_buf
        while len(audit_buf) >= PAGE or (final and audit_buf):
            n_audits += 1
            _write(folder / f"ticket_audits-{n_audits:05d}.json",
                   {"audits": audit_buf[:PAGE], "before_cursor": None, "after_cursor": f"c{n_audits}",
                    "before_url": None, "after_url": None})
            audit_buf = audit_buf[PAGE:]

    def flush_events(final: bool) -> None:
        nonlocal n_events, event_buf
        while len(event_buf) >= PAGE or (final and event_buf):
            n_events += 1
            _write(folder / f"ticket_events-{n_events:05d}.json",
                   {"ticket_events": event_buf[:PAGE], "next_page": None, "count": len(event_buf[:PAGE]),
                    "end_time": 0, "end_of_stream": False})
            event_buf = event_buf[PAGE:]

    for p in range(pages):
        tickets = []
        for i in range(p * PAGE, min(n, (p + 1) * PAGE)):
            t = timeline(i)
            tickets.append(zendesk_ticket(t))
            if i % 2 == 0:
                audit_buf.extend(audits(t))
            else:
                event_buf.extend(ticket_events(t))
        _write(folder / f"tickets-{p + 1:05d}.json", {
            "tickets": tickets, "after_url": f"{SUBDOMAIN}/incremental/tickets/cursor.json?cursor=c{p + 1}",
            "before_url": None, "after_cursor": f"c{p + 1}", "before_cursor": None, "end_of_stream": p == pages - 1})
        flush_audits(False)
        flush_events(False)
    flush_audits(True)
    flush_events(True)
    users = [{"id": 20_000 + k, "url": f"{SUBDOMAIN}/users/{20_000 + k}.json", "name": f"Agent {k}",
              "email": f"agent{k}@example.com", "role": "agent", "default_group_id": 360001 + k % 3,
              "created_at": "2024-01-01T00:00:00Z", "active": True, "time_zone": "Europe/Berlin"}
             for k in range(AGENTS)]
    users += [{"id": 10_000_000 + k, "url": f"{SUBDOMAIN}/users/{10_000_000 + k}.json", "name": f"Customer {k}",
               "email": f"c{k}@example.org", "role": "end-user", "default_group_id": None,
               "created_at": "2024-01-01T00:00:00Z", "active": True, "time_zone": "Europe/Berlin"}
              for k in range(min(END_USERS, n))]
    for k in range(0, len(users), PAGE):
        _write(folder / f"users-{k // PAGE + 1:05d}.json", {"users": users[k:k + PAGE], "next_page": None,
                                                            "previous_page": None, "count": len(users)})
    _write(folder / "groups.json", {"groups": [{"id": g, "name": name, "deleted": False} for g, name in GROUPS.items()],
                                    "next_page": None, "count": len(GROUPS)})
    return folder


def write_flat(path: Path, n: int) -> Path:
    """The same tickets as our flat tickets CSV: first reply, solve and replies from the events."""
    cols = ["ticket_id", "created_at", "channel", "priority", "status", "requester_id", "assignee_id", "agent_type",
            "team", "topic", "created_by", "first_reply_at", "solved_at", "reopens", "replies", "subject", "tags"]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for i in range(n):
            t = timeline(i)
            w.writerow([t["id"], iso(t["created"]), OURS[t["channel"]], t["priority"], "solved", t["requester"],
                        t["agent"], "human", GROUPS[t["group"]], t["type"], "customer", iso(t["reply"]),
                        iso(t["solve"]), 0, 2, t["subject"], json.dumps(t["tags"])])
    return path


def write_events(path: Path, n: int) -> Path:
    """The same ten events per ticket in our events format (the created event carries the
    ticket's dimensions, so the ticket is created from it)."""
    cols = ["event_id", "ticket_id", "ts", "kind", "actor_type", "actor_id", "public", "status_to", "status_from",
            "channel", "priority", "team", "topic", "requester_id", "assignee_id", "subject", "tags", "body"]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for i in range(n):
            t = timeline(i)
            tid, c, a, b = t["id"], t["requester"], t["agent"], t["id"] * 100
            rows = [
                [b + 12, tid, t["created"], "created", "customer", c, "", "new", "", OURS[t["channel"]],
                 t["priority"], GROUPS[t["group"]], t["type"], c, "", t["subject"], json.dumps(t["tags"]), ""],
                [b + 11, tid, t["created"], "message", "customer", c, "true", *[""] * 10, "Hello, I need help."],
                [b + 21, tid, t["reply"], "message", "agent", a, "true", *[""] * 10, "Thanks, the order number?"],
                [b + 22, tid, t["reply"], "status", "agent", a, "", "pending", "new", *[""] * 9],
                [b + 23, tid, t["reply"], "assign", "agent", a, "", "", "", "", "", "", "", "", a, "", "", ""],
                [b + 31, tid, t["answer"], "message", "customer", c, "true", *[""] * 10, "It is 12345."],
                [b + 32, tid, t["answer"], "status", "customer", c, "", "open", "pending", *[""] * 9],
                [b + 41, tid, t["note"], "message", "agent", a, "false", *[""] * 10, "Checked with the warehouse."],
                [b + 51, tid, t["solve"], "message", "agent", a, "true", *[""] * 10, "Your parcel ships today."],
                [b + 52, tid, t["solve"], "status", "agent", a, "", "solved", "open", *[""] * 9],
            ]
            for r in rows:
                r[2] = iso(r[2])
                w.writerow(r)
    return path


def run_child(code: str, *args: str) -> list[str]:
    """Run code in a fresh interpreter (which prints its own peak RSS last)."""
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"child failed:\n{done.stderr}")
    return done.stdout.split()


def _size_mb(path: Path) -> float:
    files = [path] if path.is_file() else list(path.iterdir())
    return round(sum(f.stat().st_size for f in files) / 2**20, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--references", default="flat", help="flat and/or events (comma-separated)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    args.out.mkdir(exist_ok=True)
    n = args.tickets
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        t = time.perf_counter()
        data = {"zendesk": write_zendesk(Path(tmp) / "zendesk", n), "flat": write_flat(Path(tmp) / "flat.csv", n)}
        if "events" in args.references:
            data["events"] = write_events(Path(tmp) / "events.csv", n)
        print(f"wrote the data in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        runs: dict[str, dict[str, Any]] = {}
        for name in ("zendesk", *[r for r in ("flat", "events") if r in args.references]):
            load = os.getloadavg()[0]
            if name == "zendesk":
                got = run_child(ZENDESK, str(data[name]), str(Path(tmp) / f"ws_{name}"))
            else:
                kind = "tickets" if name == "flat" else "events"
                got = run_child(OURS_IMPORT, str(data[name]), str(Path(tmp) / f"ws_{name}"), kind)
            seconds, (tickets, events, quarantined, rows) = float(got[0]), map(int, got[1:5])
            assert tickets == n and quarantined == 0, (name, got)
            runs[name] = {
                "input_mb": _size_mb(data[name]), "seconds": round(seconds, 2), "tickets": tickets, "events": events,
                "rows_written": rows, "tickets_per_s": round(n / seconds), "rows_per_s": round(rows / seconds),
                # CPU seconds of the whole process (start-up included; DuckDB's threads add up):
                # less swayed than wall time by other work on a shared machine
                "cpu_s": round(float(got[5]), 2), "peak_rss_mb": round(float(got[6])),
                "load_average_1m_before": round(load, 2),
            }
            print(name, json.dumps(runs[name]), file=sys.stderr, flush=True)
    result = {
        "tickets": n, "events_per_ticket": 10, "cpus": os.cpu_count(), "runs": runs,
        "zendesk_rate_over_flat": round(runs["zendesk"]["tickets_per_s"] / runs["flat"]["tickets_per_s"], 2),
        "zendesk_cpu_over_flat": round(runs["zendesk"]["cpu_s"] / runs["flat"]["cpu_s"], 1),
        "aim": "zendesk_rate_over_flat >= 0.5 and zendesk peak_rss_mb < 2048",
    }
    if "events" in runs:
        zendesk, events = runs["zendesk"]["tickets_per_s"], runs["events"]["tickets_per_s"]
        result["zendesk_rate_over_events"] = round(zendesk / events, 2)
    print(json.dumps(result, indent=2))
    name = "connectors.json" if n == 100_000 else f"connectors_{n}.json"
    (args.out / name).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
