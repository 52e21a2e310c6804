"""Reconcile with the vendor's own numbers: per metric, how many tickets agree.

A help desk computes some per-ticket numbers itself (Zendesk `ticket_metrics`, Freshdesk
ticket `stats`, Intercom conversation `statistics`); the vendor converters keep them as
sent (`connector_objects`). `reconcile(ws, vendor)` sets each beside the fact of ours that
measures the same thing and counts, per metric, the tickets that agree (durations within
one minute, counts exactly), that differ, and that only one side has a value for; the
tickets that do not agree are listed with both values and, where the ticket's own data
shows one, the likely reason (a bot message before the first human reply, an agent-created
ticket, a reopen, business hours under another schedule...). Disagreements are data: the
report is the answer, never an error.

All the work is SQL over the kept JSON and the facts tables: one WITH clause builds every
(metric, ticket) comparison, a GROUP BY counts them and a filter lists those that do not
agree; nothing loops over tickets in Python (200k tickets x 14 metrics: about 4 s).
See docs/connectors.md, "Reconcile with the vendor's numbers".

>>> sorted(RECONCILED)
['freshdesk', 'intercom', 'zendesk']
>>> [p.metric for p in RECONCILED["freshdesk"].pairs]
['first_response', 'resolution', 'reopened']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

import pyarrow as pa

from cxmetrics._workspace import Workspace
from cxmetrics.connectors import freshdesk, intercom, zendesk
from cxmetrics.errors import ConnectorError, UnknownNameError, UserError

# two durations agree when they are at most this many minutes apart (the vendors give whole
# minutes or seconds; ours are exact to the microsecond)
TOLERANCE_MINUTES = 1.0


class Unit(str, Enum):
    """What a metric's values are: minutes (agree within a minute) or a count (agree exactly)."""

    MINUTES = "minutes"
    COUNT = "count"


class Family(str, Enum):
    """What a metric measures, which decides the reasons looked for when it disagrees."""

    REPLY = "reply"
    RESOLUTION = "resolution"
    WAIT = "wait"
    REOPENS = "reopens"
    REPLIES = "replies"


@dataclass(frozen=True)
class Pair:
    """A vendor number and the fact of ours that measures the same thing."""

    metric: str
    vendor_field: str  # what of the vendor's object, as its API reference names it
    ours: str  # which of our facts (docs/metrics.md)
    vendor_sql: str  # over `k.body` (the kept JSON), in minutes or a count
    ours_sql: str  # over `k` (ticket_facts, ticket_facts_bh and the median reply), same unit
    unit: Unit
    family: Family
    twin: str | None = None  # a business-hours metric: its calendar metric


@dataclass(frozen=True)
class VendorNumbers:
    """What one vendor computes per ticket, where it is kept, and how to get it in."""

    vendor: str
    kind: str  # connector_objects.kind
    what: str  # "Zendesk ticket metrics"
    how: str  # how to import them, for the message when none are kept
    pairs: tuple[Pair, ...]
    unmatched: tuple[str, ...]  # the vendor's numbers with no counterpart in our facts (docs)


def _text(path: str) -> str:
    return f"json_extract_string(k.body, '$.{path}')"


def _number(path: str) -> str:
    return f"TRY_CAST({_text(path)} AS DOUBLE)"


def _iso_minutes(at: str, start: str = "created_at") -> str:
    """Minutes from one ISO 8601 time of the object to another (Freshdesk)."""
    def ts(p: str) -> str:
        return f"TRY_CAST({_text(p)} AS TIMESTAMPTZ)"
    return f"((epoch({ts(at)}) - epoch({ts(start)})) / 60.0)"


# Intercom measures from the contact's first message (first_contact_reply_at: "all other
# timestamps are measured relative to this value"), which on a conversation an admin
# started comes after its creation
_INTERCOM_START = f"coalesce({_number('statistics.first_contact_reply_at')}, {_number('created_at')})"


def _unix_minutes(at: str) -> str:
    """Minutes from Intercom's start to a Unix time of the statistics."""
    return f"(({_number(at)} - {_INTERCOM_START}) / 60.0)"


