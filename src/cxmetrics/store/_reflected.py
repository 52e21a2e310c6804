"""Which imports a derived table already reflects: the rows the next refresh must read.

The facts (`facts_state`), the text facts (`text_state`) and the SLA targets (`sla_imports`)
each keep the ids of the imports whose rows they reflect. Every import writes its id on the
rows it stores (`_import_id`) and one row in the import log (`imports`), in one transaction,
so the rows a derived table has not seen are those of the logged imports it has not noted.
The filter names only those few (`_import_id IN (...)`), however many imports came before:
the list of every import ever done, which the refreshes used to test each row against, grows
with every API write (at 1M tickets and a few hundred writes it was a quarter of a refresh).
The engine's statistics keep a text's first 8 bytes per row group, and an import id starts
with its start time in 8 base-36 digits (`ingest._pipeline.new_import_id`), so the filter skips
every row group of older imports rather than reading the `_import_id` column whole. (Ids of the
old form, `imp_2026...`, share their first 8 bytes: the row groups of those imports are skipped
all the same, as none of them holds a new id.) Rows no logged import wrote should not exist;
each refresh also compares row counts, which finds rows that came or went without one.
"""

from __future__ import annotations

import duckdb

MAX_LISTED = 5_000  # beyond this many new imports, they are found by a join instead


def new_rows(con: duckdb.DuckDBPyConnection, state: str) -> str:
    """SQL filter over `events`/`tickets` rows: those of imports `state` has not noted
    (every row when it notes none: never refreshed)."""
    if not con.execute(f"SELECT count(*) FROM {state}").fetchall()[0][0]:
        return "true"
    fresh = [r[0] for r in con.execute(
        f"SELECT import_id FROM imports WHERE import_id NOT IN (SELECT import_id FROM {state})").fetchall()]
    if len(fresh) > MAX_LISTED:
        return f"(_import_id IS NULL OR _import_id NOT IN (SELECT import_id FROM {state}))"
    listed = ", ".join("'" + i.replace("'", "''") + "'" for i in fresh)
    return f"(_import_id IS NULL OR _import_id IN ({listed}))" if fresh else "_import_id IS NULL"


def note_imports(con: duckdb.DuckDBPyConnection, state: str) -> None:
    """Note every logged import as reflected by `state` (those that wrote no ticket rows too:
    surveys, customers... so they stay out of the next refresh's list)."""
    con.execute(f"INSERT INTO {state} SELECT import_id, now() FROM imports "
                f"WHERE import_id NOT IN (SELECT import_id FROM {state})")
