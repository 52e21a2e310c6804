"""/api/v1/studies/... and /api/v1/reviews/summary: benchmark studies and review responses
(docs/studies.md), as the library computes them.

- `GET /studies`: the workspace's studies (companies, channels, probes, first and last sent);
- `GET /studies/{study}/spi`: the Support Performance Index by company (and channel, region...),
  with n and the 95% bootstrap interval, and the declaration (weights, curves) it used;
- `GET /studies/{study}/findings`: the report's sentences, each with its number and n;
- `GET /reviews/summary`: review response rate (overall and by star band), the negative vs
  positive response ratio with its interval, response times, replies dated before their review.

Read-only, for viewers; answers are cached per data version. A study with no probes is a 400
naming the studies there are.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from cxmetrics._workspace import Workspace
from cxmetrics.api._auth import api_viewer
from cxmetrics.api._errors import COMMON_ERRORS, JSON
from cxmetrics.api._params import FromQuery, ToQuery, answer, check_period, parse_instant, split
from cxmetrics.errors import UnknownNameError

router = APIRouter(dependencies=[Depends(api_viewer)], responses=COMMON_ERRORS, tags=["studies"])

#: The dimensions the SPI can be grouped by (the library's `spi(by=...)`).
SPI_BY = ("company", "channel", "industry", "region", "company_size")


class FindingOut(BaseModel):
    text: str = Field(description="The finding as a sentence, with its number and its n")
    value: float | None = Field(description="The number the sentence reports, in its unit")
    n: int = Field(description="Observations behind it (probes; reviews for review findings)")
    kind: str = Field(description="leaderboard, own, best_channel, response_time, shares or reviews")


class FindingsOut(BaseModel):
    request: dict[str, Any]
    findings: list[FindingOut]
    version: int


class SpiOut(BaseModel):
    request: dict[str, Any]
    rows: list[dict[str, Any]] = Field(description="study, the `by` columns, n, answered_share, median_response_s, "
                                                   "the seven components, spi, spi_lo, spi_hi")
    declaration: dict[str, Any] = Field(description="The weights and speed curves the scores were computed with")
    version: int


def _json_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows]


@router.get("/studies", summary="The workspace's benchmark studies")
async def get_studies(request: Request) -> JSON:
    def compute(ws: Workspace) -> dict[str, Any]:
        from cxmetrics.studies._spi import studies

        return {"studies": _json_rows(studies(ws).to_pylist()), "version": request.app.state.hub.version}

    return JSON(await answer(request, "studies", {}, compute))


@router.get("/studies/{study}/spi", response_model=SpiOut,
            summary="The Support Performance Index of a study, with n and 95% intervals")
async def get_spi(
    request: Request, study: str,
    by: list[str] | None = Query(None, description=f"Group by any of {', '.join(SPI_BY)} (comma-separated or "
                                                   "repeated); default company,channel"),
    own: bool = Query(False, description="Add the organisation's own rows (its tickets as probes)"),
    seed: int = Query(0, ge=0, le=2**32 - 1, description="The bootstrap's seed (the same seed, the same intervals)"),
    start: str | None = FromQuery, end: str | None = ToQuery,
) -> JSON:
    groups = split(by) or ["company", "channel"]
    unknown = [g for g in groups if g not in SPI_BY]
    if unknown:
        raise UnknownNameError("SPI dimension (by)", unknown[0], SPI_BY)
    a, b = parse_instant(start, "from"), parse_instant(end, "to")
    check_period(a, b)
    asked = {"study": study, "by": groups, "own": own, "seed": seed, "from": None if a is None else str(a),
             "to": None if b is None else str(b)}

    def compute(ws: Workspace) -> dict[str, Any]:
        from cxmetrics.studies._declaration import declaration
        from cxmetrics.studies._findings import check_study
        from cxmetrics.studies._spi import spi

        check_study(ws, study)
        rows = spi(ws, study, by=tuple(groups), own=own, start=a, end=b, seed=seed).to_pylist()
        return {"request": asked, "rows": _json_rows(rows), "declaration": declaration(ws, study).as_dict(),
                "version": request.app.state.hub.version}

    return JSON(await answer(request, "study_spi", asked, compute))


@router.get("/studies/{study}/findings", response_model=FindingsOut,
            summary="A study's findings: sentences with their number and n, as the report shows them")
async def get_findings(request: Request, study: str) -> JSON:
    asked = {"study": study}

    def compute(ws: Workspace) -> dict[str, Any]:
        from cxmetrics.studies._findings import findings

        return {"request": asked, "findings": [f.as_dict() for f in findings(ws, study)],
                "version": request.app.state.hub.version}

    return JSON(await answer(request, "study_findings", asked, compute))


@router.get("/reviews/summary", summary="Review responses: rate by star band, negative/positive ratio, times")
async def get_review_summary(
    request: Request,
    company: str | None = Query(None, description="Only this company's (app's) reviews"),
    platform: str | None = Query(None, description="Only this platform's reviews, e.g. google_play"),
    start: str | None = FromQuery, end: str | None = ToQuery,
) -> JSON:
    a, b = parse_instant(start, "from"), parse_instant(end, "to")
    check_period(a, b)
    asked = {"company": company, "platform": platform, "from": None if a is None else str(a),
             "to": None if b is None else str(b)}

    def compute(ws: Workspace) -> dict[str, Any]:
        from cxmetrics.studies._reviews import review_summary

        s = review_summary(ws, company=company, platform=platform, start=a, end=b)
        # tuples become named objects: a client reads `negative_ratio.lo`, not index 1
        ratio = s.get("negative_ratio") or (None, None, None)
        share = s.get("personalised_share") or (None, 0)
        summary = {**s, "by_band": {band: {"replied": k, "n": n, "rate": rate}
                                    for band, (k, n, rate) in s["by_band"].items()},
                   "negative_ratio": {"value": ratio[0], "lo": ratio[1], "hi": ratio[2]},
                   "personalised_share": {"value": share[0], "n": share[1]}}
        return {"request": asked, "summary": summary, "version": request.app.state.hub.version}

    return JSON(await answer(request, "review_summary", asked, compute))


__all__ = ["router"]