def _minutes(column: str) -> str:
    return f"(k.{column} / 60.0)"


def _zendesk_pairs() -> tuple[Pair, ...]:
    durations = (
        # reply time: frt_s is every ticket's (Zendesk's), and on an agent-created ticket it runs
        # to the agent's next public comment, as Zendesk's does (frt_all, not frt)
        ("reply_time", "reply_time_in_minutes", "frt_s", "frt_bh_s", "first reply time (frt_all)", Family.REPLY),
        ("first_resolution", "first_resolution_time_in_minutes", "first_resolution_s", "first_resolution_bh_s",
         "first resolution time", Family.RESOLUTION),
        ("full_resolution", "full_resolution_time_in_minutes", "full_resolution_s", "full_resolution_bh_s",
         "full resolution time", Family.RESOLUTION),
        ("requester_wait", "requester_wait_time_in_minutes", "requester_wait_s", "requester_wait_bh_s",
         "requester wait time", Family.WAIT),
        ("agent_wait", "agent_wait_time_in_minutes", "agent_wait_s", "agent_wait_bh_s", "agent wait time",
         Family.WAIT),
        ("on_hold", "on_hold_time_in_minutes", "on_hold_s", "on_hold_bh_s", "on-hold time", Family.WAIT),
    )
    out: list[Pair] = []
    for name, field, cal, bh, label, family in durations:
        out.append(Pair(name, f"{field}.calendar", f"{label} ({cal})", _number(f"{field}.calendar"), _minutes(cal),
                        Unit.MINUTES, family))
        out.append(Pair(f"{name}_bh", f"{field}.business", f"{label} in business hours ({bh})",
                        _number(f"{field}.business"), _minutes(bh), Unit.MINUTES, family, twin=name))
    out.append(Pair("reopens", "reopens", "reopens", _number("reopens"), "k.reopens", Unit.COUNT, Family.REOPENS))
    out.append(Pair("replies", "replies", "public agent replies (public_agent_replies)", _number("replies"),
                    "k.public_agent_replies", Unit.COUNT, Family.REPLIES))
    return tuple(out)


def _intercom_pairs() -> tuple[Pair, ...]:
    s = "statistics."
    return (
        Pair("first_reply", "first_admin_reply_at", "first reply time (frt_s)",
             _unix_minutes(s + "first_admin_reply_at"), _minutes("frt_s"), Unit.MINUTES, Family.REPLY),
        Pair("time_to_admin_reply", "time_to_admin_reply", "first reply time in business hours (frt_bh_s)",
             f"({_number(s + 'time_to_admin_reply')} / 60.0)", _minutes("frt_bh_s"), Unit.MINUTES, Family.REPLY,
             twin="first_reply"),
        Pair("first_close", "first_close_at", "first resolution time (first_resolution_s)",
             _unix_minutes(s + "first_close_at"), _minutes("first_resolution_s"), Unit.MINUTES, Family.RESOLUTION),
        Pair("time_to_first_close", "time_to_first_close", "first resolution in business hours (first_resolution_bh_s)",
             f"({_number(s + 'time_to_first_close')} / 60.0)", _minutes("first_resolution_bh_s"), Unit.MINUTES,
             Family.RESOLUTION, twin="first_close"),
        Pair("last_close", "last_close_at", "full resolution time (full_resolution_s)",
             _unix_minutes(s + "last_close_at"), _minutes("full_resolution_s"), Unit.MINUTES, Family.RESOLUTION),
        Pair("time_to_last_close", "time_to_last_close", "full resolution in business hours (full_resolution_bh_s)",
             f"({_number(s + 'time_to_last_close')} / 60.0)", _minutes("full_resolution_bh_s"), Unit.MINUTES,
             Family.RESOLUTION, twin="last_close"),
        Pair("median_time_to_reply", "median_time_to_reply",
             "median of the ticket's reply intervals in business hours (reply_intervals_bh)",
             f"({_number(s + 'median_time_to_reply')} / 60.0)", "(k.median_reply_bh_s / 60.0)", Unit.MINUTES,
             Family.REPLY),
        Pair("count_reopens", "count_reopens", "reopens", _number(s + "count_reopens"), "k.reopens", Unit.COUNT,
             Family.REOPENS),
    )


