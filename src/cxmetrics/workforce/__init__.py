"""Workforce planning (docs/workforce.md): forecast the contacts to come, staff each interval
with Erlang C (or Erlang A when customers' patience is known), and measure staffed time and
occupancy from the agents' shifts.

- `arrivals`, `forecast`, `backtest`: contacts per interval and channel, with prediction
  intervals, and their accuracy on the last weeks of history (extra `workforce`);
- `staff`, `erlang_a` and the Erlang C functions: one interval (base install);
- `patience`, `plan`: customers' patience from abandonment, and the agents every interval of a
  forecast needs, against those staffed and the service level achieved;
- `staffed`, `read_patterns`, `cover`, `expand`: staffed time per interval from `shifts`, and
  shift patterns (the fewest agents per pattern covering a requirement)."""

from __future__ import annotations

from cxmetrics.workforce.erlang import (
    ErlangA,
    Staffing,
    asa,
    erlang_a,
    erlang_b,
    erlang_c,
    service_level,
    staff,
    traffic,
)
from cxmetrics.workforce._forecast import Backtest, arrivals, backtest, fitted_models, forecast
from cxmetrics.workforce._plan import patience, plan
from cxmetrics.workforce._shifts import Patterns, cover, expand, read_patterns, staffed

__all__ = [
    "Backtest", "ErlangA", "Patterns", "Staffing", "arrivals", "asa", "backtest", "cover", "erlang_a", "erlang_b",
    "erlang_c", "expand", "fitted_models", "forecast", "patience", "plan", "read_patterns", "service_level", "staff",
    "staffed", "traffic",
]
