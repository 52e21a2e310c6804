"""Versioned schema migrations: numbered SQL files applied in order, each once.

Opening a workspace applies every migration newer than the one it records, inside
one transaction, so an old workspace is upgraded whole or not at all.
"""

from __future__ import annotations

import re
from importlib import resources

import duckdb

from cxmetrics.store import rollback

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def available() -> list[tuple[int, str, str]]:
    """(version, file name, sql) of every migration shipped with the package, in order."""
    found = []
    for entry in resources.files("cxmetrics.store.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()[0][0]


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply pending migrations; returns the versions applied."""
    pending = [m for m in available() if m[0] > current_version(con)]
    if not pending:
        return []
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
        for version, name, sql in pending:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return [m[0] for m in pending]
