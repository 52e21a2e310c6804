"""The engine boundary: what the metric layer needs from a SQL engine (metricflow's
`SqlClient` is the model). SQL handed to a client is cxmetrics' own dialect, DuckDB's (what
`cxmetrics.metrics` compiles); each client renders it for its engine.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import pyarrow as pa


@runtime_checkable
class SqlClient(Protocol):
    """A SQL engine the metric queries run on."""

    #: the engine's name, as `--engine` takes it
    name: str

    def query(self, sql: str) -> pa.Table:
        """Run a query (DuckDB dialect) and return its rows as an Arrow table."""
        ...

    def dry_run(self, sql: str) -> None:
        """Check that a query (DuckDB dialect) would run, without running it; raise if not."""
        ...

    def close(self) -> None:
        """Release the engine's resources (a client made over a caller's connection leaves it open)."""
        ...
