"""The senders against real loopback servers: what counts as transient or permanent,
signatures, SMTP with STARTTLS, implicit TLS and login."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import ssl
import subprocess
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from alerts.conftest import MailHandler, free_port

from cxmetrics.alerts import SIGNATURE_HEADER, AlertsConfig
from cxmetrics.alerts._deliver import send

ALERT = {"alert_id": "sla-abc", "kind": "breached", "source": "zendesk", "ticket_id": "T-9", "metric": "next_reply",
         "cycle": 2, "policy": "VIP", "priority": "high", "channel": "chat", "team": "Tier 2", "assignee_id": None,
         "subject": "Ünïcode subject", "business_hours": True,
         "due_at": datetime(2025, 7, 1, 14, 0, tzinfo=UTC),
         "breached_at": datetime(2025, 7, 1, 14, 0, tzinfo=UTC), "seconds_left": -4500.0,
         "timezone": "America/New_York", "detected_at": datetime(2025, 7, 1, 15, 15, tzinfo=UTC)}


def one(dest: dict, environ: dict | None = None):
    cfg = AlertsConfig.from_dict({"destinations": [dest]}, environ=environ or {})
    d = cfg.destinations[0]
    return lambda alert=ALERT, attempt=1: send(d, cfg.secrets[d.name], alert, attempt, 5.0)


def test_webhook_payload_headers_and_signature(hooks):
    out = one({"name": "h", "type": "webhook", "url": hooks.url("/x"), "secret_env": "K",
               "headers": {"X-A": "1"}}, {"K": "k3y"})(attempt=3)
    assert out.ok
    [p] = hooks.accepted
    assert p.headers["Content-Type"] == "application/json" and p.headers["X-A"] == "1"
    assert p.headers["X-Cxmetrics-Event"] == "sla.breached" and p.headers["X-Cxmetrics-Attempt"] == "3"
    t, v1 = (part.split("=", 1)[1] for part in p.headers[SIGNATURE_HEADER].split(","))
    assert v1 == hmac.new(b"k3y", t.encode() + b"." + p.body, hashlib.sha256).hexdigest()
    body = p.json
    # due 14:00 UTC = 10:00 EDT (UTC-4 in July); seen 15:15 UTC: 75 min = 4500 s late
    assert body["sla"]["due_at_local"] == "2025-07-01T10:00:00-04:00"
    assert body["sla"]["seconds_late"] == 4500 and body["sla"]["cycle"] == 2
    assert body["ticket"]["subject"] == "Ünïcode subject" and body["ticket"]["assignee_id"] is None
    assert body["text"] == ("SLA breached: ticket T-9 (zendesk), next reply (cycle 2) was due Tue 1 Jul 2025 10:00 "
                            "EDT, 1 h 15 min late. Policy VIP, priority high, team Tier 2, unassigned.")


@pytest.mark.parametrize("status, permanent", [(500, False), (503, False), (429, False), (408, False),
                                               (400, True), (401, True), (404, True), (410, True)])
def test_http_statuses(hooks, status, permanent):
    hooks.fail_first, hooks.fail_status = 1, status
    out = one({"name": "s", "type": "slack", "url": hooks.url("/s")})()
    assert not out.ok and out.permanent is permanent and out.error.startswith(f"HTTP {status}")


def test_redirects_are_not_followed():
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out = one({"name": "h", "type": "webhook", "url": f"http://127.0.0.1:{server.server_address[1]}/"})()
    finally:
        server.shutdown()
        server.server_close()
    assert not out.ok and out.permanent and "redirect not followed" in out.error


def test_a_silent_server_times_out_as_a_transient_error():
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        cfg = AlertsConfig.from_dict({"destinations": [
            {"name": "h", "type": "webhook", "url": f"http://127.0.0.1:{listener.getsockname()[1]}/"}]})
        d = cfg.destinations[0]
        out = send(d, cfg.secrets["h"], ALERT, 1, 0.5)
    finally:
        listener.close()
    assert not out.ok and not out.permanent and "0.5 s" in out.error


# -- e-mail over TLS, with login ---------------------------------------------------------

@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "key.pem"),
                    "-out", str(d / "cert.pem"), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


def _server_context(cert) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    return ctx


def _authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = auth_data.login == b"mailer" and auth_data.password == b"pa55word"
    return AuthResult(success=ok, handled=False)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_email_over_tls_with_login(cert, security):
    handler = MailHandler()
    port = free_port()
    kw = {"authenticator": _authenticator, "auth_require_tls": True}
    if security == "starttls":
        controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=_server_context(cert),
                                require_starttls=True, **kw)
    else:
        # (aiosmtpd does not count implicit TLS as TLS for its auth_require_tls check)
        controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=_server_context(cert),
                                **{**kw, "auth_require_tls": False})
    controller.start()
    try:
        dest = {"name": "m", "type": "email", "host": "127.0.0.1", "port": port, "security": security,
                "ca_file": str(cert[0]), "username_env": "U", "password_env": "P",
                "from": "SLA <sla@example.com>", "to": ["a@example.com"]}
        good = one(dest, {"U": "mailer", "P": "pa55word"})()
        bad = one(dest, {"U": "mailer", "P": "wrong"})()
        untrusted = one({**dest, "ca_file": None}, {"U": "mailer", "P": "pa55word"})()
    finally:
        controller.stop()
    assert good.ok, good.error
    [(sender, rcpts, msg)] = handler.messages
    assert sender == "sla@example.com" and rcpts == ["a@example.com"]
    assert msg["Subject"] == "[SLA breached] Ticket T-9: next reply, 1 h 15 min late"
    assert msg["X-Cxmetrics-Alert-Id"] == "sla-abc" and msg["Message-ID"].endswith("@example.com>")
    body = msg.get_payload(decode=True).decode()
    assert "Due: Tue 1 Jul 2025 10:00 EDT" in body and "Subject: Ünïcode subject" in body
    assert not bad.ok and bad.permanent and bad.error.startswith("SMTP 535")
    assert not untrusted.ok and untrusted.permanent and "certificate" in untrusted.error


def test_email_to_a_closed_port_is_transient():
    out = one({"name": "m", "type": "email", "host": "127.0.0.1", "port": free_port(), "security": "none",
               "from": "sla@example.com", "to": "a@example.com"})()
    assert not out.ok and not out.permanent and out.error == "cannot connect: connection refused"
