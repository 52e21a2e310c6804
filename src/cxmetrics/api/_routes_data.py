"""Writing data: event ingest, file uploads, annotations; and the import log.

Every write goes through the library's import (same checks, merge, quarantine and
reconciled summary as the CLI), then refreshes the facts once and publishes a change on
the hub, so reads need no refresh and open dashboards update.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path as FilePath
from typing import Any, Literal

import pyarrow as pa
from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from cxmetrics._workspace import Workspace
from cxmetrics.api._auth import api_admin, api_viewer, workspace_cursor
from cxmetrics.api._errors import COMMON_ERRORS, JSON, ApiError, ErrorResponse
from cxmetrics.api._models import AnnotationIn, Deleted, ImportResult, Table
from cxmetrics.api._params import FromQuery, ToQuery, check_period, parse_instant
from cxmetrics.errors import UserError
from cxmetrics.ingest import KINDS, ImportSummary, Mapping

router = APIRouter(dependencies=[Depends(api_viewer)], responses=COMMON_ERRORS)

MAX_EVENTS = 100_000
MAX_BODY = 64 * 1024 * 1024
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
    state = request.app.state
    if not (summary.inserted or summary.updated):
        return state.hub.version, True  # nothing changed
    ticket = state.refresher.wrote(tables)
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
        for name in event:
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
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise ApiError(413, f"the body is over {MAX_BODY // 2**20} MiB: send smaller batches.")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, f"the body is over {MAX_BODY // 2**20} MiB: send smaller batches.")
    label = f"api:events:{batch or secrets.token_hex(6)}"

    def run() -> dict[str, Any]:  # parsing too: a large body must not hold up the event loop
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise UserError(f"the body is not JSON: {exc}.") from None
        table = events_table(body)
        summary = ws.import_table("events", table, source=source, label=label)
        version, visible = after_write(request, summary, ["events"], wait)
        return _result(ws, summary, version, visible)

    return JSON(await run_in_threadpool(run))


# -- uploads -----------------------------------------------------------------------------

def _safe_name(name: str | None) -> str:
    base = FilePath(name or "").name
    base = re.sub(r"[^A-Za-z0-9_.\-]+", "_", base).strip("._")[:120]
    return base or "upload"


@router.post("/imports/{kind}", response_model=ImportResult, tags=["data"], dependencies=[Depends(api_admin)],
             summary="Upload a file (CSV, JSON Lines, Parquet) and import it as KIND")
def post_import(
    request: Request,
    kind: ImportKindName = Path(description="What the file holds: tickets (flat), events, surveys, ..."),
    file: UploadFile = File(description="The file; its extension gives its format unless file_format says"),
    mapping: UploadFile | None = File(None, description="A TOML mapping (column renames, time zone, value maps)"),
    source: str | None = Form(None, max_length=200, description="Source of rows that carry none"),
    file_format: Literal["csv", "jsonl", "parquet"] | None = Form(None),
    ws: Workspace = Depends(workspace_cursor),
) -> JSON:
    # a stable path per file name: importing a corrected file of the same name again
    # replaces what the quarantine held for it, as with the CLI
    folder = ws.path / "uploads" / kind
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / _safe_name(file.filename)
    with target.open("wb") as out:
        while chunk := file.file.read(1 << 20):
            out.write(chunk)
    m = None
    if mapping is not None:
        text = mapping.file.read()
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError:
            raise UserError("the mapping file is not UTF-8 text (a TOML mapping).") from None
        map_path = folder / (target.name + ".mapping.toml")
        map_path.write_text(decoded, encoding="utf-8")
        m = Mapping.load(map_path)
    summary = ws.import_file(kind, target, mapping=m, source=source or None, file_format=file_format)
    version, visible = after_write(request, summary, _TOUCHES.get(kind, (kind,)))
    return JSON(_result(ws, summary, version, visible))


@router.get("/imports", response_model=Table, tags=["data"], summary="The import log, newest first")
def get_imports(limit: int = Query(100, ge=1, le=10_000), ws: Workspace = Depends(workspace_cursor)) -> JSON:
    return JSON({"rows": ws.imports().slice(0, limit).to_pylist()})


@router.get("/imports/{import_id}/quarantine", response_model=Table, tags=["data"],
            summary="The rows an import rejected, with line and reason",
            responses={404: {"model": ErrorResponse}})
def get_quarantine(import_id: str = Path(max_length=200), limit: int = Query(1000, ge=1, le=100_000),
                   offset: int = Query(0, ge=0, le=10_000_000), ws: Workspace = Depends(workspace_cursor)) -> JSON:
    found = ws.con.execute("SELECT count(*) FROM imports WHERE import_id = ?", [import_id]).fetchall()[0][0]
    if not found:
        raise ApiError(404, f"no import '{import_id}' (GET /api/v1/imports lists them).")
    return JSON({"rows": ws.quarantine(import_id).slice(offset, limit).to_pylist()})


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
    with ws._write_lock:
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
