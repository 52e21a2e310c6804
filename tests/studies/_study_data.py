"""A small benchmark study made by hand, imported through the real kinds (companies, probes,
reviews, tickets): three companies, two regions, three channels, and the organisation's own
tickets and reviews. Shared by the report and Studies page tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import cxmetrics

STUDY = "telco-2026"
SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COMPANIES = """company,industry,region,size,channels
Acme,telecom,North America,large,email;chat;phone
Bolt,telecom,EMEA,small,email;chat
Crane,telecom,EMEA,large,email
"""
# per company: (channel, hours to answer or None if ignored, auto_reply, followed_up)
PLAN = {
    "Acme": [("email", 1.0, False, True), ("email", 2.0, False, False), ("chat", 0.05, False, False),
             ("chat", 0.1, True, False), ("phone", 0.02, False, False), ("phone", None, False, False)],
    "Bolt": [("email", 6.0, False, False), ("email", 9.0, False, True), ("chat", 0.5, False, False),
             ("chat", None, False, False), ("phone", None, False, False)],
    "Crane": [("email", 20.0, True, False), ("email", 30.0, False, False), ("email", None, False, False),
              ("chat", None, False, False)],
}
QUESTION = "Hello, my invoice for March shows a roaming charge from a trip I never took. Can you remove it?"
ANSWER = ("Hi Sam, I'm sorry about the confusion. I checked your March invoice: the roaming charge was an error "
          "and I have removed it; the credit of 12.40 EUR shows on your next bill. Anything else I can do?")
AUTO = "Thank you for your message. We will get back to you as soon as possible."


def _probes_csv() -> str:
    lines = ["study,probe_id,company,channel,sent_at,question,first_response_at,response_text,auto_reply,resolved,"
             "follow_up_at"]
    k = 0
    for company, probes in PLAN.items():
        for channel, hours, auto, follow in probes:
            k += 1
            sent = SENT + timedelta(hours=k)
            answered = "" if hours is None else (sent + timedelta(hours=hours)).isoformat()
            text = "" if hours is None else (AUTO if auto else ANSWER)
            follow_at = (sent + timedelta(hours=(hours or 0) + 24)).isoformat() if follow else ""
            lines.append(f'{STUDY},P{k},{company},{channel},{sent.isoformat()},"{QUESTION}",{answered},"{text}",'
                         f"{str(auto).lower()},{str(hours is not None and not auto).lower()},{follow_at}")
    return "\n".join(lines) + "\n"


def _reviews_csv() -> str:
    lines = ["platform,review_id,company,rating,text,author,created_at,reply_text,replied_at"]
    for i in range(12):
        rating = (1, 2, 5, 4, 1, 3, 5, 2, 1, 5, 4, 5)[i]
        created = SENT + timedelta(days=i)
        replied = i % 3 != 2 and rating <= 3
        reply = "Hi, sorry to hear that: please write to us so we can fix it." if replied else ""
        lines.append(f'google_play,R{i},Our app,{rating},"review {i}",user{i},{created.isoformat()},"{reply}",'
                     f"{(created + timedelta(hours=5)).isoformat() if replied else ''}")
    return "\n".join(lines) + "\n"


def _tickets_csv() -> str:
    lines = ["ticket_id,created_at,channel,status,first_reply_at,created_by"]
    for i in range(12):
        created = SENT + timedelta(hours=3 * i)
        reply = (created + timedelta(minutes=30 + 20 * i)).isoformat() if i % 4 else ""
        lines.append(f"T{i},{created.isoformat()},{('email', 'chat')[i % 2]},open,{reply},customer")
    return "\n".join(lines) + "\n"


def build(root: Path, *, tickets: bool = True, reviews: bool = True) -> Path:
    """The study's workspace under `root` (created), its path returned."""
    root.mkdir(parents=True, exist_ok=True)
    files = {"companies": COMPANIES, "probes": _probes_csv()}
    if reviews:
        files["reviews"] = _reviews_csv()
    if tickets:
        files["tickets"] = _tickets_csv()
    with cxmetrics.open(root / "ws", create=True) as ws:
        for kind, text in files.items():
            (root / f"{kind}.csv").write_text(text, encoding="utf-8")
            summary = ws.import_file(kind, root / f"{kind}.csv")
            assert summary.quarantined == 0, (kind, ws.quarantine().to_pylist())
        ws.refresh()
    return root / "ws"
