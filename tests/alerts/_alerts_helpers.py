"""Helpers for alert tests: a targets table shaped like `sla_targets`, and configs
pointing at the loopback servers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from cxmetrics.alerts import AlertsConfig

SECRET = "hook-s3cret-value"
ENV = {"CX_TEST_HOOK_SECRET": SECRET, "CX_TEST_SLACK_URL": "", "CX_TEST_SMTP_USER": "u", "CX_TEST_SMTP_PASS": "p"}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass(frozen=True)
class ClockedTargets:
    """A table `test_targets` shaped like the SLA package's `sla_targets`, whose states
    follow the clock by the plainest rule: a target with a due time and no completion
    is active until due and breached once past it (the breach time is the due time,
    as in the SLA package); completed before due, achieved.

    Its definitions sit in `test_target_defs` (source, ticket_id, policy, metric, cycle,
    due_at, done_at); `refresh` rewrites `test_targets` as of `now`."""

    table: str = "test_targets"

    @staticmethod
    def create(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("""CREATE TABLE IF NOT EXISTS test_target_defs (source VARCHAR, ticket_id VARCHAR, policy VARCHAR,
                       metric VARCHAR, cycle INTEGER, business BOOLEAN, due_at TIMESTAMPTZ, done_at TIMESTAMPTZ)""")
        # the columns of sla_targets the watcher reads
        con.execute("""CREATE TABLE IF NOT EXISTS test_targets (source VARCHAR, ticket_id VARCHAR, policy VARCHAR,
                       metric VARCHAR, cycle BIGINT, priority VARCHAR, channel VARCHAR, team VARCHAR,
                       assignee_id VARCHAR, business BOOLEAN, schedule VARCHAR, due_at TIMESTAMPTZ,
                       completed_at TIMESTAMPTZ, seconds_left DOUBLE, state VARCHAR, breached_at TIMESTAMPTZ)""")

    @staticmethod
    def define(con: duckdb.DuckDBPyConnection, ticket_id: str, due_at: datetime, *, metric: str = "first_reply",
               policy: str = "Standard", cycle: int = 1, done_at: datetime | None = None,
               source: str = "default") -> None:
        ClockedTargets.create(con)
        con.execute("INSERT INTO test_target_defs VALUES (?, ?, ?, ?, ?, false, ?, ?)",
                    [source, ticket_id, policy, metric, cycle, due_at, done_at])

    def refresh(self, con: duckdb.DuckDBPyConnection, now: datetime) -> None:
        from cxmetrics.facts import refresh_facts

        refresh_facts(con)
        self.create(con)
        con.execute("DELETE FROM test_targets")
        con.execute("""
            INSERT INTO test_targets
            SELECT d.source, d.ticket_id, d.policy, d.metric, d.cycle, f.priority, f.channel, f.team, f.assignee_id,
                   d.business, NULL, d.due_at, CASE WHEN d.done_at <= $now THEN d.done_at END,
                   epoch(d.due_at) - epoch($now::TIMESTAMPTZ),
                   CASE WHEN d.done_at IS NOT NULL AND d.done_at <= $now AND d.done_at <= d.due_at THEN 'achieved'
                        WHEN d.due_at < $now THEN 'breached' ELSE 'active' END,
                   CASE WHEN d.due_at < $now AND (d.done_at IS NULL OR d.done_at > d.due_at) THEN d.due_at END
            FROM test_target_defs d LEFT JOIN ticket_facts f USING (source, ticket_id)
        """, {"now": now})


def config(hooks: Any = None, smtp: Any = None, **top: Any) -> AlertsConfig:
    """Webhook (signed), Slack and e-mail destinations on the loopback servers."""
    dests: list[dict[str, Any]] = []
    if hooks is not None:
        dests.append({"name": "ops-hook", "type": "webhook", "url": hooks.url("/hook"),
                      "headers": {"X-Team": "support"}, "secret_env": "CX_TEST_HOOK_SECRET"})
        dests.append({"name": "team-slack", "type": "slack", "url": hooks.url("/slack")})
    if smtp is not None:
        dests.append({"name": "leads-mail", "type": "email", "host": "127.0.0.1", "port": smtp.port,
                      "security": "none", "from": "cxmetrics <sla@example.com>",
                      "to": ["leads@example.com", "oncall@example.com"]})
    data = {"at_risk_before": "30m", "retry": {"base_delay": "10s", "max_delay": "5m", "max_attempts": 4,
                                               "timeout": "5s"},
            "destinations": dests, **top}
    return AlertsConfig.from_dict(data, environ=ENV)


def rows(con: duckdb.DuckDBPyConnection, query: str, params: Any = None) -> list[dict[str, Any]]:
    return con.sql(query, params=params).to_arrow_table().to_pylist()


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
