"""Property tests of the metric engine: shares within bounds, groups adding up to the
whole, and results independent of row order and of re-import (issue 3)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxmetrics

SHARES = ["csat", "dsat", "fcr", "reopen_rate", "one_touch", "escalation_rate", "frt_within_5m", "bot_involvement_rate"]
COUNTED = ["csat", "fcr", "frt", "tickets", "reopen_rate", "nps", "full_resolution_time"]
HEADER = "event_id,ticket_id,ts,kind,actor_type,actor_id,public,status_to,channel,requester_id,topic\n"


@st.composite
def ticket_events(draw, i: int) -> list[str]:
    """One ticket: created, maybe a bot or private note, maybe a human reply, maybe solved
    and reopened; all after creation."""
    t = f"T{i}"
    start = draw(st.integers(0, 60 * 24 * 3600))
    channel = draw(st.sampled_from(["email", "chat", "phone"]))
    rows = [(start, "created", "customer", f"C{i % 7}", "", "new", channel)]
    clock = start
    for _ in range(draw(st.integers(0, 4))):
        clock += draw(st.integers(1, 20_000))
        kind = draw(st.sampled_from(["bot", "note", "reply", "customer", "solve", "reopen"]))
        rows.append({
            "bot": (clock, "message", "bot", "B1", "true", "", ""),
            "note": (clock, "message", "agent", "A1", "false", "", ""),
            "reply": (clock, "message", "agent", f"A{i % 3}", "true", "", ""),
            "customer": (clock, "message", "customer", f"C{i % 7}", "true", "", ""),
            "solve": (clock, "status", "agent", "A1", "", "solved", ""),
            "reopen": (clock, "status", "customer", "", "", "open", ""),
        }[kind])
    out = []
    for k, (ts, kind, actor, actor_id, public, status, ch) in enumerate(rows):
        stamp = "2025-01-01T00:00:00Z" if ts == 0 else _iso(ts)
        out.append(f"{t}-{k},{t},{stamp},{kind},{actor},{actor_id},{public},{status},{ch},C{i % 7},{'billing' if i % 2 else 'login'}\n")
    return out


def _iso(seconds: int) -> str:
    from datetime import datetime, timedelta, timezone

    return (datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def surveys(draw_scores: list[int]) -> str:
    return "response_id,ticket_id,kind,score,responded_at\n" + "".join(
        f"R{i},T{i},{'csat' if s <= 5 else 'nps'},{s if s <= 5 else s - 6},2025-01-0{1 + i % 9}T00:00:00Z\n"
        for i, s in enumerate(draw_scores))


def _run(tmp: Path, name: str, events: list[str], answers: str) -> dict:
    with cxmetrics.open(tmp / name, create=True) as ws:
        (tmp / f"{name}.csv").write_text(HEADER + "".join(events))
        (tmp / f"{name}_s.csv").write_text(answers)
        ws.import_file("events", tmp / f"{name}.csv")
        ws.import_file("surveys", tmp / f"{name}_s.csv")
        overall = ws.metrics(COUNTED + SHARES).to_pylist()
        by = ws.metrics(COUNTED, by="channel").to_pylist()
        ws.import_file("events", tmp / f"{name}.csv")  # re-import: nothing may change
        again = ws.metrics(COUNTED + SHARES).to_pylist()
    return {"overall": overall, "by": by, "again": again}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 25), scores=st.lists(st.integers(1, 16), max_size=30))
def test_bounds_totals_order_and_reimport(data, n, scores):
    events = [row for i in range(n) for row in data.draw(ticket_events(i))]
    shuffled = data.draw(st.permutations(events))
    answers = surveys(scores)
    with tempfile.TemporaryDirectory() as tmp:
        first = _run(Path(tmp), "a", events, answers)
        second = _run(Path(tmp), "b", list(shuffled), answers)
    # row order does not matter, and re-importing changes nothing
    assert first["overall"] == second["overall"] == first["again"]
    assert first["by"] == second["by"]
    values = {r["metric"]: r for r in first["overall"]}
    for name in SHARES:
        v = values[name]
        if v["value"] is not None:
            assert 0 <= v["ci_low"] <= v["value"] <= v["ci_high"] <= 100, v
    nps = values["nps"]
    if nps["value"] is not None:
        assert -100 <= nps["ci_low"] <= nps["value"] <= nps["ci_high"] <= 100
    # the n over channels adds up to the overall n (every ticket has a channel)
    for name in ["fcr", "frt", "tickets", "reopen_rate", "full_resolution_time"]:
        assert sum(r["n"] for r in first["by"] if r["metric"] == name) == values[name]["n"], name
