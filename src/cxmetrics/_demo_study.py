"""The study part of `cxmetrics demo` (docs/studies.md): the benchmark study of the demo's
market and the organisation's own app reviews, imported like every demo table (canonical rows,
source demo, through the same checks), then summarised in a few lines of the demo's report.
"""

from __future__ import annotations

from cxmetrics._workspace import Workspace
from cxmetrics.demo import DemoConfig
from cxmetrics.demo._study import STUDY

SOURCE = "demo"


def import_study(ws: Workspace, config: DemoConfig) -> int:
    """Generate and import the study's companies and probes and the app reviews; returns the
    rows quarantined (none, unless the generator and the import rules disagree).

    Each table goes through its import kind, as a user's file does, not as a canonical table:
    the kinds' checks then hold for the demo too, and the reviews kind writes the reviews' text
    facts (sentiment, the replies' personalisation) that the review metrics read."""
    from cxmetrics.demo._study import study_tables

    quarantined = 0
    for name, table in study_tables(config).items():
        quarantined += ws.import_table(name, table, source=SOURCE, label=f"demo:{name}").quarantined
    return quarantined


def study_lines(ws: Workspace) -> list[str]:
    """The demo report's lines about the study and the reviews, counted from the workspace."""
    probes = ws.sql("""
        SELECT count(DISTINCT company) AS companies, any_value(industry) AS industry, count(*) AS probes,
               strftime(min(sent_at), '%Y-%m-%d') AS first, strftime(max(sent_at), '%Y-%m-%d') AS last,
               count(*) FILTER (WHERE first_response_at IS NULL) AS ignored,
               count(*) FILTER (WHERE auto_reply) AS auto, count(*) FILTER (WHERE follow_up_at IS NOT NULL) AS followed,
               count(*) FILTER (WHERE rubric_relevant IS NOT NULL) AS rubric
        FROM probes WHERE source = ? AND study = ?""", [SOURCE, STUDY]).to_pylist()[0]
    channels = ws.sql("SELECT channel, count(*) AS n FROM probes WHERE source = ? AND study = ? GROUP BY channel "
                      "ORDER BY n DESC", [SOURCE, STUDY]).to_pylist()
    reviews = ws.sql("""
        SELECT count(*) AS n, count(replied_at) AS replied,
               count(*) FILTER (WHERE platform = 'google_play') AS google_play,
               count(*) FILTER (WHERE platform = 'app_store') AS app_store,
               avg((replied_at IS NOT NULL)::INT) FILTER (WHERE rating <= 2) AS negative,
               avg((replied_at IS NOT NULL)::INT) FILTER (WHERE rating >= 4) AS positive,
               median(epoch(replied_at) - epoch(created_at)) FILTER (WHERE replied_at >= created_at) AS median_s,
               count(*) FILTER (WHERE replied_at < created_at) AS before
        FROM reviews WHERE source = ?""", [SOURCE]).to_pylist()[0]
    if not probes["probes"] or not reviews["n"]:
        return []
    n = probes["probes"]
    by_channel = ", ".join(f"{c['channel']} {c['n']}" for c in channels)

    def share(k: int, of: int) -> str:
        return f"{100 * k / of:.0f}%"

    return [
        f"Benchmark study {STUDY} (docs/studies.md): {probes['companies']} companies in {probes['industry']}, "
        f"{n:,} probes sent {probes['first']} .. {probes['last']} "
        f"({by_channel}); ignored {share(probes['ignored'], n)}, "
        f"auto-reply only {share(probes['auto'], n)}, followed up {share(probes['followed'], n)}, "
        f"scored on the rubric {share(probes['rubric'], n)}",
        f"Own app reviews: {reviews['n']:,} (google_play {reviews['google_play']:,}, app_store "
        f"{reviews['app_store']:,}); answered {share(reviews['replied'], reviews['n'])} (1-2 stars "
        f"{100 * reviews['negative']:.0f}%, 4-5 stars {100 * reviews['positive']:.0f}%), median reply "
        f"{reviews['median_s'] / 3600:.1f} h; {reviews['before']} replies dated before their review (reviews "
        "edited after the reply: they have no response time)",
    ]
