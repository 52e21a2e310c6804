"""KPI targets (the workspace's targets.toml, `cxmetrics.targets`): list for viewers,
set and remove for admins. A write moves the hub's version on, so cached metric answers
(which carry targets with `benchmark`) are recomputed and open dashboards refresh."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from cxmetrics._workspace import Workspace
from cxmetrics.api._auth import api_admin, api_viewer, workspace_cursor
from cxmetrics.api._errors import COMMON_ERRORS, ApiError, ErrorResponse
from cxmetrics.targets import TARGETS_FILE, load_targets, remove_target, set_target, target_rows

router = APIRouter(dependencies=[Depends(api_viewer)], responses=COMMON_ERRORS, tags=["targets"])


class TargetRow(BaseModel):
    """One target: a metric's own (dimension null) or one dimension value's."""

    metric: str = Field(description="A metric id (GET /api/v1/catalogue)")
    label: str
    unit: str = Field(description="The target's unit: percent 0-100, seconds, points, count...")
    direction: str = Field(description="higher: met at or above the target; lower: met at or below it")
    dimension: str | None = Field(None, description="The dimension the target is for (null: the metric's own)")
    value: str | None = Field(None, description="The dimension's value (null: the metric's own)")
    target: float = Field(description="In the metric's unit (seconds for durations)")
    written: str | None = Field(None, description="As written in targets.toml when it was text (e.g. '4h')")


class TargetsList(BaseModel):
    file: str = Field(description="The workspace's targets.toml")
    targets: list[TargetRow]


class TargetIn(BaseModel):
    """A target to set: a number in the metric's unit, or a duration such as '4h'."""

    model_config = ConfigDict(extra="forbid")

    target: float | str = Field(description="85 (percent), 1800 or '30m' (a duration), 40 (NPS points)...")
    dimension: str | None = Field(None, max_length=100, description="Only for one value of this dimension")
    value: str | None = Field(None, max_length=500, description="The dimension's value (with dimension)")


class TargetsRemoved(BaseModel):
    removed: int = Field(description="How many targets went")
    targets: list[TargetRow] = Field(description="The targets left")


def _list(ws: Workspace) -> dict[str, Any]:
    return {"file": str(ws.path / TARGETS_FILE), "targets": target_rows(load_targets(ws.path))}


@router.get("/targets", response_model=TargetsList, summary="Every KPI target, in the order of targets.toml")
def get_targets(ws: Workspace = Depends(workspace_cursor)) -> dict[str, Any]:
    return _list(ws)


@router.put("/targets/{metric}", response_model=TargetRow, dependencies=[Depends(api_admin)],
            summary="Set a metric's target (for one dimension value with dimension and value)")
def put_target(request: Request, body: TargetIn, metric: str = Path(max_length=100),
               ws: Workspace = Depends(workspace_cursor)) -> dict[str, Any]:
    if (body.dimension is None) != (body.value is None):
        raise ApiError(422, "give both dimension and value (a target for one value), or neither (the metric's own).")
    by = None if body.dimension is None or body.value is None else (body.dimension, body.value)
    t = set_target(ws.path, metric, body.target, by=by)
    request.app.state.hub.publish(["targets"])
    rows = target_rows(load_targets(ws.path))
    return next(r for r in rows if (r["metric"], r["dimension"], r["value"]) ==
                (t.metric, t.dimension, t.dimension_value))


@router.delete("/targets/{metric}", response_model=TargetsRemoved, dependencies=[Depends(api_admin)],
               responses={404: {"model": ErrorResponse}},
               summary="Remove a metric's targets: all, or one dimension's (and value's)")
def delete_target(request: Request, metric: str = Path(max_length=100),
                  dimension: str | None = Query(None, max_length=100, description="Only this dimension's targets"),
                  value: str | None = Query(None, max_length=500, description="Only this value's (with dimension)"),
                  ws: Workspace = Depends(workspace_cursor)) -> dict[str, Any]:
    if value is not None and dimension is None:
        raise ApiError(422, f"value '{value}' needs its dimension, e.g. ?dimension=channel&value={value}.")
    gone = remove_target(ws.path, metric, dimension=dimension, value=value)
    if not gone:
        scope = "" if dimension is None else f" for {dimension}" + ("" if value is None else f" = {value}")
        raise ApiError(404, f"{metric} has no target{scope} (GET /api/v1/targets lists them).")
    request.app.state.hub.publish(["targets"])
    return {"removed": gone, "targets": _list(ws)["targets"]}