def _freshdesk_pairs() -> tuple[Pair, ...]:
    return (
        Pair("first_response", "stats.first_responded_at", "first reply time (frt_s)",
             _iso_minutes("stats.first_responded_at"), _minutes("frt_s"), Unit.MINUTES, Family.REPLY),
        # Freshdesk keeps the latest resolution only (and closed_at for a ticket closed unresolved)
        Pair("resolution", "stats.resolved_at (else closed_at)", "full resolution time (full_resolution_s)",
             f"coalesce({_iso_minutes('stats.resolved_at')}, {_iso_minutes('stats.closed_at')})",
             _minutes("full_resolution_s"), Unit.MINUTES, Family.RESOLUTION),
        Pair("reopened", "stats.reopened_at (1 when set, else 0)", "reopens (1 when any, else 0)",
             f"CASE WHEN k.body IS NOT NULL THEN CAST({_text('stats.reopened_at')} IS NOT NULL AS INTEGER) END",
             "least(k.reopens, 1)", Unit.COUNT, Family.REOPENS),
    )


RECONCILED: dict[str, VendorNumbers] = {
    "zendesk": VendorNumbers(
        "zendesk", zendesk.METRICS_KIND, "Zendesk ticket metrics",
        "save the pages of GET /api/v2/ticket_metrics (or of the incremental ticket export with "
        "include=metric_sets, or GET /api/v2/tickets/{id}/metrics) and import them with "
        "`cxmetrics import zendesk PATH`",
        _zendesk_pairs(),
        ("group_stations", "assignee_stations (ours count changes after the first assignment)",
         "assigned_at, initially_assigned_at, latest_comment_added_at, requester_updated_at, assignee_updated_at, "
         "status_updated_at, custom_status_updated_at", "reply_time_in_seconds (messaging tickets)"),
    ),
    "freshdesk": VendorNumbers(
        "freshdesk", freshdesk.STATS_KIND, "Freshdesk ticket stats",
        "save the pages of GET /api/v2/tickets?include=stats (or GET /api/v2/tickets/{id}?include=stats) and "
        "import them with `cxmetrics import freshdesk PATH`",
        _freshdesk_pairs(),
        ("agent_responded_at, requester_responded_at (the latest replies, not a duration)",
         "status_updated_at, pending_since (the current status)", "business-hours times (the API gives none)"),
    ),
    "intercom": VendorNumbers(
        "intercom", intercom.STATISTICS_KIND, "Intercom conversation statistics",
        "save the conversations as GET /conversations/{id} or the list pages return them (both carry "
        "`statistics`) and import them with `cxmetrics import intercom PATH`",
        _intercom_pairs(),
        ("time_to_assignment, first_assignment_at, last_assignment_at, last_assignment_admin_reply_at, "
         "count_assignments (ours count assignee and team changes after the first)",
         "last_contact_reply_at, last_admin_reply_at, last_closed_by_id, count_conversation_parts"),
    ),
}


@dataclass(frozen=True)
class MetricAgreement:
    """How one metric compares over the tickets the vendor's numbers cover."""

    metric: str
    vendor_field: str
    ours: str
    unit: str
    compared: int  # tickets where both have a value
    agree: int
    differ: int
    only_vendor: int  # the vendor has a value, we have none
    only_ours: int

    def line(self, vendor: str) -> str:
        """`reply_time: 97 of 100 tickets agree within a minute; 3 differ, 1 only zendesk's, 0 only ours`."""
        how = "within a minute" if self.unit == Unit.MINUTES.value else "exactly"
        noun = "ticket agrees" if self.compared == 1 and self.agree == 1 else "tickets agree"
        differ = "differs" if self.differ == 1 else "differ"
        return (f"{self.metric}: {self.agree:,} of {self.compared:,} {noun} {how}; {self.differ:,} {differ}, "
                f"{self.only_vendor:,} only {vendor}'s, {self.only_ours:,} only ours")


