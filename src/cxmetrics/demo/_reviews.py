"""The demo organisation's own app reviews (docs/studies.md, "Reviews"), with its replies.

About 1,500 reviews of its app over the demo year on Google Play and the App Store, more as
the business grows and in bursts after the outage, the price change and the big mobile
release (complaints, and some praise for the release). Stars are skewed as real apps' are
(mostly 5s and a heavy tail of 1s); texts mostly match their stars (`_review_phrases`). The
organisation answers about 40% of the 1-2 star reviews and 15% of the 4-5 star ones, hours to
days later (a reply not sent by the year's end is not there yet), greeting the reviewer by first
name when the store shows one. About 2% of the replies are dated before their review: the
reviewer edited the review after the reply, and the store reports the edit's date as the
review's (as in the Uber reviews, ../shared/data/uber_app_reviews). The App Store rows also
carry that date as `edited_at`; the Google Play ones do not (its scraper does not say).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cxmetrics.demo._arrow import NULL_TIME, build, timestamps
from cxmetrics.demo._calendar import DAY, HOUR, US, Calendar
from cxmetrics.demo._review_phrases import (
    EDIT_BETTER,
    EDIT_WORSE,
    GREET_GENERIC,
    GREET_NAME,
    HANDLES,
    MISMATCH_HIGH,
    MISMATCH_LOW,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    REPLY_NEGATIVE,
    REPLY_NEUTRAL,
    REPLY_POSITIVE,
)
from cxmetrics.demo._text import CUSTOMER_NAMES
from cxmetrics.demo._world import rng_for

OWN_COMPANY = "us"  # the organisation, as the SPI's own rows name it (docs/studies.md)
STREAM_REVIEWS = 9
BASE_REVIEWS = 1_400  # a year's, plus the bursts below
# (moment, extra reviews, their star shares 1..5, the topic of the complaints, of the praise)
BURSTS = (("outage_start", 45, (0.8, 0.12, 0.04, 0.02, 0.02), "outage", "general"),
          ("pricing", 30, (0.6, 0.25, 0.1, 0.03, 0.02), "pricing", "general"),
          ("release", 40, (0.45, 0.15, 0.05, 0.1, 0.25), "release", "release"))
STARS = (0.2, 0.06, 0.07, 0.12, 0.55)  # an ordinary day's stars, 1..5
PLATFORMS = ("google_play", "app_store")
PLATFORM_SHARE = 0.62  # of Google Play
REPLY_RATE = (0.42, 0.38, 0.25, 0.15, 0.15)  # by stars 1..5
EDITED_AFTER_REPLY = 0.02  # of the replies
HOUR_WEIGHTS = np.array([1, 0.5, 0.3, 0.3, 0.3, 0.5, 1, 2, 3, 3, 3, 3, 3.5, 3, 3, 3, 3, 3.5, 4, 4.5, 5, 4.5, 3, 2])


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _version(t: int, cal: Calendar) -> str:
    """The app's version at `t`: a minor release about every five weeks, 6.0 at the big release."""
    if t >= cal.moments.release:
        return f"6.{(t - cal.moments.release) // (35 * DAY)}.{(t // DAY) % 3}"
    return f"5.{(t - cal.start) // (35 * DAY) + 10}.{(t // DAY) % 4}"


def _text(rng: np.random.Generator, stars: int, complaint: str, praise: str) -> tuple[str, str]:
    """A review's words for its stars, and what it is about (the reply answers that)."""
    if stars <= 2:
        if rng.random() < 0.04:
            return _pick(rng, MISMATCH_LOW), "general"
        topic = complaint if complaint else _pick(rng, ("payouts", "fees", "reader", "app", "support"))
        return _pick(rng, NEGATIVE[topic]), topic
    if stars == 3:
        return _pick(rng, NEUTRAL), "general"
    if rng.random() < 0.05:
        return _pick(rng, MISMATCH_HIGH), "general"
    topic = praise if praise != "general" else ("support" if rng.random() < 0.12 else "general")
    return _pick(rng, POSITIVE[topic]), topic


def _reply(rng: np.random.Generator, stars: int, topic: str, first_name: str | None) -> str:
    """The organisation's reply: by first name mostly, about what the review said."""
    if first_name and rng.random() < 0.85:
        greeting = _pick(rng, GREET_NAME).format(name=first_name)
    else:
        greeting = _pick(rng, GREET_GENERIC)
    if stars <= 2:
        body = REPLY_NEGATIVE.get(topic, REPLY_NEGATIVE["app"])
    else:
        body = _pick(rng, REPLY_NEUTRAL if stars == 3 else REPLY_POSITIVE)
    return greeting + body if greeting else body[0].upper() + body[1:]


