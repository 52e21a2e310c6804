"""Issue 15 item 4: a study's findings are sentences with their number and their n, and say
"faster" / "ahead" / "more likely" only when the 95% intervals do not overlap.

The study is made by hand (the rows `probe_scores`, `spi` and `review_summary` give), and every
number below is worked out by hand in the comments, not read back from the code.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from cxmetrics.studies._findings import FindingKind, compose, duration, median_interval

H = 3600.0
# answered probes on email, hours to the first response; region and size by hand:
NA = [1, 1, 2, 2, 2, 3, 3, 3, 4, 4]          # median (2 + 3) / 2 = 2.5 h
EMEA = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]  # median (14 + 15) / 2 = 14.5 h


def _probe(**kw: Any) -> dict[str, Any]:
    row = {"company": "A", "channel": "email", "region": None, "company_size": None, "available": True,
           "answered": True, "auto_reply": False, "followed_up": False, "response_s": None}
    row.update(kw)
    return row


def _scores() -> list[dict[str, Any]]:
    rows = []
    for region, hours in (("North America", NA), ("EMEA", EMEA)):
        for i, h in enumerate(hours):
            # sizes alternate: small = NA[0,2,4,6,8] + EMEA[0,2,...], large the others
            rows.append(_probe(region=region, company_size="small" if i % 2 == 0 else "large", response_s=h * H,
                               auto_reply=region == "EMEA" and i < 3, followed_up=region == "North America" and i < 4))
    rows += [_probe(answered=False) for _ in range(5)]                          # ignored
    rows += [_probe(channel="phone", available=False, answered=False) for _ in range(4)]  # not offered
    return rows  # 29 probes: 25 on offered channels, 20 answered, 3 auto-replies, 4 followed up


BOARD = [
    {"company": "B", "spi": 70.0, "spi_lo": 60.0, "spi_hi": 78.0, "n": 8},
    {"company": "A", "spi": 80.0, "spi_lo": 72.0, "spi_hi": 88.0, "n": 8},
    {"company": "C", "spi": 40.0, "spi_lo": 30.0, "spi_hi": 50.0, "n": 8},
    {"company": "us", "spi": 60.0, "spi_lo": 55.0, "spi_hi": 65.0, "n": 100},
]
PER_CHANNEL = [
    {"company": "A", "channel": "email", "spi": 85.0, "spi_lo": 80.0, "spi_hi": 90.0, "n": 4},
    {"company": "B", "channel": "email", "spi": 60.0, "spi_lo": 50.0, "spi_hi": 70.0, "n": 4},
    {"company": "B", "channel": "chat", "spi": 75.0, "spi_lo": 60.0, "spi_hi": 85.0, "n": 4},
    {"company": "A", "channel": "chat", "spi": 70.0, "spi_lo": 55.0, "spi_hi": 80.0, "n": 4},
    {"company": "us", "channel": "chat", "spi": 95.0, "spi_lo": 90.0, "spi_hi": 99.0, "n": 50},  # own: not "best"
]
REVIEWS = {"reviews": 100, "replied": 40, "response_rate": 0.4,
           "by_band": {"negative": (30, 50, 0.6), "neutral": (2, 10, 0.2), "positive": (8, 40, 0.2)},
           "negative_ratio": (3.0, 1.6, 5.6),
           "response_time": {"median_s": 7200.0, "mean_s": 36000.0, "p90_s": 172800.0, "n": 38},
           "replies_before_review": 2, "personalised_share": (0.5, 40)}


def wilson_pct(k: int, n: int) -> str:
    """The Wilson score interval written out (z = 1.96), as whole percentages."""
    z, p = 1.959963984540054, k / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo, hi = (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)
    return f"{100 * (0 if k == 0 else lo):.0f}%–{100 * (1 if k == n else hi):.0f}%"


@pytest.fixture(scope="module")
def texts() -> dict[str, list[str]]:
    found = compose("s1", _scores(), BOARD, PER_CHANNEL, {"us"}, [("Acme app", REVIEWS)])
    out: dict[str, list[str]] = {}
    for f in found:
        out.setdefault(str(f.kind), []).append(f.text)
    return out


def test_leaderboard_top_and_spread(texts: dict[str, list[str]]) -> None:
    # A's interval 72-88 overlaps B's 60-78: not "ahead"
    assert texts["leaderboard"][0] == ("A leads the s1 study with an SPI of 80 (95% interval 72–88; n = 8 probes); "
                                       "B at 70 (95% interval 60–78; n = 8 probes) is alike within the intervals.")
    # the own organisation is not a company of the study: 3 companies, median of 40, 70, 80 = 70, 24 probes
    assert texts["leaderboard"][1] == ("SPI ranges from 40 (C) to 80 (A) across 3 companies; the median company "
                                       "scores 70 (n = 24 probes).")


def test_own_organisation_in_the_leaderboard(texts: dict[str, list[str]]) -> None:
    # 60: A and B score more (3rd of 4); only A's interval (72-88) lies above 55-65, only C's (30-50) below
    assert texts["own"] == ["Your organisation (us) scores 60 (95% interval 55–65; n = 100 tickets), 3rd of 4: "
                            "1 company is clearly above it and 1 clearly below; the rest are alike within the "
                            "intervals."]


def test_best_per_channel_says_ahead_only_when_intervals_part(texts: dict[str, list[str]]) -> None:
    assert texts["best_channel"] == [
        # chat: us (95) is the organisation, not a competitor; B 60-85 and A 55-80 overlap
        "Best on chat: B with an SPI of 75 (95% interval 60–85; n = 4 probes); A at 70 (95% interval 55–80; n = 4 "
        "probes) is alike within the intervals.",
        # email: A's 80-90 lies above B's 50-70
        "Best on email: A with an SPI of 85 (95% interval 80–90; n = 4 probes), clearly ahead of B at 60 "
        "(95% interval 50–70; n = 4 probes).",
    ]


def test_response_time_by_channel_region_and_size(texts: dict[str, list[str]]) -> None:
    # all 20 answers are on email: sorted hours 1,1,2,2,2,3,3,3,4,4,10..19 -> median (4 + 10) / 2 = 7 h;
    # interval levels 0.5 -/+ 1.96 * sqrt(0.25 / 20) = 0.2809 / 0.7191 -> positions 5.34 (3 h) and
    # 13.66 (13 + 0.66 = 13.66 h)
    assert texts["response_time"][0] == ("On email, the companies that answered did so in a median 7.0 h (95% "
                                         "interval 3.0 h–13.7 h; n = 20 answered probes).")
    # NA 2.5 h vs EMEA 14.5 h: levels 0.19 / 0.81 of 10 -> NA up to 3 + 0.29 = 3.29 h, EMEA from 11.71 h:
    # apart, so "faster", 14.5 / 2.5 = 5.8x
    assert texts["response_time"][1] == ("On email, companies in North America answered 5.8x faster than those in "
                                         "EMEA (median 2.5 h vs 14.5 h; n = 10 / 10).")
    # small: 1,2,2,3,4,10,12,14,16,18 -> 7.0 h; large: 1,2,3,3,4,11,13,15,17,19 -> 7.5 h; they overlap
    assert texts["response_time"][2] == ("On email, companies answered alike whatever their company size: the "
                                         "fastest and slowest company sizes' 95% intervals overlap (medians email: "
                                         "of size small 7.0 h vs of size large 7.5 h, n = 10 / 10).")


def test_groups_are_compared_within_each_channel() -> None:
    """A region probed mostly on chat is not "faster" for it: each channel apart. Chat answers
    take 1-1.5 min in both regions; email 1-4 h in North America, 10-19 h in EMEA. Pooled, EMEA's
    30 chats made its median 79.5 s against North America's 2 h (regression)."""
    rows = [_probe(region="North America", response_s=h * H) for h in NA]
    rows += [_probe(region="EMEA", response_s=h * H) for h in EMEA]
    rows += [_probe(region="EMEA", channel="chat", response_s=60.0 + i) for i in range(30)]
    rows += [_probe(region="North America", channel="chat", response_s=s) for s in (70.0, 75.0, 80.0)]
    found = [f.text for f in compose("s", rows, BOARD, PER_CHANNEL) if f.kind == FindingKind.RESPONSE_TIME]
    assert "On email, companies in North America answered 5.8x faster than those in EMEA " \
           "(median 2.5 h vs 14.5 h; n = 10 / 10)." in found
    # chat: EMEA 60..89 s -> median 74.5 s, interval levels 0.5 -/+ 1.96 sqrt(0.25 / 30) -> 69.4-79.6 s;
    # North America 70, 75, 80 -> 75 s, interval 70-80 s: they overlap
    assert any(t.startswith("On chat, companies answered alike whatever their region") for t in found)


