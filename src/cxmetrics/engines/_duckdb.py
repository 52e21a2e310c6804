"""The DuckDB client: the embedded engine every workspace has. The metric layer's own path
(`run_metrics` over a workspace's connection) calls DuckDB directly; this client is that
connection behind the `SqlClient` protocol, for code written against any engine."""

from __future__ import annotations

import duckdb
import pyarrow as pa


class DuckDBClient:
    """`SqlClient` over a DuckDB connection (the caller's: `close()` leaves it open unless `owns`)."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, *, owns: bool = False) -> None:
        self.con = con
        self._owns = owns

    def query(self, sql: str) -> pa.Table:
        """The rows of `sql` as an Arrow table."""
        return self.con.sql(sql).to_arrow_table()

    def dry_run(self, sql: str) -> None:
        """Bind and plan `sql` without running it (EXPLAIN): unknown tables, columns or functions raise."""
        self.con.execute(f"EXPLAIN {sql}")

    def close(self) -> None:
        """Close the connection if this client opened it."""
        if self._owns:
            self.con.close()