@dataclass(frozen=True)
class TicketDifference:
    """A ticket whose value of a metric does not agree: both values, ours - the vendor's,
    and the reason where the ticket's data shows one."""

    ticket_id: str
    metric: str
    vendor: float | None
    ours: float | None
    difference: float | None  # ours - vendor's
    unit: str
    status: str  # differs, only the vendor's, only ours
    reason: str | None


@dataclass(frozen=True)
class Reconciliation:
    """The vendor's numbers beside ours: per metric the agreement, and the tickets that differ."""

    vendor: str
    source: str
    tickets: int  # tickets with the vendor's numbers kept
    not_in_ours: int  # of those, tickets we have no facts for
    without_vendor_numbers: int  # our tickets of `source` with no numbers of the vendor's
    metrics: tuple[MetricAgreement, ...]
    differences: tuple[TicketDifference, ...]  # at most `limit` of them
    total_differences: int

    def to_dict(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "source": self.source, "tickets": self.tickets,
                "not_in_ours": self.not_in_ours, "without_vendor_numbers": self.without_vendor_numbers,
                "metrics": [asdict(m) for m in self.metrics], "differences": [asdict(d) for d in self.differences],
                "total_differences": self.total_differences}

    def summary(self) -> str:
        """The per-metric lines, after one saying what was compared."""
        head = f"{self.tickets:,} tickets with {RECONCILED[self.vendor].what}, against source '{self.source}'"
        notes = []
        if self.not_in_ours == self.tickets:
            notes.append(f"none of them in our data of source '{self.source}': if they were imported with "
                         f"--source, give it here too (cxmetrics reconcile {self.vendor} --source NAME)")
        elif self.not_in_ours:
            notes.append(f"{self.not_in_ours:,} not in our data")
        if self.without_vendor_numbers:
            notes.append(f"{self.without_vendor_numbers:,} of ours without the vendor's numbers")
        head += f" ({'; '.join(notes)})" if notes else ""
        return "\n".join([head + ":", *(m.line(self.vendor) for m in self.metrics)])

    def differences_table(self) -> pa.Table:
        rows = [asdict(d) for d in self.differences]
        schema = pa.schema([("ticket_id", pa.string()), ("metric", pa.string()), ("vendor", pa.float64()),
                            ("ours", pa.float64()), ("difference", pa.float64()), ("unit", pa.string()),
                            ("status", pa.string()), ("reason", pa.string())])
        return pa.Table.from_pylist(rows, schema=schema)