def test_shares_ignored_auto_reply_and_follow_up(texts: dict[str, list[str]]) -> None:
    assert texts["shares"] == [
        f"14% of probes went to a channel the company does not offer (4 of 29; 95% interval {wilson_pct(4, 29)}).",
        f"20% of probes on offered channels were ignored (5 of 25; 95% interval {wilson_pct(5, 25)}).",
        f"15% of answers were an auto-reply only (3 of 20; 95% interval {wilson_pct(3, 20)}).",
        f"20% of answered probes got a follow-up (4 of 20; 95% interval {wilson_pct(4, 20)}).",
    ]


def test_review_findings(texts: dict[str, list[str]]) -> None:
    assert texts["reviews"] == [
        f"Acme app answered 40% of its 100 reviews (40 of 100; 95% interval {wilson_pct(40, 100)}).",
        "By rating, Acme app answered 60% of negative (1-2 star) (30 of 50), 20% of neutral (3 star) (2 of 10), "
        "20% of positive (4-5 star) (8 of 40).",
        "Negative reviews were 3.00x as likely to be answered as positive ones (3.00x; 95% interval 1.60–5.60; "
        "n = 50 / 40).",
        "Replies came a median 2.0 h after the review (mean 10.0 h, 90th percentile 2.0 days; n = 38 replies).",
        "2 of the 40 replies are dated before their review (the review was edited after the reply): counted as "
        "answered, with no response time.",
        f"50% of Acme app's replies were personalised (20 of 40; 95% interval {wilson_pct(20, 40)}).",
    ]


