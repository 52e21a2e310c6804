"""Reviews (issue 15, item 3): the `reviews` import kind, the review metrics and
review_summary, on a small hand-made Google Play file whose every number is worked by hand
below."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.errors import UserError
from cxmetrics.studies._reviews import review_sentences, review_summary

MAPPING = Path(__file__).resolve().parents[2] / "examples" / "mappings" / "google_play_reviews.toml"
HEADER = "userName,userImage,content,score,thumbsUpCount,reviewCreatedVersion,at,replyContent,repliedAt,appVersion,app\n"
# Acme: 4 negative (1-2 stars), 1 neutral, 5 positive (4-5 stars) reviews.
#   answered: u1 (+2 h), u2 (+10 h), u4 (reply dated 2019: BEFORE its review), u6 (text, no date),
#             u10 (date, no text; +1 day)  -> 5 of 10; negative 3 of 4, positive 2 of 5
#   response times: 7,200 s, 36,000 s, 86,400 s (u4 has none, u6 has no date)
#   replies with text: u1 and u4 greet by name, u2 and u6 do not -> 2 of 4 personalised
# Other: u11 (5 stars, answered after 60 s), u12 (1 star, not answered)
ROWS = [
    ("u1", "terrible app, it crashes every time", 1, "2024-11-25 10:00:00", "Hi Maria, sorry about that, we are on it.", "2024-11-25 12:00:00", "Acme"),
    ("u2", "awful, the worst service", 1, "2024-11-25 11:00:00", "Hello, thanks for your feedback.", "2024-11-25 21:00:00", "Acme"),
    ("u3", "bad experience, never again", 2, "2024-11-26 09:00:00", "", "", "Acme"),
    ("u4", "still broken after the update", 2, "2024-11-26 10:00:00", "Hi Tom, we fixed it in the new version.", "2019-05-01 08:00:00", "Acme"),
    ("u5", "it is okay i guess", 3, "2024-11-26 11:00:00", "", "", "Acme"),
    ("u6", "good app", 4, "2024-11-27 09:00:00", "Thanks!", "", "Acme"),
    ("u7", "great, love it", 5, "2024-11-27 10:00:00", "", "", "Acme"),
    ("u8", "excellent and wonderful", 5, "2024-11-27 11:00:00", "", "", "Acme"),
    ("u9", "amazing, very happy", 5, "2024-11-28 09:00:00", "", "", "Acme"),
    ("u10", "nice and useful", 4, "2024-11-28 10:00:00", "", "2024-11-29 10:00:00", "Acme"),
    ("u11", "perfect", 5, "2024-11-28 11:00:00", "Glad you like it.", "2024-11-28 11:01:00", "Other"),
    ("u12", "horrible", 1, "2024-11-28 12:00:00", "", "", "Other"),
]


def _csv(path: Path, rows: list[tuple] = ROWS, header: str = HEADER) -> Path:
    lines = [f'{u},,"{text}",{stars},0,1.0,{at},"{reply}",{replied},1.0,{app}\n'
             for u, text, stars, at, reply, replied, app in rows]
    path.write_text(header + "".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def reviewed(ws: cxmetrics.Workspace, tmp_path: Path) -> cxmetrics.Workspace:
    summary = ws.import_file("reviews", _csv(tmp_path / "reviews.csv"), mapping=MAPPING)
    assert (summary.read, summary.inserted, summary.quarantined) == (12, 12, 0)
    return ws


def test_a_file_without_review_ids_gets_stable_documented_ids_and_reimports_unchanged(reviewed, tmp_path):
    again = reviewed.import_file("reviews", _csv(tmp_path / "reviews.csv"), mapping=MAPPING)
    assert (again.read, again.inserted, again.updated, again.unchanged, again.quarantined) == (12, 0, 0, 12, 0)
    row = reviewed.sql("SELECT review_id, platform, company, source FROM reviews WHERE author = 'u1'").to_pylist()[0]
    # docs: gen: + 20 hex digits of md5(platform|company|author|created_at in microseconds|text)
    at = datetime(2024, 11, 25, 10, tzinfo=timezone.utc)
    epoch_us = int(at.timestamp()) * 1_000_000
    key = f"google_play|Acme|u1|{epoch_us}|terrible app, it crashes every time"
    assert row == {"review_id": "gen:" + hashlib.md5(key.encode()).hexdigest()[:20], "platform": "google_play",
                   "company": "Acme", "source": "google_play"}
    assert reviewed.sql("SELECT count(DISTINCT review_id) AS n FROM reviews").to_pylist()[0]["n"] == 12


def test_a_reply_dated_before_its_review_is_stored_and_flagged_not_quarantined(reviewed):
    row = reviewed.sql("SELECT reply_text, replied_at, created_at FROM reviews WHERE author = 'u4'").to_pylist()[0]
    assert row["reply_text"].startswith("Hi Tom") and row["replied_at"] < row["created_at"]
    got = reviewed.metrics(["review_replies_before_review", "review_response_time"]).table.to_pylist()
    before, times = got
    assert before["value"] == 1
    assert times["n"] == 4  # u1, u2, u10 and Other's u11: never u4's negative time
    assert times["value"] > 0


def test_review_metrics_by_hand(reviewed):
    acme = {"app": "acme"}  # case-blind, as every filter
    rows = {r["metric"]: r for r in reviewed.metrics(
        ["review_response_rate", "review_response_time", "review_response_time_mean", "review_response_time_p90",
         "review_negative_response_ratio", "review_replies_personalised", "review_replies_before_review"],
        where=acme).table.to_pylist()}
    assert (rows["review_response_rate"]["value"], rows["review_response_rate"]["n"]) == (pytest.approx(50.0), 10)
    assert rows["review_response_time"]["value"] == pytest.approx(36_000)  # median of 7,200 / 36,000 / 86,400
    assert rows["review_response_time_mean"]["value"] == pytest.approx(43_200)
    assert rows["review_response_time_p90"]["value"] == pytest.approx(36_000 + 0.8 * 50_400)  # interpolated
    ratio = rows["review_negative_response_ratio"]
    # (3/4) / (2/5); Katz: se = sqrt(1/3 - 1/4 + 1/2 - 1/5)
    se = math.sqrt(1 / 3 - 1 / 4 + 1 / 2 - 1 / 5)
    assert ratio["value"] == pytest.approx(1.875) and ratio["n"] == 9
    assert ratio["ci_low"] == pytest.approx(1.875 * math.exp(-1.959964 * se), rel=1e-5)
    assert ratio["ci_high"] == pytest.approx(1.875 * math.exp(1.959964 * se), rel=1e-5)
    assert (rows["review_replies_personalised"]["value"], rows["review_replies_personalised"]["n"]) == (
        pytest.approx(50.0), 4)
    assert rows["review_replies_before_review"]["value"] == 1
    bands = {r["rating_band"]: (r["value"], r["n"]) for r in reviewed.metrics(
        "review_response_rate", by="rating_band", where=acme).table.to_pylist()}
    assert bands == {"negative": (pytest.approx(75.0), 4), "neutral": (pytest.approx(0.0), 1),
                     "positive": (pytest.approx(40.0), 5)}
    apps = {r["app"]: r["n"] for r in reviewed.metrics("review_response_rate", by="app").table.to_pylist()}
    assert apps == {"Acme": 10, "Other": 2}


def test_response_time_is_elapsed_time_across_a_clock_change(ws, tmp_path):
    # a review on Saturday 29 March 2025 at 12:00 UTC (13:00 in Berlin), answered on Monday at
    # 12:00 UTC (14:00 in Berlin: the clocks went forward on Sunday): 48 hours passed, though
    # the Berlin calendar shows 2 days and 1 hour (the Google Play file's times are UTC)
    ws.configure(timezone="Europe/Berlin")
    rows = [("d1", "slow", 2, "2025-03-29 12:00:00", "Sorry, fixed now.", "2025-03-31 12:00:00", "Acme")]
    assert ws.import_file("reviews", _csv(tmp_path / "dst.csv", rows), mapping=MAPPING).quarantined == 0
    got = ws.metrics(["review_response_time"]).to_pylist()[0]
    assert (got["value"], got["n"]) == (48 * 3600, 1)


def test_sentiment_follows_the_stars(reviewed):
    got = {r["rating_band"]: r["value"] for r in reviewed.metrics(
        "review_sentiment_mean", by="rating_band").table.to_pylist()}
    assert got["negative"] < 0 < got["positive"]


def test_review_summary_by_hand(reviewed):
    s = review_summary(reviewed, company="ACME", platform="google_play")
    assert (s["reviews"], s["replied"], s["response_rate"]) == (10, 5, 0.5)
    assert s["by_band"] == {"negative": (3, 4, 0.75), "neutral": (0, 1, 0.0), "positive": (2, 5, 0.4)}
    assert s["negative_ratio"][0] == pytest.approx(1.875)
    assert s["response_time"] == {"median_s": pytest.approx(36_000), "mean_s": pytest.approx(43_200),
                                  "p90_s": pytest.approx(76_320), "n": 3}
    assert s["replies_before_review"] == 1
    assert s["personalised_share"] == (pytest.approx(0.5), 4) and s["greets_by_name"] == 2
    everyone = review_summary(reviewed)
    assert (everyone["reviews"], everyone["replied"]) == (12, 6)
    period = review_summary(reviewed, start="2024-11-26", end="2024-11-27")  # u3, u4, u5
    assert (period["reviews"], period["replied"], period["replies_before_review"]) == (3, 1, 1)
    assert review_summary(reviewed, platform="app_store")["reviews"] == 0


def test_cli_prints_the_findings_as_sentences_with_n(reviewed, tmp_path):
    runner = CliRunner()
    out = runner.invoke(main, ["-w", str(reviewed.path), "reviews", "summary", "--company", "Acme"])
    assert out.exit_code == 0, out.output
    assert "5 of 10 reviews were answered (50.0%)." in out.output
    assert ("1-2 star reviews were answered 1.9x as often as 4-5 star ones (75.0% vs 40.0%; n = 4 / 5; "
            "95% interval 0.6-6.3x).") in out.output
    assert "1 reply is dated before the review it answers" in out.output
    assert "Replies came a median 10.0 h after the review (mean 12.0 h, p90 21.2 h; n = 3 replies)." in out.output
    js = runner.invoke(main, ["-w", str(reviewed.path), "reviews", "summary", "--format", "json"])
    assert json.loads(js.output)["replied"] == 6
    bad = runner.invoke(main, ["-w", str(reviewed.path), "reviews", "summary", "--from", "yesterday"])
    assert bad.exit_code == 1 and bad.output.startswith("UserError: ") and "'yesterday'" in bad.output


def test_review_dimensions_apply_to_review_metrics_only(reviewed):
    with pytest.raises(UserError, match="'rating_band' is a review dimension"):
        reviewed.metrics("frt", by="rating_band")
    with pytest.raises(UserError, match="'team' is not a dimension of reviews"):
        reviewed.metrics("review_response_rate", by="team")
    with pytest.raises(UserError, match="cannot be cut by rating_band"):
        reviewed.metrics("review_negative_response_ratio", by="rating_band")


def test_bad_rows_are_quarantined_with_a_reason_and_replies_without_a_date_or_text_kept(ws, tmp_path):
    rows = [
        ("a", "fine", 6, "2024-11-25 10:00:00", "", "", "Acme"),  # rating outside 1-5
        ("b", "fine", 0, "2024-11-25 10:00:00", "", "", "Acme"),
        ("c", "no date", 3, "", "", "", "Acme"),  # created_at missing
        ("", "", 4, "2024-11-25 10:00:00", "", "", "Acme"),  # nothing to tell it apart
        ("d", "kept", 4, "2024-11-25 10:00:00", "Thanks", "", "Acme"),  # reply without date: kept
        ("e", "kept", 1, "2024-11-25 10:00:00", "", "2024-11-25 11:00:00", "Acme"),  # date without text: kept
    ]
    s = ws.import_file("reviews", _csv(tmp_path / "bad.csv", rows), mapping=MAPPING)
    assert (s.read, s.inserted, s.quarantined) == (6, 2, 4)
    reasons = [r["reason"] for r in ws.quarantine().to_pylist()]
    assert any("rating" in r and "6" in r for r in reasons)
    assert any("created_at is missing" in r for r in reasons)
    assert any("no review_id, and no author or text" in r for r in reasons)
    assert review_summary(ws)["replied"] == 2


def test_review_ids_given_by_the_file_are_kept(ws, tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("reviewId,userName,content,score,at,replyContent,repliedAt\n"
                    "gp:1,ann,great,5,2024-11-25 10:00:00,,\n"
                    "gp:2,bob,bad,1,2024-11-25 11:00:00,Hi Bob,2024-11-25 12:00:00\n", encoding="utf-8")
    s = ws.import_file("reviews", path)  # the scraper's headers are read without a mapping
    assert (s.inserted, s.quarantined) == (2, 0)
    assert [r["review_id"] for r in ws.sql("SELECT review_id FROM reviews ORDER BY 1").to_pylist()] == ["gp:1", "gp:2"]
    assert review_sentences(review_summary(ws))[0] == "1 of 2 reviews were answered (50.0%)."