def reconcile(ws: Workspace, vendor: str, *, metrics: list[str] | None = None, source: str | None = None,
              limit: int | None = None) -> Reconciliation:
    """Compare `vendor`'s own per-ticket numbers, as kept by its import, with our facts of
    `source` (default: the vendor's name). `metrics` narrows to some (RECONCILED[vendor].pairs);
    `limit` caps the listed differences (the counts are always over every ticket)."""
    if vendor not in RECONCILED:
        if vendor == "chatwoot":
            raise UserError("Chatwoot's API gives no per-conversation numbers of its own to compare with (its "
                            "reporting events are not imported); reconcile works for freshdesk, intercom and zendesk.")
        raise UnknownNameError("help desk", vendor, RECONCILED)
    spec = RECONCILED[vendor]
    pairs = spec.pairs
    if metrics:
        names = [p.metric for p in spec.pairs]
        for m in metrics:
            if m not in names:
                raise UnknownNameError(f"{vendor} metric to reconcile", m, names)
        pairs = tuple(p for p in spec.pairs if p.metric in metrics)
    # a business metric's calendar twin is compared too (its agreement tells a schedule apart)
    # but reported only when asked for
    shown = {p.metric for p in pairs}
    twins = {p.twin for p in pairs if p.twin}
    compared = tuple(p for p in spec.pairs if p.metric in shown or p.metric in twins)
    if limit is not None and limit < 0:
        raise UserError(f"limit {limit} is negative; give 0 or more tickets to list.")
    source = source or vendor
    kept = ws.sql("SELECT count(*) AS n FROM connector_objects WHERE vendor = ? AND kind = ?",
                  [vendor, spec.kind]).column("n")[0].as_py()
    if not kept:
        raise ConnectorError(f"No {spec.what} in this workspace, so nothing to reconcile: {spec.how}; then run "
                             f"`cxmetrics reconcile {vendor}` again.")
    ws._auto_refresh()  # our side: the facts as of the latest import
    params = [vendor, spec.kind, source]
    # two statements over the same comparisons: no temp tables, so a workspace shared
    # between threads (the API server) needs nothing of its own here
    with_rc = _comparisons_sql(compared, shown)
    counts = ws.sql(with_rc + _COUNTS, params).to_pylist()
    listed = ws.sql(with_rc + _LISTED + (f" LIMIT {int(limit)}" if limit is not None else ""), params).to_pylist()
    cover = ws.sql("""
        SELECT count(*) AS tickets, count(*) FILTER (f.ticket_id IS NULL) AS not_in_ours,
            (SELECT count(*) FROM ticket_facts t WHERE t.source = $3 AND NOT EXISTS (
                SELECT 1 FROM connector_objects c WHERE c.vendor = $1 AND c.kind = $2 AND c.object_id = t.ticket_id))
              AS without
        FROM connector_objects o LEFT JOIN ticket_facts f ON f.source = $3 AND f.ticket_id = o.object_id
        WHERE o.vendor = $1 AND o.kind = $2
    """, params).to_pylist()[0]
    by_metric = {c["metric"]: c for c in counts}
    agreements = tuple(
        MetricAgreement(p.metric, p.vendor_field, p.ours, p.unit.value,
                        **{k: int(by_metric.get(p.metric, {}).get(k) or 0)
                           for k in ("compared", "agree", "differ", "only_vendor", "only_ours")})
        for p in pairs)
    unit = {p.metric: p.unit.value for p in pairs}
    diffs = tuple(TicketDifference(r["ticket_id"], r["metric"], r["vendor"], r["ours"], r["difference"],
                                   unit[r["metric"]], r["status"], r["reason"]) for r in listed)
    total = sum(a.differ + a.only_vendor + a.only_ours for a in agreements)
    return Reconciliation(vendor, source, int(cover["tickets"]), int(cover["not_in_ours"]), int(cover["without"]),
                          agreements, diffs, total)


# -- the SQL ------------------------------------------------------------------------------

def _reasons(p: Pair) -> str:
    """The reasons the ticket's own data gives for a disagreement of `p` (NULL: none
    known), short enough for a table cell; docs/connectors.md explains each."""
    mins = "CAST(round({} / 60.0) AS BIGINT)"
    common = [
        "CASE WHEN NOT k.has_facts THEN 'not in our data' END",
        "CASE WHEN k.status = 'deleted' THEN 'deleted or spam' WHEN k.excluded THEN 'merged away' END",
    ]
    unsolved = "CASE WHEN k.has_facts AND NOT k.solved AND ours IS NULL THEN 'not solved now' END"
    reopened = "CASE WHEN k.reopens > 0 THEN 'reopened ' || k.reopens || 'x' END"
    pending = f"CASE WHEN k.agent_wait_s > 0 THEN 'pending ' || {mins.format('k.agent_wait_s')} || ' min' END"
    by_family = {
        Family.REPLY: [
            "CASE WHEN k.bot_involved AND (k.first_reply_at IS NULL OR k.first_touch_at < k.first_reply_at) "
            "THEN 'bot message before the first human reply' END",
            "CASE k.created_by WHEN 'agent' THEN 'agent-created ticket' WHEN 'system' THEN 'created by automation' END",
            "CASE WHEN k.has_facts AND k.first_reply_at IS NULL THEN 'no public human reply in ours' END",
        ],
        Family.RESOLUTION: [reopened, unsolved, "CASE k.created_by WHEN 'agent' THEN 'agent-created ticket' END",
                            pending],
        Family.WAIT: [unsolved, reopened, pending,
                      f"CASE WHEN k.on_hold_s > 0 THEN 'on hold ' || {mins.format('k.on_hold_s')} || ' min' END"],
        Family.REOPENS: [],
        Family.REPLIES: ["CASE WHEN k.created_by = 'agent' THEN 'agent-created ticket' END",
                         "CASE WHEN k.bot_involved THEN 'bot messages' END"],
    }
    return f"nullif(concat_ws('; ', {', '.join(common + by_family[p.family])}), '')"


