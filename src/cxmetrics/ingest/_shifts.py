"""The `shifts` import kind's rules (agents' working spans; docs/workforce.md).

- A file's `start` and `end` headers are read as start_at and end_at; activity defaults to
  `available` and is lower-cased (it is part of the key).
- A span must end after it starts and last at most 24 hours (a longer one is a missing
  end or a whole roster in one row: split it into one span per shift).
- Two `available` spans of one agent may not overlap: the same agent-seconds would be
  staffed twice. Both rows of an overlapping pair in a file are quarantined, each naming
  the other's times; a row overlapping a stored span is too, unless the file itself holds
  a new version of that span (same agent and start: the file's version is the one judged).
  Spans of other activities may overlap available ones: a break inside a shift takes its
  time off the staffed time (`cxmetrics.workforce.staffed`).

Every rule is SQL over the stage's typed columns (see `_kinds.ImportKind`).
"""

from __future__ import annotations

_DAY_US = 86_400_000_000
_ACTIVITY = "coalesce(lower(activity), 'available')"
# the rows the overlap rules judge: available spans that are otherwise fine
_CHECKED = f"({_ACTIVITY} = 'available' AND end_at > start_at AND end_at - start_at <= INTERVAL 24 HOUR)"
_BY_AGENT = f"PARTITION BY source, agent_id, {_CHECKED} ORDER BY epoch_us(start_at)"


def _shown(ts: str) -> str:
    return f"strftime({ts}, '%Y-%m-%d %H:%M:%S')"


def _span(start: str, end: str) -> str:
    return f"{_shown(start)} || ' to ' || {_shown(end)}"


ALIASES = {"start": "start_at", "end": "end_at"}

DERIVED: tuple[tuple[str, str], ...] = (
    # the latest-ending earlier span and the earliest later span of the same agent (a span
    # overlaps another in the file exactly when it overlaps one of these two)
    ("_prev_end", f"max(end_at) OVER ({_BY_AGENT} RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"),
    ("_prev_start", f"arg_max(start_at, end_at) OVER ({_BY_AGENT} RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"),
    ("_next_start", f"min(start_at) OVER ({_BY_AGENT} RANGE BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)"),
    ("_next_end", f"arg_min(end_at, start_at) OVER ({_BY_AGENT} RANGE BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)"),
    # the starts of the file's spans near this one: a stored span with one of them is replaced
    # by the file's version, so it is not held against this row (spans last <= 24 h)
    ("_near_starts", f"list(start_at) OVER ({_BY_AGENT} RANGE BETWEEN {_DAY_US} PRECEDING AND {_DAY_US} FOLLOWING)"),
)

_IN_FILE = (
    f"CASE WHEN {_CHECKED} AND _prev_end > start_at THEN 'overlaps the same agent''s available span ' || "
    f"{_span('_prev_start', '_prev_end')} || ' in this file' "
    f"WHEN {_CHECKED} AND _next_start < end_at THEN 'overlaps the same agent''s available span ' || "
    f"{_span('_next_start', '_next_end')} || ' in this file' END"
)

# the stored spans are renamed so the unqualified names below are the stage row's own
_STORED = f"""(SELECT 'overlaps the same agent''s stored available span ' || {_span('_s_start', '_s_end')}
     || ' (import ' || _s_import || '): correct this row, or give that span''s new end in this file '
     || '(same agent and start)'
     FROM (SELECT source AS _s_source, agent_id AS _s_agent, start_at AS _s_start, end_at AS _s_end,
                  _import_id AS _s_import FROM shifts WHERE activity = 'available')
     WHERE _s_source = source AND _s_agent = agent_id AND _s_start < end_at AND _s_end > start_at
       AND _s_start <> start_at AND NOT list_contains(_near_starts, _s_start)
     ORDER BY _s_start LIMIT 1)"""

CHECKS: tuple[str, ...] = (
    f"CASE WHEN end_at <= start_at THEN 'end_at (' || {_shown('end_at')} || ') is not after start_at (' || "
    f"{_shown('start_at')} || ')' END",
    f"CASE WHEN end_at - start_at > INTERVAL 24 HOUR THEN 'the span ' || {_span('start_at', 'end_at')} || "
    "' is longer than 24 hours: give one row per shift (or per activity within it)' END",
    f"CASE WHEN {_CHECKED} THEN coalesce({_IN_FILE}, {_STORED}) END",
)

TARGET = {"activity": _ACTIVITY}
