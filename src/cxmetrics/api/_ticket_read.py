"""One ticket's stored rows by key: what GET /api/v1/tickets/{source}/{ticket_id} answers and
the dashboard's ticket page shows, read in one place so the two never disagree.

Every read is by (source, ticket_id) with no index behind it: DuckDB skips the row groups
whose min/max cannot hold the key (zone maps), so a lookup costs a scan of the few row
groups that may (measured on 1M tickets in docs/dashboard.md, "Ticket page").
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from cxmetrics._workspace import Workspace


@dataclass(frozen=True)
class TicketRows:
    """A ticket's canonical row, facts row, events (in time order) and survey answers."""

    ticket: pa.Table
    facts: pa.Table
    events: pa.Table
    surveys: pa.Table

    @property
    def found(self) -> bool:
        """Whether anything names the ticket (a ticket row, facts or events)."""
        return bool(self.ticket.num_rows or self.facts.num_rows or self.events.num_rows)


def read_ticket(ws: Workspace, source: str, ticket_id: str) -> TicketRows:
    """The rows of ticket `ticket_id` of `source`, without the store's bookkeeping columns.
    Events come in time order (ties by event id, `e2` before `e10`); answers by answer time."""
    key = [source, ticket_id]
    ticket = ws.sql("SELECT * EXCLUDE (_hash, _import_id) FROM tickets WHERE source = ? AND ticket_id = ?", key)
    facts = ws.sql("SELECT * EXCLUDE (_event_rows, _ticket_row) FROM ticket_facts WHERE source = ? AND ticket_id = ?",
                   key)
    events = ws.sql("SELECT * EXCLUDE (_hash, _import_id) FROM events WHERE source = ? AND ticket_id = ? "
                    "ORDER BY ts, length(event_id), event_id", key)
    if not (ticket.num_rows or facts.num_rows or events.num_rows):
        surveys = ws.sql("SELECT * EXCLUDE (_hash, _import_id) FROM surveys LIMIT 0")
    else:
        surveys = ws.sql("SELECT * EXCLUDE (_hash, _import_id) FROM surveys WHERE source = ? AND ticket_id = ? "
                         "ORDER BY coalesce(responded_at, sent_at), response_id", key)
    return TicketRows(ticket, facts, events, surveys)


__all__ = ["TicketRows", "read_ticket"]