def _comparisons_sql(pairs: tuple[Pair, ...], shown: set[str]) -> str:
    """A WITH clause: `k`, one row per ticket with kept numbers (the JSON and our facts),
    and `rc`, one row per metric and ticket where either side has a value, classified,
    with the reason. Parameters: $1 vendor, $2 kind, $3 source."""
    per_metric = "\nUNION ALL\n".join(
        f"SELECT {n} AS ord, '{p.metric}' AS metric, {p.metric in shown} AS shown, '{p.twin or ''}' AS twin, "
        f"{p.unit == Unit.COUNT} AS is_count, k.ticket_id, k.schedule, vendor, ours, {_reasons(p)} AS reason "
        f"FROM k, LATERAL (SELECT CAST({p.vendor_sql} AS DOUBLE) AS vendor, "
        f"CAST({p.ours_sql} AS DOUBLE) AS ours)"
        for n, p in enumerate(pairs))
    classify = f"""
        CASE WHEN vendor IS NULL AND ours IS NULL THEN NULL
             WHEN ours IS NULL THEN 'only the vendor''s'
             WHEN vendor IS NULL THEN 'only ours'
             WHEN abs(ours - vendor) <= CASE WHEN is_count THEN 0 ELSE {TOLERANCE_MINUTES} + 1e-9 END THEN 'agrees'
             ELSE 'differs' END"""
    return f"""
    WITH k AS (
    SELECT o.object_id AS ticket_id, o.body, f.ticket_id IS NOT NULL AS has_facts,
        f.* EXCLUDE (source, ticket_id), b.* EXCLUDE (source, ticket_id), r.median_reply_bh_s
    FROM connector_objects o
    LEFT JOIN ticket_facts f ON f.source = $3 AND f.ticket_id = o.object_id
    LEFT JOIN ticket_facts_bh b ON b.source = $3 AND b.ticket_id = o.object_id
    LEFT JOIN (SELECT ticket_id, median(seconds_bh) AS median_reply_bh_s FROM reply_intervals_bh
               WHERE source = $3 GROUP BY ticket_id) r ON r.ticket_id = o.object_id
    WHERE o.vendor = $1 AND o.kind = $2
    ), c AS (SELECT *, {classify} AS status FROM ({per_metric})
    ), rc AS (
    SELECT c.ord, c.metric, c.ticket_id, c.vendor, c.ours, c.status,
        -- a business-hours metric that differs while its calendar twin agrees: the hours differ
        nullif(concat_ws('; ', CASE WHEN c.status = 'differs' AND t.status = 'agrees' THEN 'other business '
            || 'hours (ours: ' || coalesce(c.schedule, 'default') || ')' END, c.reason), '') AS reason
    FROM c LEFT JOIN c t ON t.metric = c.twin AND t.ticket_id = c.ticket_id
    WHERE c.status IS NOT NULL AND c.shown
    )
    """


_COUNTS = """
    SELECT metric,
        count(*) FILTER (status IN ('agrees', 'differs')) AS compared,
        count(*) FILTER (status = 'agrees') AS agree,
        count(*) FILTER (status = 'differs') AS differ,
        count(*) FILTER (status = 'only the vendor''s') AS only_vendor,
        count(*) FILTER (status = 'only ours') AS only_ours
    FROM rc GROUP BY metric
"""

# the tickets that do not agree, by metric, then ticket id in natural order (9 before 10)
_LISTED = """
    SELECT ticket_id, metric, round(vendor, 2) AS vendor, round(ours, 2) AS ours,
        round(ours - vendor, 2) AS difference, status, reason
    FROM rc WHERE status <> 'agrees'
    ORDER BY ord, length(ticket_id), ticket_id
"""
