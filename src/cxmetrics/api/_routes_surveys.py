"""/api/v1/surveys/...: survey definitions, links, sends and the sender's state (docs/surveys.md,
"CLI and API"), as the library and the CLI do them.

- `GET /definitions` (viewer): the definitions of surveys.toml, defaults filled in;
- `PUT /definitions/{name}`, `DELETE /definitions/{name}` (admin): one `[[surveys]]` block
  added, replaced or removed, keeping the file's comments (surveys/_edit.py); a definition the
  configuration refuses is a 400 with its message, and the file is left as it was;
- `POST /link` (admin): a survey link for a ticket, to paste into a chat or SMS;
- `POST /send` (admin): send a survey now to tickets or customers (the run's report);
- `GET /sends` (viewer): the latest sends and their state (pending, delivered, failed, cancelled,
  answered), newest first;
- `GET /embed` (admin): the HTML to paste into the help desk's solve e-mail template;
- `GET /status` (viewer): what the server's sender did last, and its outbox.

Every write to the store is published (the refresher refreshes the facts once and tells open
dashboards), so the response rate updates without a reload.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from cxmetrics._workspace import Workspace
from cxmetrics.api._auth import api_admin, api_viewer, workspace_cursor
from cxmetrics.api._errors import COMMON_ERRORS, JSON, ApiError, ErrorResponse, jsonable
from cxmetrics.surveys._config import CONFIG_FILE, SurveysConfigError, load_config
from cxmetrics.surveys._edit import definition_dict, put_survey, remove_survey

router = APIRouter(prefix="/surveys", dependencies=[Depends(api_viewer)], responses=COMMON_ERRORS, tags=["surveys"])

#: the most sends one GET /sends returns, and the most tickets or customers one POST /send names
MAX_SENDS = 10_000
MAX_RECIPIENTS = 10_000
STATES = ("pending", "delivered", "failed", "cancelled", "answered")
HELPDESKS = ("zendesk", "freshdesk", "generic")
_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_Text = str | dict[str, str]
_Id = Annotated[str, Field(min_length=1, max_length=500)]


# -- shapes ------------------------------------------------------------------------------------


class Definition(BaseModel):
    """One survey definition in surveys.toml's keys; durations in seconds."""

    name: str
    kind: str = Field(description="csat, ces, nps or esat")
    scale: str = Field(description="1-5, good/bad, 1-7 or 0-10")
    trigger: str = Field(description="solved, relationship, on_demand or embed")
    delay: float = Field(description="Seconds after the solve (trigger solved)")
    reminder: float | None = Field(description="One reminder this many seconds after the invite; null: none")
    every: float | None = Field(description="Relationship surveys: seconds between a customer's surveys")
    question: dict[str, str] = Field(description="The question by language; empty: the shipped wording")
    comment_prompt: dict[str, str]
    where: dict[str, list[str]] = Field(description="Ticket dimensions -> values (all must match)")
    segment: dict[str, list[str]] = Field(description="Relationship surveys: customer columns -> values")
    include_bot_solved: bool
    source: str | None
    enabled: bool


class Definitions(BaseModel):
    file: str = Field(description="The workspace's surveys.toml")
    surveys: list[Definition]


