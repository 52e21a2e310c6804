"""Keeping a served demo live: a few new events a minute while the dashboard is up.

The generated year ends at the moment the demo ran; after that nothing would happen, so
the live panels (the queue, SLA targets at risk, today's counts) would freeze and then go
stale. `Trickle` is a background thread in the server process that plays the help desk
forward: customers open tickets, agents pick them up and reply, customers answer, tickets
get solved and some customers answer the CSAT survey. It also works through the tickets
the generated year left in flight.

Everything it writes is clearly demo data: source 'demo' (so re-running `cxmetrics demo`
replaces it like the rest), ids starting with `live-`, and bodies and subjects marked
"[live demo]". It writes through the server's own path for ingest (an import on a cursor
of the server's workspace, then the refresher, which refreshes the facts once and
publishes the change on the hub), so open dashboards update as they would for a real
`POST /api/v1/events`.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

log = logging.getLogger("cxmetrics.demo")

SOURCE = "demo"
PREFIX = "live-"
MARK = "[live demo]"
DEFAULT_PER_MINUTE = 6.0
# what a new live ticket looks like: channel -> (team, weight)
_CHANNELS = {"email": ("Tier 1", 4), "chat": ("Tier 1", 4), "messaging": ("Tier 1", 2), "web": ("Tier 1", 1),
             "social": ("Social", 1)}
_PRIORITIES = (("low", 2), ("normal", 6), ("high", 2), ("urgent", 1))
_SUBJECTS = ("Cannot log in after the update", "Invoice shows the wrong amount", "Where is my order?",
             "How do I export my data?", "The app crashes when I upload a photo", "Please cancel my plan")
_CUSTOMER = ("Hi, can you help me with this?", "Thanks, that did not work yet, could you check again?",
             "I tried that, same problem.", "Great, that answers it.")
_AGENT = ("Thanks for reaching out, I am looking into it now.", "Could you send a screenshot of the error?",
          "I have fixed this on our side; please try again.", "Here are the steps to do that.")
_STATUSES_IN_FLIGHT = ("new", "open", "pending")


@dataclass
class _Ticket:
    ticket_id: str
    status: str  # new, open, pending, solved
    customer: str | None
    team: str | None
    agent: str | None = None
    events: int = 0  # events this trickle wrote for it (numbers its event ids)


@dataclass
class _Batch:
    events: list[dict[str, Any]] = field(default_factory=list)
    surveys: list[dict[str, Any]] = field(default_factory=list)


class Trickle:
    """A thread that adds about `per_minute` demo events a minute to `workspace` (the
    server's) and reports each write to `wrote` (the refresher's). `start()`, `stop()`."""

    def __init__(self, workspace: Any, wrote: Callable[[list[str]], object], *,
                 per_minute: float = DEFAULT_PER_MINUTE, seed: int | None = None,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)) -> None:
        if per_minute <= 0:
            raise ValueError(f"per_minute must be above 0, got {per_minute}")
        self.workspace, self.wrote, self.per_minute, self.now = workspace, wrote, per_minute, now
        self.rng = random.Random(seed)
        self.run = format(int(now().timestamp()), "x")  # ids of one serve never collide with another's
        self.written = 0  # events written
        self.errors = 0
        self._tickets: dict[str, _Ticket] = {}
        self._agents: dict[str, list[str]] = {}
        self._customers: list[str] = []
        self._made = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="cxmetrics-demo-trickle", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the write in progress (if any)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        try:
            self._load()
        except Exception:  # the dashboard must keep serving even if the demo cannot trickle
            log.exception("the live demo could not read the workspace; no live events")
            return
        mean = 60.0 / self.per_minute
        while not self._stop.wait(mean * self.rng.uniform(0.5, 1.5)):
            try:
                self.step()
            except Exception:
                self.errors += 1
                log.exception("a live demo event could not be written")

    # -- state -------------------------------------------------------------------------

    def _load(self) -> None:
        """The demo's agents and customers, and its tickets still in flight (last week's)."""
        with self.workspace.cursor(auto_refresh=False) as cur:
            for row in cur.sql("SELECT agent_id, team FROM agents WHERE source = ? AND type = 'human' "
                               "AND (left_at IS NULL OR left_at > now()) ORDER BY agent_id", [SOURCE]).to_pylist():
                self._agents.setdefault(row["team"], []).append(row["agent_id"])
            self._customers = cur.sql("SELECT customer_id FROM customers WHERE source = ? AND churned_at IS NULL "
                                      "ORDER BY customer_id LIMIT 5000", [SOURCE]).column(0).to_pylist()
            rows = cur.sql("""
                SELECT ticket_id, status, requester_id, team, assignee_id FROM tickets
                WHERE source = ? AND list_contains(?, status) AND created_at > now() - INTERVAL 7 DAY
                ORDER BY created_at""", [SOURCE, list(_STATUSES_IN_FLIGHT)]).to_pylist()
        for r in rows:
            self._tickets[r["ticket_id"]] = _Ticket(r["ticket_id"], r["status"], r["requester_id"], r["team"],
                                                    r["assignee_id"])

    def in_flight(self, status: str) -> list[_Ticket]:
        return [t for t in self._tickets.values() if t.status == status]

    # -- one step ----------------------------------------------------------------------

    def step(self) -> int:
        """Write one small thing that happens at a help desk; returns the events written."""
        batch = _Batch()
        at = self.now()
        choices: list[tuple[Callable[[_Batch, dt.datetime], None], float]] = [(self._new_ticket, 4.0)]
        for status, action, weight in (("new", self._first_reply, 3.0), ("pending", self._customer_answers, 2.0),
                                       ("open", self._agent_replies, 2.0), ("open", self._solve, 2.0),
                                       ("pending", self._solve, 1.0), ("solved", self._survey, 1.5)):
            if self.in_flight(status):
                choices.append((action, weight))
        action = self.rng.choices([c[0] for c in choices], [c[1] for c in choices])[0]
        action(batch, at)
        return self._write(batch)

    def _write(self, batch: _Batch) -> int:
        tables = []
        with self.workspace.cursor(auto_refresh=False) as cur:
            if batch.events:
                cur.import_table("events", _table(batch.events), source=SOURCE, label="demo:live")
                tables.append("events")
            if batch.surveys:
                cur.import_table("surveys", _table(batch.surveys), source=SOURCE, label="demo:live")
                tables.append("surveys")
        if tables:
            self.wrote(tables)
        self.written += len(batch.events)
        return len(batch.events)

    def _event(self, batch: _Batch, ticket: _Ticket, at: dt.datetime, kind: str, **fields: Any) -> None:
        ticket.events += 1
        # a millisecond apart, so the order of one step's events is in their times too
        ts = at + dt.timedelta(milliseconds=len(batch.events))
        batch.events.append({"event_id": f"{PREFIX}{self.run}-{ticket.ticket_id}-{ticket.events:03d}",
                             "ticket_id": ticket.ticket_id, "ts": ts.isoformat(), "kind": kind, **fields})

    def _status(self, batch: _Batch, ticket: _Ticket, at: dt.datetime, new: str, actor_type: str,
                actor: str | None) -> None:
        self._event(batch, ticket, at, "status", actor_type=actor_type, actor_id=actor, status_from=ticket.status,
                    status_to=new)
        ticket.status = new

    def _agent_for(self, ticket: _Ticket) -> str | None:
        if ticket.agent is None:
            team = self._agents.get(ticket.team or "") or self._agents.get("Tier 1") or \
                [a for agents in self._agents.values() for a in agents]
            ticket.agent = self.rng.choice(team) if team else None
        return ticket.agent

    def _new_ticket(self, batch: _Batch, at: dt.datetime) -> None:
        self._made += 1
        channel = self.rng.choices(list(_CHANNELS), [w for _, w in _CHANNELS.values()])[0]
        team = _CHANNELS[channel][0]
        priority = self.rng.choices([p for p, _ in _PRIORITIES], [w for _, w in _PRIORITIES])[0]
        customer = self.rng.choice(self._customers) if self._customers else f"{PREFIX}C{self._made}"
        ticket = _Ticket(f"{PREFIX}{self.run}-{self._made:04d}", "new", customer, team)
        self._tickets[ticket.ticket_id] = ticket
        self._event(batch, ticket, at, "created", actor_type="customer", actor_id=customer, channel=channel,
                    team=team, priority=priority, subject=f"{MARK} {self.rng.choice(_SUBJECTS)}")
        self._event(batch, ticket, at, "message", actor_type="customer", actor_id=customer, public="true",
                    body=f"{MARK} {_CUSTOMER[0]}")

    def _pick(self, status: str) -> _Ticket:
        waiting = self.in_flight(status)
        return self.rng.choice(waiting[:10])  # the longest-waiting first, as a queue is worked

    def _first_reply(self, batch: _Batch, at: dt.datetime) -> None:
        ticket = self._pick("new")
        agent = self._agent_for(ticket)
        self._event(batch, ticket, at, "assign", actor_type="system", assignee_id=agent, team=ticket.team)
        self._status(batch, ticket, at, "open", "agent", agent)
        self._event(batch, ticket, at, "message", actor_type="agent", actor_id=agent, public="true",
                    body=f"{MARK} {self.rng.choice(_AGENT)}")
        self._status(batch, ticket, at, "pending", "agent", agent)

    def _customer_answers(self, batch: _Batch, at: dt.datetime) -> None:
        ticket = self._pick("pending")
        self._event(batch, ticket, at, "message", actor_type="customer", actor_id=ticket.customer, public="true",
                    body=f"{MARK} {self.rng.choice(_CUSTOMER[1:])}")
        self._status(batch, ticket, at, "open", "customer", ticket.customer)

    def _agent_replies(self, batch: _Batch, at: dt.datetime) -> None:
        ticket = self._pick("open")
        agent = self._agent_for(ticket)
        self._event(batch, ticket, at, "message", actor_type="agent", actor_id=agent, public="true",
                    body=f"{MARK} {self.rng.choice(_AGENT)}")
        self._status(batch, ticket, at, "pending", "agent", agent)

    def _solve(self, batch: _Batch, at: dt.datetime) -> None:
        ticket = self._pick(self.rng.choice([s for s in ("open", "pending") if self.in_flight(s)]))
        agent = self._agent_for(ticket)
        self._event(batch, ticket, at, "message", actor_type="agent", actor_id=agent, public="true",
                    body=f"{MARK} {_AGENT[2]}")
        self._status(batch, ticket, at, "solved", "agent", agent)

    def _survey(self, batch: _Batch, at: dt.datetime) -> None:
        """A solved ticket's customer answers the CSAT survey (or not: then it is done)."""
        ticket = self._pick("solved")
        del self._tickets[ticket.ticket_id]
        if self.rng.random() < 0.4:
            return  # most customers never answer
        score = self.rng.choices([1, 2, 3, 4, 5], [1, 1, 2, 5, 9])[0]
        sent = at - dt.timedelta(seconds=self.rng.randint(30, 600))
        batch.surveys.append({"response_id": f"{PREFIX}{self.run}-{ticket.ticket_id}-csat",
                              "ticket_id": ticket.ticket_id, "customer_id": ticket.customer,
                              "agent_id": ticket.agent, "kind": "csat", "scale": "1-5", "score": str(score),
                              "comment": f"{MARK} {'Quick and helpful.' if score >= 4 else 'Took too long.'}",
                              "sent_at": sent.isoformat(), "responded_at": at.isoformat()})


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as text columns (the importer parses them as it parses CSV)."""
    names = list(dict.fromkeys(k for r in rows for k in r))
    return pa.table({n: pa.array([None if r.get(n) is None else str(r[n]) for r in rows], pa.string())
                     for n in names})


def attach(app: Any, *, per_minute: float = DEFAULT_PER_MINUTE, seed: int | None = None) -> None:
    """Run a `Trickle` over the app's workspace while the app serves: started once the
    app has started, stopped before it shuts down. `app.state.demo_trickle` is it."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with inner(a) as state:
            trickle = Trickle(a.state.workspace, a.state.refresher.wrote, per_minute=per_minute, seed=seed)
            a.state.demo_trickle = trickle
            trickle.start()
            try:
                yield state
            finally:
                trickle.stop()

    app.router.lifespan_context = lifespan
