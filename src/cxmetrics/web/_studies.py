"""Studies: a benchmark study of the market, live (docs/dashboard.md, docs/studies.md).

The page shows what the study report shows (`cxmetrics.studies._report.content`, rendered by the
same template): the findings, the leaderboard by SPI with intervals (the organisation's own row
among them when it has tickets), the best company per channel, response times by channel,
region and company size, and the review responses. A picker chooses the study; without one the
page says what to import. Like every page it is recomputed on each data change (cached per data
version), so a probe imported while it is open shows at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cxmetrics._workspace import Workspace
from cxmetrics.errors import UserError

IMPORT_COMMANDS = ("cxmetrics import companies companies.csv", "cxmetrics import probes probes.csv")
REVIEWS_COMMAND = "cxmetrics import reviews reviews.csv --mapping examples/mappings/google_play_reviews.toml"


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = [v for v in params.get(name, ()) if v.strip()]
    return values[-1].strip() if values else None


def _studies(ws: Workspace) -> list[str]:
    """The studies, the most recently sent first (the page's default is the newest)."""
    rows = ws.sql("SELECT study, max(sent_at) AS last FROM probes WHERE study IS NOT NULL GROUP BY study "
                  "ORDER BY last DESC NULLS LAST, study").to_pylist()
    return [r["study"] for r in rows]


def studies_page(ws: Workspace, params: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The Studies page for the study asked (`?study=`), else the newest."""
    from cxmetrics.studies._findings import review_companies
    from cxmetrics.studies._report import _review_row, body, content
    from cxmetrics.studies._reviews import review_summary

    names = _studies(ws)
    asked = _one(params, "study")
    base: dict[str, Any] = {"studies": names, "study": None, "import_commands": IMPORT_COMMANDS,
                            "reviews_command": REVIEWS_COMMAND, "body": None, "reviews": []}
    if not names:
        if asked:
            raise UserError(f"study '{asked}' has no probes: the workspace has no study yet; import one "
                            f"with `{IMPORT_COMMANDS[0]}` and `{IMPORT_COMMANDS[1]}`.")
        # no study: the reviews alone, if any
        rows = [_review_row(c, s) for c in review_companies(ws) if (s := review_summary(ws, company=c))["reviews"]]
        return {**base, "state": "no_study", "reviews": rows}
    study = asked or names[0]
    data = content(ws, study)  # an unknown study: a UserError naming the studies there are
    return {**base, "state": "ok", "study": study, "body": body(data), "summary": {
        "companies": data["companies"], "channels": data["channels"], "probes": data["probes"],
        "first_sent": data["first_sent"], "last_sent": data["last_sent"], "own": data["own"]}}


__all__ = ["studies_page"]
