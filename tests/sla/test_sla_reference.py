"""The SQL clocks against a plain minute-by-minute Python reference, on random tickets.

Every event falls on a whole minute, so the reference walks the minutes: a clock runs in
minute [m, m+1) when the ticket's status after the events at m is one it runs in. It knows
nothing of spans, windows or ASOF joins; it re-reads the definitions in docs/sla.md.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest
from _sla_scenario import clocks, load, policies, refresh

BASE_DAY = 3  # 2025-03-03 00:00 UTC is minute 0
DONE = ("solved", "closed")
RUNS_IN = {
    "first_reply": None, "next_reply": None, "periodic_update": None, "total_resolution": None,  # never pause
    "pausable_update": ("new", "open", "on-hold"),
    "requester_wait": ("new", "open", "on-hold"),
    "agent_work_time": ("new", "open"),
}


@dataclass
class Ticket:
    name: str
    created: int
    events: list[tuple[int, str, str]] = field(default_factory=list)  # (minute, kind, actor)


def random_ticket(rng: random.Random, name: str) -> Ticket:
    t = Ticket(name, rng.randrange(0, 120))
    minute = t.created
    for _ in range(rng.randrange(0, 10)):
        minute += rng.choice([0, 0, 5, 20, 45, 90, 200])
        kind = rng.choice(["message", "message", "message", "status", "status", "note", "bot"])
        if kind == "status":
            t.events.append((minute, rng.choice(["open", "pending", "pending", "on-hold", "solved", "closed"]), "agent"))
        elif kind == "message":
            t.events.append((minute, "message", rng.choice(["customer", "agent"])))
        else:
            t.events.append((minute, kind, "agent"))
    return t


def spec(t: Ticket) -> str:
    def at(m: int) -> str:
        return f"{BASE_DAY + m // 1440}/{m % 1440 // 60:02d}:{m % 60:02d}"

    lines = [f"{t.name} {at(t.created)} created customer C{t.name} priority=normal"]
    for m, kind, actor in t.events:
        if kind == "message":
            lines.append(f"{t.name} {at(m)} message {actor} X")
        elif kind == "note":
            lines.append(f"{t.name} {at(m)} note agent A")
        elif kind == "bot":
            lines.append(f"{t.name} {at(m)} message bot B")
        else:
            lines.append(f"{t.name} {at(m)} {kind} agent A")
    return "\n".join(lines)


def reference(t: Ticket, targets: dict[str, int], now: int) -> dict[tuple[str, int], tuple]:
    """{(metric, cycle): (started, due, completed, elapsed, state)} in minutes."""
    statuses = [(m, k) for m, k, _ in t.events if k not in ("message", "note", "bot")]

    def status_after(m: int) -> str:
        s = "new"
        for when, k in statuses:
            if when <= m:
                s = k
        return s

    final = status_after(10**9)
    solves, prev = [], "new"
    for when, k in statuses:  # a solve: into solved/closed from a status that was not done
        if k in DONE and prev not in DONE:
            solves.append(when)
        prev = k
    msgs = [(m, a) for m, k, a in t.events if k == "message"]
    first_agent = next((m for m, a in msgs if a == "agent"), None)

    def first_solve_from(m: int) -> int | None:
        return next((s for s, k in statuses if s >= m and k in DONE), None)

    def earliest(*values: int | None) -> int | None:
        found = [v for v in values if v is not None]
        return min(found) if found else None

    cycles: list[tuple[str, int, int | None]] = []  # (metric, start, completion)
    cycles.append(("first_reply", t.created, earliest(first_agent, first_solve_from(t.created))))
    for i, (m, a) in enumerate(msgs):
        nxt = next((m2 for m2, a2 in msgs[i + 1:] if a2 == "agent"), None)
        if a == "customer" and i > 0 and msgs[i - 1][1] == "agent":
            cycles.append(("next_reply", m, earliest(nxt, first_solve_from(m))))
        if a == "agent":
            done = earliest(nxt, first_solve_from(m))
            if status_after(m) not in DONE and (done is None or done > m):
                cycles += [("periodic_update", m, done), ("pausable_update", m, done)]
    solved_now = final in DONE
    if not (solved_now and not solves):
        for metric in ("requester_wait", "agent_work_time", "total_resolution"):
            cycles.append((metric, t.created, solves[-1] if solved_now else None))

    out: dict[tuple[str, int], tuple] = {}
    seen: dict[str, int] = {}
    for metric, start, completion in sorted(cycles, key=lambda c: (c[0], c[1], c[2] is None, c[2] or 0)):
        target = targets[metric]

        runs_in = RUNS_IN[metric]

        def running(m: int, runs_in: tuple[str, ...] | None = runs_in) -> bool:
            return runs_in is None or status_after(m) in runs_in

        horizon = completion if completion is not None else now
        elapsed = sum(1 for m in range(start, max(horizon, start)) if running(m))
        due, total = None, 0
        for m in range(start, (completion if completion is not None else 10**9)):
            if m > max(now, horizon) + target + 2000:
                break  # paused for good (the status cannot change after the last event)
            total += running(m)
            if total == target:
                due = m + 1
                break
        if due is None and completion is not None:
            due = completion + (target - elapsed)  # projected: as if the clock ran on
        if completion is not None:
            state = "achieved" if completion <= due else "breached"
        elif due is not None and now > due:
            state = "breached"
        else:
            state = "active" if running(10**9 - 1) else "paused"
        seen[metric] = seen.get(metric, 0) + 1
        out[(metric, seen[metric])] = (start, due, completion, elapsed, state)
    return out


def minutes(ts: str | None) -> int | None:
    if ts is None:
        return None
    day, clock = int(ts[8:10]), ts[11:16]
    return (day - BASE_DAY) * 1440 + int(clock[:2]) * 60 + int(clock[3:])


@pytest.mark.engines  # the first seed on Spark by default, the others opt-in (tests/_engines.py)
@pytest.mark.parametrize("seed", [0, *(pytest.param(n, marks=pytest.mark.engines(opt_in=True)) for n in range(1, 6))])
def test_sql_clocks_match_the_minute_reference(ws, seed):
    check_against_reference(ws, seed)


def test_clocks_derived_in_slices_match_the_minute_reference(ws, monkeypatch):
    """A refresh derives the clocks of at most SLICE_TICKETS tickets at a time (its memory is
    a slice's, not the workspace's); 40 tickets in slices of at most 7 get the same clocks."""
    from cxmetrics.sla import _refresh

    derived = []
    whole = _refresh._derive
    monkeypatch.setattr(_refresh, "SLICE_TICKETS", 7)
    monkeypatch.setattr(_refresh, "_derive", lambda con, *a: derived.append(
        con.execute("SELECT count(*) FROM _sla_scope").fetchall()[0][0]) or whole(con, *a))
    check_against_reference(ws, 1)
    assert derived == [7, 7, 7, 7, 7, 5]


def check_against_reference(ws, seed):
    rng = random.Random(seed)
    targets = {m: rng.choice([30, 120, 240, 480, 900]) for m in RUNS_IN}
    toml = "[[policy]]\nname = \"P\"\n[policy.targets]\n" + "".join(
        f'{m} = {{ default = "{v}m" }}\n' for m, v in targets.items())
    tickets = [random_ticket(rng, f"R{i}") for i in range(40)]
    policies(ws, toml)
    load(ws, "\n".join(spec(t) for t in tickets))
    now = max([t.created for t in tickets] + [m for t in tickets for m, _, _ in t.events]) + rng.choice([0, 30, 300])
    refresh(ws, f"2025-03-{BASE_DAY + now // 1440:02d}T{now % 1440 // 60:02d}:{now % 60:02d}:00Z")
    rows = ws.sql(f"""
        SELECT ticket_id, metric, cycle,
               strftime(started_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M') AS s,
               strftime(due_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M') AS d,
               strftime(completed_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M') AS c,
               elapsed_s, state
        FROM {clocks(ws)}
    """).to_pylist()
    got: dict[str, dict] = {}
    for r in rows:
        got.setdefault(r["ticket_id"], {})[(r["metric"], r["cycle"])] = (
            minutes(r["s"]), minutes(r["d"]), minutes(r["c"]), round(r["elapsed_s"] / 60), r["state"])
    for t in tickets:
        assert got.get(t.name, {}) == reference(t, targets, now), (t, targets, now)
