"""The demo's benchmark study "demo-benchmark" (docs/studies.md): the organisation's market, probed.

Thirty-six fictional companies that sell what the demo organisation sells (payments software for
small businesses: card readers, a sales dashboard, payouts, an API; industry `software`, the
benchmark segment of that name) in four regions and four size bands, each offering some of the
study's four channels. Mystery shoppers sent each company three questions on every channel it
offers, on the working days of two weeks that end three weeks before the demo's year does (so
every answer and follow-up has arrived by then). The answers are drawn so that a study report
has something true to say:
- speed: a channel's own scale (chat and phone in minutes, social in hours, email in hours to
  days), faster in North America and at larger companies, slowest in EMEA and LATAM;
- diligence: some probes are ignored (often on social, more at small companies), some get only
  an automatic answer (more at large ones), some are followed up later;
- quality: each company has a "care" level that makes its answers personal (the shopper's name,
  their specifics), empathetic, relevant and thorough more or less often (`_study_phrases`);
  a person scored about 30% of the answered probes on the rubric (0-1 in quarters), from what
  the answer holds, with the disagreement people have.
Everything comes from the demo seed's own random stream: the same config gives the same study,
and the rest of the demo does not change with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from cxmetrics.demo._arrow import ARROW_TYPES, build
from cxmetrics.demo._study_phrases import (
    AGENTS,
    AUTO,
    DEFLECT,
    DEFLECT_SOCIAL,
    EMPATHY,
    EMPATHY_ANY,
    GREET_GENERIC,
    GREET_LIVE_GENERIC,
    GREET_LIVE_NAME,
    GREET_NAME,
    QUESTIONS,
    SHOPPERS,
    SIGN_OFF,
)
from cxmetrics.demo._world import rng_for
from cxmetrics.model import ColType

if TYPE_CHECKING:
    from cxmetrics.demo._generator import DemoConfig

STUDY = "demo-benchmark"
INDUSTRY = "software"
CHANNELS: tuple[str, ...] = ("email", "chat", "phone", "social")
REGIONS: tuple[str, ...] = ("North America", "EMEA", "APAC", "LATAM")
SIZES: tuple[str, ...] = ("1-50", "51-200", "201-1000", "1000+")
PROBES_PER_CHANNEL = 3
STUDY_DAYS = 14
STREAM_STUDY = 8  # the demo's random streams 1-7 are taken (_world, _messages)

COMPANIES: tuple[str, ...] = (
    "Tillbright", "Cardwren", "Swipewell", "Ledgerloop", "Checkout Owl", "Kassanova", "Tapfinch", "Counterly",
    "Paybarrow", "Coinlantern", "Stallpay", "Pennydock", "Brisk Till", "Orchard Pay", "Quaypay", "Ringfold",
    "Saltmarsh Payments", "Tillamo", "Vantapay", "Wickpay", "Ambertap", "Bluegate POS", "Cobalt Counter",
    "Driftpay", "Emberpoint", "Fernpay", "Granite Till", "Harbourtap", "Inkwell Payments", "Juniper POS",
    "Kestrel Checkout", "Lumen Till", "Mosspay", "Nettlepay", "Oakcounter", "Pebblepay",
)
REGION_COUNTS = (12, 10, 8, 6)  # companies per region, in REGIONS order
SIZE_COUNTS = (8, 10, 10, 8)  # per size band, in SIZES order
UTC_OFFSET_H = (-5, 1, 8, -3)  # where each region's shoppers' working day falls

# how companies behave: per channel, and per size band (tuples in SIZES order)
OFFERED = {  # share of companies of each size band offering the channel (North America: phone +0.1)
    "email": (0.97, 0.97, 0.97, 0.97),
    "chat": (0.45, 0.65, 0.8, 0.85),
    "phone": (0.3, 0.45, 0.6, 0.75),
    "social": (0.6, 0.7, 0.75, 0.8),
}
MEDIAN_S = {"email": 6 * 3600.0, "chat": 90.0, "phone": 150.0, "social": 2 * 3600.0}  # a typical answer
SPREAD = {"email": 1.0, "chat": 0.8, "phone": 0.7, "social": 1.1}  # lognormal sigma, probe to probe
GIVE_UP_S = {"email": 7 * 86400.0, "chat": 1800.0, "phone": 1200.0, "social": 7 * 86400.0}  # later: ignored
IGNORED = {"email": 0.1, "chat": 0.08, "phone": 0.1, "social": 0.28}
AUTO_ONLY = {"email": 0.07, "chat": 0.08, "phone": 0.04, "social": 0.05}
REGION_SPEED = (0.55, 1.4, 0.9, 1.25)  # response-time multipliers, in REGIONS order
SIZE_SPEED = (1.3, 1.0, 0.85, 0.8)
SIZE_IGNORE = (1.4, 1.1, 0.9, 0.7)
SIZE_AUTO = (0.5, 0.8, 1.2, 1.8)
SIZE_CARE = (0.45, 0.2, 0.0, -0.35)  # small companies write more personal answers
RUBRIC_SHARE = 0.3


@dataclass(frozen=True)
class Company:
    """A company of the study and the hidden traits its answers are drawn from."""

    name: str
    region: int
    size: int
    channels: tuple[str, ...]
    speed: float  # response-time multiplier
    diligence: float  # ignore-probability multiplier
    care: float  # ~N(size effect, 0.8): personal, empathetic, relevant, thorough answers
    automation: float  # auto-reply-only multiplier


def study_window(end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The two weeks the probes were sent in: from the Monday on or before five weeks before
    `end` (the demo year's end), local midnight; aware datetimes.

    >>> start, stop = study_window(dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))
    >>> start.date(), start.strftime("%A"), (stop - start).days
    (datetime.date(2026, 9, 21), 'Monday', 14)
    """
    first = (end - dt.timedelta(days=35)).date()
    first -= dt.timedelta(days=first.weekday())
    start = dt.datetime(first.year, first.month, first.day, tzinfo=end.tzinfo)
    return start, start + dt.timedelta(days=STUDY_DAYS)