class DefinitionIn(BaseModel):
    """A definition to write: surveys.toml's keys (a duration as seconds or text such as
    "2h"); an absent or null key takes its default. The configuration checks the values."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=64, description="If given, the same as the path's name")
    kind: str = Field(max_length=20, description="csat, ces, nps or esat", examples=["csat"])
    scale: str | None = Field(None, max_length=20)
    trigger: str | None = Field(None, max_length=20)
    delay: float | str | None = Field(None, description="e.g. \"1h\" or 3600", examples=["1h"])
    reminder: float | str | None = None
    every: float | str | None = None
    question: _Text | None = Field(None, description="A text (English) or texts by language")
    comment_prompt: _Text | None = None
    where: dict[str, list[str]] | None = Field(None, description="e.g. {\"channel\": [\"email\", \"chat\"]}")
    segment: dict[str, list[str]] | None = None
    include_bot_solved: bool | None = None
    source: str | None = Field(None, max_length=200)
    enabled: bool | None = None


class Removed(BaseModel):
    removed: str
    surveys: list[Definition] = Field(description="The definitions left")


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_id: str = Field(min_length=1, max_length=500)
    survey: str | None = Field(None, max_length=64, description="Default: the one enabled ticket survey")
    source: str | None = Field(None, max_length=200, description="The ticket's source, when ids repeat across sources")
    score: int | None = Field(None, ge=0, le=10, description="Open the page with this score selected")


class LinkOut(BaseModel):
    url: str = Field(description="The survey page's address, to paste into a chat or SMS")
    send_id: str
    expires_at: str


class SendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    survey: str = Field(max_length=64)
    tickets: list[_Id] = Field([], max_length=MAX_RECIPIENTS, description="Ticket ids (their requesters get it)")
    customers: list[_Id] = Field([], max_length=MAX_RECIPIENTS, description="Customer ids")
    source: str | None = Field(None, max_length=200)
    force: bool = Field(False, description="Send even to customers surveyed within the throttle")


class RunOut(BaseModel):
    """What a run did (RunReport.to_dict())."""

    now: str
    planned: int
    delivered: int
    reminded: int
    failed: int
    retrying: int
    cancelled: int
    waiting: int
    skipped: dict[str, int] = Field(description="Recipients skipped, by reason")
    send_ids: list[str]
    deliveries: list[dict[str, Any]]


class SendRow(BaseModel):
    source: str
    send_id: str
    survey: str | None
    kind: str | None
    ticket_id: str | None
    customer_id: str | None
    delivery: str | None
    language: str | None
    status: str = Field(description="pending, delivered, failed, cancelled or answered")
    created_at: str | None
    sent_at: str | None
    reminded_at: str | None
    answered_at: str | None
    score: float | None
    attempts: int | None
    last_error: str | None


class Sends(BaseModel):
    sends: list[SendRow]
    truncated: bool = Field(description="More sends match than `limit`")


class EmbedOut(BaseModel):
    survey: str
    helpdesk: str
    html: str = Field(description="Paste into the help desk's solve e-mail template")


class Status(BaseModel):
    scheduler: dict[str, Any] = Field(description="running, runs, failures, last_error, last (the last run's report)")
    deliveries: dict[str, dict[str, int]] = Field(description="E-mails by purpose (invite, reminder) and status")
    next_attempt_at: str | None = Field(description="When the next pending e-mail is due")
    enabled: list[str] = Field(description="The enabled survey definitions")


# -- definitions -------------------------------------------------------------------------------


def _definitions(ws: Workspace) -> list[dict[str, Any]]:
    return [definition_dict(s) for s in load_config(ws.path).surveys]


@router.get("/definitions", response_model=Definitions, summary="The survey definitions of surveys.toml")
def get_definitions(ws: Workspace = Depends(workspace_cursor)) -> JSON:
    return JSON({"file": CONFIG_FILE, "surveys": _definitions(ws)})


@router.put("/definitions/{name}", response_model=Definition, dependencies=[Depends(api_admin)],
            summary="Add or replace one survey definition (checked before surveys.toml is written)")
def put_definition(request: Request, body: DefinitionIn, name: str = Path(max_length=64, pattern=_NAME),
                   ws: Workspace = Depends(workspace_cursor)) -> JSON:
    if body.name is not None and body.name != name:
        raise ApiError(422, f"the body's name '{body.name}' is not the path's '{name}': leave it out, or make "
                            "them the same (rename by DELETE and PUT).")
    survey = put_survey(ws.path, {**body.model_dump(exclude_none=True), "name": name})
    request.app.state.hub.publish(["surveys_config"])  # open dashboards and the sender see it now
    _wake_sender(request)
    return JSON(definition_dict(survey))


@router.delete("/definitions/{name}", response_model=Removed, dependencies=[Depends(api_admin)],
               responses={404: {"model": ErrorResponse}}, summary="Remove one survey definition")
def delete_definition(request: Request, name: str = Path(max_length=64),
                      ws: Workspace = Depends(workspace_cursor)) -> JSON:
    try:
        cfg = remove_survey(ws.path, name)
    except SurveysConfigError as exc:
        if str(exc).startswith(f"no survey '{name}'"):
            raise ApiError(404, str(exc), code="not_found") from None
        raise
    request.app.state.hub.publish(["surveys_config"])
    return JSON({"removed": name, "surveys": [definition_dict(s) for s in cfg.surveys]})


# -- links and sends ---------------------------------------------------------------------------


def _wrote(request: Request, tables: list[str]) -> None:
    """Tell the refresher (facts, then the hub: open dashboards update without a reload)."""
    if tables:
        request.app.state.refresher.wrote(tables)


def _wake_sender(request: Request) -> None:
    scheduler = getattr(request.app.state, "survey_scheduler", None)
    if scheduler is not None:
        scheduler.notify()


@router.post("/link", response_model=LinkOut, dependencies=[Depends(api_admin)],
             summary="A survey link for a ticket, to paste into a chat or SMS (the send is made once)")
def post_link(request: Request, body: LinkIn, ws: Workspace = Depends(workspace_cursor)) -> JSON:
    from cxmetrics.surveys._sends import link

    info = link(ws, body.ticket_id, survey=body.survey, source=body.source, score=body.score)
    _wrote(request, ["survey_sends"])  # a link send is a send at once
    return JSON({"url": info.url, "send_id": info.send_id, "expires_at": info.expires_at.isoformat()})


@router.post("/send", response_model=RunOut, dependencies=[Depends(api_admin)],
             summary="Send a survey now to tickets' requesters or customers (throttled unless force)")
def post_send(request: Request, body: SendIn, ws: Workspace = Depends(workspace_cursor)) -> JSON:
    from cxmetrics.surveys._sends import send_now

    report = send_now(ws, body.survey, tickets=body.tickets, customers=body.customers, source=body.source,
                      force=body.force)
    _wrote(request, report.wrote)
    return JSON(jsonable(report.to_dict()))


@router.get("/sends", response_model=Sends, summary="The latest survey sends and their state, newest first")
def get_sends(
    status: str | None = Query(None, max_length=20, description=f"Only sends in this state: {', '.join(STATES)}"),
    limit: int = Query(100, ge=1, le=MAX_SENDS, description=f"At most this many (up to {MAX_SENDS:,})"),
    ws: Workspace = Depends(workspace_cursor),
) -> JSON:
    if status is not None and status not in STATES:
        raise ApiError(400, f"status '{status}' is not one of {', '.join(STATES)}.")
    rows = latest_sends(ws, status=status, limit=limit + 1)
    return JSON({"sends": rows[:limit], "truncated": len(rows) > limit})


def latest_sends(ws: Workspace, *, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest sends (survey_requests, their invite and their answer), newest first, without
    the customer's address (a viewer sees the ticket and the customer id, not the e-mail)."""
    from cxmetrics.surveys._sends import recent_sends

    keep = set(SendRow.model_fields)
    return [{k: v for k, v in jsonable(r).items() if k in keep}
            for r in recent_sends(ws, status=status, limit=limit)]


