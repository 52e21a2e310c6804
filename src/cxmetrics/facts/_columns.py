"""The columns of the derived tables `ticket_facts` and `reply_intervals`.

Declared once here: the migration's DDL is checked against these declarations by the
tests, and the metric layer can take its allow-list of dimensions from them. Every
duration is in calendar seconds and ends in `_s`, so that a business-time twin
(`..._bh_s`) can sit next to it.
"""

from __future__ import annotations

from cxmetrics.model import ColType, Column

C = Column
T = ColType

FACT_COLUMNS: tuple[Column, ...] = (
    # keys and dimensions
    C("source", required=True),
    C("ticket_id", required=True),
    C("created_at", T.TIMESTAMP,
      doc="the ticket row's created_at, else the created event's ts, else the first event's"),
    C("channel"),
    C("priority", doc="current: the last priority event's, else the ticket row's"),
    C("team", doc="current: the last assign event's team, else the ticket row's"),
    C("assignee_id", doc="current: the last assign event's assignee, else the ticket row's"),
    C("topic"),
    C("tags", T.TAGS),
    C("product"),
    C("customer_tier"),
    C("region"),
    C("requester_id"),
    C("created_by", doc="customer, agent or system (customer when nothing says otherwise)"),
    C("status", doc="current: the last status event's status_to, else the ticket row's, else new"),
    C("excluded", T.BOOLEAN, doc="deleted, spam or merged away: left out of every count"),
    # first response
    C("first_reply_at", T.TIMESTAMP, doc="first public message by a human agent at or after creation; on an "
      "agent-created ticket, not its opening comment (its first message, when a public agent message "
      "at creation)"),
    C("frt_s", T.NUMBER, doc="created_at -> first_reply_at, for every ticket (Zendesk's first reply time); "
      "the frt metric counts the customer-created ones"),
    C("first_touch_at", T.TIMESTAMP, doc="first public message by a human agent or a bot at or after creation "
      "(not an agent-created ticket's opening comment)"),
    C("frt_first_touch_s", T.NUMBER, doc="created_at -> first_touch_at; only for tickets created by the customer"),
    C("unanswered", T.BOOLEAN, doc="created by the customer, no public human reply (yet), not excluded"),
    # resolution
    C("first_solved_at", T.TIMESTAMP),
    C("last_solved_at", T.TIMESTAMP),
    C("first_resolution_s", T.NUMBER),
    C("full_resolution_s", T.NUMBER,
      doc="created_at -> last_solved_at, only while solved (NULL for a reopened, unsolved ticket)"),
    C("solved", T.BOOLEAN, doc="the current status is solved or closed"),
    C("reopens", T.INTEGER, doc="transitions from solved/closed back to new, open, pending or on-hold"),
    C("public_agent_replies", T.INTEGER, doc="public messages by human agents, an agent-created ticket's opening "
      "comment left out"),
    C("one_touch", T.BOOLEAN, doc="solved with exactly one public agent reply (NULL when not solved)"),
    C("two_touch", T.BOOLEAN),
    C("multi_touch", T.BOOLEAN, doc="solved with three or more public agent replies"),
    # time in status, from creation to the latest solve (NULL unless solved now)
    C("requester_wait_s", T.NUMBER, doc="time in new, open and on-hold"),
    C("agent_wait_s", T.NUMBER, doc="time in pending"),
    C("on_hold_s", T.NUMBER, doc="time in on-hold"),
    C("agent_work_s", T.NUMBER, doc="time in new and open"),
    # routing
    C("assignee_changes", T.INTEGER, doc="assign events that change the assignee after the first one"),
    C("team_changes", T.INTEGER, doc="assign events that change the team after the first one"),
    C("escalated", T.BOOLEAN, doc="team_changes > 0"),
    # automation
    C("bot_involved", T.BOOLEAN, doc="a public bot message"),
    C("handed_off", T.BOOLEAN, doc="a handoff event, or a public human reply after a public bot message"),
    C("bot_contained", T.BOOLEAN, doc="bot involved, solved, no hand-off, no public human reply, no reopen"),
    C("frt_after_handoff_s", T.NUMBER, doc="first handoff event -> next public human reply"),
    C("resolved_by_type", doc="bot when bot_contained, human when otherwise solved, NULL when unsolved"),
    C("resolver_id", doc="the actor of the latest solve, else the assignee (NULL when unsolved)"),
    # calls
    C("call_queued_at", T.TIMESTAMP),
    C("call_answered_at", T.TIMESTAMP),
    C("asa_s", T.NUMBER, doc="call_queued_at -> call_answered_at"),
    C("call_abandoned", T.BOOLEAN, doc="a call_abandoned event (NULL for tickets without call events)"),
    C("abandon_wait_s", T.NUMBER, doc="call_queued_at -> the abandon"),
    C("short_abandon", T.BOOLEAN, doc="abandoned within 5 seconds of being queued"),
    C("talk_s", T.NUMBER, doc="sum of duration_s of call_ended events"),
    C("hold_s", T.NUMBER, doc="sum of holds: duration_s of hold_end, else hold_start -> hold_end"),
    C("wrap_s", T.NUMBER, doc="sum of duration_s of wrap_up_end events"),
    C("handle_s", T.NUMBER, doc="talk_s + hold_s + wrap_s when the ticket has them, else the reported handle time"),
    # quality
    C("fcr", T.BOOLEAN, doc="solved with at most one public agent reply, never reopened, no repeat contact "
                             "(a customer-created, not excluded ticket of the same requester and topic) "
                             "within 7 days after (NULL when not solved)"),
    C("n_events", T.INTEGER, doc="events the facts were derived from"),
    C("last_event_at", T.TIMESTAMP),
)

