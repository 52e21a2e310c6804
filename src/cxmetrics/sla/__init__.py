"""SLA policies and clocks: Zendesk's seven SLA metrics, per ticket, target and cycle.

Policies live in the workspace file `sla.toml` (`SlaPolicies`): ordered, each with
conditions and targets per priority in business or calendar hours; the first policy
whose conditions a ticket meets applies. `refresh_sla(ws_or_con, now)` keeps the
derived table `sla_targets` up to date (one row per ticket, metric and cycle: start,
due time, completion, elapsed and remaining time, state, breach time), recomputing only
the tickets whose events, policy, targets or schedule changed, and evaluating every
open clock at `now`. `compliance`, `breaches` and `at_risk` read it.

>>> import tempfile, cxmetrics
>>> from cxmetrics.sla import SlaPolicies, refresh_sla, compliance
>>> with cxmetrics.open(tempfile.mkdtemp(), create=True) as ws:
...     refresh_sla(ws, now="2025-03-03T12:00Z"), compliance(ws.con).to_pylist()[0]["n"]
(0, 0)
"""

from __future__ import annotations

from cxmetrics.sla._policy import (
    METRIC_DOCS,
    POLICY_FILE,
    Conditions,
    Policy,
    SlaMetric,
    SlaPolicies,
    SlaPolicyError,
    Target,
    format_duration,
    parse_duration,
    validate_policies,
)
from cxmetrics.sla._query import GROUPS, TARGET_COLUMNS, at_risk, breaches, compliance, targets
from cxmetrics.sla._refresh import refresh_sla

STATES = ("active", "paused", "achieved", "breached")

__all__ = [
    "GROUPS",
    "METRIC_DOCS",
    "POLICY_FILE",
    "STATES",
    "TARGET_COLUMNS",
    "Conditions",
    "Policy",
    "SlaMetric",
    "SlaPolicies",
    "SlaPolicyError",
    "Target",
    "at_risk",
    "breaches",
    "compliance",
    "format_duration",
    "load_policies",
    "parse_duration",
    "refresh_sla",
    "save_policies",
    "targets",
    "validate_policies",
]


def load_policies(target: object) -> SlaPolicies:
    """The policies of a workspace (its `sla.toml`), or of a policy file path."""
    from pathlib import Path

    from cxmetrics.sla._refresh import load_for, resolve

    if isinstance(target, str | Path):
        path = Path(target)
        return SlaPolicies.load(path / POLICY_FILE if path.is_dir() else path)
    _, folder = resolve(target)
    return load_for(folder, None)


def save_policies(policies: SlaPolicies, target: object) -> None:
    """Write policies to a workspace's `sla.toml` (or to a file path); the next
    `refresh_sla` recomputes the tickets whose targets they change."""
    from pathlib import Path

    from cxmetrics.sla._refresh import resolve

    if isinstance(target, str | Path):
        path = Path(target)
        policies.save(path / POLICY_FILE if path.is_dir() else path)
        return
    _, folder = resolve(target)
    if folder is None:
        raise SlaPolicyError(["an in-memory database has no workspace folder; save to a file path instead."])
    policies.save(folder / POLICY_FILE)
