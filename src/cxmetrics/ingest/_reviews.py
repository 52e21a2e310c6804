"""The `reviews` import kind: public reviews of a company or app (Google Play, App Store,
Trustpilot...) with the company's reply, one row per review (docs/studies.md, "Reviews").

- `review_id` may be missing (some scraper exports drop it): the review then gets a stable
  id derived from what identifies it, `gen:` + the first 20 hex digits of the MD5 of
  platform (default: the source) | company | author | created_at (microseconds since the
  epoch) | text, each empty where missing. The same file imported again gives the same ids,
  so it is unchanged; a review edited on the platform (new text, new date) is a new review,
  as the platform itself dates it anew.
  A row with neither review_id nor author nor text cannot be told apart: quarantined.
- A reply with text but no replied_at is kept (answered, no response time); so is a
  replied_at without text (answered, text unknown).
- A reply dated BEFORE its review is kept as it is: Google Play keeps the date of a reply to
  an earlier version of a review the user later edited, and reports the edited review's
  date. Such a reply is answered, has no response time, and is counted apart
  (review_replies_before_review); never negative, never dropped.
- `platform` defaults to the import's source (a mapping's `source = "google_play"`).
- The google-play-scraper columns (reviewId, userName, content, score, thumbsUpCount, at,
  replyContent, repliedAt, appVersion) are read without a mapping; so are `app`/`app_id`
  (the company) and `stars` (the rating).

After the merge, the text facts of the reviews (review_text: the review's sentiment, the
reply's personalisation) are rewritten for every review of each source the import changed,
so that the corpus that tells a customer's specific words from common ones is the source's
whole set of reviews.
"""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pyarrow as pa

from cxmetrics.model import TABLES, Column

# review_id may be missing in the file: DERIVED gives one (see above); platform defaults to the source
_DEFAULTS = {
    "review_id": "the platform's id; default: gen: + a hash of platform, company, author, created_at and text",
    "platform": "where it was posted: google_play, app_store, trustpilot, g2... (default: the import's source)",
}
INPUTS: tuple[Column, ...] = tuple(
    replace(c, required=False, doc=_DEFAULTS[c.name]) if c.name in _DEFAULTS else c
    for c in TABLES["reviews"].columns
)

ALIASES = {
    "reviewid": "review_id", "id": "review_id",
    "username": "author", "user_name": "author",
    "content": "text", "review": "text",
    "score": "rating", "stars": "rating",
    "thumbsupcount": "helpful", "thumbs_up_count": "helpful",
    "at": "created_at", "date": "created_at",
    "replycontent": "reply_text", "reply_content": "reply_text", "reply": "reply_text",
    "repliedat": "replied_at", "replied_at": "replied_at",
    "appversion": "app_version",
    "app": "company", "app_id": "company", "appid": "company",
}

_KEY = ("concat_ws('|', coalesce(platform, source), coalesce(company, ''), coalesce(author, ''), "
        "CAST(epoch_us(created_at) AS VARCHAR), coalesce(text, ''))")

DERIVED: tuple[tuple[str, str], ...] = (
    ("_derived_id", f"CASE WHEN review_id IS NULL THEN 'gen:' || substr(md5({_KEY}), 1, 20) END"),
)

CHECKS: tuple[str, ...] = (
    "CASE WHEN review_id IS NULL AND author IS NULL AND nullif(trim(text), '') IS NULL THEN "
    "'no review_id, and no author or text to derive one from: map the platform''s review id to review_id' END",
)

TARGET = {
    "review_id": "coalesce(review_id, _derived_id)",
    "platform": "coalesce(platform, source)",
}


def text_facts(con: duckdb.DuckDBPyConnection, import_id: str, currency: str) -> None:
    """Rewrite review_text for every review of the sources this import changed."""
    del currency  # reviews have no amounts
    sources = [r[0] for r in con.execute(
        "SELECT DISTINCT source FROM reviews WHERE _import_id = ?", [import_id]).fetchall()]
    for source in sources:
        write_text_facts(con, source)


def write_text_facts(con: duckdb.DuckDBPyConnection, source: str) -> int:
    """The review_text rows of one source's reviews, rewritten; returns how many."""
    # imported here: the text layer loads its lexicon, needed only when reviews arrive
    from cxmetrics.text.sentiment import sentiment
    from cxmetrics.text.signals import signals

    rows = con.execute(
        "SELECT review_id, text, reply_text FROM reviews WHERE source = ? ORDER BY review_id", [source]
    ).fetchall()
    ids = [r[0] for r in rows]
    texts = [r[1] for r in rows]
    scored = sentiment(texts)
    replied = [i for i, r in enumerate(rows) if r[2] is not None and r[2].strip()]
    # a reply answers its review; every review of the source is the corpus of common words
    found = signals([rows[i][2] for i in replied], [texts[i] for i in replied], corpus=texts)
    sig: dict[int, tuple[bool, bool, bool]] = {
        i: (s.greets_by_name, s.refers_specifics, s.personalised) for i, s in zip(replied, found, strict=True)
    }
    table = pa.table({
        "source": [source] * len(rows),
        "review_id": ids,
        "sentiment_score": [s.score for s in scored],
        "sentiment_label": [s.label for s in scored],
        "greets_by_name": [sig[i][0] if i in sig else None for i in range(len(rows))],
        "refers_specifics": [sig[i][1] if i in sig else None for i in range(len(rows))],
        "personalised": [sig[i][2] if i in sig else None for i in range(len(rows))],
    }, schema=pa.schema([
        ("source", pa.string()), ("review_id", pa.string()), ("sentiment_score", pa.float64()),
        ("sentiment_label", pa.string()), ("greets_by_name", pa.bool_()), ("refers_specifics", pa.bool_()),
        ("personalised", pa.bool_()),
    ]))
    con.execute("DELETE FROM review_text WHERE source = ?", [source])
    con.register("_review_text_new", table)
    try:
        con.execute("INSERT INTO review_text SELECT * FROM _review_text_new")
    finally:
        con.unregister("_review_text_new")
    return len(rows)