def build_companies(rng: np.random.Generator) -> list[Company]:
    """The study's companies: fixed region and size counts in a seeded order, drawn traits."""
    region = rng.permutation(np.repeat(np.arange(len(REGIONS)), REGION_COUNTS))
    size = rng.permutation(np.repeat(np.arange(len(SIZES)), SIZE_COUNTS))
    out = []
    for k, name in enumerate(COMPANIES):
        r, s = int(region[k]), int(size[k])
        offered = tuple(c for c in CHANNELS
                        if rng.random() < OFFERED[c][s] + (0.1 if c == "phone" and r == 0 else 0.0))
        out.append(Company(
            name=name, region=r, size=s, channels=offered or ("email",),
            speed=REGION_SPEED[r] * SIZE_SPEED[s] * float(np.exp(rng.normal(0.0, 0.35))),
            diligence=SIZE_IGNORE[s] * float(np.exp(rng.normal(0.0, 0.5))),
            care=SIZE_CARE[s] + float(rng.normal(0.0, 0.8)),
            automation=SIZE_AUTO[s] * float(np.exp(rng.normal(0.0, 0.4))),
        ))
    return out


def _seconds(t: dt.datetime) -> dt.datetime:
    """A time as the study's sheet records it: to the second."""
    return t.replace(microsecond=0)


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def _quarter(x: float) -> float:
    """A person's score: the nearest quarter in 0-1."""
    return float(np.clip(np.round(x * 4.0) / 4.0, 0.0, 1.0))


@dataclass
class Probe:
    """One probe as the study recorded it (times in UTC); filled in as its answer is drawn."""

    probe_id: str
    company: Company
    channel: str
    sent_at: dt.datetime
    question: str
    first_response_at: dt.datetime | None = None
    response_text: str | None = None
    auto_reply: bool = False
    resolved: bool = False
    follow_up_at: dt.datetime | None = None
    rubric: tuple[float, float, float, float] | None = None  # personalised, relevant, thorough, empathetic


def _question(rng: np.random.Generator, channel: str) -> tuple[int, int, bool, str, str]:
    """(question, context, asked a second question, shopper, the text sent)."""
    k = int(rng.integers(len(QUESTIONS)))
    j = int(rng.integers(2))
    q = QUESTIONS[k]
    two = rng.random() < (0.3 if channel == "social" else 0.55)
    shopper = SHOPPERS[int(rng.integers(len(SHOPPERS)))]
    opening = "" if channel == "social" and rng.random() < 0.5 else q.context[j][0] + " "
    text = f"{opening}{q.ask}{' ' + q.ask2 if two else ''}\n\nThanks, {shopper}"
    return k, j, two, shopper, text


