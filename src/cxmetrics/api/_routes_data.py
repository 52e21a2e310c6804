"""Writing data: event ingest, file uploads, annotations; and the import log.

Every write goes through the library's import (same checks, merge, quarantine and
reconciled summary as the CLI), then refreshes the facts once and publishes a change on
the hub, so reads need no refresh and open dashboards update. Bodies are capped before
they are read (api/_limits.py); a write waits briefly for another, then answers 503.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import threading
import uuid
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Any, Literal

import pyarrow as pa
from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from cxmetrics._workspace import Workspace
from cxmetrics.api._auth import api_admin, api_viewer, workspace_cursor
from cxmetrics.api._errors import COMMON_ERRORS, JSON, ApiError, ErrorResponse
from cxmetrics.api._limits import write_turn
from cxmetrics.api._models import AnnotationIn, Deleted, EventIn, ImportResult, Table
from cxmetrics.api._redact import for_viewer
from cxmetrics.api._params import FromQuery, ToQuery, check_period, parse_instant
from cxmetrics.errors import UserError
from cxmetrics.ingest import KINDS, ImportSummary, Mapping
from cxmetrics.ingest._readers import detect_format

log = logging.getLogger("cxmetrics.api")

router = APIRouter(dependencies=[Depends(api_viewer)], responses=COMMON_ERRORS)

MAX_EVENTS = 100_000
MAX_NAME = 255  # characters of an upload's file name
MAX_QUARANTINE_SHOWN = 1000
_FIELD = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ .\-]{0,99}$")
# tables an import of each kind writes (flat tickets imply events and survey answers)
_TOUCHES = {"tickets": ("tickets", "events", "surveys")}
ImportKindName = Literal[tuple(sorted(KINDS))]  # type: ignore[valid-type]


def after_write(request: Request, summary: ImportSummary, tables: tuple[str, ...] | list[str],
                wait: bool = True) -> tuple[int, bool]:
    """Have the facts refreshed (shared with other writes) and the change published;
    with `wait`, only return once that is done. Returns (hub version, whether the
    facts include the write now)."""
    return wait_for(request, registered(request, summary, tables), wait)


def registered(request: Request, summary: ImportSummary, tables: tuple[str, ...] | list[str]) -> int | None:
    """Register a committed write with the refresher; its ticket (None: nothing changed)."""
    if not (summary.inserted or summary.updated):
        return None
    return int(request.app.state.refresher.wrote(tables))


def wait_for(request: Request, ticket: int | None, wait: bool = True) -> tuple[int, bool]:
    """(hub version, whether the facts include the write now), once they do with `wait`."""
    state = request.app.state
    if ticket is None:
        return state.hub.version, True  # nothing changed
    if not wait:
        return state.hub.version, False
    return state.refresher.wait(ticket), True


def _result(ws: Workspace, summary: ImportSummary, version: int, visible: bool = True) -> dict[str, Any]:
    rejected = ws.quarantine(summary.import_id).slice(0, MAX_QUARANTINE_SHOWN) if summary.quarantined else None
    return {**summary.to_dict(), "ignored_columns": list(summary.ignored_columns),
            "quarantine": [] if rejected is None else
            [{k: r[k] for k in ("line", "reason", "raw")} for r in rejected.to_pylist()], "version": version,
            "visible": visible}


# -- events ------------------------------------------------------------------------------

def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


# the fields the events format declares (api/_models.py EventIn): text, numbers or booleans
_SCALAR_FIELDS = frozenset(EventIn.model_fields)


def events_table(body: Any) -> pa.Table:
    """The posted events as text columns (the importer parses them as it parses CSV)."""
    events = body.get("events") if isinstance(body, dict) else body
    if not isinstance(events, list):
        raise UserError('the body must be a JSON array of events, or {"events": [...]}.')
    if not events:
        raise UserError("the body holds no events.")
    if len(events) > MAX_EVENTS:
        raise ApiError(413, f"at most {MAX_EVENTS:,} events per request, not {len(events):,}: send smaller batches.")
    names: dict[str, None] = {}
    for i, event in enumerate(events):
        if not isinstance(event, dict):
            raise UserError(f"event {i + 1} is not a JSON object (the events format: event_id, ticket_id, ts, kind, ...).")
        for name, value in event.items():
            if name in _SCALAR_FIELDS and isinstance(value, dict | list):  # the spec (EventIn) says so
                raise UserError(f"event {i + 1}: '{name}' is a JSON {'object' if isinstance(value, dict) else 'list'}"
                                "; it takes a string, a number or a boolean.")
            if name not in names:
                if not _FIELD.match(name):
                    raise UserError(f"event {i + 1} has a field named {name!r}, which is not a column name "
                                    "(letters, digits, _ . - and spaces, at most 100).")
                names[name] = None
    if len(names) > 200:
        raise UserError(f"the events have {len(names)} different fields; the events format has about 20.")
    return pa.table({n: pa.array([_text(e.get(n)) for e in events], pa.string()) for n in names})


@router.post("/events", response_model=ImportResult, tags=["data"], dependencies=[Depends(api_admin)],
             summary="Ingest a batch of events (idempotent by event id); the facts and the hub update",
             responses={413: {"model": ErrorResponse, "description": "Too many events in one request"}},
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "oneOf": [{"type": "array", "items": {"$ref": "#/components/schemas/EventIn"}},
                           {"type": "object", "required": ["events"], "properties": {
                               "events": {"type": "array", "items": {"$ref": "#/components/schemas/EventIn"}}}}]}}}}})
async def post_events(
    request: Request,
    source: str | None = Query(None, min_length=1, max_length=200,
                               description="Source of events that carry none (default: default)"),
    batch: str | None = Query(None, min_length=1, max_length=200, description=(
        "A name for this batch: the quarantine keeps what the latest batch of a name rejected (default: a new "
        "name per request, so every request's rejects are kept)")),
    wait: bool = Query(True, description=(
        "Answer once metrics include the events (read-after-write). With false, answer as soon as they are "
        "stored (durable, idempotent): the facts follow within half a second, refreshed together with other "
        "batches, and the hub announces them (higher throughput)")),
    ws: Workspace = Depends(workspace_cursor),
) -> JSON:
    raw = await request.body()  # capped while it streams in: max_events_body (api/_limits.py)
    label = f"api:events:{batch or secrets.token_hex(6)}"

    def run() -> dict[str, Any]:  # parsing too: a large body must not hold up the event loop
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise UserError(f"the body is not JSON: {exc}.") from None
        table = events_table(body)
        # (writes in progress hold the next refresh back a moment, so that concurrent
        # batches share it; registered before leaving, so it never starts without this one)
        with request.app.state.refresher.writing():
            with write_turn(ws):
                summary = ws.import_table("events", table, source=source, label=label)
            ticket = registered(request, summary, ["events"])
        version, visible = wait_for(request, ticket, wait)
        return _result(ws, summary, version, visible)

    return JSON(await run_in_threadpool(run))


# -- uploads -----------------------------------------------------------------------------

def upload_label(name: str | None) -> str:
    """The upload's name in the import log: `upload:` and what the client called the file,
    verbatim. Distinct names never share a label, so an upload only replaces the quarantine
    entries of an earlier upload of the very same name (and kind and source)."""
    name = name or ""
    if len(name) > MAX_NAME or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UserError(f"the upload's file name {name[:80]!r} is over {MAX_NAME} characters or holds control "
                        "characters: rename the file.")
    return f"upload:{name or '(unnamed)'}"


def _read_mapping(mapping: UploadFile, folder: FilePath) -> Mapping:
    text = mapping.file.read()
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError("the mapping file is not UTF-8 text (a TOML mapping).") from None
    map_path = folder / f"{uuid.uuid4().hex}.mapping.toml"
    map_path.write_text(decoded, encoding="utf-8")
    try:
        return Mapping.load(map_path)
    finally:
        map_path.unlink(missing_ok=True)


class Watch:
    """What a request's work and its watcher tell each other: the client has gone; the
    work is importing now (only then is there a query worth interrupting)."""

    def __init__(self) -> None:
        self.gone, self.importing = threading.Event(), threading.Event()


async def _while_connected(request: Request, ws: Workspace, work: Callable[[Watch], Any]) -> Any:
    """Run `work(watch)` on a worker thread; if the client goes away meanwhile, set
    `watch.gone` and, while it imports, interrupt the cursor's running query (the import
    rolls back: nothing is stored)."""
    watch = Watch()
    task = asyncio.ensure_future(run_in_threadpool(work, watch))
    while True:
        done, _ = await asyncio.wait({task}, timeout=0.5)
        if done:
            return task.result()
        if await request.is_disconnected():
            if not watch.gone.is_set():
                log.warning("the client of %s %s went away: its import is stopped", request.method, request.url.path)
            watch.gone.set()
            if watch.importing.is_set():
                ws.con.interrupt()  # again each round: between two queries an interrupt finds nothing to stop


@router.post("/imports/{kind}", response_model=ImportResult, tags=["data"], dependencies=[Depends(api_admin)],
             summary="Upload a file (CSV, JSON Lines, Parquet) and import it as KIND",
             responses={413: {"model": ErrorResponse, "description": "The body is over max_upload_size"}})
async def post_import(
    request: Request,
    kind: ImportKindName = Path(description="What the file holds: tickets (flat), events, surveys, ..."),
    file: UploadFile = File(description="The file; its extension gives its format unless file_format says"),
    mapping: UploadFile | None = File(None, description="A TOML mapping (column renames, time zone, value maps)"),
    source: str | None = Form(None, max_length=200, description="Source of rows that carry none"),
    file_format: Literal["csv", "jsonl", "parquet"] | None = Form(None),
    ws: Workspace = Depends(workspace_cursor),
) -> JSON:
    label = upload_label(file.filename)
    folder = ws.path / "uploads" / kind
    folder.mkdir(parents=True, exist_ok=True)
    m = await run_in_threadpool(_read_mapping, mapping, folder) if mapping is not None else None
    # the format follows the client's name; the bytes go to a file of their own, so that
    # two uploads of one name at once never read (or overwrite) each other's
    fmt = detect_format(FilePath(FilePath(file.filename or "upload").name), m or Mapping(), file_format)
    compressed = "".join(x for x in FilePath(file.filename or "").suffixes[-1:] if x.lower() in (".gz", ".zst"))
    target = folder / f"{uuid.uuid4().hex}.{fmt}{compressed.lower()}"

    def run(watch: Watch) -> dict[str, Any]:
        try:
            with target.open("wb") as out:
                while chunk := file.file.read(1 << 20):
                    if watch.gone.is_set():
                        raise UserError("the client went away before the upload was stored.")
                    out.write(chunk)
            with write_turn(ws):
                if watch.gone.is_set():
                    raise UserError("the client went away before the import began.")
                watch.importing.set()
                try:
                    summary = ws.import_file(kind, target, mapping=m, source=source or None, file_format=fmt,
                                             label=label)
                finally:
                    watch.importing.clear()
        finally:
            target.unlink(missing_ok=True)  # the rows are stored; the log keeps the name and SHA-256
        version, visible = after_write(request, summary, _TOUCHES.get(kind, (kind,)))
        return _result(ws, summary, version, visible)

    return JSON(await _while_connected(request, ws, run))


@router.get("/imports", response_model=Table, tags=["data"], summary="The import log, newest first")
def get_imports(request: Request, limit: int = Query(100, ge=1, le=10_000),
                ws: Workspace = Depends(workspace_cursor)) -> JSON:
    # viewers see file names, not the server's folders (api/_redact.py); admins the whole path
    rows = ws.imports().slice(0, limit).to_pylist()
    return JSON({"rows": for_viewer(getattr(request.state, "principal", None), rows)})


@router.get("/imports/{import_id}/quarantine", response_model=Table, tags=["data"],
            summary="The rows an import rejected, with line and reason",
            responses={404: {"model": ErrorResponse}})
def get_quarantine(request: Request, import_id: str = Path(max_length=200),
                   limit: int = Query(1000, ge=1, le=100_000),
                   offset: int = Query(0, ge=0, le=10_000_000), ws: Workspace = Depends(workspace_cursor)) -> JSON:
    found = ws.con.execute("SELECT count(*) FROM imports WHERE import_id = ?", [import_id]).fetchall()[0][0]
    if not found:
        raise ApiError(404, f"no import '{import_id}' (GET /api/v1/imports lists them).")
    rows = ws.quarantine(import_id).slice(offset, limit).to_pylist()
    return JSON({"rows": for_viewer(getattr(request.state, "principal", None), rows)})


# -- annotations -------------------------------------------------------------------------

@router.get("/annotations", response_model=Table, tags=["annotations"], summary="Changes worth marking, by time")
def get_annotations(start: str | None = FromQuery, end: str | None = ToQuery,
                    ws: Workspace = Depends(workspace_cursor)) -> JSON:
    a, b = parse_instant(start, "from"), parse_instant(end, "to")
    check_period(a, b)
    conds, params = ["true"], []
    if a is not None:
        conds.append("ts >= CAST(? AS TIMESTAMPTZ)")
        params.append(str(a))
    if b is not None:
        conds.append("ts < CAST(? AS TIMESTAMPTZ)")
        params.append(str(b))
    rows = ws.sql("SELECT source, annotation_id, ts, label, kind, description FROM annotations "
                  f"WHERE {' AND '.join(conds)} ORDER BY ts, annotation_id", params)
    return JSON({"rows": rows.to_pylist()})


@router.post("/annotations", response_model=Table, status_code=201, tags=["annotations"],
             dependencies=[Depends(api_admin)], summary="Add (or replace, by id) an annotation")
def post_annotation(body: AnnotationIn, request: Request, ws: Workspace = Depends(workspace_cursor)) -> JSON:
    annotation_id = body.annotation_id or f"api-{secrets.token_hex(6)}"
    source = body.source or "api"
    table = pa.table({"annotation_id": [annotation_id], "ts": [body.ts], "label": [body.label],
                      "kind": [body.kind], "description": [body.description]},
                     schema=pa.schema([(n, pa.string()) for n in
                                       ("annotation_id", "ts", "label", "kind", "description")]))
    with write_turn(ws):
        summary = ws.import_table("annotations", table, source=source, label=f"api:annotations:{annotation_id}")
    if summary.quarantined:
        reason = ws.quarantine(summary.import_id).to_pylist()[0]["reason"]
        raise UserError(f"the annotation was not stored: {reason}")
    version = request.app.state.hub.publish(["annotations"])
    rows = ws.sql("SELECT source, annotation_id, ts, label, kind, description FROM annotations "
                  "WHERE source = ? AND annotation_id = ?", [source, annotation_id]).to_pylist()
    return JSON({"rows": rows, "version": version}, status_code=201)


@router.delete("/annotations/{annotation_id}", response_model=Deleted, tags=["annotations"],
               dependencies=[Depends(api_admin)], summary="Delete an annotation",
               responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}})
def delete_annotation(request: Request, annotation_id: str = Path(max_length=200),
                      source: str | None = Query(None, max_length=200,
                                                 description="Its source, when several sources use the id"),
                      ws: Workspace = Depends(workspace_cursor)) -> JSON:
    with write_turn(ws):
        found = [r[0] for r in ws.con.execute(
            "SELECT source FROM annotations WHERE annotation_id = ? AND (? IS NULL OR source = ?)",
            [annotation_id, source, source]).fetchall()]
        if not found:
            raise ApiError(404, f"no annotation '{annotation_id}'" + (f" in source '{source}'" if source else "")
                           + " (GET /api/v1/annotations lists them).")
        if len(set(found)) > 1:
            raise ApiError(409, f"annotation id '{annotation_id}' exists in several sources ({', '.join(sorted(found))}):"
                           " name one with ?source=.")
        ws.con.execute("DELETE FROM annotations WHERE annotation_id = ? AND source = ?", [annotation_id, found[0]])
    version = request.app.state.hub.publish(["annotations"])
    return JSON({"deleted": annotation_id, "version": version})
