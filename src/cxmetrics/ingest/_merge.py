"""Merging validated rows into a canonical table, and counting what happened.

Rows are applied as if one by one in file order: the first row for a key is inserted,
or is unchanged or an update of what is stored; a later row for the same key is
unchanged when equal to the row before it, else an update. Only the last row per key
is written. Equality is by a hash of the row's content columns, so re-importing a
file stores nothing twice and counts every row as unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from cxmetrics.ingest._columns import ident
from cxmetrics.model import Table
from cxmetrics.store._cluster import insertion_order, order_by


def store_columns(table: Table) -> list[str]:
    """Every column of the stored table in order (the implied ones after the declared),
    bookkeeping last."""
    names = list(table.names)
    if "period" in names:
        i = names.index("period") + 1
        names[i:i] = ["period_start", "period_end"]
    return names + [c.name for c in table.implied]


def content_columns(table: Table) -> list[str]:
    """The columns a row's hash covers: all but the key and the implied ones (which come from
    inputs the hash covers as `extra`)."""
    implied = {c.name for c in table.implied}
    return [c for c in store_columns(table) if c not in table.key and c not in implied]


def hash_sql(table: Table, alias: str = "", extra: tuple[str, ...] = ()) -> str:
    """The content hash of a row; `alias.` prefixes every column when given. `extra`
    adds input columns that are not stored as such (a flat ticket's solved_at...), so a
    change in them is an update too."""
    prefix = f"{alias}." if alias else ""
    cols = [*content_columns(table), *extra] or list(table.key)  # a row that is all key
    return "hash(" + ", ".join(prefix + ident(c) for c in cols) + ")"


@dataclass(frozen=True)
class MergeCounts:
    inserted: int
    updated: int
    unchanged: int


def merge(con: duckdb.DuckDBPyConnection, table: Table, valid: str, import_id: str,
          extra: tuple[str, ...] = ()) -> MergeCounts:
    """Merge the rows of query `valid` (store columns + `_ord`) into `table`.

    Leaves temp table or view `_final` (the last row per key, with `_action` insert,
    update or none) for the kind's follow-up writes."""
    key = ", ".join(ident(k) for k in table.key)
    join = " AND ".join(f"v.{ident(k)} = t.{ident(k)}" for k in table.key)
    cols = store_columns(table)
    if _first_rows(con, table, valid):
        counts = _insert_all(con, table, valid, import_id, extra)
        if counts is not None:
            return counts
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _seq AS
        SELECT v.*, {hash_sql(table, 'v', extra)} AS _hash, t._hash AS _stored_hash
        FROM ({valid}) v LEFT JOIN {table.write_name} t ON {join}
    """)
    dupes = con.execute(f"SELECT count(*) - count(DISTINCT ({key})) FROM _seq").fetchall()[0][0]
    action = (
        "CASE WHEN _stored_hash IS NULL THEN 'insert' WHEN _stored_hash <> _hash THEN 'update' ELSE 'none' END"
    )
    if dupes:
        # several rows for one key: each is classified against the row before it, as
        # if applied one by one, and only the last is written
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _seq AS
            SELECT *, lag(_hash) OVER w AS _prev_hash,
                   row_number() OVER (PARTITION BY {key} ORDER BY _ord DESC) = 1 AS _is_last
            FROM _seq WINDOW w AS (PARTITION BY {key} ORDER BY _ord)
        """)
        inserted, updated, unchanged = con.execute("""
            SELECT count(*) FILTER (WHERE _prev_hash IS NULL AND _stored_hash IS NULL),
                   count(*) FILTER (WHERE coalesce(_prev_hash, _stored_hash) <> _hash),
                   count(*) FILTER (WHERE coalesce(_prev_hash, _stored_hash) = _hash)
            FROM _seq
        """).fetchall()[0]
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _final AS
            SELECT * EXCLUDE (_prev_hash, _is_last), {action} AS _action FROM _seq WHERE _is_last
        """)
        con.execute("DROP TABLE _seq")
    else:
        inserted, updated, unchanged = con.execute("""
            SELECT count(*) FILTER (WHERE _stored_hash IS NULL),
                   count(*) FILTER (WHERE _stored_hash <> _hash),
                   count(*) FILTER (WHERE _stored_hash = _hash)
            FROM _seq
        """).fetchall()[0]
        con.execute(f"CREATE OR REPLACE TEMP VIEW _final AS SELECT *, {action} AS _action FROM _seq")
    if con.execute("SELECT count(*) FROM _final WHERE _action = 'update'").fetchall()[0][0]:
        con.execute(f"DELETE FROM {table.write_name} t USING _final v WHERE v._action = 'update' AND {join}")
    # (a large write in ticket order, unless it is already: store._cluster)
    order = order_by(con, "SELECT * FROM _final WHERE _action <> 'none'", cols, position="_ord",
                     count=inserted + updated)
    with insertion_order(con, bool(order)):
        con.execute(f"""
            INSERT INTO {table.write_name} ({", ".join(ident(c) for c in cols)}, _hash, _import_id)
            SELECT {", ".join(ident(c) for c in cols)}, _hash, ? FROM _final WHERE _action <> 'none'{order}
        """, [import_id])
    return MergeCounts(inserted, updated, unchanged)


def _first_rows(con: duckdb.DuckDBPyConnection, table: Table, valid: str) -> bool:
    """True when `table` holds no row of the sources `valid` brings (a first import):
    nothing can then be an update or unchanged, and the join with what is stored is
    skipped. Without a source column, when the table is empty."""
    if "source" not in table.key:
        return not con.execute(f"SELECT EXISTS (SELECT 1 FROM {table.write_name})").fetchall()[0][0]
    return not con.execute(f"""
        SELECT EXISTS (SELECT 1 FROM {table.write_name} WHERE source IN (SELECT DISTINCT source FROM ({valid})))
    """).fetchall()[0][0]


def _insert_all(con: duckdb.DuckDBPyConnection, table: Table, valid: str, import_id: str,
                extra: tuple[str, ...]) -> MergeCounts | None:
    """merge() for a first import with one row per key: every row is an insert, written
    straight from `valid` (no join, no temp copy). None when a key repeats: the general
    path then classifies the rows against each other."""
    key = ", ".join(ident(k) for k in table.key)
    cols = ", ".join(ident(c) for c in store_columns(table))
    # distinct by hash: two keys that share one look like a repeat and take the general path
    rows, keys = con.execute(f"SELECT count(*), count(DISTINCT hash({key})) FROM ({valid})").fetchall()[0]
    if rows != keys:
        return None
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW _final AS
        SELECT v.*, {hash_sql(table, 'v', extra)} AS _hash, 'insert' AS _action FROM ({valid}) v
    """)
    order = order_by(con, valid, store_columns(table), position="_ord", count=rows)
    with insertion_order(con, bool(order)):
        con.execute(f"INSERT INTO {table.write_name} ({cols}, _hash, _import_id) "
                    f"SELECT {cols}, _hash, ? FROM _final{order}", [import_id])
    return MergeCounts(rows, 0, 0)