def test_a_ratio_whose_interval_holds_one_is_not_more_likely() -> None:
    summary = {**REVIEWS, "negative_ratio": (1.3, 0.9, 1.8)}
    found = [f for f in compose("s1", [], [], [], reviews=[("Acme app", summary)]) if "likely" in f.text]
    assert [f.text for f in found] == ["Negative and positive reviews were about as likely to be answered "
                                       "(1.30x; 95% interval 0.90–1.80; n = 50 / 40)."]
    assert found[0].value == 1.3 and found[0].n == 90 and found[0].kind is FindingKind.REVIEWS


def test_every_finding_has_its_n() -> None:
    for f in compose("s1", _scores(), BOARD, PER_CHANNEL, {"us"}, [("Acme app", REVIEWS)]):
        assert f.n > 0 and ("n = " in f.text or " of " in f.text), f.text


def test_median_interval_by_hand() -> None:
    # two values: levels 0.5 -/+ 0.69 clamp to the minimum and the maximum
    assert median_interval([5.0, 7.0]) == (6.0, 5.0, 7.0)
    assert median_interval([4.0]) == (4.0, None, None)
    assert (duration(59), duration(600), duration(7200), duration(3 * 86400)) == ("59 s", "10.0 min", "2.0 h",
                                                                                 "3.0 days")
