"""Issue 9, item 9: a webhook delivery signs its send time with its body
(`X-Cxmetrics-Signature: t=...,v1=...`), so a captured delivery cannot be replayed later;
the verification recipe in docs/alerts.md is run here exactly as written."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alerts.conftest import HookServer, hooks  # noqa: F401  (fixture)

from cxmetrics.alerts import AlertsConfig
from cxmetrics.alerts._deliver import send

DOCS = Path(__file__).resolve().parents[2] / "docs" / "alerts.md"
SECRET = "whsec-7c1e9a"
ALERT = {"alert_id": "sla-replay", "kind": "breached", "source": "zendesk", "ticket_id": "T-1", "metric": "first_reply",
         "cycle": 1, "policy": "VIP", "priority": "high", "channel": "chat", "team": "Tier 1", "assignee_id": None,
         "subject": "Where is my order?", "business_hours": False,
         "due_at": datetime(2025, 7, 1, 14, 0, tzinfo=UTC),
         "breached_at": datetime(2025, 7, 1, 14, 0, tzinfo=UTC),
         "seconds_left": -60.0, "timezone": "UTC",
         "detected_at": datetime(2025, 7, 1, 14, 1, tzinfo=UTC)}


def docs_recipe() -> dict[str, Any]:
    """The Python block under "Checking the signature" in docs/alerts.md, executed."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("Checking the signature", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, "docs/alerts.md has no Python recipe under 'Checking the signature'"
    scope: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOCS), "exec"), scope)  # noqa: S102 - our own docs
    return scope


def deliver(hooks: HookServer) -> tuple[bytes, dict[str, str]]:  # noqa: F811
    cfg = AlertsConfig.from_dict({"destinations": [{"name": "h", "type": "webhook", "url": hooks.url("/in"),
                                                    "secret_env": "HOOK_SECRET"}]},
                                 environ={"HOOK_SECRET": SECRET})
    dest = cfg.destinations[0]
    out = send(dest, cfg.secrets[dest.name], ALERT, 1, 5.0)
    assert out.ok, out.error
    [posted] = hooks.accepted
    return posted.body, posted.headers


def test_the_signature_covers_the_send_time_and_the_body(hooks: HookServer) -> None:  # noqa: F811
    before = int(time.time())
    body, headers = deliver(hooks)
    after = int(time.time())
    header = headers["X-Cxmetrics-Signature"]
    match = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", header)
    assert match, header
    t = int(match.group(1))
    assert before <= t <= after
    # by hand: HMAC-SHA256 of "<t>." + the raw body, under the shared secret
    assert match.group(2) == hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert "X-Cxmetrics-Signature-256" not in headers  # the replayable body-only signature is gone


def test_the_documented_recipe_accepts_fresh_deliveries_and_refuses_replays(hooks: HookServer) -> None:  # noqa: F811
    recipe = docs_recipe()
    verify, tolerance = recipe["verify"], recipe["TOLERANCE_S"]
    assert tolerance == 300  # the documented tolerance: 5 minutes
    body, headers = deliver(hooks)
    header = headers["X-Cxmetrics-Signature"]
    t = int(header.split(",")[0][2:])
    assert verify(SECRET, body, header)  # as received, now
    assert verify(SECRET, body, header, now=t + tolerance - 1)  # a little late: fine
    assert not verify(SECRET, body, header, now=t + tolerance + 1)  # replayed after the tolerance
    assert not verify(SECRET, body, header, now=t - tolerance - 1)  # from the future
    assert not verify("another secret", body, header)
    assert not verify(SECRET, body.replace(b"breached", b"at_risk"), header)  # body changed
    # a replay with a fresh time but the captured signature: the signature no longer holds
    forged = f"t={int(time.time()) + 1},{header.split(',')[1]}"
    assert not verify(SECRET, body, forged, now=t + 10_000)
    for junk in ("", "v1=abc", "t=x,v1=y", "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()):
        assert not verify(SECRET, body, junk)
