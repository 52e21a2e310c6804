"""Real data nobody here wrote: 12,000 Google Play reviews of the Uber app with the company's
replies (docs/data.md; issue 15, acceptance). Imported through the `reviews` kind with the
shipped mapping, the review metrics must agree with counts made here with the csv module
over the file, and the 33 replies dated years before their (edited) review must be reported
as such: answered, with no response time, never negative, never dropped."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from realdata._data import data_file, needs

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.studies._reviews import review_summary

DATA = data_file("uber_app_reviews", "reviews.csv")
pytestmark = needs(DATA)
MAPPING = Path(__file__).resolve().parents[2] / "examples" / "mappings" / "google_play_reviews.toml"
# a greeting followed by a name ("Hi Robin,", "HI Kiran", "Hey Loranne!"), not "Hi," or "Hi there"
GREETS = re.compile(r"^\s*(hi|hello|hey|dear)\s+(?!there\b|team\b)[a-z]+\b", re.I)


@pytest.fixture(scope="module")
def counted() -> dict:
    """The numbers, counted in plain Python over the CSV."""
    rows = list(csv.DictReader(DATA.open(encoding="utf-8", newline="")))
    band = {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}
    out: dict = {"reviews": len(rows), "replied": 0, "before": 0, "greets": 0, "with_text": 0,
                 "bands": {b: [0, 0] for b in ("negative", "neutral", "positive")}}
    for r in rows:
        answered = bool(r["replyContent"].strip() or r["repliedAt"].strip())
        b = out["bands"][band[int(r["score"])]]
        b[0] += answered
        b[1] += 1
        out["replied"] += answered
        if r["repliedAt"] and r["repliedAt"] < r["at"]:  # both "YYYY-MM-DD HH:MM:SS": text order is time order
            out["before"] += 1
        if r["replyContent"].strip():
            out["with_text"] += 1
            out["greets"] += bool(GREETS.match(r["replyContent"]))
    return out


@pytest.fixture(scope="module")
def uber(tmp_path_factory):
    with cxmetrics.open(tmp_path_factory.mktemp("uber") / "ws", create=True) as ws:
        first = ws.import_file("reviews", DATA, mapping=MAPPING)
        assert (first.read, first.inserted, first.quarantined) == (12_000, 12_000, 0)
        # no review id in this file: the derived ids are stable, so a re-import changes nothing
        again = ws.import_file("reviews", DATA, mapping=MAPPING)
        assert (again.read, again.unchanged, again.inserted, again.updated) == (12_000, 12_000, 0, 0)
        yield ws


def test_response_rate_overall_and_by_star_band(uber, counted):
    s = review_summary(uber, platform="google_play")
    assert (s["reviews"], s["replied"]) == (counted["reviews"], counted["replied"]) == (12_000, 33)
    assert s["response_rate"] == pytest.approx(33 / 12_000)
    for band, (k, n) in counted["bands"].items():
        assert s["by_band"][band] == (k, n, pytest.approx(k / n)), band


def test_negative_vs_positive_ratio_with_its_katz_interval(uber, counted):
    (a, n1), (c, n2) = counted["bands"]["negative"], counted["bands"]["positive"]
    ratio = (a / n1) / (c / n2)
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    value, lo, hi = review_summary(uber)["negative_ratio"]
    assert value == pytest.approx(ratio)
    assert (lo, hi) == (pytest.approx(ratio * math.exp(-1.959964 * se), rel=1e-5),
                        pytest.approx(ratio * math.exp(1.959964 * se), rel=1e-5))
    assert lo > 1  # complaints are answered more often, beyond doubt


def test_the_33_replies_dated_before_their_review_are_reported_not_dropped(uber, counted):
    s = review_summary(uber)
    assert s["replies_before_review"] == counted["before"] == 33
    assert s["replied"] == 33  # every one of them still counts as answered
    assert s["response_time"] == {"median_s": None, "mean_s": None, "p90_s": None, "n": 0}  # none negative
    out = CliRunner().invoke(main, ["-w", str(uber.path), "reviews", "summary"])
    assert out.exit_code == 0, out.output
    assert "33 replies are dated before the reviews they answer" in out.output
    assert "No reply has a response time (n = 0 of 33 replies)." in out.output


def test_personalisation_share_of_the_replies(uber, counted):
    s = review_summary(uber)
    assert s["greets_by_name"] == counted["greets"] == 25
    share, n = s["personalised_share"]
    assert n == counted["with_text"] == 33
    # personalised = greets by name, or refers to the review's specifics. Read by hand, three
    # replies without a name echo the review: "waiting" (charged for waiting time), the
    # internet "connection" (network connectivity), and a Spanish reply whose words
    # (por, tu, con...) are rare in this English corpus.
    assert share == pytest.approx((25 + 3) / 33)
