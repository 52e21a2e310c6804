"""Health, sign-in, keys, the metric catalogue, dimensions and benchmarks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.params import Path

import cxmetrics
from cxmetrics._workspace import Workspace, translate_errors
from cxmetrics.api._auth import api_admin, api_viewer, login, logout, workspace_cursor
from cxmetrics.api._errors import COMMON_ERRORS, JSON, ApiError, ErrorResponse
from cxmetrics.api._keys import Principal, create_key, list_keys, revoke_key
from cxmetrics.api._models import (
    CatalogueEntry,
    Dimension,
    DimensionValues,
    Health,
    KeyCreated,
    KeyIn,
    LoginIn,
    Table,
    Whoami,
)
from cxmetrics.api._params import answer
from cxmetrics.metrics._compile import CUSTOMER_ONLY, REVIEW_ONLY, SURVEY_ONLY, TIME_DIMENSIONS

try:  # SLA-only dimensions (policy, sla_metric) exist when the SLA metrics do
    from cxmetrics.metrics._compile import SLA_ONLY
except ImportError:  # pragma: no cover
    SLA_ONLY = ()
from cxmetrics.metrics._registry import registry
from cxmetrics.metrics._sources import DIMENSIONS, LIST_DIMENSIONS, SOURCES

public = APIRouter(tags=["access"])
router = APIRouter(dependencies=[Depends(api_viewer)], responses=COMMON_ERRORS)

_VALUES_LIMIT = 500


@public.get("/health", response_model=Health, tags=["meta"], summary="Is the server up (no key needed)")
def health(request: Request) -> JSON:
    return JSON({"status": "ok", "schema_version": request.app.state.schema_version,
                 "version": request.app.state.hub.version,
                 "cxmetrics": cxmetrics.__version__})


@public.post("/session", response_model=Whoami, summary="Sign in with a key: sets the session cookie",
             responses={400: {"model": ErrorResponse, "description": "The body is not JSON (or not UTF-8)"},
                        401: {"model": ErrorResponse, "description": "The key is not valid"},
                        403: {"model": ErrorResponse, "description": "Posted from another site's page"},
                        422: {"model": ErrorResponse, "description": "No key in the body"}})
def post_session(body: LoginIn, request: Request, response: Response,
                 ws: Workspace = Depends(workspace_cursor)) -> Whoami:
    p = login(request, response, body.key)
    return Whoami(key_id=p.key_id, name=p.name, role=p.role)


@public.delete("/session", status_code=204, summary="Sign out: ends the session on the server and clears its cookie")
def delete_session(request: Request) -> Response:
    out = Response(status_code=204)
    logout(out, request)
    return out


@router.get("/session", response_model=Whoami, tags=["access"], summary="Who the key or session is")
def get_session(principal: Principal = Depends(api_viewer)) -> Whoami:
    return Whoami(key_id=principal.key_id, name=principal.name, role=principal.role)


@router.get("/keys", response_model=Table, tags=["access"], summary="Every API key (never the key itself)",
            dependencies=[Depends(api_admin)])
def get_keys(ws: Workspace = Depends(workspace_cursor)) -> JSON:
    return JSON({"rows": list_keys(ws).to_pylist()})


@router.post("/keys", response_model=KeyCreated, status_code=201, tags=["access"],
             summary="Create a key; the answer is the only time the key is shown",
             dependencies=[Depends(api_admin)])
def post_key(body: KeyIn, ws: Workspace = Depends(workspace_cursor)) -> KeyCreated:
    key_id, token = create_key(ws, body.name, body.role)
    return KeyCreated(key_id=key_id, name=body.name.strip(), role=body.role, token=token)


@router.delete("/keys/{key_id}", response_model=Table, tags=["access"], summary="Revoke a key (its sessions end)",
               dependencies=[Depends(api_admin)], responses={404: {"model": ErrorResponse}})
def delete_key(key_id: str = Path(max_length=100), ws: Workspace = Depends(workspace_cursor)) -> JSON:
    known = {r["key_id"] for r in list_keys(ws).to_pylist()}
    if key_id not in known:
        raise ApiError(404, f"no key with id '{key_id}' (GET /api/v1/keys lists them).")
    revoke_key(ws, key_id)
    return JSON({"rows": [r for r in list_keys(ws).to_pylist() if r["key_id"] == key_id]})


def _entry(spec: Any) -> dict[str, Any]:
    d = spec.model_dump(mode="json")
    d["names"] = [spec.id] + ([f"{spec.id}_{s}" for s in ("median", "mean", "p90")] if spec.kind == "duration" else [])
    return d


@router.get("/catalogue", response_model=list[CatalogueEntry], tags=["metrics"],
            summary="Every declared metric: what each number means")
def get_catalogue() -> JSON:
    return JSON([_entry(s) for s in registry()])


@router.get("/catalogue/{metric_id}", response_model=CatalogueEntry, tags=["metrics"],
            summary="One metric's declaration (a statistic suffix such as frt_p90 names its base)",
            responses={404: {"model": ErrorResponse}})
def get_catalogue_entry(metric_id: str = Path(max_length=200)) -> JSON:
    reg = registry()
    try:
        ref = reg.resolve(metric_id)
    except cxmetrics.UnknownNameError as exc:
        raise ApiError(404, str(exc), code="unknown_name", details={"name": metric_id}) from None
    d = _entry(ref.spec)
    d["requested"] = {"name": ref.name, "stat": ref.stat}
    return JSON(d)


@router.get("/dimensions", response_model=list[Dimension], tags=["metrics"],
            summary="The allow-list of dimensions for `by` and `where`")
def get_dimensions() -> JSON:
    rows = [{"name": d, "group_by": d not in LIST_DIMENSIONS, "filter": True, "applies_to": _applies_to(d)}
            for d in DIMENSIONS]  # (tags: a ticket has several, so they filter but do not group)
    rows += [{"name": d, "group_by": True, "filter": False, "applies_to": "time"} for d in TIME_DIMENSIONS]
    return JSON(rows)


def _applies_to(name: str) -> str:
    if name in CUSTOMER_ONLY:
        return "customers"
    if name in SLA_ONLY:
        return "sla_targets"
    if name in SURVEY_ONLY:
        return "surveys"
    if name in REVIEW_ONLY:
        return "reviews"
    return "tickets"


@router.get("/dimensions/{name}/values", response_model=DimensionValues, tags=["metrics"],
            summary="The values a dimension takes (for filter choices), most frequent first",
            responses={404: {"model": ErrorResponse}})
async def get_dimension_values(request: Request, name: str = Path(max_length=100)) -> JSON:
    if name not in DIMENSIONS:
        raise ApiError(404, f"no dimension '{name}' (GET /api/v1/dimensions lists them).", code="unknown_name")
    col = DIMENSIONS[name]
    applies = _applies_to(name)
    # the rows that carry the dimension: a survey kind is a survey send's (every kind is sent)
    source = {"tickets": None, "surveys": "survey_sends"}.get(applies, applies)
    rows_sql = "ticket_facts" if source is None else f"({SOURCES[source].sql}) src"

    def compute(ws: Workspace) -> dict[str, Any]:
        with translate_errors():  # an engine failure is a 503, not a bug
            # a list (tags) offers its items: the rows holding each
            item = f"unnest(list_distinct({col}))" if name in LIST_DIMENSIONS else col
            rows = ws.con.execute(
                f"SELECT {item} FROM {rows_sql} GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT {_VALUES_LIMIT + 1}"
            ).fetchall()
        values = [None if r[0] is None else str(r[0]) for r in rows]
        return {"name": name, "values": values[:_VALUES_LIMIT], "truncated": len(values) > _VALUES_LIMIT}

    return JSON(await answer(request, "dimension_values", name, compute))


@router.get("/benchmarks", response_model=Table, tags=["metrics"],
            summary="Industry reference values with their sources")
def get_benchmarks(metric: str | None = Query(None, description="A metric id with references (csat, nps, fcr, frt...)"),
                   segment: str | None = Query(None, description="An industry, a channel, or all")) -> JSON:
    from cxmetrics.benchmarks import references

    return JSON({"rows": [r.model_dump(mode="json") for r in references(metric, segment)]})