def _answer(rng: np.random.Generator, company: Company, channel: str, k: int, j: int, two: bool,
            shopper: str) -> tuple[str, bool, tuple[float, float, float, float]]:
    """A person's answer, whether it resolved the question, and what a rubric scorer would see."""
    q, care = QUESTIONS[k], company.care
    live = channel in ("chat", "phone")
    named = rng.random() < _sigmoid(0.3 + 1.3 * care + (0.6 if live or channel == "social" else 0.0))
    caring = rng.random() < _sigmoid(-0.4 + 1.1 * care)
    relevant = rng.random() < _sigmoid(1.6 + 0.9 * care - (1.8 if channel == "social" else 0.0))
    specific = relevant and rng.random() < _sigmoid(-0.6 + 1.2 * care)
    thorough = relevant and two and rng.random() < _sigmoid(0.4 + 1.0 * care - (0.6 if live else 0.0))

    def pick(options: tuple[str, ...]) -> str:
        return options[int(rng.integers(len(options)))]

    if named:
        greeting = pick(GREET_LIVE_NAME if live else GREET_NAME).format(name=shopper)
    else:
        greeting = pick(GREET_LIVE_GENERIC if live else GREET_GENERIC) if rng.random() < 0.75 else ""
    body = [pick(EMPATHY if q.problem else EMPATHY[:EMPATHY_ANY])] if caring else []
    if relevant:
        body += [q.context[j][1]] if specific else []
        body += [q.answer] + ([q.answer2] if thorough else [])
    else:
        body.append(pick(DEFLECT_SOCIAL if channel == "social" else DEFLECT))
    parts = [greeting, " ".join(body)] if greeting else [" ".join(body)]
    if channel == "email":
        agent = pick(AGENTS)
        parts.append(pick(SIGN_OFF).format(agent=agent, company=company.name))
    text = ("\n\n" if channel == "email" else " ").join(parts)
    answered_all = relevant and (thorough or not two)
    resolved = rng.random() < (0.9 if answered_all else 0.55 if relevant else 0.08)
    # a person reads more than the words: scores follow what the answer holds, give or take
    noise = rng.normal(0.0, 0.12, 4)
    rubric = (
        _quarter(0.5 * named + 0.5 * specific + 0.1 + noise[0]),
        _quarter((0.95 if relevant else 0.15) + noise[1]),
        _quarter((1.0 if answered_all else 0.5 if relevant else 0.0) + noise[2]),
        _quarter((0.9 if caring else 0.3) + noise[3]),
    )
    return text, resolved, rubric


def _sent_at(rng: np.random.Generator, start: dt.datetime, region: int) -> dt.datetime:
    """A moment of a working day of the study, 09:00-17:00 where the company's region is."""
    workdays = [d for d in range(STUDY_DAYS) if (start + dt.timedelta(days=d)).weekday() < 5]
    day = start.date() + dt.timedelta(days=int(workdays[int(rng.integers(len(workdays)))]))
    local_s = int(rng.integers(9 * 3600, 17 * 3600))
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    return midnight + dt.timedelta(seconds=local_s - 3600 * UTC_OFFSET_H[region])


def _respond(probe: Probe, rng: np.random.Generator, k: int, j: int, two: bool, shopper: str) -> None:
    """What came back for a probe: nothing (ignored), an automatic answer, or a person's answer
    after the company's time on the channel, perhaps followed up a day or more later."""
    company, channel = probe.company, probe.channel
    draw = rng.random()
    p_ignore = min(0.85, IGNORED[channel] * company.diligence)
    p_auto = min(0.5, AUTO_ONLY[channel] * company.automation)
    if draw < p_ignore:
        return
    if draw < p_ignore + p_auto:
        probe.auto_reply = True
        probe.first_response_at = _seconds(probe.sent_at + dt.timedelta(seconds=float(rng.uniform(3, 90))))
        text = AUTO[channel][int(rng.integers(len(AUTO[channel])))]
        probe.response_text = text.format(company=company.name, ticket=f"#{rng.integers(10**5, 10**6)}")
        probe.rubric = (0.0, 0.25 if channel == "chat" else 0.0, 0.0, 0.0)  # a bot's article is nearly relevant
        return
    delay = MEDIAN_S[channel] * company.speed * float(np.exp(rng.normal(0.0, SPREAD[channel])))
    if delay > GIVE_UP_S[channel]:  # the shopper stopped waiting: ignored
        return
    probe.first_response_at = _seconds(probe.sent_at + dt.timedelta(seconds=max(delay, 8.0)))
    probe.response_text, probe.resolved, probe.rubric = _answer(rng, company, channel, k, j, two, shopper)
    if rng.random() < _sigmoid(-1.9 + 0.7 * company.care):
        later = dt.timedelta(hours=float(rng.uniform(20, 72)))
        probe.follow_up_at = _seconds(probe.first_response_at + later)


