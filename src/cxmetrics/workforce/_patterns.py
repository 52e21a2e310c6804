"""Shift patterns: which slots of a day each pattern works (T. W. Miller, *Modeling Techniques in
Predictive Analytics*, 2015, ch. 6), the fewest agents per pattern that cover a requirement, and
the shift rows they make.

A patterns file is a CSV with one row per slot of the day from midnight (24 rows: hours; 48:
half-hours; 96: quarter-hours) and one column of 0/1 per pattern (1: working); columns that are
not all 0/1 (`Hour`, `StartTime`...) are labels. Any line ending is read (the bank's file has old
Mac CR endings).

>>> p = Patterns(("Early", "Late"), ((1, 0),) * 12 + ((0, 1),) * 12, 3600)
>>> p.blocks("Late")
((12, 12),)
>>> cover([1] * 12 + [2] * 12, p)
{'Early': 1, 'Late': 2}
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from cxmetrics.errors import MissingDependencyError, UserError
from cxmetrics.workforce._intervals import DAY_S, local_datetime


@dataclass(frozen=True)
class Patterns:
    """Shift patterns: `names`, and `matrix[slot][pattern]` = 1 when the pattern works the slot."""

    names: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]
    slot_s: int  # the length of a row: 3600 for 24 rows a day

    def column(self, name: str) -> tuple[int, ...]:
        return tuple(row[self.names.index(name)] for row in self.matrix)

    def blocks(self, name: str) -> tuple[tuple[int, int], ...]:
        """The pattern's working blocks as (first slot, slots long): one shift each. A block
        that runs to midnight and on from the day's first slot is one block that wraps past
        midnight (it starts in the evening and ends the next morning)."""
        on = self.column(name)
        n = len(on)
        if all(on):
            return ((0, n),)
        starts = [k for k in range(n) if on[k] and not on[k - 1]]  # on[-1]: the slot before midnight
        found = []
        for k in starts:
            length = 0
            while on[(k + length) % n] and length < n:
                length += 1
            found.append((k, length))
        return tuple(found)

    def coverage(self, counts: Mapping[str, int]) -> list[int]:
        """Agents working each slot when `counts[name]` agents work each pattern."""
        return [sum(row[i] * int(counts.get(name, 0)) for i, name in enumerate(self.names)) for row in self.matrix]


def read_patterns(path: str | Path) -> Patterns:
    """Read a patterns file (see the module docstring)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"patterns file {path} does not exist.") from None
    except UnicodeDecodeError:
        raise UserError(f"patterns file {path} is not UTF-8 text: save it as a UTF-8 CSV.") from None
    # universal newlines: CR (old Mac), LF and CRLF all end a row
    rows = [r for r in csv.reader(io.StringIO(text, newline=None)) if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise UserError(f"patterns file {path} has no rows under its header: give one row per hour of the day.")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if len(body) not in (24, 48, 96):
        raise UserError(f"patterns file {path} has {len(body)} rows: give one per slot of the day from midnight "
                        "(24 for hours, 48 for half-hours, 96 for quarter-hours).")
    for i, r in enumerate(body, start=2):
        if len(r) != len(header):
            raise UserError(f"patterns file {path}, line {i}: {len(r)} fields where the header has {len(header)}.")
    names, columns = [], []
    for j, name in enumerate(header):
        values = [r[j].strip() for r in body]
        if all(v in ("0", "1") for v in values):
            names.append(name or f"pattern{j + 1}")
            columns.append([int(v) for v in values])
    if not names:
        raise UserError(f"patterns file {path} has no pattern column (a column of 0s and 1s, 1 = working): "
                        f"its columns are {', '.join(header)}.")
    if len(set(names)) < len(names):
        raise UserError(f"patterns file {path} names a pattern twice: give each column its own name.")
    matrix = tuple(tuple(col[k] for col in columns) for k in range(len(body)))
    return Patterns(tuple(names), matrix, DAY_S // len(body))


def cover(required: Sequence[float], patterns: Patterns) -> dict[str, int]:
    """The fewest agents per pattern so that every slot has at least `required[slot]` agents
    working: an integer programme (minimise the agents; scipy's HiGHS solver)."""
    need = [float(r) for r in required]
    n = len(patterns.matrix)
    if len(need) != n:
        raise UserError(f"{len(need)} required values for {n} slots of the patterns: give one per slot "
                        f"({n} values, from midnight).")
    if any(r < 0 or r != r for r in need):
        raise UserError(f"required agents must be 0 or more: got {', '.join(f'{r:g}' for r in need)}.")
    for k, r in enumerate(need):
        if r > 0 and not any(patterns.matrix[k]):
            hh, mm = divmod(k * patterns.slot_s // 60, 60)
            raise UserError(f"slot {hh:02d}:{mm:02d} needs {r:g} agents but no pattern works it: add a pattern "
                            "that covers it.")
    try:
        import numpy as np
        from scipy.optimize import Bounds, LinearConstraint, milp
    except ImportError:
        raise MissingDependencyError("covering a requirement with shift patterns needs scipy: "
                                     "pip install 'cxmetrics[workforce]'") from None
    a = np.array(patterns.matrix, dtype=float)
    m = len(patterns.names)
    found = milp(c=np.ones(m), constraints=LinearConstraint(a, lb=np.ceil(np.array(need) - 1e-9), ub=np.inf),
                 integrality=np.ones(m), bounds=Bounds(0, np.inf))
    if not found.success:  # pragma: no cover - every slot with a need is covered, so it is feasible
        raise UserError(f"no cover found: {found.message}")
    return {name: int(round(x)) for name, x in zip(patterns.names, found.x)}


def expand(patterns: Patterns, counts: Mapping[str, int] | Sequence[int], start_date: date | str,
           end_date: date | str, tz: str) -> pa.Table:
    """The shift rows of `counts[name]` agents per pattern on every day from `start_date` to
    `end_date` (both included): one `available` row per agent, day and block, agent ids such as
    `Shift3-02`. Each day starts each block once (a block that wraps past midnight runs into
    the next morning); times are the local clock in `tz`."""
    if not isinstance(counts, Mapping):
        if len(counts) != len(patterns.names):
            raise UserError(f"{len(counts)} agent counts for {len(patterns.names)} patterns "
                            f"({', '.join(patterns.names)}): give one per pattern.")
        counts = dict(zip(patterns.names, counts))
    unknown = sorted(set(counts) - set(patterns.names))
    if unknown:
        raise UserError(f"no pattern named {', '.join(unknown)}: the patterns are {', '.join(patterns.names)}.")
    if any(int(c) < 0 for c in counts.values()):
        raise UserError("agent counts must be 0 or more.")
    first, last = _day(start_date, "start"), _day(end_date, "end")
    if last < first:
        raise UserError(f"the end date {last} is before the start date {first}: swap them.")
    rows: dict[str, list] = {"agent_id": [], "start_at": [], "end_at": [], "activity": []}
    day = first
    while day <= last:
        midnight = datetime(day.year, day.month, day.day)
        for name in patterns.names:
            n = int(counts.get(name, 0))
            for k, length in patterns.blocks(name):
                start = midnight + timedelta(seconds=k * patterns.slot_s)
                end = start + timedelta(seconds=length * patterns.slot_s)
                for i in range(1, n + 1):
                    rows["agent_id"].append(f"{name}-{i:0{max(2, len(str(n)))}d}")
                    rows["start_at"].append(local_datetime(start, tz))
                    rows["end_at"].append(local_datetime(end, tz))
                    rows["activity"].append("available")
        day += timedelta(days=1)
    stamp = pa.timestamp("us", tz=tz)
    return pa.table({"agent_id": pa.array(rows["agent_id"], pa.string()),
                     "start_at": pa.array(rows["start_at"], stamp), "end_at": pa.array(rows["end_at"], stamp),
                     "activity": pa.array(rows["activity"], pa.string())})


def _day(value: date | str, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise UserError(f"{what} date '{value}' is not a date such as 1999-02-01.") from None
