"""Business time for the SLA clocks, through `cxmetrics.calendar`.

The clocks ask the calendar four things, each over a whole temp table in one query:

- the schedule of each ticket (the calendar's rules: `schedule_sql`);
- the business seconds of each closed span of a business-hours target
  (`with_business_seconds` over `_sla_spans`);
- due times: the earliest instant at which a given number of business seconds have
  passed since an instant (`with_due_times` over `_sla_new`);
- the business seconds from an open span's start to `now` (`_sla_open`).

The calendar is materialised (`ensure_calendar`) for the range the clocks touch first;
it keeps whole years and a year beyond, so due times after the data are found too.
Schedules come from `schedules.toml` in the workspace folder; a workspace without one
has a single 24/7 schedule, where business time is calendar time (then no calendar is
materialised at all).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

from cxmetrics.calendar import (
    SCHEDULES_FILE,
    ScheduleSet,
    data_range,
    ensure_calendar,
    schedule_sql,
    with_business_seconds,
    with_due_times,
)
from cxmetrics.errors import UnknownNameError
from cxmetrics.sla._clocks import plus_secs, secs
from cxmetrics.sla._policy import SlaPolicies, SlaPolicyError, _suggest

_NOW = "(SELECT now FROM _sla_now)"
# the business rows each measure reads
_SPANS = "SELECT * FROM _sla_spans_raw WHERE business"
_DUES = "SELECT * FROM _sla_new_raw WHERE business"
_RUNS = "SELECT * FROM _sla_open_raw WHERE business AND _running_since IS NOT NULL"


class BusinessTime:
    """The schedules of a workspace, as the clocks use them."""

    def __init__(self, schedules: ScheduleSet | None, policies: SlaPolicies) -> None:
        self.schedules = schedules if schedules is not None else ScheduleSet.all_hours()
        self.policies = policies
        issues = []
        for p in policies.policies:
            for name in sorted({s for t in p.targets if (s := p.schedule_of(t))}):
                if name not in self.schedules.names:
                    hint = _suggest(name, self.schedules.names)
                    issues.append(f"policy '{p.name}': schedule '{name}' is not defined in {SCHEDULES_FILE}.{hint} "
                                  f"Schedules: {', '.join(self.schedules.names)}.")
        if issues:
            raise SlaPolicyError(issues)

    def fingerprint(self) -> str:
        """Changes when a schedule, a rule assigning schedules, or the holidays change;
        without business-hours targets the schedules do not matter."""
        if not self.policies.uses_business_hours():
            return "-"
        return str(self.schedules.fingerprint())

    def digest(self, name: str) -> str:
        """One schedule's definition, as a digest (part of its tickets' fingerprints)."""
        payload = json.dumps(self.schedules[name].model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    # -- which schedule --------------------------------------------------------------------

    def ticket_schedule_sql(self, alias: str) -> str:
        """SQL naming the schedule of ticket row `alias` (the calendar's rules)."""
        if not self.policies.uses_business_hours():
            return "NULL::VARCHAR"
        return schedule_sql(self.schedules, alias)

    def digests(self, con: duckdb.DuckDBPyConnection) -> None:
        """`_sla_sched`: each schedule's digest."""
        con.execute("CREATE OR REPLACE TEMP TABLE _sla_sched (schedule VARCHAR, digest VARCHAR)")
        if self.policies.uses_business_hours():
            con.executemany("INSERT INTO _sla_sched VALUES (?, ?)",
                            [(n, self.digest(n)) for n in self.schedules.names])

    def check_schedules(self, con: duckdb.DuckDBPyConnection) -> None:
        """Every schedule a target is measured in must exist (a rule naming an unknown
        one is the calendar's to refuse; this guards the invariant)."""
        self.check_names([r[0] for r in con.execute("SELECT DISTINCT schedule FROM _sla_tt WHERE business").fetchall()])

    def check_names(self, names: list[str | None]) -> None:
        """`check_schedules` over the schedule names the targets use (any engine's)."""
        for name in names:
            if name is None or name not in self.schedules.names:
                raise UnknownNameError("schedule", str(name), self.schedules.names)

    # -- measuring ---------------------------------------------------------------------------
    # Each measure is the engine's decision (which schedules the rows use, a calendar made to
    # cover them) and then SQL that depends only on those names (`*_query`): what a refresh
    # on Spark runs too (cxmetrics.engines._spark_sla), over a calendar it materialises.

    def _used(self, con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
        return [r[0] for r in con.execute(f"SELECT DISTINCT schedule FROM {table} WHERE business").fetchall()]

    def needs_calendar(self, used: list[str]) -> bool:
        """Whether the schedules used need the calendar: not when every one is 24/7 without
        holidays (B(t) = t)."""
        return bool(used) and not all(self.schedules[n].is_always for n in used)

    def _ensure(self, con: duckdb.DuckDBPyConnection, relation: str, columns: list[str]) -> None:
        """Materialise the calendar over the relation's timestamps and now."""
        found = data_range(con, relation, columns)
        now = con.execute(f"SELECT strftime({_NOW} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S')").fetchall()[0][0]
        lo, hi = (found[0].isoformat(), found[1].isoformat()) if found else (now, now)
        ensure_calendar(con, self.schedules, min(lo[:19], now), max(hi[:19], now))

    def spans_sql(self, con: duckdb.DuckDBPyConnection) -> str:
        """`spans_query` for the schedules `_sla_spans_raw` uses, the calendar made to cover it."""
        used = self._used(con, "_sla_spans_raw")
        if self.needs_calendar(used):
            self._ensure(con, f"({_SPANS})", ["span_from", "span_to"])
        return self.spans_query(used)

    def spans_query(self, used: list[str]) -> str:
        """The business rows of `_sla_spans_raw` with `dur` = B(to) - B(from) (NULL for an
        open span)."""
        if not self.needs_calendar(used):
            return f"SELECT *, CASE WHEN span_to IS NOT NULL THEN {secs('span_from', 'span_to')} END AS dur " \
                   f"FROM ({_SPANS})"
        measured = with_business_seconds(_SPANS, {"_bdur": ("span_from", "span_to")}, "schedule",
                                         schedule_set=self.schedules)
        return f"SELECT * EXCLUDE (_bdur), _bdur AS dur FROM ({measured})"

    def dues_sql(self, con: duckdb.DuckDBPyConnection) -> str:
        """`dues_query` for the schedules `_sla_new_raw` uses, the calendar made to cover it."""
        used = self._used(con, "_sla_new_raw")
        if self.needs_calendar(used):
            self._ensure(con, f"({_DUES})", ["started_at", "due_from"])
        return self.dues_query(used)

    def dues_query(self, used: list[str]) -> str:
        """The business rows of `_sla_new_raw` with `due_at`: the earliest instant with
        `due_rest_s` business seconds after `due_from` (NULL without a due_from)."""
        if not self.needs_calendar(used):
            return f"SELECT *, {plus_secs('due_from', 'due_rest_s')} AS due_at FROM ({_DUES})"
        dues = with_due_times(_DUES, {"_bdue": ("due_from", "due_rest_s")}, "schedule", schedule_set=self.schedules)
        return f"SELECT * EXCLUDE (_bdue), _bdue AS due_at FROM ({dues})"

    def runs_sql(self, con: duckdb.DuckDBPyConnection) -> str:
        """`runs_query` for the schedules `_sla_open_raw` uses, the calendar made to cover it."""
        used = self._used(con, "_sla_open_raw")
        if self.needs_calendar(used):
            self._ensure(con, f"({_RUNS})", ["_running_since", "now"])
        return self.runs_query(used)

    def runs_query(self, used: list[str]) -> str:
        """The running business rows of `_sla_open_raw` with `run_s` = B(now) - B(since)."""
        if not self.needs_calendar(used):
            return f"SELECT *, greatest({secs('_running_since', 'now')}, 0) AS run_s FROM ({_RUNS})"
        runs = with_business_seconds(_RUNS, {"_brun": ("_running_since", "now")}, "schedule",
                                     schedule_set=self.schedules)
        return f"SELECT * EXCLUDE (_brun), _brun AS run_s FROM ({runs})"

    def verify(self, con: duckdb.DuckDBPyConnection, table: str, where: str) -> None:
        """`check_inside` over the rows of `table` that match `where`."""
        self.check_inside(con.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchall()[0][0])

    @staticmethod
    def check_inside(bad: int) -> None:
        """A NULL from the calendar means an instant outside it: say so rather than store
        a wrong clock (`bad`: how many clocks got one)."""
        if bad:
            raise SlaPolicyError([(
                f"{bad} business-hours clock(s) fall outside the business calendar, which covers the data "
                "and the year after it (never before 1970 or after 2200): a target longer than a year of "
                "business time, or tickets with such timestamps? Shorten the target or check the tickets.")])


def business_time(folder: Path | None, policies: SlaPolicies) -> BusinessTime:
    """The business time of a workspace folder (its `schedules.toml`; none: 24/7)."""
    schedules = ScheduleSet.load(folder / SCHEDULES_FILE) if folder is not None else None
    return BusinessTime(schedules, policies)