def draw_probes(companies: list[Company], start: dt.datetime, rng: np.random.Generator) -> list[Probe]:
    """Three probes per company and offered channel, answered (or not) as the company does."""
    probes: list[Probe] = []
    for company in companies:
        for channel in company.channels:
            for _ in range(PROBES_PER_CHANNEL):
                k, j, two, shopper, question = _question(rng, channel)
                probe = Probe(f"DB{len(probes) + 1:04d}", company, channel, _sent_at(rng, start, company.region),
                              question)
                _respond(probe, rng, k, j, two, shopper)
                probes.append(probe)
    # the scorer read RUBRIC_SHARE of all probes' worth of answers (an ignored probe has none to read)
    answered = [p for p in probes if p.rubric is not None]
    scored = set(rng.choice(len(answered), size=min(len(answered), round(RUBRIC_SHARE * len(probes))),
                            replace=False).tolist())
    for index, probe in enumerate(answered):
        if index not in scored:
            probe.rubric = None
    return probes


def study_tables(config: DemoConfig) -> dict[str, pa.Table]:
    """The demo's study tables (canonical, source demo), in import order: the companies, the
    probes, and the organisation's own app reviews (cxmetrics.demo._reviews).

    >>> from cxmetrics.demo import DemoConfig
    >>> tables = study_tables(DemoConfig(tickets=1_000))
    >>> {name: table.num_rows > 0 for name, table in tables.items()}
    {'companies': True, 'probes': True, 'reviews': True}
    """
    from cxmetrics.demo._calendar import Calendar
    from cxmetrics.demo._reviews import review_table

    cal = Calendar(config.start, config.months, config.timezone, config.end)
    return {**benchmark_tables(config.window()[1], config.seed), "reviews": review_table(cal, config.seed)}


def benchmark_tables(end: dt.datetime, seed: int) -> dict[str, pa.Table]:
    """The study's `companies` and `probes` tables for a demo year ending at `end` (aware)."""
    rng = rng_for(seed, STREAM_STUDY)
    companies = build_companies(rng)
    start, _ = study_window(end)
    probes = draw_probes(companies, start, rng)
    time_type = ARROW_TYPES[ColType.TIMESTAMP]
    company_table = build("companies", len(companies), {
        "company": pa.array([c.name for c in companies]),
        "industry": INDUSTRY,
        "region": pa.array([REGIONS[c.region] for c in companies]),
        "size": pa.array([SIZES[c.size] for c in companies]),
        "channels": pa.array([sorted(c.channels) for c in companies], pa.list_(pa.string())),
    })
    rubric = [p.rubric for p in probes]
    probe_table = build("probes", len(probes), {
        "probe_id": pa.array([p.probe_id for p in probes]),
        "study": STUDY,
        "company": pa.array([p.company.name for p in probes]),
        "channel": pa.array([p.channel for p in probes]),
        "sent_at": pa.array([p.sent_at for p in probes], time_type),
        "question": pa.array([p.question for p in probes]),
        "first_response_at": pa.array([p.first_response_at for p in probes], time_type),
        "response_text": pa.array([p.response_text for p in probes]),
        "auto_reply": pa.array([p.auto_reply for p in probes]),
        "resolved": pa.array([p.resolved for p in probes]),
        "follow_up_at": pa.array([p.follow_up_at for p in probes], time_type),
        "industry": INDUSTRY,
        "region": pa.array([REGIONS[p.company.region] for p in probes]),
        "company_size": pa.array([SIZES[p.company.size] for p in probes]),
        **{f"rubric_{name}": pa.array([r[i] if r else None for r in rubric], pa.float64())
           for i, name in enumerate(("personalised", "relevant", "thorough", "empathetic"))},
    })
    return {"companies": company_table, "probes": probe_table}
