"""What connectors keep in the workspace (migration 0011): sync cursors, fetched pages
not yet landed, vendor objects kept as sent (lookups, the vendor's own per-ticket
numbers, configuration) and accepted webhook deliveries; and where credentials are.

Every function takes the engine connection; the caller holds the workspace's write lock
for writes and decides the transaction, so a page and the cursor after it commit together.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa

from cxmetrics.errors import ConnectorError
from cxmetrics.settings import Settings


def cursor(con: Any, vendor: str, stream: str) -> str | None:
    """Where `stream` of `vendor` continues, or None before its first sync."""
    row = con.execute("SELECT cursor FROM connector_state WHERE vendor = ? AND stream = ?", [vendor, stream]).fetchone()
    return None if row is None else row[0]


def set_cursor(con: Any, vendor: str, stream: str, value: str | None) -> None:
    con.execute("INSERT OR REPLACE INTO connector_state VALUES (?, ?, ?, now())", [vendor, stream, value])


def cursors(con: Any, vendor: str) -> dict[str, str | None]:
    rows = con.execute("SELECT stream, cursor FROM connector_state WHERE vendor = ? ORDER BY stream", [vendor])
    return dict(rows.fetchall())


def put_objects(con: Any, vendor: str, kind: str, objects: Iterable[tuple[str, Any]]) -> int:
    """Keep vendor objects (id, object) of `kind` as sent, replacing an earlier version
    of the same id; returns how many were given."""
    ids: list[str] = []
    bodies: list[str] = []
    for oid, obj in objects:
        ids.append(str(oid))
        bodies.append(json.dumps(obj, default=str, ensure_ascii=False))
    if ids:
        # one set-based statement: executemany runs one per row, minutes for the 100k metric
        # sets of a large help desk; of the same id given twice, the later one wins
        name = "_cx_put_objects"
        con.register(name, pa.table({"object_id": ids, "body": bodies, "ord": list(range(len(ids)))}))
        try:
            con.execute(f"INSERT OR REPLACE INTO connector_objects SELECT ?, ?, object_id, arg_max(body, ord), now() "
                        f"FROM {name} GROUP BY object_id", [vendor, kind])
        finally:
            con.unregister(name)
    return len(ids)


def objects(con: Any, vendor: str, kind: str) -> list[Any]:
    """The kept objects of `kind`, in id order."""
    rows = con.execute("SELECT body FROM connector_objects WHERE vendor = ? AND kind = ? ORDER BY object_id",
                       [vendor, kind]).fetchall()
    return [json.loads(r[0]) for r in rows]


def secret(settings: Settings, vendor: str, name: str = "token") -> str:
    """A credential named in [connectors.VENDOR] (`token` or `webhook_secret`): read from
    the environment variable `<name>_env` or the file `<name>_file` names. The value is
    never logged or put in a message."""
    conf = settings.connectors.get(vendor)
    if conf is None:
        section = "Webhooks" if name == "webhook_secret" else "Live sync"
        raise ConnectorError(f"No [connectors.{vendor}] section in settings.toml; add one that names where its "
                             f"{name.replace('_', ' ')} is ({name}_env or {name}_file): see docs/connectors.md, "
                             f"\"{section}\".")
    env, file = conf.get(f"{name}_env"), conf.get(f"{name}_file")
    if env:
        value = os.environ.get(env, "").strip()
        if not value:
            raise ConnectorError(f"The environment variable {env} ([connectors.{vendor}] {name}_env) is not set; "
                                 f"export it with the {vendor} {name.replace('_', ' ')}.")
        return value
    if file:
        path = Path(file).expanduser()
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConnectorError(f"Cannot read {path} ([connectors.{vendor}] {name}_file): {exc.strerror}.") from None
        if not value:
            raise ConnectorError(f"{path} ([connectors.{vendor}] {name}_file) is empty; write the {vendor} "
                                 f"{name.replace('_', ' ')} in it.")
        return value
    raise ConnectorError(f"[connectors.{vendor}] names no {name.replace('_', ' ')}: set {name}_env to the "
                         f"environment variable that holds it, or {name}_file to a file outside the repository.")
