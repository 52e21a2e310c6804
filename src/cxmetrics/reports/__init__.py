"""Scheduled reports: the weekly report a head of support sends around (docs/reports.md).

`reports.toml` in the workspace schedules them (`ReportsConfig`); `build(ws, week)` makes one
(HTML, text and a PDF printed by headless Chromium); `run_due(ws)` mails every report due,
exactly once per schedule and period across restarts (a ledger in the store, leased before
each SMTP call); `ReportScheduler` runs that in the server.

>>> Week.parse("2026-W10").start.isoformat()
'2026-03-02'
"""

from __future__ import annotations

from cxmetrics.reports._config import (
    CONFIG_FILE,
    Report,
    ReportFormat,
    ReportKind,
    ReportsConfig,
    ReportsConfigError,
    load_config,
)
from cxmetrics.reports._period import Week
from cxmetrics.reports._render import ReportError
from cxmetrics.reports._run import Built, RunResult, build, run_due, send_now
from cxmetrics.reports._scheduler import ReportScheduler

__all__ = [
    "CONFIG_FILE",
    "Built",
    "Report",
    "ReportError",
    "ReportFormat",
    "ReportKind",
    "ReportScheduler",
    "ReportsConfig",
    "ReportsConfigError",
    "RunResult",
    "Week",
    "build",
    "load_config",
    "run_due",
    "send_now",
]
