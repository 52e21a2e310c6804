"""Live SLA watch and alerts: warn before a target breaches, and when it does.

A `Watcher` evaluates the workspace's SLA targets on a clock and when events arrive,
records each state change (a target entering 'at risk', a target breaching) once in
a ledger in the workspace, and delivers it to the destinations of `alerts.toml`: a
JSON webhook, a Slack-compatible incoming webhook, e-mail over SMTP. Deliveries that
fail are retried with exponential backoff; quiet hours hold alerts back. See
docs/alerts.md.

>>> import tempfile, cxmetrics
>>> from cxmetrics.alerts import AlertsConfig, Watcher
>>> ws = cxmetrics.open(tempfile.mkdtemp(), create=True)
>>> cfg = AlertsConfig.from_dict({"at_risk_before": "30m"})
>>> w = Watcher(ws, config=cfg)
>>> w.interval_s
30.0
>>> ws.close()
"""

from __future__ import annotations

from cxmetrics.alerts._config import (
    CONFIG_FILE,
    AlertKind,
    AlertsConfig,
    AlertsConfigError,
    EmailDestination,
    HoldMode,
    QuietHours,
    RetryPolicy,
    SlackDestination,
    WebhookDestination,
    parse_duration,
)
from cxmetrics.alerts._deliver import SIGNATURE_HEADER, Outcome, sign
from cxmetrics.alerts._message import payload
from cxmetrics.alerts._targets import SlaTargets, TableTargets, TargetSource
from cxmetrics.alerts._watch import Delivery, Watcher, WatchReport

__all__ = [  # noqa: RUF022 - plainly sorted, as test_exported_members wants
    "AlertKind",
    "AlertsConfig",
    "AlertsConfigError",
    "CONFIG_FILE",
    "Delivery",
    "EmailDestination",
    "HoldMode",
    "Outcome",
    "QuietHours",
    "RetryPolicy",
    "SIGNATURE_HEADER",
    "SlaTargets",
    "SlackDestination",
    "TableTargets",
    "TargetSource",
    "WatchReport",
    "Watcher",
    "WebhookDestination",
    "parse_duration",
    "payload",
    "sign",
]
