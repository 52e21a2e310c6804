"""The store: the DuckDB file of a workspace and its versioned schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back `con`'s transaction if it still has one. A COMMIT that fails (a full disk, a
    write error) has ended it already, and the error of a second ROLLBACK ("no transaction is
    active") would take the place of the one that says what went wrong."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException:
        pass


@contextmanager
def engine_settings(con: duckdb.DuckDBPyConnection, **values: str) -> Iterator[None]:
    """Set engine settings (SQL literals: `threads="1"`, `x="'a,b'"`) for the block and put the
    old values back, also when it fails."""
    old = {k: con.execute(f"SELECT current_setting('{k}')").fetchall()[0][0] for k in values}
    for k, v in values.items():
        con.execute(f"SET {k} = {v}")
    try:
        yield
    finally:
        for k, v in old.items():
            con.execute(f"SET {k} = {str(v).lower() if isinstance(v, bool) else repr(v)}")


@contextmanager
def optimizers_off(con: duckdb.DuckDBPyConnection, *names: str) -> Iterator[None]:
    """The engine's optimizer passes `names` off for the block, beside those off already."""
    old = str(con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0])
    off = [n.strip() for n in old.split(",") if n.strip()]
    with engine_settings(con, disabled_optimizers=repr(",".join([*off, *(n for n in names if n not in off)]))):
        yield
