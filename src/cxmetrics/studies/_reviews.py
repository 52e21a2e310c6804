"""How a company answers its public reviews (docs/studies.md, "Reviews"): `review_summary`
reads the review metrics of the registry (metrics/definitions/reviews.yaml) for one company
and platform, and `review_sentences` words them as findings with their n.

Shares are fractions (0-1) here; the metrics show them as percentages.

>>> review_sentences({"reviews": 0})
['No reviews to summarise.']
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from cxmetrics._workspace import Workspace

BANDS = ("negative", "neutral", "positive")
_STARS = {"negative": "1-2 star", "neutral": "3 star", "positive": "4-5 star"}


def review_summary(ws: Workspace, *, company: str | None = None, platform: str | None = None,
                   start: date | datetime | str | None = None,
                   end: date | datetime | str | None = None) -> dict[str, Any]:
    """The review-response numbers of the reviews created in [start, end), of one company
    (the `app` dimension) and platform when given:

    - reviews, replied (answered: a reply text or date), response_rate (replied / reviews);
    - by_band: {negative|neutral|positive: (replied, reviews, rate)} (1-2, 3, 4-5 stars);
    - negative_ratio: (value, lo, hi), P(answered | 1-2 stars) / P(answered | 4-5 stars) with
      its Katz 95% interval (None where undefined: no answered 4-5 star review);
    - response_time: {median_s, mean_s, p90_s, n} over replies dated after their review;
    - replies_before_review: replies dated before their (later edited) review: answered, no time;
    - personalised_share: (value, n) of the replies with text; greets_by_name: how many of
      them greet the reviewer by name.
    """
    where: dict[str, object] = {}
    if company is not None:
        where["app"] = company
    if platform is not None:
        where["platform"] = platform

    def rows(names: list[str], by: list[str] | None = None) -> list[dict[str, Any]]:
        return ws.metrics(names, by=by, where=where, start=start, end=end, max_cells=None).table.to_pylist()

    overall = {r["metric"]: r for r in rows([
        "review_response_rate", "review_negative_response_ratio", "review_response_time",
        "review_response_time_mean", "review_response_time_p90", "review_replies_personalised",
        "review_replies_before_review"])}
    # the shares' counts, read back from their percentages (k = value x n / 100, exact counts)
    rate = overall["review_response_rate"]
    reviews = int(rate["n"])
    replied = round((rate["value"] or 0.0) * reviews / 100)
    by_band: dict[str, tuple[int, int, float | None]] = {b: (0, 0, None) for b in BANDS}
    for r in rows(["review_response_rate"], ["rating_band"]):
        n = int(r["n"])
        k = round((r["value"] or 0.0) * n / 100)
        by_band[r["rating_band"]] = (k, n, k / n if n else None)
    ratio = overall["review_negative_response_ratio"]
    times = overall["review_response_time"]
    personal = overall["review_replies_personalised"]
    # the same rows as the metrics' (filters case-blind, [start, end) in the workspace's zone)
    greets = ws.sql(
        "SELECT count(*) FILTER (WHERE t.greets_by_name) AS g "
        "FROM reviews r JOIN review_text t USING (source, review_id) "
        "WHERE (? IS NULL OR lower(r.company) = lower(?)) AND (? IS NULL OR lower(r.platform) = lower(?)) "
        "AND (? IS NULL OR r.created_at >= CAST(? AS TIMESTAMPTZ)) "
        "AND (? IS NULL OR r.created_at < CAST(? AS TIMESTAMPTZ))",
        [company, company, platform, platform, _text(start), _text(start), _text(end), _text(end)],
    ).to_pylist()[0]["g"]
    return {
        "reviews": reviews,
        "replied": replied,
        "response_rate": replied / reviews if reviews else None,
        "by_band": by_band,
        "negative_ratio": (ratio["value"], ratio["ci_low"], ratio["ci_high"]),
        "response_time": {
            "median_s": times["value"],
            "mean_s": overall["review_response_time_mean"]["value"],
            "p90_s": overall["review_response_time_p90"]["value"],
            "n": int(times["n"]),
        },
        "replies_before_review": int(overall["review_replies_before_review"]["value"] or 0),
        "personalised_share": (None if personal["value"] is None else personal["value"] / 100, int(personal["n"])),
        "greets_by_name": int(greets or 0),
    }


def _text(value: date | datetime | str | None) -> str | None:
    return None if value is None else str(value)


def _pct(x: float | None) -> str:
    """A share as a percentage, with two significant digits below 1% ('0.069%')."""
    if x is None:
        return "n/a"
    p = 100 * x
    return f"{p:#.2g}%" if 0 < p < 1 else f"{p:.1f}%"


def _duration(seconds: float) -> str:
    for size, unit in ((86400, "days"), (3600, "h"), (60, "min")):
        if seconds >= 1.5 * size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def review_sentences(s: dict[str, Any]) -> list[str]:
    """The summary as sentences a person reads, each with its number and its n."""
    if not s.get("reviews"):
        return ["No reviews to summarise."]
    out = [f"{s['replied']:,} of {s['reviews']:,} reviews were answered ({_pct(s['response_rate'])})."]
    bands = s["by_band"]
    out.append("By rating: " + "; ".join(
        f"{_STARS[b]} {_pct(bands[b][2])} ({bands[b][0]:,} of {bands[b][1]:,})" for b in BANDS if bands[b][1]) + ".")
    (a, n1, p1), (_, n2, p2) = bands["negative"], bands["positive"]
    value, lo, hi = s["negative_ratio"]
    if value is not None:
        interval = f"; 95% interval {lo:.1f}-{hi:.1f}x" if lo is not None else ""
        out.append(f"1-2 star reviews were answered {value:.1f}x as often as 4-5 star ones ({_pct(p1)} vs "
                   f"{_pct(p2)}; n = {n1:,} / {n2:,}{interval}).")
    elif n1 and n2:
        out.append(f"No 4-5 star review was answered (0 of {n2:,}), against {a:,} of {n1:,} 1-2 star ones: "
                   "no ratio can be given.")
    t = s["response_time"]
    if t["n"]:
        out.append(f"Replies came a median {_duration(t['median_s'])} after the review (mean "
                   f"{_duration(t['mean_s'])}, p90 {_duration(t['p90_s'])}; n = {t['n']:,} replies).")
    elif s["replied"]:
        out.append(f"No reply has a response time (n = 0 of {s['replied']:,} replies).")
    before = s["replies_before_review"]
    if before:
        what = ("reply is dated before the review it answers" if before == 1
                else "replies are dated before the reviews they answer")
        out.append(f"{before:,} {what} (edited after the reply): answered, but with no response time.")
    share, m = s["personalised_share"]
    if m:
        out.append(f"{_pct(share)} of the {m:,} replies were personalised: they greet the reviewer by name "
                   f"({s['greets_by_name']:,}) or refer to the review's specifics.")
    return out
