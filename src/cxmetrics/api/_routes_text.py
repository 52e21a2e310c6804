"""/api/v1/text/...: the text layer's reports (docs/text.md). Consistency of resolutions: per
topic and per agent, and the answers that stand apart from their topic's usual answer, as
`cxmetrics text consistency` prints them. Read-only, for viewers; the text facts are kept up to
date by the server's refresh once the text layer is on (`cxmetrics text refresh`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from cxmetrics._workspace import Workspace
from cxmetrics.api._auth import api_viewer
from cxmetrics.api._errors import COMMON_ERRORS, JSON
from cxmetrics.api._params import FromQuery, ToQuery, answer, check_period, parse_instant
from cxmetrics.text._consistency_facts import answers_apart, scores, topic_source
from cxmetrics.text._status import status
from cxmetrics.text._store import enabled

router = APIRouter(dependencies=[Depends(api_viewer)], responses=COMMON_ERRORS, tags=["text"])


class ConsistencyScore(BaseModel):
    topic: str | None = Field(None, description="The topic (per-topic rows)")
    agent: str | None = Field(None, description="The agent who wrote the resolving replies (per-agent rows)")
    answers: int = Field(description="Resolving replies compared with their topic's usual answer")
    consistency: float | None = Field(description="Mean similarity to the usual answer, 0-100 (metric consistency)")
    ci_low: float | None
    ci_high: float | None
    apart: int = Field(description="Answers that stand apart")
    apart_share: float | None = Field(description="Their share, percent (metric answers_apart)")
    usual_answer: str | None = Field(None, description="The topic's usual answer (per-topic rows)")


class AnswerApart(BaseModel):
    source: str
    ticket_id: str
    agent: str | None
    topic: str | None
    similarity: float = Field(description="Similarity to the topic's usual answer, 0-100")
    answered_at: datetime
    answer: str | None = Field(description="The resolving reply")
    usual_ticket_id: str | None = Field(description="The ticket the usual answer was given on")
    usual_answer: str | None


class TextModelOut(BaseModel):
    kind: str = Field(description="sentiment or topics")
    model_id: str | None = Field(description="The model in use ('default': the shipped sentiment model; "
                                             "None: no topic model discovered)")
    created_at: str | None
    params: dict[str, Any]


class TextStatusOut(BaseModel):
    on: bool = Field(description="Whether the text layer is on (`cxmetrics text refresh` turns it on)")
    last_refresh: str | None = Field(description="When the text facts were last refreshed (ISO 8601)")
    pending_tickets: int = Field(description="Tickets written since whose text facts are not in yet (the server "
                                             "brings them in when writes pause, at most 10 s behind a stream)")
    models: list[TextModelOut]
    rows: dict[str, int] = Field(description="Rows of each text table")
    version: int


class ConsistencyOut(BaseModel):
    request: dict[str, Any]
    enabled: bool = Field(description="Whether the text layer is on (`cxmetrics text refresh` turns it on)")
    topics_from: str = Field(description="`discovered` (the active topic model) or `help desk` (the tickets' "
                                         "own topic, when no topics were discovered)")
    topics: list[ConsistencyScore] = Field(description="Per topic, least consistent first")
    agents: list[ConsistencyScore] = Field(description="Per agent, least consistent first")
    apart: list[AnswerApart] = Field(description="The answers apart, most apart first, at most `limit`")
    version: int


@router.get("/text/status", response_model=TextStatusOut,
            summary="Whether the text layer is on, its models, and how many tickets' text facts are pending")
async def get_text_status(request: Request) -> JSON:
    def compute(ws: Workspace) -> dict[str, Any]:
        return {**status(ws).as_dict(), "version": request.app.state.hub.version}

    return JSON(await answer(request, "text_status", {}, compute))


@router.get("/text/consistency", response_model=ConsistencyOut,
            summary="Consistency of resolutions: per topic and per agent, and the answers that stand apart")
async def get_consistency(
    request: Request,
    start: str | None = FromQuery,
    end: str | None = ToQuery,
    limit: int = Query(50, ge=0, le=10_000, description="List at most this many answers apart"),
) -> JSON:
    a, b = parse_instant(start, "from"), parse_instant(end, "to")
    check_period(a, b)
    asked = {"from": None if a is None else str(a), "to": None if b is None else str(b), "limit": limit}

    def compute(ws: Workspace) -> dict[str, Any]:
        on = enabled(ws.con)
        found: dict[str, Any] = {"topics": [], "agents": [], "apart": []}
        if on:  # off: nothing computed yet, and a GET does not write
            found = {"topics": scores(ws, "topic", start=a, end=b).to_pylist(),
                     "agents": scores(ws, "agent", start=a, end=b).to_pylist(),
                     "apart": answers_apart(ws, start=a, end=b, limit=limit).to_pylist()}
        return {"request": asked, "enabled": on, "topics_from": topic_source(ws.con).kind, **found,
                "version": request.app.state.hub.version}

    return JSON(await answer(request, "text_consistency", asked, compute))
