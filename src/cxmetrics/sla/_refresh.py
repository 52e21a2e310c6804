"""Refreshing `sla_targets`: which tickets to recompute, and evaluating the clocks at `now`.

A ticket's targets are recomputed when:

- its events or its tickets row changed: a row of an import the SLA table does not
  reflect yet (`sla_imports`, the same idea as the facts' `facts_state`), or a row
  that went away (the facts keep per ticket how many event rows and whether a ticket
  row they were derived from; `sla_tickets` keeps the counts as of the SLA refresh, and
  the totals of the tickets out of scope must agree, else a per-ticket comparison finds
  those that lost rows);
- the policies or schedules changed (`sla_meta` keeps a digest of both) and the ticket's
  own fingerprint changed: its policy, or a target that applies to it, or the definition
  of the schedule that target is measured in. A change to one policy recomputes only
  the tickets it touches, and the refresh says how many.

Then every target not completed is evaluated at `now` (all of them, touched or not:
time moves for every open clock): elapsed and remaining time, and its state.

The tickets to recompute are derived in slices of at most `SLICE_TICKETS`, one after the
other, into temporary tables (every clock is a ticket's own, so a slice needs nothing of
another), and written to the workspace's tables in one transaction at the end: the engine's
memory and temporary disk are bounded by a slice, not by the workspace. Derived in one
piece, a full refresh of 300,000 demo tickets needed between 300 and 600 MB (it stopped with
"Out of Memory" under a `memory_limit` of 300 MB, which two slices pass), and one of 10M
tickets did not fit in 6 GB; by that measure a workspace of a few million tickets failed
under the default `memory_limit` (1.5 GB). Slicing costs nothing measurable at 300,000.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from cxmetrics.errors import StoreError, UserError
from cxmetrics.sla import _clocks as q
from cxmetrics.sla._business import BusinessTime, business_time
from cxmetrics.sla._policy import POLICY_FILE, SlaMetric, SlaPolicies
from cxmetrics.store import rollback
from cxmetrics.store._reflected import new_rows, note_imports

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

#: the most tickets whose clocks are derived in one piece (see the module's docstring)
SLICE_TICKETS = 200_000



def resolve(target: Any) -> tuple[duckdb.DuckDBPyConnection, Path | None]:
    """The connection and the workspace folder of a Workspace or a connection (the folder
    of its database file; None for an in-memory database)."""
    con = getattr(target, "con", target)
    if not isinstance(con, duckdb.DuckDBPyConnection):
        raise UserError(f"expected a workspace or a DuckDB connection, not {type(target).__name__}.")
    folder = getattr(target, "path", None)
    if folder is None:
        rows = con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()
        folder = Path(rows[0][0]).parent if rows and rows[0][0] else None
    return con, Path(folder) if folder is not None else None


def policy_path(folder: Path | None) -> Path | None:
    return folder / POLICY_FILE if folder is not None else None


def load_for(folder: Path | None, policies: SlaPolicies | str | Path | None) -> SlaPolicies:
    if isinstance(policies, SlaPolicies):
        return policies
    if policies is not None:
        return SlaPolicies.load(policies)
    path = policy_path(folder)
    return SlaPolicies.load(path) if path is not None else SlaPolicies()


def now_literal(now: datetime | date | str | None) -> str:
    """`now` as text the engine reads as TIMESTAMPTZ (a naive time is in the session's,
    i.e. the workspace's, time zone); default: the current time."""
    if now is None:
        return datetime.now(UTC).isoformat()
    if isinstance(now, datetime | date):
        return now.isoformat()
    try:
        datetime.fromisoformat(str(now))
    except ValueError:
        raise UserError(f"now '{now}' is not a time such as 2025-03-01T09:00 or 2025-03-01T09:00+01:00.") from None
    return str(now)


def refresh_sla(
    target: Any,
    now: datetime | date | str | None = None,
    *,
    policies: SlaPolicies | str | Path | None = None,
    full: bool = False,
) -> int:
    """Bring `sla_targets` up to date and evaluate every open clock at `now`.

    `target` is a Workspace or a DuckDB connection (its policies are read from `sla.toml`
    and its schedules from `schedules.toml` in the database's folder, unless `policies`
    is given). Facts are refreshed first. Only tickets whose events, policy, targets or
    schedule changed are recomputed (all with `full=True`); returns how many tickets
    were recomputed. The workspace's tables are written in one transaction, after every
    clock is derived: a failure leaves them as they were."""
    from cxmetrics.facts import refresh_facts

    con, folder = resolve(target)
    pols = load_for(folder, policies)
    bt = business_time(folder, pols)
    config = f"{pols.fingerprint()}:{bt.fingerprint()}"
    stamp = now_literal(now)
    # a Workspace's writers (imports, refreshes from its cursors) take turns
    lock = getattr(target, "_write_lock", None) or nullcontext()
    with lock, engine_errors():
        refresh_facts(con)
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE _sla_now AS SELECT CAST(? AS TIMESTAMPTZ) AS now", [stamp])
            n, full = _recompute(con, pols, bt, config, full)  # (into temporary tables: nothing written yet)
            with _transaction(con):
                _write(con, full)
                con.execute(q.open_raw())
                con.execute(q.open_targets(bt.runs_sql(con)))
                bt.verify(con, "_sla_open", "business AND _running_since IS NOT NULL AND run_s IS NULL")
                con.execute(q.evaluate())
                con.execute("DELETE FROM sla_meta WHERE key IN ('config', 'evaluated_at')")
                con.execute("INSERT INTO sla_meta VALUES ('config', ?), ('evaluated_at', ?)", [config, stamp])
        finally:
            for name in q.TEMP_TABLES:
                con.execute(f"DROP TABLE IF EXISTS {name}")
    return n


@contextmanager
def engine_errors() -> Iterator[None]:
    """Engine errors become StoreError (with the engine's first line): a CxError the CLI
    and the API report, like the workspace's own boundary does."""
    try:
        yield
    except duckdb.Error as exc:
        text = str(exc).strip()
        raise StoreError(text.splitlines()[0] if text else type(exc).__name__) from exc


def _recompute(con: duckdb.DuckDBPyConnection, pols: SlaPolicies, bt: BusinessTime, config: str,
               full: bool) -> tuple[int, bool]:
    """The tickets to recompute (`_sla_scope_all`) and their new targets and fingerprints
    (`_sla_out`, `_sla_fp_out`), slice by slice; returns how many tickets, and whether all.

    Only temporary tables are written, each statement committed on its own, so that a slice's
    intermediate tables are gone once the next slice replaces them: in one transaction the
    engine keeps every replaced version until it ends (for a rollback), and at 10M tickets
    they filled the disk. The workspace's tables are written afterwards, in one transaction
    (`_write`)."""
    stored = con.execute("SELECT value FROM sla_meta WHERE key = 'config'").fetchall()
    first = not stored or _scalar(con, "SELECT count(*) FROM sla_imports") == 0
    full = full or first
    con.execute(q.config_rows(pols)[0])
    rows = q.config_rows(pols)[1]
    if rows:
        con.executemany("INSERT INTO _sla_cfg VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    bt.digests(con)
    if full:
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _sla_scope AS
            SELECT source, ticket_id FROM ticket_facts
            UNION SELECT source, ticket_id FROM sla_tickets
        """)
    else:
        _touched(con)
        if stored[0][0] != config:
            _add_config_changes(con, pols, bt)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _sla_scope_all AS "
                f"SELECT source, ticket_id, (row_number() OVER () - 1) // {SLICE_TICKETS} AS slice FROM _sla_scope")
    n = _scalar(con, "SELECT count(*) FROM _sla_scope_all")
    con.execute("CREATE OR REPLACE TEMP TABLE _sla_out AS SELECT * FROM sla_targets LIMIT 0")
    con.execute("CREATE OR REPLACE TEMP TABLE _sla_fp_out AS SELECT * FROM sla_tickets LIMIT 0")
    for i in range(math.ceil(n / SLICE_TICKETS)):
        con.execute(f"CREATE OR REPLACE TEMP TABLE _sla_scope AS "
                    f"SELECT source, ticket_id FROM _sla_scope_all WHERE slice = {i}")
        _derive(con, pols, bt)
        con.execute(q.insert_targets("_sla_out"))
        con.execute("""
            INSERT INTO _sla_fp_out
            SELECT source, ticket_id, policy, fingerprint, _event_rows, _ticket_row, (SELECT now FROM _sla_now)
            FROM _sla_fp
        """)
    return n, full


def _write(con: duckdb.DuckDBPyConnection, full: bool) -> None:
    """The recomputed tickets' targets and fingerprints into the workspace's tables, and the
    imports they now reflect (in the caller's transaction)."""
    if _scalar(con, "SELECT count(*) FROM _sla_scope_all"):
        con.execute(f"DELETE FROM sla_targets s USING _sla_scope_all k WHERE {q.keys_match('s', 'k')}")
        con.execute(f"DELETE FROM sla_tickets s USING _sla_scope_all k WHERE {q.keys_match('s', 'k')}")
        con.execute("INSERT INTO sla_targets BY NAME SELECT * FROM _sla_out")
        con.execute("INSERT INTO sla_tickets BY NAME SELECT * FROM _sla_fp_out")
    if full:
        con.execute("DELETE FROM sla_imports")
        con.execute("""
            INSERT INTO sla_imports
            SELECT DISTINCT _import_id, now() FROM (
                SELECT _import_id FROM events UNION ALL SELECT _import_id FROM tickets
            ) WHERE _import_id IS NOT NULL
        """)
    else:
        con.execute("INSERT INTO sla_imports SELECT DISTINCT _import_id, now() FROM _sla_imported "
                    "WHERE _import_id IS NOT NULL")
    note_imports(con, "sla_imports")


def _derive(con: duckdb.DuckDBPyConnection, pols: SlaPolicies, bt: BusinessTime) -> None:
    """Targets of the tickets in `_sla_scope`, into `_sla_new` (plus `_sla_tk`, `_sla_fp`)."""
    con.execute(q.ticket_rows(pols, bt.ticket_schedule_sql("f")))
    con.execute(q.ticket_targets())
    bt.check_schedules(con)
    con.execute(q.fingerprints(pols))
    used = sorted({t.metric for p in pols.policies for t in p.targets}, key=list(SlaMetric).index)
    con.execute(q.clock_events())
    con.execute(q.status_intervals())
    con.execute(q.cycles(used))
    con.execute(q.spans())
    con.execute(q.measured_spans(bt.spans_sql(con)))
    bt.verify(con, "_sla_spans", "business AND span_to IS NOT NULL AND dur IS NULL")
    con.execute(q.new_targets())
    con.execute(q.due_times(bt.dues_sql(con)))
    bt.verify(con, "_sla_new", "business AND due_from IS NOT NULL AND due_at IS NULL")


def _touched(con: duckdb.DuckDBPyConnection) -> None:
    """`_sla_scope` := tickets with rows of imports not reflected yet, and tickets that
    lost rows or appeared/disappeared in the facts without one."""
    new = new_rows(con, "sla_imports")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _sla_imported AS
        SELECT DISTINCT source, ticket_id, _import_id FROM (
            SELECT source, ticket_id, _import_id FROM events WHERE ticket_id IS NOT NULL AND {new}
            UNION ALL
            SELECT source, ticket_id, _import_id FROM tickets WHERE {new}
        )
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE _sla_scope AS SELECT DISTINCT source, ticket_id FROM _sla_imported")
    # out of scope, a ticket can only have lost rows (a new row puts it in scope): equal
    # totals of the stored and current counts prove that none did
    totals = """
        SELECT coalesce(sum(_event_rows), 0) + count(*) FILTER (WHERE _ticket_row) + count(*)
        FROM {t} x ANTI JOIN _sla_scope k ON x.source = k.source AND x.ticket_id = k.ticket_id
    """
    now_total = _scalar(con, totals.format(t="ticket_facts"))
    stored_total = _scalar(con, totals.format(t="sla_tickets"))
    if now_total != stored_total:
        con.execute(f"""
            INSERT INTO _sla_scope
            SELECT coalesce(f.source, s.source), coalesce(f.ticket_id, s.ticket_id)
            FROM ticket_facts f FULL JOIN sla_tickets s ON {q.keys_match('f', 's')}
            ANTI JOIN _sla_scope k ON k.source = coalesce(f.source, s.source)
                                  AND k.ticket_id = coalesce(f.ticket_id, s.ticket_id)
            WHERE f.ticket_id IS NULL OR s.ticket_id IS NULL
               OR f._event_rows <> s._event_rows OR f._ticket_row <> s._ticket_row
        """)


def _add_config_changes(con: duckdb.DuckDBPyConnection, pols: SlaPolicies, bt: BusinessTime) -> None:
    """Add to `_sla_scope` the tickets whose policy or fingerprint changed."""
    con.execute("ALTER TABLE _sla_scope RENAME TO _sla_fresh")
    con.execute("CREATE TEMP TABLE _sla_scope AS SELECT source, ticket_id FROM ticket_facts")
    con.execute(q.ticket_rows(pols, bt.ticket_schedule_sql("f")))
    con.execute(q.ticket_targets())
    bt.check_schedules(con)
    con.execute(q.fingerprints(pols))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _sla_changed AS
        SELECT f.source, f.ticket_id FROM _sla_fp f LEFT JOIN sla_tickets s ON {q.keys_match('f', 's')}
        WHERE s.ticket_id IS NULL OR s.fingerprint IS DISTINCT FROM f.fingerprint
           OR s.policy IS DISTINCT FROM f.policy
    """)
    con.execute("DROP TABLE _sla_scope")
    con.execute("""
        CREATE TEMP TABLE _sla_scope AS
        SELECT source, ticket_id FROM _sla_fresh UNION SELECT source, ticket_id FROM _sla_changed
    """)


def _scalar(con: duckdb.DuckDBPyConnection, query: str) -> Any:
    return con.execute(query).fetchall()[0][0]


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        rollback(con)
        raise
    con.execute("COMMIT")


def workspace_of(target: Any) -> Workspace | None:
    return target if hasattr(target, "con") and hasattr(target, "path") else None
