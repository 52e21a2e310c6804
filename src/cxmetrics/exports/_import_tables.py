"""`cxmetrics -w NEWWS import tables DIR`: a workspace filled from a tables export (`cxmetrics
export tables`, its facts perhaps derived again on Spark by `--engine spark --tables DIR
refresh`), so the dashboard, the API and every command serve those tables as they are.

Why a copy into DuckDB and not views over the Parquet files: a workspace is written to while
it is served (imports, webhooks, API keys, sessions, refreshes that DELETE and INSERT facts), and
every one of those needs tables; the copy is one pass of DuckDB's Parquet reader (the same
files Spark wrote) and gives a workspace like any other. Nothing is derived again: the
refresh state is recorded as the export's (every import its rows carry is noted as reflected
in the facts, and the business-time twins as computed under the schedules that came with the
export), so the workspace's next refresh finds nothing to do until new data arrives; then it
refreshes the new tickets as usual. The SLA clocks are the export's until they are evaluated
again (the server and `sla status` evaluate them at the current time, as always).

The workspace must be new or empty: merging an export's facts into other data would give
facts of neither. The whole load is one transaction.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from cxmetrics.engines._spark import read_manifest
from cxmetrics.errors import UserError
from cxmetrics.exports._tables import CONFIG, CONFIG_FILES
from cxmetrics.model import TABLES
from cxmetrics.store._implied import ensure_views
from cxmetrics.store import rollback

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

#: tables whose rows carry the import they came from (`_import_id`), which the facts refresh reads
_IMPORTED = ("tickets", "events")
#: the key of the rows a flat ticket implies, in the views that derive them
_IMPLIED_KEY = {"events": "event_id", "surveys": "response_id"}


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def import_tables(ws: Workspace, folder: Path) -> dict[str, int]:
    """Fill the empty workspace `ws` with the tables of the export in `folder` and its
    configuration files (schedules.toml, sla.toml, targets.toml); returns rows per table."""
    from cxmetrics.calendar import SCHEDULES_FILE, ScheduleSet
    from cxmetrics.store._reflected import note_imports

    manifest = read_manifest(folder)
    con = ws.con
    held = [t for t in ("tickets", "events", "ticket_facts", "surveys")
            if con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]]
    if held:
        raise UserError(f"import tables fills a new workspace, and {ws.path} holds {', '.join(held)} already: give "
                        f"a new one, e.g. `cxmetrics -w {ws.path}-spark import tables {folder}`.")
    # the files the twins and SLA clocks in the export were computed under (written after the load)
    config = {name: folder / CONFIG / name for name in CONFIG_FILES if (folder / CONFIG / name).is_file()}
    schedules = config.get(SCHEDULES_FILE, ws.path / SCHEDULES_FILE)
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_type = 'BASE TABLE'").fetchall()}
    load_id = f"tables-{uuid.uuid4().hex[:12]}"
    started = datetime.now(timezone.utc)
    counts: dict[str, int] = {}
    with ws._write_lock:
        con.execute("BEGIN TRANSACTION")
        try:
            # the tickets first: the rows their flat ones imply are the events and surveys views'
            # own, and an export holds them as rows (left out below, or they would count twice)
            for name in sorted(manifest["tables"], key=lambda n: n != "tickets"):
                files = f"'{_sql_path(folder / name)}/*.parquet'"
                table = TABLES[name].write_name if name in TABLES else name
                if table in present:
                    columns = {r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()}
                    given = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({files})").fetchall()]
                    shared = ", ".join(f'"{c}"' for c in given if c in columns)
                    implied = _IMPLIED_KEY.get(name)
                    where = "" if implied is None or "origin" not in given else (
                        f"WHERE p.origin IS DISTINCT FROM 'tickets' OR NOT EXISTS (SELECT 1 FROM \"{name}\" v "
                        f"WHERE v.origin = 'tickets' AND v.source = p.source AND v.{implied} = p.{implied})")
                    con.execute(f'INSERT INTO "{table}" ({shared}) SELECT {shared} FROM read_parquet({files}) p {where}')
                else:  # a table the workspace makes when a layer is on (the text layer's)
                    con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM read_parquet({files})')
                if name == "tickets":
                    ensure_views(con)  # the views derive what its flat tickets imply (left out of the rest)
                counts[name] = int(con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0])
            rows = sum(counts.get(t, 0) for t in _IMPORTED)
            for name in _IMPORTED:  # a lakehouse's rows name no import: they are this load's
                if name in counts:
                    con.execute(f"UPDATE {TABLES[name].write_name} SET _import_id = ? WHERE _import_id IS NULL",
                                [load_id])
            con.execute("INSERT INTO imports (import_id, kind, file, format, source, started_at, finished_at, "
                        "\"read\", inserted, updated, unchanged, quarantined) "
                        "VALUES (?, 'tables', ?, 'parquet', NULL, ?, now(), ?, ?, 0, 0, 0)",
                        [load_id, str(folder), started, rows, rows])
            # the facts reflect every row loaded: the next refresh has nothing to do
            con.execute("INSERT INTO facts_state SELECT DISTINCT _import_id, now() FROM "
                        "(SELECT _import_id FROM events UNION ALL SELECT _import_id FROM tickets)")
            note_imports(con, "facts_state")
            fingerprint = ScheduleSet.load(schedules).fingerprint()
            con.execute("DELETE FROM business_facts_state")
            con.execute("INSERT INTO business_facts_state VALUES (?, now(), ?, 0, true)",
                        [fingerprint, counts.get("ticket_facts", 0)])
            con.execute("COMMIT")
        except BaseException:
            rollback(con)
            raise
    for name, path in config.items():
        shutil.copyfile(path, ws.path / name)
    if ws.settings.timezone != manifest["timezone"]:
        ws.configure(timezone=str(manifest["timezone"]))
    return counts