def _created(cal: Calendar, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Every review's first posting time (UTC microseconds) and stars, and the topic of its
    complaint and praise (empty: an ordinary day's), in time order."""
    days = np.arange(cal.days)
    n = round(BASE_REVIEWS * cal.days / 365)  # a window of other than a year has as many a day
    growth = 1.0 + 0.6 * days / max(cal.days - 1, 1)  # the business grows over the year
    day = rng.choice(days, size=n, p=growth / growth.sum())
    stars = rng.choice(5, size=n, p=STARS) + 1
    complaint, praise = [""] * n, ["general"] * n
    for moment, extra, shares, what_bad, what_good in BURSTS:
        first = int(cal.window_day(np.array([getattr(cal.moments, moment)]))[0])
        day = np.concatenate([day, np.minimum(first + rng.geometric(0.5, extra) - 1, cal.days - 1)])
        stars = np.concatenate([stars, rng.choice(5, size=extra, p=shares) + 1])
        complaint += [what_bad] * extra
        praise += [what_good] * extra
    hour = rng.choice(24, size=day.size, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    created = cal.day_start[day] + hour * HOUR + rng.integers(0, 3600, day.size) * US
    created = np.minimum(created, cal.end - 60 * US)  # the last day may be cut short ("now")
    created -= created % US  # stores show the second
    order = np.argsort(created, kind="stable")
    return created[order], stars[order], [complaint[i] for i in order], [praise[i] for i in order]


def review_table(cal: Calendar, seed: int) -> pa.Table:
    """The organisation's app reviews over the calendar's year (canonical `reviews`, source demo)."""
    rng = rng_for(seed, STREAM_REVIEWS)
    created, stars, complaint, praise = _created(cal, rng)
    n = created.size
    platform = np.where(rng.random(n) < PLATFORM_SHARE, 0, 1)
    first = [_pick(rng, CUSTOMER_NAMES) if rng.random() < 0.85 else None for _ in range(n)]
    said = [_text(rng, int(stars[i]), complaint[i], praise[i]) for i in range(n)]
    text = [words for words, _ in said]
    delay = (np.maximum(0.25, rng.lognormal(np.log(20.0), 0.9, n)) * 3600).astype(np.int64) * US
    replied = np.zeros(n, dtype=bool)
    for k, rate in enumerate(REPLY_RATE):  # exactly the designed share of each star rating
        band = np.flatnonzero(stars == k + 1)
        replied[rng.choice(band, size=round(rate * band.size), replace=False)] = True
    replied &= created + delay < cal.end  # a reply due after the year's end has not been written yet
    reply = [_reply(rng, int(stars[i]), said[i][1], first[i]) if replied[i] else None for i in range(n)]
    replied_at = np.where(replied, created + delay, NULL_TIME)
    # edited after the reply: the store now dates the review by its edit
    edit = replied_at + (rng.uniform(2.0, 60.0, n) * 86400).astype(np.int64) * US
    can_edit = np.flatnonzero(replied & (edit < cal.end))
    edited = rng.choice(can_edit, size=min(can_edit.size, max(1, round(EDITED_AFTER_REPLY * replied.sum()))),
                        replace=False)
    for i in edited:
        text[i] += (" " if text[i][-1] in ".!?" else ". ") + _pick(rng, EDIT_WORSE if stars[i] <= 3 else EDIT_BETTER)
    created[edited] = edit[edited]
    edited_at = np.full(n, NULL_TIME)
    edited_at[edited] = edit[edited]
    counters = [0, 0]
    ids = []
    for p in platform:
        counters[p] += 1
        ids.append(f"{'GP' if p == 0 else 'AS'}{counters[p]:05d}")
    helpful = np.where(rng.random(n) < 0.45, rng.poisson(np.where(stars <= 2, 2.0, 0.4)), 0)
    versions = [_version(int(t), cal) if rng.random() < 0.95 else None for t in created]
    return build("reviews", n, {
        "review_id": pa.array(ids),
        "platform": pa.array([PLATFORMS[p] for p in platform]),
        "company": OWN_COMPANY,
        "rating": pa.array(stars.astype(np.int64)),
        "text": pa.array(text),
        "author": pa.array([f"{name} {chr(65 + int(rng.integers(26)))}." if name else _pick(rng, HANDLES)
                            for name in first]),
        "created_at": timestamps(created),
        "reply_text": pa.array(reply, pa.string()),
        "replied_at": timestamps(replied_at),
        "edited_at": timestamps(np.where(platform == 1, edited_at, NULL_TIME)),
        "app_version": pa.array(versions, pa.string()),
        "helpful": pa.array(helpful.astype(np.int64)),
    })
