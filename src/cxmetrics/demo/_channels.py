"""How each contact channel behaves in the demo.

The channels differ in more than volume: chat is answered in a minute and only while the chat
desk is staffed, email waits hours for office time and goes back and forth over days, phone is a
call with a queue. Keeping every number in one table (rather than scattered through the timeline
code) makes the demo's story easy to read and to tune.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ChannelSpec:
    """The behaviour of one channel; durations are seconds."""

    name: str
    share: float
    schedule: str  # "office" or "extended": when agents answer this channel
    night: float  # arrival weight outside the schedule's open hours (1 = unchanged)
    evening: float  # arrival multiplier for 18:00-23:00 local
    frt_s: float  # median first reply delay, in the schedule's business seconds
    frt_sigma: float
    reply_s: float  # median delay of later agent replies, business seconds
    reply_sigma: float
    customer_s: float  # median customer answer delay, calendar seconds
    customer_sigma: float
    rounds: float  # mean number of extra customer/agent exchanges after the first reply
    bot: str  # "chat" (Chat Assistant after launch), "answer" (Answer Bot) or ""
    spam: float  # share of spam tickets


CHANNEL_SPECS: tuple[ChannelSpec, ...] = (
    ChannelSpec("email", 0.35, "office", 1.0, 1.0, 5.0 * 3600, 1.0, 3.0 * 3600, 1.0,
                6.0 * 3600, 1.3, 1.5, "answer", 0.012),
    ChannelSpec("chat", 0.25, "extended", 0.12, 1.0, 70.0, 0.8, 75.0, 0.7,
                60.0, 0.8, 3.0, "chat", 0.002),
    # Phone follow-ups (after the call) are written like emails, hence the email-like replies.
    ChannelSpec("phone", 0.15, "extended", 0.0, 0.8, 1800.0, 1.0, 3.0 * 3600, 1.0,
                6.0 * 3600, 1.3, 1.0, "", 0.0),
    ChannelSpec("messaging", 0.12, "extended", 0.5, 1.3, 8.0 * 60, 1.1, 6.0 * 60, 1.0,
                20.0 * 60, 1.5, 2.0, "chat", 0.004),
    ChannelSpec("social", 0.05, "extended", 0.7, 1.4, 40.0 * 60, 1.0, 30.0 * 60, 1.0,
                60.0 * 60, 1.4, 1.2, "", 0.03),
    ChannelSpec("web", 0.08, "office", 1.0, 1.0, 4.0 * 3600, 1.0, 3.0 * 3600, 1.0,
                6.0 * 3600, 1.3, 1.4, "answer", 0.02),
)

CHANNEL_NAMES: tuple[str, ...] = tuple(c.name for c in CHANNEL_SPECS)
EMAIL, CHAT, PHONE, MESSAGING, SOCIAL, WEB = range(len(CHANNEL_SPECS))
SCHEDULE_NAMES: tuple[str, ...] = ("office", "extended")


def channel_column(attr: str) -> np.ndarray:
    """One field of every channel spec as an array indexed by channel code."""
    return np.array([getattr(c, attr) for c in CHANNEL_SPECS])


def schedule_codes() -> np.ndarray:
    """The schedule code (index into SCHEDULE_NAMES) of each channel."""
    return np.array([SCHEDULE_NAMES.index(c.schedule) for c in CHANNEL_SPECS], dtype=np.int8)


# Open hours (local, [from, to)) per weekday Monday..Sunday; None = closed.
SCHEDULES: dict[str, tuple[tuple[int, int] | None, ...]] = {
    "office": ((8, 18),) * 5 + (None, None),
    "extended": ((7, 22),) * 5 + ((9, 18), (9, 18)),
}

# Hourly arrival shape (local time): a mid-morning and an early-afternoon peak, quiet nights.
WEEKDAY_PROFILE = np.array([
    0.5, 0.3, 0.2, 0.2, 0.2, 0.35, 0.8, 2.0, 4.5, 7.0, 8.0, 7.6,
    6.2, 6.8, 7.4, 7.0, 6.0, 4.8, 3.6, 2.9, 2.4, 2.0, 1.5, 0.9,
])
WEEKEND_PROFILE = np.array([
    0.6, 0.4, 0.3, 0.3, 0.3, 0.4, 0.7, 1.2, 2.2, 3.4, 4.2, 4.5,
    4.4, 4.3, 4.2, 4.0, 3.8, 3.5, 3.2, 3.0, 2.7, 2.2, 1.6, 1.0,
])
# Monday is the busiest day; a weekend day carries about 30% of a weekday.
WEEKDAY_FACTOR = np.array([1.22, 1.08, 1.03, 1.0, 0.92, 0.33, 0.29])


def open_mask(schedule: str) -> np.ndarray:
    """A 7 x 24 boolean table: is the schedule open at this weekday and local hour."""
    mask = np.zeros((7, 24), dtype=bool)
    for weekday, hours in enumerate(SCHEDULES[schedule]):
        if hours is not None:
            mask[weekday, hours[0]:hours[1]] = True
    return mask


def arrival_profile(spec: ChannelSpec) -> np.ndarray:
    """A 7 x 24 table of relative arrivals for one channel, each day summing to its weekday factor."""
    base = np.vstack([WEEKDAY_PROFILE] * 5 + [WEEKEND_PROFILE] * 2)
    if spec.name in ("email", "web"):
        base = base + 0.25 * base.mean(axis=1, keepdims=True)  # written any time, sent later
    base[:, 18:] *= spec.evening
    if spec.night != 1.0:
        base = np.where(open_mask(spec.schedule), base, base * spec.night)
    base = base / base.sum(axis=1, keepdims=True)
    return base * WEEKDAY_FACTOR[:, None]
