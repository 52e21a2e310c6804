"""The store: the DuckDB file of a workspace and its versioned schema."""

from __future__ import annotations

import duckdb


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back `con`'s transaction if it still has one. A COMMIT that fails (a full disk, a
    write error) has ended it already, and the error of a second ROLLBACK ("no transaction is
    active") would take the place of the one that says what went wrong."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException:
        pass
