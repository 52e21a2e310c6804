"""A study's findings: sentences a person would send around, each with its number and its n
(docs/studies.md, "The report and the Studies page").

The numbers come from the library (`probe_scores`, `spi`, `review_summary`); this module only
reads them and words them. A comparison says "faster", "ahead" or "more likely" only when the
two 95% intervals do not overlap (the project's statistics: Wilson for shares, order-statistic
intervals for medians, the SPI's bootstrap); otherwise it says the two are alike.

>>> duration(9720.0), duration(25200.0), duration(95.0), duration(30.0), duration(200000.0)
('2.7 h', '7.0 h', '1.6 min', '30 s', '2.3 days')
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cxmetrics._workspace import Workspace
from cxmetrics.errors import UserError
from cxmetrics.metrics._stats import Z95, wilson

#: Review summaries read per company, busiest first (a report is not a table of every app).
MAX_REVIEW_COMPANIES = 5
_BANDS = {"negative": "negative (1-2 star)", "neutral": "neutral (3 star)", "positive": "positive (4-5 star)"}


class FindingKind(StrEnum):
    """What a finding is about (the report and the page group them by it)."""

    LEADERBOARD = "leaderboard"
    OWN = "own"
    BEST_CHANNEL = "best_channel"
    RESPONSE_TIME = "response_time"
    SHARES = "shares"
    REVIEWS = "reviews"


@dataclass(frozen=True)
class Finding:
    """One sentence with the number it reports (`value`, in the sentence's unit) and the
    observations behind it (`n`: probes, or reviews for a review finding)."""

    text: str
    value: float | None
    n: int
    kind: FindingKind

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "value": self.value, "n": self.n, "kind": str(self.kind)}


# -- wording ---------------------------------------------------------------------------------


def duration(seconds: float) -> str:
    """A response time as people say it: seconds, minutes, hours or days."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _score(row: Mapping[str, Any], unit: str = "probes") -> str:
    """'78 (95% interval 70–85; n = 12 probes)'."""
    interval = "" if row.get("spi_lo") is None else f"95% interval {row['spi_lo']:.0f}–{row['spi_hi']:.0f}; "
    return f"{row['spi']:.0f} ({interval}n = {_many(int(row['n']), unit)})"


def _many(n: int, unit: str) -> str:
    """'1 probe', '2 probes'."""
    return f"{n:,} {unit[:-1] if n == 1 and unit.endswith('s') else unit}"


def _apart(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether a's SPI interval lies wholly above b's."""
    return a.get("spi_lo") is not None and b.get("spi_hi") is not None and a["spi_lo"] > b["spi_hi"]


# -- medians with the project's interval -------------------------------------------------------


def _quantile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile with linear interpolation (DuckDB's quantile_cont)."""
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median_interval(values: Sequence[float]) -> tuple[float, float | None, float | None]:
    """Median and its 95% order-statistic interval (docs/statistics.md): the sorted values at
    levels 0.5 -/+ z*sqrt(0.25/n). Read off all the values, not the metrics' grid of levels,
    whose widest offset (0.3) would make the interval of a handful of probes too narrow."""
    ordered = sorted(values)
    mid = _quantile(ordered, 0.5)
    if len(ordered) < 2:
        return mid, None, None
    delta = Z95 * math.sqrt(0.25 / len(ordered))
    return mid, _quantile(ordered, max(0.0, 0.5 - delta)), _quantile(ordered, min(1.0, 0.5 + delta))


# -- the findings ----------------------------------------------------------------------------


def _leaderboard(study: str, board: list[dict[str, Any]], own: set[str]) -> list[Finding]:
    ranked = [r for r in board if r["company"] not in own and r.get("spi") is not None]
    if not ranked:
        return []
    top = ranked[0]
    text = f"{top['company']} leads the {study} study with an SPI of {_score(top)}"
    if len(ranked) > 1:
        second = ranked[1]
        if _apart(top, second):
            text += f", clearly ahead of {second['company']} at {_score(second)}"
        else:
            text += f"; {second['company']} at {_score(second)} is alike within the intervals"
    out = [Finding(text + ".", float(top["spi"]), int(top["n"]), FindingKind.LEADERBOARD)]
    if len(ranked) > 2:
        values = sorted(float(r["spi"]) for r in ranked)
        low = ranked[-1]
        out.append(Finding(
            f"SPI ranges from {low['spi']:.0f} ({low['company']}) to {top['spi']:.0f} ({top['company']}) across "
            f"{len(ranked)} companies; the median company scores {_quantile(values, 0.5):.0f} "
            f"(n = {sum(int(r['n']) for r in ranked)} probes).",
            _quantile(values, 0.5), sum(int(r["n"]) for r in ranked), FindingKind.LEADERBOARD))
    return out


def _own(board: list[dict[str, Any]], own: set[str]) -> list[Finding]:
    out = []
    others = [r for r in board if r["company"] not in own and r.get("spi") is not None]
    for row in (r for r in board if r["company"] in own and r.get("spi") is not None):
        rank = 1 + sum(1 for r in others if r["spi"] > row["spi"])
        above = sum(1 for r in others if _apart(r, row))
        below = sum(1 for r in others if _apart(row, r))
        out.append(Finding(
            f"Your organisation ({row['company']}) scores {_score(row, 'tickets')}, {_ordinal(rank)} of "
            f"{len(others) + 1}: {above} {'company is' if above == 1 else 'companies are'} clearly above it and "
            f"{below} clearly below; the rest are alike within the intervals.",
            float(row["spi"]), int(row["n"]), FindingKind.OWN))
    return out


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _best_per_channel(per_channel: list[dict[str, Any]], own: set[str]) -> list[Finding]:
    out = []
    for channel in sorted({r["channel"] for r in per_channel}):
        rows = sorted((r for r in per_channel if r["channel"] == channel and r["company"] not in own
                       and r.get("spi") is not None), key=lambda r: -r["spi"])
        if not rows:
            continue
        best = rows[0]
        text = f"Best on {channel}: {best['company']} with an SPI of {_score(best)}"
        if len(rows) > 1:
            second = rows[1]
            text += (f", clearly ahead of {second['company']} at {_score(second)}" if _apart(best, second)
                     else f"; {second['company']} at {_score(second)} is alike within the intervals")
        out.append(Finding(text + ".", float(best["spi"]), int(best["n"]), FindingKind.BEST_CHANNEL))
    return out


def _times(scores: list[dict[str, Any]], by: str) -> dict[str, list[float]]:
    groups: dict[str, list[float]] = {}
    for r in scores:
        if r.get("answered") and r.get("response_s") is not None and r.get(by) is not None:
            groups.setdefault(str(r[by]), []).append(float(r["response_s"]))
    return groups


def _by_channel(scores: list[dict[str, Any]]) -> list[Finding]:
    out = []
    for channel, values in sorted(_times(scores, "channel").items()):
        mid, lo, hi = median_interval(values)
        interval = "" if lo is None else f"95% interval {duration(lo)}–{duration(hi or lo)}; "
        out.append(Finding(f"On {channel}, the companies that answered did so in a median {duration(mid)} "
                           f"({interval}n = {_many(len(values), 'answered probes')}).", mid, len(values),
                           FindingKind.RESPONSE_TIME))
    return out


def _compare_groups(scores: list[dict[str, Any]], by: str, label: str) -> list[Finding]:
    """Per channel, the fastest and the slowest group of `by` (each with 2 answers or more):
    "faster" only when their medians' intervals do not overlap. Channels apart, because response
    times differ by channel far more than by any group: pooled, a group probed more on chat would
    look fast for its channels, not for itself (regression: a 19x gap pooled was called alike).
    The channels where they overlap are said together, as alike."""
    out: list[Finding] = []
    alike: list[tuple[str, str, float | None, int]] = []
    word = by.replace("_", " ")
    for channel in sorted({str(r["channel"]) for r in scores if r.get("channel") is not None}):
        times = _times([r for r in scores if r.get("channel") == channel], by)
        groups = {k: (median_interval(v), len(v)) for k, v in times.items() if len(v) >= 2}
        if len(groups) < 2:
            continue
        fast = min(groups, key=lambda k: groups[k][0][0])
        slow = max(groups, key=lambda k: groups[k][0][0])
        (m_fast, _, hi_fast), n_fast = groups[fast]
        (m_slow, lo_slow, _), n_slow = groups[slow]
        separate = hi_fast is not None and lo_slow is not None and hi_fast < lo_slow
        if separate and m_fast > 0:
            ratio = m_slow / m_fast
            out.append(Finding(f"On {channel}, companies {label.format(fast)} answered {ratio:.1f}x faster than "
                               f"those {label.format(slow)} (median {duration(m_fast)} vs {duration(m_slow)}; "
                               f"n = {n_fast} / {n_slow}).", ratio, n_fast + n_slow, FindingKind.RESPONSE_TIME))
        else:
            alike.append((channel, f"{channel}: {label.format(fast)} {duration(m_fast)} vs {label.format(slow)} "
                                   f"{duration(m_slow)}, n = {n_fast} / {n_slow}",
                          m_slow / m_fast if m_fast else None, n_fast + n_slow))
    if alike:
        channels = ", ".join(a[0] for a in alike)
        out.append(Finding(f"On {channels}, companies answered alike whatever their {word}: the fastest and slowest "
                           f"{word}s' 95% intervals overlap (medians {'; '.join(a[1] for a in alike)}).",
                           alike[0][2] if len(alike) == 1 else None, sum(a[3] for a in alike),
                           FindingKind.RESPONSE_TIME))
    return out


def _share(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k} of {n}; 95% interval {_pct(lo or 0.0)}–{_pct(hi or 0.0)}"


def _shares(scores: list[dict[str, Any]]) -> list[Finding]:
    out = []
    n_all = len(scores)
    unavailable = sum(1 for r in scores if not r.get("available"))
    offered = [r for r in scores if r.get("available")]
    answered = [r for r in offered if r.get("answered")]
    if n_all and unavailable:
        out.append(Finding(f"{_pct(unavailable / n_all)} of probes went to a channel the company does not offer "
                           f"({_share(unavailable, n_all)}).", unavailable / n_all, n_all, FindingKind.SHARES))
    if offered:
        ignored = len(offered) - len(answered)
        out.append(Finding(f"{_pct(ignored / len(offered))} of probes on offered channels were ignored "
                           f"({_share(ignored, len(offered))}).", ignored / len(offered), len(offered),
                           FindingKind.SHARES))
    if answered:
        auto = sum(1 for r in answered if r.get("auto_reply"))
        followed = sum(1 for r in answered if r.get("followed_up"))
        out.append(Finding(f"{_pct(auto / len(answered))} of answers were an auto-reply only "
                           f"({_share(auto, len(answered))}).", auto / len(answered), len(answered),
                           FindingKind.SHARES))
        out.append(Finding(f"{_pct(followed / len(answered))} of answered probes got a follow-up "
                           f"({_share(followed, len(answered))}).", followed / len(answered), len(answered),
                           FindingKind.SHARES))
    return out


def _reviews(company: str, s: Mapping[str, Any]) -> list[Finding]:
    n = int(s["reviews"])
    if not n:
        return []
    out = [Finding(f"{company} answered {_pct(s['response_rate'])} of its {n:,} reviews "
                   f"({_share(int(s['replied']), n)}).", float(s["response_rate"]), n, FindingKind.REVIEWS)]
    bands = [(b, s["by_band"][b]) for b in _BANDS if b in s.get("by_band", {}) and s["by_band"][b][1]]
    if bands:
        parts = [f"{_pct(rate)} of {_BANDS[b]} ({replied} of {m:,})" for b, (replied, m, rate) in bands]
        out.append(Finding(f"By rating, {company} answered " + ", ".join(parts) + ".", None,
                           sum(m for _, (_, m, _) in bands), FindingKind.REVIEWS))
    value, lo, hi = s.get("negative_ratio") or (None, None, None)
    if value is not None:
        neg, pos = s["by_band"].get("negative", (0, 0, 0)), s["by_band"].get("positive", (0, 0, 0))
        numbers = f"{value:.2f}x; 95% interval {lo:.2f}–{hi:.2f}; n = {neg[1]:,} / {pos[1]:,}"
        if lo is not None and lo > 1:
            text = f"Negative reviews were {value:.2f}x as likely to be answered as positive ones ({numbers})."
        elif hi is not None and hi < 1:
            text = f"Negative reviews were less likely to be answered than positive ones ({numbers})."
        else:
            text = f"Negative and positive reviews were about as likely to be answered ({numbers})."
        out.append(Finding(text, float(value), int(neg[1]) + int(pos[1]), FindingKind.REVIEWS))
    rt = s.get("response_time") or {}
    if rt.get("n"):
        out.append(Finding(f"Replies came a median {duration(rt['median_s'])} after the review (mean "
                           f"{duration(rt['mean_s'])}, 90th percentile {duration(rt['p90_s'])}; n = {rt['n']:,} "
                           "replies).", float(rt["median_s"]), int(rt["n"]), FindingKind.REVIEWS))
    before = int(s.get("replies_before_review") or 0)
    if before:
        out.append(Finding(f"{before} of the {int(s['replied']):,} replies {'is' if before == 1 else 'are'} dated "
                           "before their review (the review was edited after the reply): counted as answered, "
                           "with no response time.",
                           float(before), int(s["replied"]), FindingKind.REVIEWS))
    share, m = s.get("personalised_share") or (None, 0)
    if share is not None and m:
        out.append(Finding(f"{_pct(share)} of {company}'s replies were personalised "
                           f"({_share(round(share * m), m)}).", float(share), int(m), FindingKind.REVIEWS))
    return out


def compose(study: str, scores: Sequence[Mapping[str, Any]], board: Sequence[Mapping[str, Any]],
            per_channel: Sequence[Mapping[str, Any]], own: set[str] | frozenset[str] = frozenset(),
            reviews: Sequence[tuple[str, Mapping[str, Any]]] = ()) -> list[Finding]:
    """The findings from the library's tables as rows: `scores` (probe_scores), `board`
    (spi by company, best first, own rows included), `per_channel` (spi by company and channel),
    `own` (the organisation's company names in them) and `reviews` ((company, review_summary))."""
    s = [dict(r) for r in scores]
    b = sorted((dict(r) for r in board), key=lambda r: -(r.get("spi") or 0.0))
    c = [dict(r) for r in per_channel]
    out = [*_leaderboard(study, b, set(own)), *_own(b, set(own)), *_best_per_channel(c, set(own)),
           *_by_channel(s), *_compare_groups(s, "region", "in {}"),
           *_compare_groups(s, "company_size", "of size {}"), *_shares(s)]
    for company, summary in reviews:
        out += _reviews(company, summary)
    return out


# -- reading the workspace -------------------------------------------------------------------


def check_study(ws: Workspace, study: str) -> None:
    """Refuse a study with no probes, naming the nearest one and the import that makes one."""
    names = [r["study"] for r in ws.sql("SELECT DISTINCT study FROM probes WHERE study IS NOT NULL "
                                        "ORDER BY study").to_pylist()]
    if study in names:
        return
    if not names:
        raise UserError(f"study '{study}' has no probes: the workspace has no study yet; import one with "
                        "`cxmetrics import companies FILE` and `cxmetrics import probes FILE` (docs/studies.md).")
    close = difflib.get_close_matches(study, names, n=1)
    hint = f"Did you mean '{close[0]}'? " if close else ""
    raise UserError(f"study '{study}' has no probes. {hint}The workspace's studies: {', '.join(names)}.")


def own_companies(ws: Workspace, study: str, board: Sequence[Mapping[str, Any]]) -> set[str]:
    """The organisation's rows of `spi(own=True)`: those named as the declaration's organisation."""
    from cxmetrics.studies._declaration import declaration

    name = declaration(ws, study).organisation.name
    return {r["company"] for r in board if r["company"] == name}


def has_tickets(ws: Workspace) -> bool:
    return bool(ws.sql("SELECT EXISTS (SELECT 1 FROM ticket_facts WHERE NOT excluded) AS x").to_pylist()[0]["x"])


def review_companies(ws: Workspace) -> list[str]:
    rows = ws.sql("SELECT company, count(*) AS n FROM reviews WHERE company IS NOT NULL GROUP BY company "
                  f"ORDER BY n DESC, company LIMIT {MAX_REVIEW_COMPANIES}").to_pylist()
    return [r["company"] for r in rows]


def gather(ws: Workspace, study: str) -> dict[str, Any]:
    """What the findings, the report and the Studies page are made of, read once."""
    from cxmetrics.studies import _reviews as reviews_mod
    from cxmetrics.studies import _spi as spi_mod

    check_study(ws, study)
    own = has_tickets(ws)
    # (one scoring of the probes and of the organisation's own tickets for both groupings)
    by_company, by_channel = spi_mod.spi_by(ws, study, [("company",), ("company", "channel")], own=own)
    board, per_channel = by_company.to_pylist(), by_channel.to_pylist()
    return {
        "study": study, "scores": spi_mod.probe_scores(ws, study).to_pylist(),
        "board": sorted(board, key=lambda r: -(r.get("spi") or 0.0)), "per_channel": per_channel,
        "own": own_companies(ws, study, board) if own else set(),
        "reviews": [(c, reviews_mod.review_summary(ws, company=c)) for c in review_companies(ws)],
    }


def findings(ws: Workspace, study: str) -> list[Finding]:
    """The study's findings, each a sentence with its number and its n (see the module docstring)."""
    g = gather(ws, study)
    return compose(study, g["scores"], g["board"], g["per_channel"], g["own"], g["reviews"])


__all__ = ["Finding", "FindingKind", "compose", "duration", "findings", "gather", "median_interval"]
