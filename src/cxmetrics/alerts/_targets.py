"""Where the watcher reads SLA targets from, and which of them are state changes.

`SlaTargets` is the real source: `cxmetrics.sla.refresh_sla(con, now)` brings the
facts and the `sla_targets` table up to date as of `now`. `TableTargets` reads any
table with `sla_targets`' columns (at least source, ticket_id, policy, metric, cycle,
priority, channel, team, assignee_id, business, schedule, due_at, completed_at, state,
breached_at) and refreshes only the facts (for tests of the delivery layer, and for
targets computed elsewhere).

A state change is:
- **at risk**: the target is active (its clock running, not completed) and due after
  `now` but within the lead time (calendar time, as `cxmetrics.sla.at_risk` counts);
- **breached**: the target breached at or after `since` (see the watcher) and not
  after `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import duckdb


class TargetSource(Protocol):
    """Something that keeps a table of SLA targets and can bring it up to date."""

    table: str

    def refresh(self, con: duckdb.DuckDBPyConnection, now: datetime) -> None:
        """Bring `table` up to date with the events, as of `now`."""


@dataclass(frozen=True)
class TableTargets:
    """A table shaped like `sla_targets` that something else keeps up to date."""

    table: str = "sla_targets"

    def refresh(self, con: duckdb.DuckDBPyConnection, now: datetime) -> None:
        from cxmetrics.facts import refresh_facts

        refresh_facts(con)


@dataclass(frozen=True)
class SlaTargets:
    """The SLA package's `sla_targets`, refreshed (facts first) as of `now`."""

    table: str = "sla_targets"

    def refresh(self, con: duckdb.DuckDBPyConnection, now: datetime) -> None:
        from cxmetrics.sla import refresh_sla

        refresh_sla(con, now=now)


def candidates(table: str, *, now: datetime, lead_s: float, since: datetime,
               timezone_name: str) -> tuple[str, dict[str, Any]]:
    """SQL (and its parameters) selecting ALERT_COLUMNS for every target that is at
    risk or newly breached as of `now`, one row per alert id.

    At risk is `cxmetrics.sla.at_risk`'s rule: active, not completed, due after `now`
    and at most the lead time (calendar) after it. Due times are shown in the zone of
    the target's schedule (business-hours targets), else in the workspace's."""
    sql = f"""
        WITH changes AS (
            SELECT 'at_risk' AS kind, * FROM {table}
            WHERE state = 'active' AND completed_at IS NULL AND due_at > $now
              AND due_at <= $now + to_microseconds(CAST(round($lead * 1e6) AS BIGINT))
            UNION ALL
            SELECT 'breached' AS kind, * FROM {table}
            WHERE state = 'breached' AND breached_at >= $since AND breached_at <= $now
        )
        SELECT 'sla-' || md5(concat_ws('|', c.source, c.ticket_id, c.metric, c.cycle::VARCHAR, c.kind)) AS alert_id,
               c.kind, c.source, c.ticket_id, c.metric, c.cycle::INTEGER AS cycle, c.policy,
               c.priority, c.channel, c.team, c.assignee_id, tk.subject,
               c.business AS business_hours, c.due_at, c.breached_at,
               (epoch_us(c.due_at) - epoch_us($now::TIMESTAMPTZ)) / 1e6 AS seconds_left,
               coalesce(bs.timezone, $tz) AS timezone, $now::TIMESTAMPTZ AS detected_at
        FROM changes c
        LEFT JOIN tickets tk ON tk.source = c.source AND tk.ticket_id = c.ticket_id
        LEFT JOIN (SELECT schedule, any_value(timezone) AS timezone FROM business_schedules GROUP BY schedule) bs
               ON c.business AND bs.schedule = c.schedule
        QUALIFY row_number() OVER (PARTITION BY alert_id ORDER BY c.due_at) = 1
    """
    return sql, {"now": now, "lead": lead_s, "since": since, "tz": timezone_name}


def since_for(last: datetime | None, now: datetime, backfill_s: float) -> datetime:
    """Breaches at or after this moment are new: those since the last evaluation (none
    lost while the watcher was down), and at least `backfill_s` back (late data); on
    the first evaluation ever, only `backfill_s` back (no flood of old breaches)."""
    back = now - timedelta(seconds=backfill_s)
    return back if last is None else min(last, back)
