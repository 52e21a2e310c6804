"""The texts the text benches time, and a help desk made of them (bench/text/README.md).

The corpus is real customer language: BANKING77's training queries (10,003, 77 intents) and
the airline tweets of dev.csv (7,320), interleaved, then repeated; every copy after the first
is perturbed (a word dropped, a polite word put in, numbers changed), so N texts are not
N / 17,323 exact duplicates, which TF-IDF and k-means would find too easy. The data is read
from ../shared/data (or CXMETRICS_DATA), see docs/data.md.
"""

from __future__ import annotations

import csv
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("CXMETRICS_DATA") or ROOT.parent / "shared" / "data")
BANKING77 = DATA / "banking77_intents" / "train.csv"
AIRLINE = DATA / "airline_tweets_sentiment" / "dev.csv"
POLITE = ("please", "thanks", "hi", "hello", "urgent", "asap", "today", "again", "help")


@dataclass(frozen=True)
class Text:
    text: str
    topic: str      # BANKING77 intent, or "airline:<complaint reason or sentiment>"
    banking: bool   # from BANKING77 (its intent is a topic label to score clustering against)


def missing() -> str | None:
    """Why the corpus cannot be built here, or None."""
    for path in (BANKING77, AIRLINE):
        if not path.exists():
            return f"{path} not found: get it as docs/data.md says, or set CXMETRICS_DATA"
    return None


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def base() -> list[Text]:
    """The 17,323 real texts, BANKING77 and airline interleaved in proportion."""
    bank = [Text(r["text"], r["category"], True) for r in _rows(BANKING77)]
    air = [Text(r["text"], "airline:" + (r["negativereason"] or r["airline_sentiment"]), False)
           for r in _rows(AIRLINE)]
    out: list[Text] = []
    step = len(bank) / len(air)
    b = 0
    for i, t in enumerate(air):
        upto = round((i + 1) * step)
        out.extend(bank[b:upto])
        out.append(t)
        b = upto
    out.extend(bank[b:])
    return out


def corpus(n: int, seed: int = 0) -> list[Text]:
    """n texts: the real ones first, then perturbed copies."""
    real = base()
    rng = random.Random(seed)
    out = real[:n]
    while len(out) < n:
        for t in real:
            if len(out) == n:
                break
            words = t.text.split()
            if len(words) > 3:
                del words[rng.randrange(len(words))]
            words.insert(rng.randrange(len(words) + 1), rng.choice(POLITE))
            text = " ".join(w if not w.isdigit() else str(rng.randrange(1000)) for w in words)
            out.append(Text(text, t.topic, t.banking))
    return out


# -- a help desk made of the corpus: events CSV (docs/import.md's events format) ----------------

EVENT_COLUMNS = ("event_id", "ticket_id", "ts", "kind", "actor_type", "actor_id", "public", "status_to",
                 "channel", "priority", "team", "topic", "requester_id", "assignee_id", "subject", "body")
CHANNELS = ("email", "chat", "messaging", "social", "web")
NAMES = ("Maria", "James", "Aisha", "Chen", "Lukas", "Sofia", "Omar", "Emma", "Ravi", "Ana", "Tom", "Yuki")
AGENTS = 200
GREETINGS = ("Hi {name},", "Hello {name},", "Dear customer,", "Hi there,")
EMPATHY = ("I'm sorry about the trouble this caused.", "I understand how frustrating this is.",
           "Thanks for reaching out.", "")
ASKS = ("Could you send me the last four digits of the card and the date it happened?",
        "Can you tell me which app version you use?", "I have checked your account.",
        "Let me look into this for you.")
FOLLOW_UPS = ("Thanks, that helps a lot.", "It is still not working and I am really frustrated now.",
              "Here it is: 4821, it happened on Monday. When will this be sorted?",
              "Ok. I have been waiting for days, please hurry.", "Great, thank you so much for the quick help!",
              "I already told you this twice.")
ACTIONS = ("open the app, go to Settings and choose", "sign in on the website, open Help and pick",
           "call us on the number on the back of your card and ask for", "use the chat in the app and select")
WAITS = ("within a day", "in 3 to 5 working days", "straight away", "by the end of the week")


def _answer(topic: str, usual: bool, rng: random.Random) -> str:
    """The resolving reply: most agents give their topic's usual answer, some another one."""
    about = topic.split(":")[-1].replace("_", " ")
    h = sum(map(ord, topic))
    if usual:
        return (f"To sort out {about}, please {ACTIONS[h % len(ACTIONS)]} '{about}'; it is done "
                f"{WAITS[h % len(WAITS)]}. Anything else, just reply here.")
    return (f"About {about}: I have passed this to our specialist team, who will write to you "
            f"{rng.choice(WAITS)}. Sorry I cannot do more from here.")


def _iso(seconds: int) -> str:
    day, rest = divmod(seconds, 86_400)
    month, day = divmod(day, 28)  # 28-day months keep every date valid
    return f"2025-{1 + month % 12:02d}-{1 + day:02d}T{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}Z"


def ticket_events(i: int, t: Text, rng: random.Random) -> Iterator[list[str]]:
    """Ticket i's six events: created, the customer's message (the corpus text), an agent's
    reply (greeting, empathy, a question), the customer's follow-up, the resolving reply, solved."""
    tid, customer, agent = f"B{i:07d}", f"C{i % 50_000}", f"A{i % AGENTS}"
    start = (i * 311) % (330 * 86_400)  # within a year of 28-day months, replies included
    channel = CHANNELS[i % len(CHANNELS)]
    subject = " ".join(t.text.split()[:6]) if channel == "email" else ""
    name = NAMES[i % len(NAMES)]
    greeting = rng.choice(GREETINGS).format(name=name)
    reply = " ".join(p for p in (greeting, rng.choice(EMPATHY), rng.choice(ASKS)) if p)
    blank = [""] * 8
    e = i * 10
    yield [str(e), tid, _iso(start), "created", "customer", customer, "", "new", channel, "normal",
           ("Tier 1", "Tier 2", "Billing")[i % 3], "", customer, agent, subject, ""]
    yield [str(e + 1), tid, _iso(start + 5), "message", "customer", customer, "true", *blank, t.text]
    yield [str(e + 2), tid, _iso(start + 1800 + i % 3600), "message", "agent", agent, "true", *blank, reply]
    yield [str(e + 3), tid, _iso(start + 7200), "message", "customer", customer, "true", *blank,
           rng.choice(FOLLOW_UPS)]
    yield [str(e + 4), tid, _iso(start + 9000 + i % 7200), "message", "agent", agent, "true", *blank,
           f"{greeting} {_answer(t.topic, rng.random() < 0.8, rng)}"]
    yield [str(e + 5), tid, _iso(start + 9001 + i % 7200), "status", "agent", agent, "", "solved", *[""] * 8]


def write_events(path: Path, texts: list[Text], first: int = 0, seed: int = 0) -> Path:
    """Tickets first .. first + len(texts) - 1 as an events CSV, one ticket per text."""
    rng = random.Random(seed + first)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(EVENT_COLUMNS)
        for i, t in enumerate(texts, start=first):
            out.writerows(ticket_events(i, t, rng))
    return path