# bookkeeping columns of ticket_facts, used by the incremental refresh only
FACT_STORE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_event_rows", "BIGINT"),  # stored events of the ticket, of every origin
    ("_ticket_row", "BOOLEAN"),  # whether the ticket has a row in `tickets`
)

REPLY_INTERVAL_COLUMNS: tuple[Column, ...] = (
    C("source", required=True),
    C("ticket_id", required=True),
    C("seq", T.INTEGER, required=True, doc="1 = the first reply (from creation), then in order of reply"),
    C("started_at", T.TIMESTAMP, doc="creation for seq 1, else the oldest unanswered public customer message"),
    C("replied_at", T.TIMESTAMP, doc="the next public message by a human agent"),
    C("seconds", T.NUMBER, doc="started_at -> replied_at, calendar seconds"),
)

CONTACT_COLUMNS: tuple[Column, ...] = (
    C("source", required=True),
    C("ticket_id", required=True),
    C("contact_no", T.INTEGER, required=True, doc="1, 2... per ticket: each call_queued starts a new call"),
    C("kind", required=True, doc="call (from call events), chat (offered to agents) or ticket (handle time only)"),
    C("contact_at", T.TIMESTAMP, doc="when the contact happened: offered, else answered, else its first event"),
    C("offered_at", T.TIMESTAMP, doc="call: queued; chat: created, or handed off by a bot; NULL for other tickets"),
    C("answered_at", T.TIMESTAMP, doc="call: answered; chat: the first public human reply after the offer"),
    C("abandoned", T.BOOLEAN, doc="call: hung up before an answer; chat: closed before any human reply"),
    C("abandoned_at", T.TIMESTAMP),
    C("wait_s", T.NUMBER, doc="offered_at -> answered_at, or -> abandoned_at"),
    C("short_abandon", T.BOOLEAN, doc="abandoned within 5 seconds of the offer"),
    C("talk_s", T.NUMBER, doc="sum of duration_s of the call's call_ended events"),
    C("hold_s", T.NUMBER, doc="the call's holds: duration_s of hold_end, else hold_start -> hold_end"),
    C("wrap_s", T.NUMBER, doc="sum of duration_s of the call's wrap_up_end events"),
    C("handle_s", T.NUMBER, doc="talk + hold + wrap when the call has them, else the ticket's reported handle time"),
    C("agent_id", doc="who answered the call, else the ticket's assignee"),
)

# how many days after a ticket another ticket from its requester on its topic is a repeat contact
FCR_REPEAT_DAYS = 7
# an abandon sooner than this many seconds after queueing is a short abandon
SHORT_ABANDON_S = 5

# -- business time (facts/_business.py) -----------------------------------------------
# Every calendar duration above with a business-time twin: the twin is the same span (or
# the same sum of status intervals), counting only the business hours of the ticket's
# schedule (schedules.toml). Call times (asa_s, abandon_wait_s, talk_s, hold_s, wrap_s,
# handle_s) have none: a call is handled live, while the line is open, and its
# service-level clock runs in seconds of the caller's wait.
BUSINESS_TWINS: dict[str, str] = {
    "frt_s": "frt_bh_s",
    "frt_first_touch_s": "frt_first_touch_bh_s",
    "first_resolution_s": "first_resolution_bh_s",
    "full_resolution_s": "full_resolution_bh_s",
    "requester_wait_s": "requester_wait_bh_s",
    "agent_wait_s": "agent_wait_bh_s",
    "on_hold_s": "on_hold_bh_s",
    "agent_work_s": "agent_work_bh_s",
    "frt_after_handoff_s": "frt_after_handoff_bh_s",
}
# the reply intervals' calendar column -> its twin
REPLY_BUSINESS_TWINS: dict[str, str] = {"seconds": "seconds_bh"}

BUSINESS_FACT_COLUMNS: tuple[Column, ...] = (
    C("source", required=True),
    C("ticket_id", required=True),
    C("schedule", doc="the ticket's schedule: the first schedule rule of schedules.toml its current dimensions "
                      "match, else the default"),
    *(C(twin, T.NUMBER, doc=f"{name} in business seconds under the ticket's schedule (NULL when {name} is)")
      for name, twin in BUSINESS_TWINS.items()),
)

REPLY_INTERVAL_BH_COLUMNS: tuple[Column, ...] = (
    C("source", required=True),
    C("ticket_id", required=True),
    C("seq", T.INTEGER, required=True, doc="the reply interval's seq"),
    C("seconds_bh", T.NUMBER, doc="started_at -> replied_at in business seconds under the ticket's schedule"),
)
