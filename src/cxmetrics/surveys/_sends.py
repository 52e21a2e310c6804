"""Sends: planning what is due, sending now, survey links, and one run of it all.

A send exists from its request: the rules (or `send_now`, `link`, the embed entry) write a
`survey_requests` row, and for e-mail an `invite` row in `survey_deliveries`, in one
transaction, keyed by the deterministic send id with INSERT ... ON CONFLICT DO NOTHING:
planning twice, from two processes or after a restart, plans nothing twice. The canonical
`survey_sends` row follows delivery (surveys/_deliver.py).

>>> RunReport(now=datetime(2026, 3, 6, tzinfo=UTC)).to_dict()["planned"]
0
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from cxmetrics.errors import UserError
from cxmetrics.store import rollback
from cxmetrics.surveys import _deliver, _rules
from cxmetrics.surveys._config import Survey, SurveysConfig, SurveysConfigError, Trigger, load_config
from cxmetrics.surveys._deliver import DeliveryResult, write_turn
from cxmetrics.surveys._tokens import make_token, send_id, survey_url

REQUEST_COLUMNS = ("source", "send_id", "survey", "kind", "scale", "ticket_id", "customer_id", "agent_id", "channel",
                   "address", "language", "trigger", "delivery", "delay_s", "due_at", "created_at")
DELIVERIES = ("email", "link", "embed")


class SendError(UserError):
    """A send cannot be made as asked (an unknown ticket, no address...); the message says why."""


@dataclass
class RunReport:
    """One run: sends planned, e-mails delivered / reminded / failed / retrying / cancelled,
    tickets waiting for their delay, skips by reason, the send ids planned, and what happened
    to each e-mail."""

    now: datetime
    planned: int = 0
    delivered: int = 0
    reminded: int = 0
    failed: int = 0
    retrying: int = 0
    cancelled: int = 0
    waiting: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    send_ids: list[str] = field(default_factory=list)
    deliveries: list[DeliveryResult] = field(default_factory=list)
    sends_written: int = 0
    problem: str | None = None  # why the e-mails due could not go (a setting to fix), if so
    next_due: datetime | None = None  # the next time something falls due (a delay ends, a retry, a reminder)

    @property
    def wrote(self) -> list[str]:
        """The canonical tables this run changed (for the refresher and the live hub)."""
        return ["survey_sends"] if self.sends_written else []

    def add(self, results: Iterable[DeliveryResult]) -> None:
        for r in results:
            self.deliveries.append(r)
            if r.status == "delivered":
                if r.purpose == "reminder":
                    self.reminded += 1
                else:
                    self.delivered += 1
            elif r.status == "failed":
                self.failed += 1
            elif r.status == "retry":
                self.retrying += 1
            elif r.status == "cancelled":
                self.cancelled += 1

    def to_dict(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "planned": self.planned, "delivered": self.delivered,
                "reminded": self.reminded, "failed": self.failed, "retrying": self.retrying,
                "cancelled": self.cancelled, "waiting": self.waiting, "skipped": dict(sorted(self.skipped.items())),
                "send_ids": list(self.send_ids), "deliveries": [d.to_dict() for d in self.deliveries],
                "problem": self.problem, "next_due": None if self.next_due is None else self.next_due.isoformat()}


@dataclass(frozen=True)
class LinkInfo:
    """A survey link to paste into a chat or SMS: its address, send, token and expiry."""

    url: str
    send_id: str
    token: str
    expires_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "send_id": self.send_id, "token": self.token,
                "expires_at": self.expires_at.isoformat()}


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise UserError(f"now ({now.isoformat()}) has no time zone; give an aware time, e.g. ...+00:00.")
    return now.astimezone(UTC)


def _config(ws: Any, config: SurveysConfig | None) -> SurveysConfig:
    return config if config is not None else load_config(ws.path)


def _current(ws: Any) -> None:
    """Bring the ticket facts up to date first, as a metric query does: the rules read them,
    and an import from the CLI leaves them to the next reader. (The server's cursors skip
    this: its refresher refreshes after every write, and publishes the change.)"""
    refresh = getattr(ws, "_auto_refresh", None)
    if refresh is not None:
        refresh()


def _survey(config: SurveysConfig, survey: Survey | str) -> Survey:
    return survey if isinstance(survey, Survey) else config.survey(survey)


def base_url(ws: Any, config: SurveysConfig | None = None) -> str:
    """Where customers reach `/s/TOKEN`: surveys.toml's base_url, else the address of the
    server running on this workspace (server.json), else SurveysConfigError."""
    config = _config(ws, config)
    if config.base_url:
        return config.base_url
    from cxmetrics._remote import SERVER_FILE

    try:
        url = json.loads((ws.path / SERVER_FILE).read_text("utf-8")).get("url")
    except (OSError, ValueError):
        url = None
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        return url.rstrip("/")
    raise SurveysConfigError("survey links need an address customers can reach: set base_url in surveys.toml "
                             "(e.g. base_url = \"https://cx.example.com\"), or run `cxmetrics serve` on this "
                             "workspace (its own address is used then).")


def request_row(ws: Any, send: str) -> dict[str, Any] | None:
    """The survey_requests row of send id `send` (any source), or None."""
    rows = ws.con.sql("SELECT * FROM survey_requests WHERE send_id = ? ORDER BY source LIMIT 1",
                      params=[send]).to_arrow_table().to_pylist()
    return rows[0] if rows else None


def _send_id(row: dict[str, Any], now: datetime, survey: Survey) -> str:
    if row["ticket_id"] is not None:
        return send_id(row["survey"], row["source"], "ticket", row["ticket_id"])
    if survey.every_s is not None:
        return send_id(row["survey"], row["source"], "customer", row["customer_id"], _rules.cycle_of(survey, now))
    # an on-demand send to a customer: once a day per definition (a list sent twice sends once)
    return send_id(row["survey"], row["source"], "customer", row["customer_id"], f"on_demand-{now:%Y-%m-%d}")


def _insert(ws: Any, config: SurveysConfig, rows: list[dict[str, Any]], now: datetime) -> list[str]:
    """Write the requests (and their e-mail invites) not there yet; returns the new send ids.
    The caller holds the transaction."""
    surveys = {s.name: s for s in config.surveys}
    out = []
    for r in rows:
        s = surveys[r["survey"]]
        out.append({**r, "send_id": _send_id(r, now, s), "kind": s.kind, "scale": s.scale, "created_at": now})
    if not out:
        return []
    schema = pa.schema([(c, pa.float64() if c == "delay_s" else
                         pa.timestamp("us", tz="UTC") if c in ("due_at", "created_at") else pa.string())
                        for c in REQUEST_COLUMNS])
    table = pa.Table.from_pylist([{c: r[c] for c in REQUEST_COLUMNS} for r in out], schema=schema)
    cols = ", ".join(f'"{c}"' for c in REQUEST_COLUMNS)
    ws.con.register("_sv_new", table)
    try:
        new = [x[0] for x in ws.con.execute(
            f"INSERT INTO survey_requests ({cols}) SELECT {cols} FROM _sv_new ON CONFLICT DO NOTHING "
            "RETURNING send_id").fetchall()]
        ws.con.execute("""
            INSERT INTO survey_deliveries
            SELECT source, send_id, 'invite', 'pending', 0, due_at, NULL, NULL, NULL, created_at
            FROM _sv_new WHERE delivery = 'email' ON CONFLICT DO NOTHING""")
    finally:
        ws.con.unregister("_sv_new")
    fresh = set(new)
    return [r["send_id"] for r in out if r["send_id"] in fresh]  # in the plan's order


def _plan_and_insert(ws: Any, config: SurveysConfig, now: datetime, planner: Any) -> tuple[_rules.Plan, list[str]]:
    """Plan and write in one transaction: what is planned is written whole or not at all."""
    with write_turn(ws):
        ws.con.execute("BEGIN TRANSACTION")
        try:
            plan = planner()
            new = _insert(ws, config, plan.due, now)
            ws.con.execute("COMMIT")
        except BaseException:
            rollback(ws.con)
            raise
    return plan, new


def _finish(ws: Any, config: SurveysConfig, now: datetime, report: RunReport, deliver: bool) -> RunReport:
    report.sends_written += _deliver.sync_sends(ws)  # link and embed sends: their rows at once
    if deliver:
        try:
            report.add(_deliver.deliver(ws, config, now, lambda: base_url(ws, config)))
        except SurveysConfigError as exc:  # the plan stands; the e-mails wait for the setting
            report.problem = f"{type(exc).__name__}: {exc}"
        finally:  # what was delivered before an error still becomes a send
            report.sends_written += _deliver.sync_sends(ws)
    pending = _deliver.next_attempt(ws)
    report.next_due = min((t for t in (report.next_due, pending) if t is not None), default=None)
    return report


def run(ws: Any, *, now: datetime | None = None, config: SurveysConfig | None = None,
        deliver: bool = True, skips: bool = True) -> RunReport:
    """Plan what the definitions ask for at `now`, then deliver the e-mails due (unless
    `deliver` is false) and write their survey_sends rows. When the e-mails cannot go (no
    [email], a login variable not set, no base_url), the plan is still made and
    `report.problem` says what to set. `skips=False` (the server's runs) plans the same
    sends but counts the skips only among tickets solved since each definition started
    (`_rules.plan`)."""
    now, config = _now(now), _config(ws, config)
    _current(ws)
    plan, new = _plan_and_insert(ws, config, now, lambda: _rules.plan(ws.con, config, now, skips=skips))
    report = RunReport(now=now, planned=len(new), waiting=plan.waiting, skipped=dict(plan.skipped), send_ids=new,
                       next_due=plan.next_due)
    return _finish(ws, config, now, report, deliver)


def preview(ws: Any, *, now: datetime | None = None, config: SurveysConfig | None = None) -> RunReport:
    """What `run` would plan at `now`, and the e-mails due, without writing anything."""
    now, config = _now(now), _config(ws, config)
    _current(ws)
    with write_turn(ws):
        ws.con.execute("BEGIN TRANSACTION")
        try:
            plan = _rules.plan(ws.con, config, now)
            due = _deliver.due(ws, now)
        finally:
            rollback(ws.con)
    surveys = {s.name: s for s in config.surveys}
    ids = [_send_id(r, now, surveys[r["survey"]]) for r in plan.due]
    report = RunReport(now=now, planned=len(ids), waiting=plan.waiting, skipped=dict(plan.skipped), send_ids=ids)
    report.deliveries = [DeliveryResult(d["source"], d["send_id"], d["purpose"], d["survey"], d["ticket_id"], "due",
                                        d["attempts"]) for d in due]
    return report


def _ids(values: Iterable[str]) -> pa.Table:
    ids = sorted({str(v).strip() for v in values if str(v).strip()})
    return pa.table({"id": pa.array(ids, pa.string())})


def send_now(ws: Any, survey: Survey | str, *, tickets: Iterable[str] = (), customers: Iterable[str] = (),
             source: str | None = None, now: datetime | None = None, force: bool = False,
             config: SurveysConfig | None = None, deliver: bool = True) -> RunReport:
    """Send `survey` now to the customers of `tickets` and to `customers` (ids), by e-mail.
    Throttled as the rules are unless `force`; spam/deleted/merged tickets and customers
    without an address are skipped; a ticket already surveyed by this definition is not
    surveyed again (skipped: already_sent)."""
    now, config = _now(now), _config(ws, config)
    _current(ws)
    s = _survey(config, survey)
    t_ids, c_ids = _ids(tickets), _ids(customers)
    if t_ids.num_rows == 0 and c_ids.num_rows == 0:
        raise SendError("give the tickets or customers to send the survey to (--tickets, --tickets-file or "
                        "--customers).")
    if s.trigger is Trigger.RELATIONSHIP and t_ids.num_rows:
        raise SendError(f"survey '{s.name}' is a relationship survey (about a customer): give --customers.")
    src = f"AND x.source = {_rules._lit(source)}" if source else ""
    head = (f"SELECT {_rules._lit(s.name)} AS survey, 0 AS survey_order, x.source, {{ticket}} AS ticket_id, "
            "x.customer_id, {agent} AS agent_id, {channel} AS channel, x.address, x.language, "
            "'on_demand' AS \"trigger\", 'email' AS delivery, NULL::DOUBLE AS delay_s, "
            f"{_rules._lit(now.isoformat())}::TIMESTAMPTZ AS due_at, true AS throttled")
    parts = []
    ws.con.register("_sv_tickets", t_ids)
    ws.con.register("_sv_customers", c_ids)
    try:
        if t_ids.num_rows:
            parts.append(head.format(ticket="i.id", agent="x.agent_id", channel="x.channel") + f"""
                , CASE WHEN x.ticket_id IS NULL THEN 'unknown'
                       WHEN EXISTS (SELECT 1 FROM survey_requests r WHERE r.source = x.source
                                    AND r.survey = {_rules._lit(s.name)} AND r.ticket_id = x.ticket_id)
                            THEN 'already_sent'
                       WHEN x.excluded THEN 'excluded' WHEN x.address IS NULL THEN 'no_address'
                       ELSE 'due' END AS verdict
                FROM _sv_tickets i LEFT JOIN ({_rules.ticket_sql(config)}) x ON x.ticket_id = i.id {src}""")
        if c_ids.num_rows:
            parts.append(head.format(ticket="NULL::VARCHAR", agent="NULL::VARCHAR", channel="NULL::VARCHAR") + """
                , CASE WHEN x.customer_id IS NULL THEN 'unknown' WHEN x.address IS NULL THEN 'no_address'
                       ELSE 'due' END AS verdict
                FROM _sv_customers i LEFT JOIN (SELECT c.source, c.customer_id, """
                         f"""{_rules.address_sql("c", "c", "customer_id")} AS address,
                         {_rules.language_sql(config)} AS language FROM customers c) x
                     ON x.customer_id = i.id {src}""")
        sql = _rules.throttle_sql(" UNION ALL ".join(parts), config, now, force=force)
        plan, new = _plan_and_insert(ws, config, now, lambda: _rules.collect(ws.con, sql))
    finally:
        ws.con.unregister("_sv_tickets")
        ws.con.unregister("_sv_customers")
    report = RunReport(now=now, planned=len(new), skipped=dict(plan.skipped), send_ids=new)
    return _finish(ws, config, now, report, deliver)


def _ticket(ws: Any, config: SurveysConfig, ticket_id: str, source: str | None) -> dict[str, Any]:
    rows = ws.con.sql(f"SELECT * FROM ({_rules.ticket_sql(config)}) WHERE ticket_id = ? "
                      "AND (? IS NULL OR source = ?) ORDER BY source",
                      params=[ticket_id, source, source]).to_arrow_table().to_pylist()
    if not rows:
        where = f" in source '{source}'" if source else ""
        raise SendError(f"no ticket '{ticket_id}'{where} in this workspace; check the id (`cxmetrics tickets "
                        f"{ticket_id}`).")
    if len(rows) > 1:
        names = ", ".join(r["source"] for r in rows)
        raise SendError(f"ticket '{ticket_id}' is in several sources ({names}); say which with --source.")
    return rows[0]


def create_send(ws: Any, survey: Survey | str, *, source: str | None, ticket_id: str | None = None,
                customer_id: str | None = None, trigger: Trigger | str, delivery: str, now: datetime | None = None,
                config: SurveysConfig | None = None) -> dict[str, Any]:
    """Make (or find: it is idempotent) the send of `survey` to one ticket or customer, not
    throttled (someone asked for it); returns its survey_requests row. A link or embed send
    gets its survey_sends row at once; an e-mail send is delivered by the next run."""
    now, config = _now(now), _config(ws, config)
    _current(ws)
    s = _survey(config, survey)
    trigger = Trigger(trigger)
    if delivery not in DELIVERIES:
        raise SendError(f"delivery '{delivery}' is not one of {', '.join(DELIVERIES)}.")
    if (ticket_id is None) == (customer_id is None):
        raise SendError("give a ticket_id or a customer_id (one of them).")
    if ticket_id is not None:
        t = _ticket(ws, config, ticket_id, source)
        row = {"source": t["source"], "ticket_id": t["ticket_id"], "customer_id": t["customer_id"],
               "agent_id": t["agent_id"], "channel": t["channel"], "address": t["address"], "language": t["language"]}
    else:
        found = ws.con.execute(f"""SELECT c.source, c.customer_id, {_rules.address_sql("c", "c", "customer_id")},
                                   {_rules.language_sql(config)} FROM customers c
                                   WHERE c.customer_id = ? AND (? IS NULL OR c.source = ?) ORDER BY c.source""",
                               [customer_id, source, source]).fetchall()
        if len(found) != 1:
            raise SendError(f"no customer '{customer_id}' in this workspace." if not found else
                            f"customer '{customer_id}' is in several sources; say which with --source.")
        src, cid, address, lang = found[0]
        row = {"source": src, "ticket_id": None, "customer_id": cid, "agent_id": None, "channel": None,
               "address": address, "language": lang}
    if delivery == "email" and row["address"] is None:
        who = f"ticket {ticket_id}" if ticket_id is not None else f"customer {customer_id}"
        raise SendError(f"no e-mail address for {who}: add the customer's email to the customers table, or send "
                        "a link instead.")
    row.update(survey=s.name, trigger=trigger.value, delivery=delivery, delay_s=None, due_at=now)
    key = _send_id(row, now, s)
    with write_turn(ws):
        existing = ws.con.execute("SELECT 1 FROM survey_requests WHERE source = ? AND send_id = ?",
                                  [row["source"], key]).fetchall()
        if not existing:
            ws.con.execute("BEGIN TRANSACTION")
            try:
                _insert(ws, config, [row], now)
                ws.con.execute("COMMIT")
            except BaseException:
                rollback(ws.con)
                raise
        if delivery in ("link", "embed"):
            _deliver.sync_sends(ws)
    return ws.con.sql("SELECT * FROM survey_requests WHERE source = ? AND send_id = ?",
                      params=[row["source"], key]).to_arrow_table().to_pylist()[0]


def _default_survey(config: SurveysConfig) -> Survey:
    ticket = [s for s in config.surveys if s.enabled and s.trigger is not Trigger.RELATIONSHIP]
    if len(ticket) == 1:
        return ticket[0]
    if not ticket:
        raise SurveysConfigError("surveys.toml defines no enabled ticket survey to link to: add a [[surveys]] block "
                                 "(docs/surveys.md).")
    raise SendError(f"surveys.toml defines several ticket surveys ({', '.join(s.name for s in ticket)}); say which "
                    "with --survey.")


def link(ws: Any, ticket_id: str, *, survey: Survey | str | None = None, source: str | None = None,
         score: int | None = None, now: datetime | None = None, config: SurveysConfig | None = None) -> LinkInfo:
    """A survey link for `ticket_id` to paste into a chat or SMS (the send is made if it is
    not there: a link send, not throttled). With `score`, the page opens with it selected."""
    now, config = _now(now), _config(ws, config)
    _current(ws)
    s = _default_survey(config) if survey is None else _survey(config, survey)
    if s.trigger is Trigger.RELATIONSHIP:
        raise SendError(f"survey '{s.name}' is a relationship survey (about a customer, not a ticket).")
    if score is not None:
        lo, hi = s.scale_range
        if not lo <= score <= hi:
            raise SendError(f"score {score} is not on the scale of survey '{s.name}' ({s.scale}: {lo} to {hi}).")
    url_base = base_url(ws, config)
    row = create_send(ws, s, source=source, ticket_id=ticket_id, trigger=Trigger.ON_DEMAND, delivery="link", now=now,
                      config=config)
    expires = now + timedelta(seconds=config.token_ttl_s)
    with write_turn(ws):
        token = make_token(ws.con, row["send_id"], expires, now)
    return LinkInfo(url=survey_url(url_base, token, score), send_id=row["send_id"], token=token, expires_at=expires)


def recent_sends(ws: Any, *, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest sends with their state: pending (not delivered yet), delivered, failed,
    answered; newest first."""
    states = ("pending", "delivered", "failed", "answered")
    if status is not None and status not in states:
        raise SendError(f"status '{status}' is not one of {', '.join(states)}.")
    return ws.con.sql("""
        SELECT * FROM (
            SELECT r.source, r.send_id, r.survey, r.kind, r.ticket_id, r.customer_id, r.address, r.delivery,
                   r."language", r.created_at, s.sent_at, s.reminded_at, a.responded_at AS answered_at, a.score,
                   inv.attempts, inv.last_error,
                   CASE WHEN a.send_id IS NOT NULL THEN 'answered'
                        WHEN inv.status IN ('failed', 'cancelled') THEN inv.status
                        WHEN s.send_id IS NOT NULL THEN 'delivered' ELSE 'pending' END AS status
            FROM survey_requests r
            LEFT JOIN survey_deliveries inv ON inv.source = r.source AND inv.send_id = r.send_id
                 AND inv.purpose = 'invite'
            LEFT JOIN survey_sends s ON s.source = r.source AND s.send_id = r.send_id
            LEFT JOIN surveys a ON a.source = r.source AND a.send_id = r.send_id)
        WHERE ? IS NULL OR status = ?
        ORDER BY coalesce(sent_at, created_at) DESC, send_id LIMIT ?""",
        params=[status, status, limit]).to_arrow_table().to_pylist()


def skip_counts(counter: Counter[str]) -> dict[str, int]:
    """Skips in the order the rules check them."""
    order = {r: i for i, r in enumerate(_rules.SKIP_REASONS)}
    return dict(sorted(counter.items(), key=lambda kv: order.get(kv[0], 99)))
