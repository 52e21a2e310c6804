"""An independent reference implementation of the headline metrics, in plain pandas.

Written from METRICS.md, not from our SQL: it never reads `ticket_facts` and shares no code
with `cxmetrics.facts` or `cxmetrics.metrics`. From the raw tables (tickets, events,
surveys) it derives each ticket's values (`ticket_values`), the next-reply intervals
(`next_reply_intervals`) and the survey answers with their ticket's channel
(`survey_rows`), then computes every metric of `METRICS` with `compute`:

    tv = ticket_values(tickets, events)
    rows = Rowsets(tickets=tv[~tv["excluded"]], surveys=survey_rows(surveys, tv),
                   replies=next_reply_intervals(tv, events))
    compute(rows, ["csat", "frt_p90"], by=["channel"], grain="week")

`Rowsets.from_facts` builds the same row sets from the engine's `ticket_facts` and
`reply_intervals` instead (for the benchmark's facts-level comparison only: the columns
it reads carry the same names and meanings as the ones derived here).

Conventions kept here (each a reading of METRICS.md, DESIGN.md or the README):
- a ticket's events are taken in (ts, event_id) order; the events imported as events
  win over those implied by its flat row (`origin = 'tickets'`);
- a ticket is out of every count when its row says deleted or spam, or it has a
  `merged` event (merged away);
- a "solve" is a status change to solved or closed from a status that was neither
  (solved -> closed is no new solve); solved = the current status is solved or closed;
- a row sits in the period of the timestamp its metric measures (created, latest
  solve, call queued, answer, reply), and rows without that timestamp count nowhere;
- durations are calendar seconds; median and p90 interpolate linearly between order
  statistics (numpy's default, DuckDB's `quantile_cont`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DONE = ("solved", "closed")
OPEN = ("new", "open", "pending", "on-hold")
WAITING_ON_COMPANY = ("new", "open", "on-hold")  # requester wait: pending is excluded
CALL_KINDS = ("call_queued", "call_answered", "call_abandoned", "call_ended", "hold_start", "hold_end", "wrap_up_end")
FCR_REPEAT = pd.Timedelta(days=7)
SHORT_ABANDON_S = 5.0
SERVICE_LEVEL_S = 20.0
Z95 = 1.959963984540054

EVENT_COLUMNS = ["source", "ticket_id", "event_id", "ts", "kind", "actor_type", "actor_id", "public", "status_from",
                 "status_to", "duration_s", "origin"]
TICKET_COLUMNS = ["source", "ticket_id", "created_at", "channel", "requester_id", "topic", "created_by", "status",
                  "reopens_reported", "replies_reported", "handle_s_reported"]
SURVEY_COLUMNS = ["source", "ticket_id", "kind", "scale", "scale_min", "scale_max", "score", "sent_at",
                  "responded_at"]


def seconds(start: pd.Series, end: pd.Series) -> pd.Series:
    """Calendar seconds from start to end (NaN when either is missing)."""
    return (end - start) / pd.Timedelta(microseconds=1) / 1e6


# -- per ticket --------------------------------------------------------------------------


def order_events(events: pd.DataFrame) -> pd.DataFrame:
    """The events of tickets in (ts, event_id) order per ticket, with an integer ticket
    `_key`: a ticket's own events, or those implied by its flat row when it has no others."""
    ev = events.loc[events["ticket_id"].notna(), [c for c in EVENT_COLUMNS if c in events.columns]].copy()
    implied = ev["origin"].eq("tickets").fillna(False).to_numpy(bool) if "origin" in ev else np.zeros(len(ev), bool)
    ev["_key"] = ev.groupby(["source", "ticket_id"], sort=False).ngroup()
    has_own = pd.Series(~implied, index=ev.index).groupby(ev["_key"]).transform("any").to_numpy(bool)
    ev = ev.loc[~implied | ~has_own]
    # ties at one timestamp in natural id order (X-9 before X-10), as the engine does
    ev["_id_len"] = ev["event_id"].str.len()
    ev = ev.sort_values(["_key", "ts", "_id_len", "event_id"], kind="stable", ignore_index=True)
    ev["implied"] = ev["origin"].eq("tickets").fillna(False).astype(bool) if "origin" in ev else False
    return ev