@router.get("/embed", response_model=EmbedOut, dependencies=[Depends(api_admin)],
            summary="The rating links to paste into the help desk's solve e-mail (an embed survey)")
def get_embed(
    survey: str = Query(..., max_length=64, description="An enabled survey with trigger = \"embed\""),
    helpdesk: str = Query("zendesk", max_length=20, description=f"{', '.join(HELPDESKS)}: its placeholders"),
    ws: Workspace = Depends(workspace_cursor),
) -> JSON:
    from cxmetrics.surveys._embed import snippet

    return JSON({"survey": survey, "helpdesk": helpdesk, "html": snippet(ws, survey, helpdesk=helpdesk)})


@router.get("/status", response_model=Status, summary="What the survey sender did last, and its outbox")
def get_status(request: Request, ws: Workspace = Depends(workspace_cursor)) -> JSON:
    scheduler = getattr(request.app.state, "survey_scheduler", None)
    last = getattr(scheduler, "last", None)
    sched = {"running": scheduler is not None, "runs": getattr(scheduler, "runs", 0),
             "failures": getattr(scheduler, "failures", 0), "last_error": getattr(scheduler, "last_error", None),
             "last": None if last is None else last.to_dict()}
    counts: dict[str, dict[str, int]] = {}
    for purpose, state, n in ws.con.execute("SELECT purpose, status, count(*) FROM survey_deliveries "
                                            "GROUP BY ALL ORDER BY 1, 2").fetchall():
        counts.setdefault(purpose, {})[state] = int(n)
    nxt = ws.con.execute("SELECT min(next_attempt_at) FROM survey_deliveries WHERE status = 'pending'").fetchall()[0][0]
    try:
        enabled = [s.name for s in load_config(ws.path).surveys if s.enabled]
    except SurveysConfigError:
        enabled = []  # a broken file: GET /definitions says why
    return JSON(jsonable({"scheduler": sched, "deliveries": counts, "next_attempt_at": nxt, "enabled": enabled}))


__all__ = ["latest_sends", "router"]