def insert_rows(con: duckdb.DuckDBPyConnection, table: Table, rows_sql: str, import_id: str) -> None:
    """Insert the rows of `rows_sql` (store columns but bookkeeping) as they are: for
    implied rows whose earlier versions were deleted just before."""
    cols = ", ".join(ident(c) for c in store_columns(table))
    con.execute(f"""
        INSERT INTO {table.write_name} ({cols}, _hash, _import_id)
        SELECT {cols}, {hash_sql(table, 'n')}, ? FROM ({rows_sql}) n
    """, [import_id])


def upsert_rows(con: duckdb.DuckDBPyConnection, table: Table, rows_sql: str, import_id: str) -> int:
    """Replace or insert the rows selected by `rows_sql` (all store columns but the
    bookkeeping ones), skipping those already stored with equal content; returns how
    many were written. Used for rows an import implies (events of flat tickets...)."""
    cols = store_columns(table)
    key = " AND ".join(f"n.{ident(k)} = t.{ident(k)}" for k in table.key)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _implied AS
        SELECT n.*, {hash_sql(table, 'n')} AS _hash FROM ({rows_sql}) n
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _implied AS
        SELECT n.* FROM _implied n LEFT JOIN {table.write_name} t ON {key}
        WHERE t._hash IS NULL OR t._hash <> n._hash
    """)
    con.execute(f"DELETE FROM {table.write_name} t USING _implied n WHERE {key}")
    order = order_by(con, "SELECT * FROM _implied", cols)
    with insertion_order(con, bool(order)):
        written = con.execute(f"""
            INSERT INTO {table.write_name} ({", ".join(ident(c) for c in cols)}, _hash, _import_id)
            SELECT {", ".join(ident(c) for c in cols)}, _hash, ? FROM _implied{order}
        """, [import_id]).fetchall()[0][0]
    con.execute("DROP TABLE _implied")
    return written

