"""Large writes stored in ticket order, so that looking a few tickets up skips the rest.

The engine keeps, per row group of a table (`ROW_GROUP_ROWS` rows), the least and greatest
value of each column (of a text, its first 8 bytes), and a scan that looks for a few
tickets (a refresh's `_fx_ev`, the tickets rows in scope, their stored facts) skips every row
group whose range excludes them. That works when the rows are stored roughly in ticket order:
a help desk's growing ticket numbers imported in time order, a demo. Ticket ids without an
order (UUIDs, hashes) imported in time order put every ticket's range in every row group, and
then each such scan reads the whole column: at a million tickets whose ids were hashes, a live
batch of 1,000 events into the same source took 2.7 times as long (import 218 ms, refresh
721 ms, of which 293 ms copying the tickets' events) as with the same history stored in ticket
order (89 and 275 ms).

So a write of more than a row group's rows is ordered by (source, ticket_id) when its rows are
not in that order already, block by block (`order_by`): an import of a file in ticket order
pays one pass over two columns to find that out; one in time order with ids that have none is
sorted (a one-off cost: at 300k tickets with hashed ids, 4.3M events imported in 15.6 s instead
of 9.7 s; the live batches after it, 311 -> 200 ms of refresh each). A refresh writes the facts
of one row per ticket whole in ticket order too (`facts._write.write_changed`). Rows written later (a stream of live batches)
land in the table's last row groups, in arrival order; only those few are read whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext

import duckdb

from cxmetrics.store import engine_settings

#: rows per row group of the store (DuckDB's default): what one min/max statistic covers
ROW_GROUP_ROWS = 122_880
_KEYS = ("source", "ticket_id")
# how many other blocks the median block may share tickets with before a write is ordered
_SHARED = 2


def order_by(con: duckdb.DuckDBPyConnection, rows: str, columns: Sequence[str], *,
             position: str | None = None, count: int | None = None) -> str:
    """The ORDER BY clause (`" ORDER BY source, ticket_id"`) for writing the rows of query
    `rows` (whose columns are `columns`) in ticket order, or "" when there is no need: they
    have no ticket_id, fit in one row group, or are in ticket order block by block already.

    `position`: the column of `rows` that gives their order as they would be written (a
    file's row number); the rows are then in order when the ticket range of most of its blocks
    of ROW_GROUP_ROWS overlaps those of at most two others, or of a third of them (with three
    blocks or fewer, always: a scan reads them all either way). None: rows that come in no such order (a GROUP BY's),
    which are ordered whenever they fill more than a row group. `count`, when the caller knows
    how many rows there are, spares small writes (a live batch's) any query."""
    keys = [k for k in _KEYS if k in columns]
    if "ticket_id" not in keys or (count is not None and count <= ROW_GROUP_ROWS):
        return ""
    clause = " ORDER BY " + ", ".join(keys)
    if position is None:
        n = count if count is not None else con.execute(f"SELECT count(*) FROM ({rows})").fetchall()[0][0]
        return clause if n > ROW_GROUP_ROWS else ""
    source = ("min(source)", "max(source)") if "source" in keys else ("NULL", "NULL")
    blocks = con.execute(f"""
        SELECT count(*), {source[0]}, {source[1]}, min(ticket_id), max(ticket_id)
        FROM ({rows}) GROUP BY {position} // {ROW_GROUP_ROWS}
    """).fetchall()
    if sum(b[0] for b in blocks) <= ROW_GROUP_ROWS:
        return ""
    if len({b[1] for b in blocks} | {b[2] for b in blocks}) > 1:
        return clause  # several sources: ordered by source first
    # ordered when most blocks share tickets with many others (ids without an order: all of
    # them). A file in ticket order gives blocks that overlap none, or a few: the stage of a
    # large CSV comes from the engine's parallel read as runs in order interleaved by chunks
    # (1M rows in ticket order: 9 blocks, each sharing tickets with 2 or 3 others)
    ranges = [(lo, hi) for _, _, _, lo, hi in blocks if lo is not None]
    shared = sorted(sum(1 for lo2, hi2 in ranges if lo2 < hi and lo < hi2) - 1 for lo, hi in ranges)
    return clause if shared and shared[len(shared) // 2] > max(_SHARED, (len(ranges) - 1) // 3) else ""


@contextmanager
def insertion_order(con: duckdb.DuckDBPyConnection, kept: bool) -> Iterator[None]:
    """Within the block, writes store their rows in the order of their query (`kept`),
    else as the engine's threads finish them; the setting is put back after."""
    with engine_settings(con, preserve_insertion_order="true") if kept else nullcontext():
        yield