def _first_rows(frame: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    return frame.loc[mask].drop_duplicates("_key", keep="first").set_index("_key")


def ticket_values(tickets: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """One row per ticket (in `tickets` or named by an event) with what the metrics need."""
    ev = events if "_key" in events else order_events(events)
    key = ev["_key"]
    kind, actor = ev["kind"], ev["actor_type"]
    public = ~ev["public"].eq(False).fillna(False).astype(bool)  # a message is public unless it says not
    message = kind.eq("message") & public
    agent_msg = message & actor.eq("agent")
    bot_msg = message & actor.eq("bot")
    by = ev.groupby("_key", sort=True)

    out = pd.DataFrame({"n_events": by.size(), "first_event_at": by["ts"].min()})
    ids = ev.drop_duplicates("_key").set_index("_key")
    out["source"], out["ticket_id"] = ids["source"], ids["ticket_id"]
    out["implied"] = ids["implied"].fillna(False).astype(bool)
    created = _first_rows(ev, kind.eq("created"))
    out["created_event_at"] = created["ts"]
    out["created_actor"] = created["actor_type"]
    out["initial_status"] = created["status_to"]
    out["merged"] = kind.eq("merged").groupby(key).any()

    # messages
    out["agent_replies"] = agent_msg.groupby(key).sum()
    # each ticket's first message (public or not, anyone's), where its own events open with a
    # public agent message: on an agent-created ticket that is its opening comment
    first_message = ev.loc[kind.eq("message")].drop_duplicates("_key", keep="first")
    opener = first_message.loc[agent_msg[first_message.index] & ~first_message["implied"].astype(bool)]
    out["bot_involved"] = bot_msg.groupby(key).any()
    bot_before = (bot_msg.groupby(key).cumsum() - bot_msg.astype(int)) > 0
    out["handed_off"] = (kind.eq("handoff") | (agent_msg & bot_before)).groupby(key).any()

    # status changes
    st = ev.loc[kind.eq("status"), ["_key", "ts", "status_to", "status_from"]]
    sg = st.groupby("_key")
    prev = sg["status_to"].shift().fillna(st["status_from"])
    solve = st["status_to"].isin(DONE) & ~prev.isin(DONE)  # solved -> closed, or solved again, is no new solve
    out["first_solved_at"] = st["ts"][solve].groupby(st["_key"][solve]).min()
    out["last_solved_at"] = st["ts"][solve].groupby(st["_key"][solve]).max()
    out["last_status"] = st.drop_duplicates("_key", keep="last").set_index("_key")["status_to"]
    reopen = st["status_to"].isin(OPEN) & prev.isin(DONE)
    out["reopens_events"] = reopen.groupby(st["_key"]).sum()

    # calls
    def first_ts(k: str) -> pd.Series:
        return ev["ts"][kind.eq(k)].groupby(key[kind.eq(k)]).min()

    out["has_call"] = kind.isin(CALL_KINDS).groupby(key).any()
    out["call_queued_at"] = first_ts("call_queued")
    out["call_answered_at"] = first_ts("call_answered")
    out["call_abandoned_at"] = first_ts("call_abandoned")

    def total(mask: pd.Series, values: pd.Series) -> pd.Series:
        return values[mask].groupby(key[mask]).sum(min_count=1)

    out["talk_s"] = total(kind.eq("call_ended"), ev["duration_s"])
    out["wrap_s"] = total(kind.eq("wrap_up_end"), ev["duration_s"])
    holds = ev.loc[kind.isin(["hold_start", "hold_end"]), ["_key", "ts", "kind", "duration_s"]]
    hg = holds.groupby("_key")
    started = hg["kind"].shift().eq("hold_start")
    hold_len = holds["duration_s"].fillna(seconds(hg["ts"].shift(), holds["ts"]).where(started))
    ends = holds["kind"].eq("hold_end")
    out["hold_s"] = hold_len[ends].groupby(holds["_key"][ends]).sum(min_count=1)

    out = out.reset_index()
    tk = tickets[[c for c in TICKET_COLUMNS if c in tickets.columns]]
    tv = tk.merge(out, on=["source", "ticket_id"], how="outer")
    for col in ("n_events", "agent_replies", "reopens_events"):
        tv[col] = tv[col].fillna(0).astype("int64")
    for col in ("merged", "bot_involved", "handed_off", "has_call", "implied"):
        tv[col] = tv[col].astype("boolean").fillna(False).astype(bool)
    tv["created_at"] = tv["created_at"].fillna(tv["created_event_at"]).fillna(tv["first_event_at"])
    by_actor = tv["created_actor"].map({"agent": "agent", "system": "system"}).fillna("customer")
    tv["created_by"] = tv["created_by"].fillna(by_actor)
    # Zendesk: an agent-created ticket's opening comment is no reply (not counted in replies or
    # one-touch; its first reply time runs to the agent's next public comment): its first
    # comment, when it is stamped at the ticket's creation (a later comment is a reply)
    agent_made = tv.loc[tv["created_by"].eq("agent") & tv["_key"].notna()]
    made_at = agent_made.set_index(agent_made["_key"].astype("int64"))["created_at"]
    opening = opener.loc[opener["_key"].isin(made_at.index)]
    opening = opening.loc[opening["ts"] <= made_at.reindex(opening["_key"].to_numpy()).set_axis(opening.index)]
    not_opening = pd.Series(~ev.index.isin(opening.index), index=ev.index)
    tv.loc[tv["_key"].isin(opening["_key"]), "agent_replies"] -= 1
    # the ticket's own events say its status; a flat row (with only implied events) says it itself
    own = tv["n_events"].gt(0) & ~tv["implied"]
    tv["status"] = tv["last_status"].where(own, tv["status"]).fillna(tv["status"]).fillna(tv["last_status"])
    tv["status"] = tv["status"].fillna("new")
    tv["excluded"] = tv["status"].isin(["deleted", "spam"]) | tv["merged"]
    tv["solved"] = tv["status"].isin(DONE)
    flat = ~own
    tv["reopens"] = tv["reopens_events"]
    tv["public_agent_replies"] = tv["agent_replies"]
    if "reopens_reported" in tv:
        tv.loc[flat, "reopens"] = tv["reopens_reported"].fillna(tv["reopens_events"])[flat].astype("int64")
    if "replies_reported" in tv:
        tv.loc[flat, "public_agent_replies"] = tv["replies_reported"].fillna(tv["agent_replies"])[flat].astype("int64")

    # what needs the ticket's created_at (from its row) is derived per event, then keyed back
    tv["_key"] = tv["_key"].astype("Int64")
    with_key = tv.loc[tv["_key"].notna()]
    at_key = with_key.set_index(with_key["_key"].to_numpy("int64"))
    ev_created = ev["_key"].map(at_key["created_at"])
    after = ev["ts"] >= ev_created  # first replies happen at or after creation
    for col, mask in (("first_reply_at", agent_msg & after & not_opening),
                      ("first_touch_at", (agent_msg | bot_msg) & after & not_opening)):
        tv[col] = tv["_key"].map(ev["ts"][mask].groupby(key[mask]).min())
    for col, total in _time_in_status(ev, ev_created, ev["_key"].map(at_key["initial_status"]),
                                      ev["_key"].map(at_key["last_solved_at"])).items():
        tv[col] = tv["_key"].map(total).fillna(0.0).where(tv["last_solved_at"].notna())
    customer = tv["created_by"].eq("customer")
    tv["frt_s"] = seconds(tv["created_at"], tv["first_reply_at"])  # every ticket's; frt counts the customers'
    tv["frt_first_touch_s"] = seconds(tv["created_at"], tv["first_touch_at"]).where(customer)
    tv["unanswered"] = customer & tv["first_reply_at"].isna() & ~tv["excluded"]
    tv["unanswered_open"] = tv["unanswered"] & ~tv["solved"]
    tv["first_resolution_s"] = seconds(tv["created_at"], tv["first_solved_at"])
    tv["full_resolution_s"] = seconds(tv["created_at"], tv["last_solved_at"])

    tv["bot_contained"] = (tv["bot_involved"] & tv["solved"] & ~tv["handed_off"]
                           & tv["public_agent_replies"].eq(0) & tv["reopens"].eq(0))
    tv["asa_s"] = seconds(tv["call_queued_at"], tv["call_answered_at"])
    abandon_wait = seconds(tv["call_queued_at"], tv["call_abandoned_at"])
    tv["call_abandoned"] = tv["call_abandoned_at"].notna() & tv["has_call"]
    tv["short_abandon"] = tv["has_call"] & abandon_wait.lt(SHORT_ABANDON_S)
    handled = tv[["talk_s", "hold_s", "wrap_s"]]
    reported = tv["handle_s_reported"] if "handle_s_reported" in tv else pd.Series(np.nan, index=tv.index)
    tv["handle_s"] = handled.sum(axis=1, min_count=1).where(handled.notna().any(axis=1), reported)
    tv["fcr"] = (tv["solved"] & tv["public_agent_replies"].le(1) & tv["reopens"].eq(0) & ~_repeat_contact(tv))
    return tv


def _time_in_status(ev: pd.DataFrame, created_at: pd.Series, initial: pd.Series,
                    last_solved_at: pd.Series) -> dict[str, pd.Series]:
    """Seconds in each status from creation to the latest solve, per ticket key: each
    status change ends the span of the status before it (for the first change, the
    created event's status, else new)."""
    st = ev["kind"].eq("status")
    key = ev["_key"][st]
    g = ev.loc[st, ["_key", "ts", "status_to"]].groupby("_key", sort=False)
    before = g["status_to"].shift().fillna(initial[st]).fillna("new")
    since = g["ts"].shift().fillna(created_at[st])
    span = seconds(since, ev["ts"][st]).clip(lower=0)
    counted = ev["ts"][st].le(last_solved_at[st])
    out = {}
    for col, statuses in (("requester_wait_s", WAITING_ON_COMPANY), ("agent_wait_s", ("pending",)),
                          ("on_hold_s", ("on-hold",)), ("agent_work_s", ("new", "open"))):
        out[col] = span.where(counted & before.isin(statuses), 0.0).groupby(key).sum()
    return out


def _repeat_contact(tv: pd.DataFrame) -> pd.Series:
    """Whether the same customer opened another (counted) ticket on the same topic within
    7 days after this one (strictly after, up to 7 days inclusive). METRICS.md: "no new
    ticket from the same customer": tickets an agent or the system opened are not."""
    keys = ["source", "requester_id", "topic"]
    left = tv.loc[tv["requester_id"].notna() & tv["topic"].notna(), [*keys, "created_at"]].copy()
    left["_row"] = left.index
    from_customer = ~tv.loc[left.index, "excluded"] & tv.loc[left.index, "created_by"].eq("customer")
    right = left.loc[from_customer, [*keys, "created_at"]].rename(columns={"created_at": "next_at"})
    right["next"] = right["next_at"]
    left = left.sort_values("created_at")
    right = right.sort_values("next_at")
    hit = pd.merge_asof(left, right, left_on="created_at", right_on="next_at", by=keys, direction="forward",
                        allow_exact_matches=False, tolerance=FCR_REPEAT)
    return pd.Series(hit["next"].notna().to_numpy(), index=hit["_row"].to_numpy()).reindex(tv.index, fill_value=False)


# -- other row sets ----------------------------------------------------------------------


def next_reply_intervals(tv: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """After the first reply, from the oldest unanswered public customer message to the
    next public agent reply; one row per such pair, with the ticket's channel."""
    ev = events if "_key" in events else order_events(events)
    public = ~ev["public"].eq(False).fillna(False).astype(bool)
    m = ev.loc[ev["kind"].eq("message") & public & ev["actor_type"].isin(["customer", "agent"]),
               ["source", "ticket_id", "_key", "ts", "actor_type"]]
    m = m.assign(_pos=m.index)
    m = m.merge(tv.loc[tv["created_by"].eq("customer") & tv["first_reply_at"].notna() & ~tv["excluded"],
                       ["source", "ticket_id", "first_reply_at", "channel"]], how="inner")
    m = m.sort_values("_pos")
    agent = m["actor_type"].eq("agent")
    # the first customer message after an agent message (the first reply or a later one) opens a wait
    opens = ~agent & agent.groupby(m["_key"]).shift().fillna(False).astype(bool) & m["ts"].ge(m["first_reply_at"])
    next_reply = m["ts"].where(agent).groupby(m["_key"]).shift(-1)
    next_reply = next_reply.groupby(m["_key"]).bfill()
    out = m.loc[opens & next_reply.notna(), ["source", "ticket_id", "channel", "ts"]].rename(columns={"ts": "started_at"})
    out["replied_at"] = next_reply[out.index]
    out["seconds"] = seconds(out["started_at"], out["replied_at"])
    return out.reset_index(drop=True)


def contact_rows(tv: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Contacts: each call of a ticket (each call_queued starts one; call events before the
    first belong to the first), each chat its customer opened that reached agents (at
    creation, or at a bot's hand-off; a chat the bot kept is not offered), and each other
    ticket that reports a handle time. With the ticket's channel; counted tickets only."""
    ev = events if "_key" in events else order_events(events)
    keep = tv.loc[~tv["excluded"] & tv["_key"].notna()]
    by_key = keep.set_index(keep["_key"].to_numpy("int64"))

    # calls
    c_ev = ev.loc[ev["kind"].isin(CALL_KINDS), ["_key", "ts", "kind", "duration_s", "actor_id"]].copy()
    c_ev["call_no"] = c_ev["kind"].eq("call_queued").astype(int).groupby(c_ev["_key"]).cumsum().clip(lower=1)
    holds = c_ev.loc[c_ev["kind"].isin(["hold_start", "hold_end"])]
    hg = holds.groupby("_key")
    hold_len = holds["duration_s"].fillna(
        seconds(hg["ts"].shift(), holds["ts"]).where(hg["kind"].shift().eq("hold_start")))
    c_ev["hold_len"] = hold_len.where(holds["kind"].eq("hold_end"))
    keys = [c_ev["_key"], c_ev["call_no"]]

    def first(kind: str) -> pd.Series:
        m = c_ev["kind"].eq(kind)
        return c_ev["ts"][m].groupby([k[m] for k in keys]).min()

    def total(values: pd.Series) -> pd.Series:
        m = values.notna()
        return values[m].groupby([k[m] for k in keys]).sum()

    calls = pd.DataFrame({"first_at": c_ev["ts"].groupby(keys).min()})
    calls["offered_at"] = first("call_queued")
    calls["answered_at"] = first("call_answered")
    hung_up = first("call_abandoned")
    calls["abandoned"] = calls["answered_at"].isna() & hung_up.reindex(calls.index).notna()
    calls["abandoned_at"] = hung_up.reindex(calls.index).where(calls["abandoned"])
    parts = pd.DataFrame({
        "talk": total(c_ev["duration_s"].where(c_ev["kind"].eq("call_ended"))),
        "hold": total(c_ev["hold_len"]),
        "wrap": total(c_ev["duration_s"].where(c_ev["kind"].eq("wrap_up_end"))),
    }).reindex(calls.index)
    calls["handle_s"] = parts.sum(axis=1, min_count=1)
    calls["contact_at"] = calls["offered_at"].fillna(calls["answered_at"]).fillna(calls["first_at"])
    calls["kind"] = "call"
    calls = calls.reset_index()
    calls = calls.loc[calls["_key"].isin(by_key.index)]
    for col in ("source", "ticket_id", "channel"):
        calls[col] = calls["_key"].map(by_key[col])

    # chats and other tickets
    t = keep.loc[~keep["has_call"]].copy()
    chat = t["channel"].eq("chat") & t["created_by"].eq("customer") & (~t["bot_involved"] | t["handed_off"])
    handoff_at = t["_key"].map(ev["ts"][ev["kind"].eq("handoff")].groupby(ev["_key"]).min())
    t["offered_at"] = t["created_at"].where(~t["bot_involved"], handoff_at.fillna(t["created_at"])).where(chat)
    public = ~ev["public"].eq(False).fillna(False).astype(bool)
    replies = ev.loc[ev["kind"].eq("message") & public & ev["actor_type"].eq("agent"), ["_key", "ts"]]
    offers = t.loc[chat, ["_key", "offered_at"]]
    after = replies.merge(offers, on="_key")
    after = after.loc[after["ts"].ge(after["offered_at"])]
    t["answered_at"] = t["_key"].map(after.groupby("_key")["ts"].min()).where(chat)
    t["abandoned"] = (t["answered_at"].isna() & t["solved"] & t["first_solved_at"].notna()).where(chat)
    t["abandoned_at"] = t["first_solved_at"].where(t["abandoned"].eq(True))
    t["handle_s"] = t["handle_s_reported"] if "handle_s_reported" in t else np.nan
    t["kind"] = np.where(chat, "chat", "ticket")
    t["contact_at"] = t["offered_at"].fillna(t["created_at"])
    t = t.loc[chat | t["handle_s"].notna()]

    cols = ["source", "ticket_id", "kind", "channel", "contact_at", "offered_at", "answered_at", "abandoned", "abandoned_at", "handle_s"]
    out = pd.concat([calls[cols], t[cols]], ignore_index=True)
    out["wait_s"] = seconds(out["offered_at"], out["answered_at"].fillna(out["abandoned_at"]))
    out["short_abandon"] = out["abandoned"].eq(True) & seconds(out["offered_at"], out["abandoned_at"]).lt(SHORT_ABANDON_S)
    return out


def top_box(scale: pd.Series, score: pd.Series, lo: pd.Series, hi: pd.Series) -> pd.Series:
    """CSAT top box: 4-5 on 1-5, 8-10 on 1-10, good (1) on good/bad; else the top quarter."""
    out = score >= lo + 0.75 * (hi - lo)
    out = out.mask(scale.eq("1-5"), score >= 4).mask(scale.eq("1-10"), score >= 8)
    return out.mask(scale.eq("good/bad"), score == 1)


def bottom_box(scale: pd.Series, score: pd.Series, lo: pd.Series, hi: pd.Series) -> pd.Series:
    """DSAT bottom box: 1-2 on 1-5, 1-5 on 1-10, bad (0) on good/bad; else the bottom quarter."""
    out = score <= lo + 0.25 * (hi - lo)
    out = out.mask(scale.eq("1-5"), score <= 2).mask(scale.eq("1-10"), score <= 5)
    return out.mask(scale.eq("good/bad"), score == 0)


def survey_rows(surveys: pd.DataFrame, tv: pd.DataFrame) -> pd.DataFrame:
    """Survey answers (a score given) with their ticket's channel; answers about tickets
    left out of counts are left out too. Placed at the answer, else at the send."""
    s = surveys.loc[surveys["score"].notna(), [c for c in SURVEY_COLUMNS if c in surveys.columns]]
    s = s.merge(tv[["source", "ticket_id", "channel", "excluded"]], on=["source", "ticket_id"], how="left")
    s = s.loc[~s["excluded"].astype("boolean").fillna(False).astype(bool)].drop(columns="excluded")
    s["answered_at"] = s["responded_at"].fillna(s["sent_at"])
    lo, hi, score, scale = s["scale_min"], s["scale_max"], s["score"], s["scale"]
    s["top_box"] = top_box(scale, score, lo, hi)
    s["bottom_box"] = bottom_box(scale, score, lo, hi)
    s["score_5"] = 1 + 4 * (score - lo) / (hi - lo)  # every scale mapped linearly onto 1-5
    s["score_7"] = 1 + 6 * (score - lo) / (hi - lo)  # CES: onto the 1-7 agreement scale
    return s.reset_index(drop=True)


@dataclass(frozen=True)
class Rowsets:
    tickets: pd.DataFrame  # one row per counted ticket (deleted, spam and merged left out)
    surveys: pd.DataFrame  # one row per survey answer
    replies: pd.DataFrame  # one row per next-reply interval
    contacts: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per call, offered chat, handled ticket

    @classmethod
    def from_raw(cls, tickets: pd.DataFrame, events: pd.DataFrame, surveys: pd.DataFrame) -> Rowsets:
        ev = order_events(events)
        tv = ticket_values(tickets, ev)
        return cls(tv.loc[~tv["excluded"]].reset_index(drop=True), survey_rows(surveys, tv),
                   next_reply_intervals(tv, ev), contact_rows(tv, ev))

    @classmethod
    def from_facts(cls, facts: pd.DataFrame, replies: pd.DataFrame, surveys: pd.DataFrame,
                   contacts: pd.DataFrame | None = None) -> Rowsets:
        """The same row sets from the engine's ticket_facts, reply_intervals and contacts
        (benchmark only)."""
        first = replies.groupby(["source", "ticket_id"])["replied_at"].transform("min")
        r = replies.loc[replies["replied_at"].gt(first)]
        r = r.merge(facts.loc[~facts["excluded"], ["source", "ticket_id", "channel"]], how="inner")
        tickets = facts.loc[~facts["excluded"]].reset_index(drop=True)
        tickets["unanswered_open"] = tickets["unanswered"].astype(bool) & ~tickets["solved"].astype(bool)
        c = pd.DataFrame() if contacts is None else contacts.merge(
            facts.loc[~facts["excluded"], ["source", "ticket_id", "channel"]], how="inner")
        return cls(tickets, survey_rows(surveys, facts), r, c)


# -- metrics -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    rows: str  # tickets, surveys, replies or contacts
    time: str  # the timestamp that places a row in a period
    kind: str  # count, proportion, mean, duration, nps
    where: Callable[[pd.DataFrame], pd.Series]
    value: Callable[[pd.DataFrame], pd.Series] | None = None  # numerator / value
    scale: tuple[float, float] = (-math.inf, math.inf)  # mean: where the value can be (its interval stays there)


def _all(d: pd.DataFrame) -> pd.Series:
    return pd.Series(True, index=d.index)


def _col(name: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda d: d[name]


def _has(name: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda d: d[name].notna()


def _kind(k: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda d: d["kind"].eq(k)


def _customer(col: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda d: d["created_by"].eq("customer") & d[col].notna()


def _solved(d: pd.DataFrame) -> pd.Series:
    return d["solved"].astype(bool)


def _offered(d: pd.DataFrame) -> pd.Series:
    """Offered calls and chats that were answered or abandoned, short abandons (under 5 s)
    left out of both sides."""
    settled = d["answered_at"].notna() | d["abandoned"].eq(True)
    return d["offered_at"].notna() & settled & ~d["short_abandon"].astype("boolean").fillna(False).astype(bool)


def _bot(d: pd.DataFrame) -> pd.Series:
    return d["bot_involved"].astype(bool)


def _flag(name: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda d: d[name].astype("boolean").fillna(False).astype(bool)


METRICS: dict[str, Metric] = {
    "csat": Metric("surveys", "answered_at", "proportion", _kind("csat"), _col("top_box")),
    "dsat": Metric("surveys", "answered_at", "proportion", _kind("csat"), _col("bottom_box")),
    "csat_mean": Metric("surveys", "answered_at", "mean", _kind("csat"), _col("score_5"), (1, 5)),
    "nps": Metric("surveys", "answered_at", "nps", _kind("nps")),
    "ces": Metric("surveys", "answered_at", "mean", _kind("ces"), _col("score_7"), (1, 7)),
    "frt": Metric("tickets", "created_at", "duration", _customer("frt_s"), _col("frt_s")),
    "frt_all": Metric("tickets", "created_at", "duration", _has("frt_s"), _col("frt_s")),
    "frt_first_touch": Metric("tickets", "created_at", "duration", _customer("frt_first_touch_s"),
                              _col("frt_first_touch_s")),
    "unanswered": Metric("tickets", "created_at", "count", _flag("unanswered_open")),
    # the first solve is final once it happened (a reopen does not undo it); the latest solve
    # and the time in status up to it are final only while the ticket stays solved
    "first_resolution_time": Metric("tickets", "last_solved_at", "duration", _has("first_resolution_s"),
                                    _col("first_resolution_s")),
    "full_resolution_time": Metric("tickets", "last_solved_at", "duration", _solved, _col("full_resolution_s")),
    "reopen_rate": Metric("tickets", "last_solved_at", "proportion", _solved, lambda d: d["reopens"].gt(0)),
    "one_touch": Metric("tickets", "last_solved_at", "proportion", _solved, lambda d: d["public_agent_replies"].eq(1)),
    "fcr": Metric("tickets", "last_solved_at", "proportion", _solved, _flag("fcr")),
    "agent_touches": Metric("tickets", "last_solved_at", "mean", _solved, _col("public_agent_replies"), (0, math.inf)),
    "asa": Metric("contacts", "offered_at", "duration", lambda d: d["kind"].eq("call") & d["answered_at"].notna(),
                  _col("wait_s")),
    "aht": Metric("contacts", "contact_at", "duration", lambda d: d["handle_s"].gt(0), _col("handle_s")),
    "service_level": Metric("contacts", "offered_at", "proportion", _offered,
                            lambda d: d["answered_at"].notna() & d["wait_s"].le(SERVICE_LEVEL_S)),
    "abandonment_rate": Metric("contacts", "offered_at", "proportion", _offered, _flag("abandoned")),
    "bot_resolution_rate": Metric("tickets", "created_at", "proportion", _bot, _flag("bot_contained")),
    "bot_handoff_rate": Metric("tickets", "created_at", "proportion", _bot, _flag("handed_off")),
    "tickets": Metric("tickets", "created_at", "count", _all),
    "requester_wait": Metric("tickets", "last_solved_at", "duration", _solved, _col("requester_wait_s")),
    "next_reply_time": Metric("replies", "replied_at", "duration", _all, _col("seconds")),
}
STATS = {"median": 0.5, "p90": 0.9, "mean": None}
HEADLINE = [
    "csat", "dsat", "csat_mean", "nps", "ces", "frt", "frt_mean", "frt_p90", "frt_all", "frt_first_touch", "unanswered",
    "first_resolution_time", "full_resolution_time", "reopen_rate", "one_touch", "fcr", "agent_touches", "asa",
    "aht", "service_level", "abandonment_rate", "bot_resolution_rate", "bot_handoff_rate", "tickets",
    "requester_wait", "next_reply_time",
]


def resolve(name: str) -> tuple[Metric, str | None]:
    """A metric name, with _median / _mean / _p90 on durations (a bare duration is its median,
    but AHT and ASA, averages by their names in METRICS.md, are means)."""
    if name in METRICS:
        m = METRICS[name]
        return m, (("mean" if name in ("aht", "asa") else "median") if m.kind == "duration" else None)
    base, _, stat = name.rpartition("_")
    if stat in STATS and base in METRICS and METRICS[base].kind == "duration":
        return METRICS[base], stat
    raise KeyError(name)


def period(ts: pd.Series, grain: str, tz: str = "UTC") -> pd.Series:
    """The local start of the period as a date: 2025-11-03 (ISO weeks start on Monday)."""
    local = ts.dt.tz_convert(tz).dt.tz_localize(None)
    day = local.dt.normalize()
    if grain == "day":
        start = day
    elif grain == "week":
        start = day - pd.to_timedelta(local.dt.day_of_week, unit="D")
    elif grain == "month":
        start = day - pd.to_timedelta(local.dt.day - 1, unit="D")
    else:
        raise ValueError(f"grain {grain!r} is not supported by the reference")
    return start.dt.date


def wilson(k: float, n: float) -> tuple[float, float]:
    p = k / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def t_crit(df: int) -> float:
    """The two-sided 5% critical value of Student's t with an integer df, from the exact
    finite series for P(|T| < t) (Abramowitz and Stegun 26.7.3 and 26.7.4), by bisection."""
    def inside(t: float) -> float:
        th = math.atan(t / math.sqrt(df))
        c2, term, total = math.cos(th) ** 2, 1.0, 0.0
        if df % 2:  # odd: (2/pi)(th + sin th (cos th + 2/3 cos^3 th + ...)), up to cos^(df-2)
            if df > 1:
                term = math.cos(th)
                total = term
                for j in range(3, df - 1, 2):
                    term *= c2 * (j - 1) / j
                    total += term
            return 2 / math.pi * (th + math.sin(th) * total)
        total = 1.0  # even: sin th (1 + 1/2 cos^2 th + 1.3/(2.4) cos^4 th + ...), up to cos^(df-2)
        for j in range(2, df - 1, 2):
            term *= c2 * (j - 1) / j
            total += term
        return math.sin(th) * total

    lo, hi = 0.0, 1000.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if inside(mid) < 0.95 else (lo, mid)
    return (lo + hi) / 2


def nps_score_interval(promoters: int, detractors: int, n: int) -> tuple[float, float]:
    """The NPS score interval in points, solved the slow way: the constrained maximum
    likelihood by bisection on the log-likelihood's slope, each bound by bisection."""
    others, hat = n - promoters - detractors, (promoters - detractors) / n

    def variance(theta: float) -> float:
        lo, hi = max(0.0, theta), (1 + theta) / 2

        def slope(p: float) -> float:
            d, o = p - theta, 1 - 2 * p + theta
            return ((promoters / p if promoters else 0) + (detractors / d if detractors else 0)
                    - (2 * others / o if others else 0))

        for _ in range(200):
            mid = (lo + hi) / 2
            if mid in (lo, hi):
                break
            lo, hi = (mid, hi) if slope(mid) > 0 else (lo, mid)
        p = (lo + hi) / 2
        return 2 * p - theta - theta * theta

    def accepted(theta: float) -> bool:
        return n * (hat - theta) ** 2 <= Z95 * Z95 * max(variance(theta), 0.0)

    bounds = []
    for end in (-1.0, 1.0):
        if accepted(end):
            bounds.append(end)
            continue
        inside, outside = hat, end
        for _ in range(200):
            mid = (inside + outside) / 2
            if mid in (inside, outside):
                break
            inside, outside = (mid, outside) if accepted(mid) else (inside, mid)
        bounds.append(inside)
    return 100 * bounds[0], 100 * bounds[1]


def _summary(metric: Metric, stat: str | None, frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    d = frame.loc[metric.where(frame).fillna(False).astype(bool) & frame[metric.time].notna()]
    groups = [d[k] for k in keys]
    g = (lambda s: s.groupby(groups, dropna=False, sort=False)) if keys else (lambda s: s.groupby(np.zeros(len(s))))
    n = g(pd.Series(1, index=d.index)).sum()
    if metric.kind == "count":
        out = pd.DataFrame({"value": n.astype(float), "n": n})
    elif metric.kind == "proportion":
        k = g(metric.value(d).fillna(False).astype(bool).astype(int)).sum()
        out = pd.DataFrame({"value": 100.0 * k / n, "n": n, "k": k})
        ci = [wilson(a, b) for a, b in zip(k, n, strict=True)]
        out["ci_low"] = [100 * c[0] for c in ci]
        out["ci_high"] = [100 * c[1] for c in ci]
    elif metric.kind == "nps":
        prom = g(d["score"].ge(9).astype(int)).sum()
        det = g(d["score"].le(6).astype(int)).sum()
        ci = [nps_score_interval(int(a), int(b), int(c)) for a, b, c in zip(prom, det, n, strict=True)]
        out = pd.DataFrame({"value": 100 * (prom - det) / n, "n": n, "ci_low": [c[0] for c in ci],
                            "ci_high": [c[1] for c in ci]})
    elif metric.kind == "mean" or stat == "mean":
        x = g(metric.value(d).astype(float))
        mean, sd = x.mean(), x.std(ddof=1)
        crit = pd.Series([t_crit(int(k) - 1) if k > 1 else math.nan for k in n], index=n.index)
        low, high = metric.scale if metric.kind == "mean" else (-math.inf, math.inf)
        out = pd.DataFrame({"value": mean, "n": n, "ci_low": (mean - crit * sd / np.sqrt(n)).clip(lower=low),
                            "ci_high": (mean + crit * sd / np.sqrt(n)).clip(upper=high)})
    else:
        out = pd.DataFrame({"value": g(metric.value(d).astype(float)).quantile(STATS[stat]), "n": n})
    out = out.reset_index(drop=not keys)
    if keys:
        out.columns = [*keys, *out.columns[len(keys):]]
    return out


def compute(rows: Rowsets, names: Iterable[str], *, by: list[str] | None = None, grain: str | None = None,
            tz: str = "UTC") -> pd.DataFrame:
    """One tidy table: metric, the `by` columns, period (with a grain), value, n, ci_low, ci_high."""
    by = list(by or [])
    frames = []
    cache: dict[tuple[str, str], pd.DataFrame] = {}
    for name in names:
        metric, stat = resolve(name)
        if (metric.rows, metric.time) not in cache:
            frame = getattr(rows, metric.rows)
            if grain:
                frame = frame.assign(period=period(frame[metric.time], grain, tz))
            cache[(metric.rows, metric.time)] = frame
        keys = [*by, *(["period"] if grain else [])]
        out = _summary(metric, stat, cache[(metric.rows, metric.time)], keys)
        out.insert(0, "metric", name)
        frames.append(out)
    table = pd.concat(frames, ignore_index=True)
    for col in ("ci_low", "ci_high"):
        if col not in table:
            table[col] = np.nan
    cols = ["metric", *by, *(["period"] if grain else []), "value", "n", "ci_low", "ci_high"]
    table = table[cols].astype({"n": "int64"})
    for k in by:  # group values as text, None for a missing one (as the engine returns them)
        table[k] = table[k].astype(object).where(table[k].notna(), None)
    return table
