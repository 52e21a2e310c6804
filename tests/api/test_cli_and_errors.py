"""The `serve` and `keys` commands, the docs page, and the error shape of framework errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cxmetrics.api._cli import keys, serve
from cxmetrics.api._serve import bootstrap_key, check_port, is_loopback, url_for
from cxmetrics.errors import UserError
from tests.api.conftest import Api


@click.group()
@click.option("--workspace", "-w", type=click.Path(path_type=Path))
@click.pass_context
def cli(ctx: click.Context, workspace: Path) -> None:
    """Stands in for cxmetrics.cli.main, which passes the workspace the same way."""
    ctx.obj = {"workspace": workspace}


cli.add_command(keys)
cli.add_command(serve)


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    import cxmetrics

    cxmetrics.open(tmp_path / "ws", create=True).close()
    runner = CliRunner()
    made = runner.invoke(cli, ["-w", str(tmp_path / "ws"), "keys", "create", "wall", "--role", "viewer"])
    assert made.exit_code == 0, made.output
    token = next(w for w in made.output.split() if w.startswith("cxm_"))
    listed = runner.invoke(cli, ["-w", str(tmp_path / "ws"), "keys", "list", "--format", "json"])
    rows = json.loads(listed.output)
    assert [(r["name"], r["role"], r["revoked_at"]) for r in rows] == [("wall", "viewer", None)]
    assert token not in listed.output
    assert token.startswith(f"cxm_{rows[0]['key_id']}_")
    revoked = runner.invoke(cli, ["-w", str(tmp_path / "ws"), "keys", "revoke", rows[0]["key_id"]])
    assert revoked.exit_code == 0 and "Revoked" in revoked.output
    again = runner.invoke(cli, ["-w", str(tmp_path / "ws"), "keys", "revoke", rows[0]["key_id"]])
    assert "already" in again.output
    unknown = runner.invoke(cli, ["-w", str(tmp_path / "ws"), "keys", "revoke", "nope"])
    assert unknown.exit_code == 1 and "UnknownNameError: Unknown key id 'nope'" in unknown.output
    bad_role = runner.invoke(cli, ["-w", str(tmp_path / "ws"), "keys", "create", "x", "--role", "root"])
    assert bad_role.exit_code == 2
    missing = runner.invoke(cli, ["-w", str(tmp_path / "none"), "keys", "list"])
    assert missing.exit_code == 1 and "no workspace" in missing.output


def test_serve_refuses_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(UserError, match="--port"):
            check_port("127.0.0.1", port)
        result = CliRunner().invoke(cli, ["-w", str(tmp_path / "ws"), "serve", "--port", str(port), "--no-open"])
    assert result.exit_code == 1 and "cannot listen" in result.output


def test_hosts_and_urls() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and not is_loopback("0.0.0.0")
    assert not is_loopback("example.com")
    assert url_for("0.0.0.0", 8765) == "http://127.0.0.1:8765/" and url_for("::1", 80) == "http://[::1]:80/"


def test_first_start_gets_an_admin_key_once(tmp_path: Path) -> None:
    import cxmetrics
    from cxmetrics.api._keys import verify_token

    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        token = bootstrap_key(ws)
        assert token and verify_token(ws, token).role == "admin"
        assert bootstrap_key(ws) is None  # keys exist: none is made
        assert bootstrap_key(ws, new_key=True) not in (None, token)


def test_framework_errors_have_the_one_shape(api: Api) -> None:
    r = api.get("/api/v1/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found" and "/api/v1/nope" in r.json()["error"]["message"]
    r = api.client.put("/api/v1/metrics", headers=api.h())
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    r = api.get("/api/v1/tickets", params={"page": 0})
    err = r.json()["error"]
    assert r.status_code == 422 and err["code"] == "invalid_request" and "page" in err["message"]
    assert err["details"][0]["loc"] == ["query", "page"]


def test_docs_page_and_spec_work_offline(api: Api) -> None:
    spec = api.get("/api/v1/openapi.json", api.viewer).json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/health"]["get"]["security"] == []
    assert spec["paths"]["/api/v1/metrics"]["get"]["security"]
    assert "EventIn" in spec["components"]["schemas"]
    page = api.get("/api/v1/docs", api.viewer)
    assert page.status_code == 200 and "<script" not in page.text and "/api/v1/metrics" in page.text
    assert "http://" not in page.text.replace("http://127.0.0.1", "")  # nothing fetched from elsewhere


def test_a_parameter_an_endpoint_does_not_take_is_refused_not_ignored(api: Api) -> None:
    # ?channel=email used to be ignored: the answer was every channel's, and nothing said so
    everyone = api.get("/api/v1/metrics", params={"metrics": "tickets"}).json()["rows"][0]["n"]
    email = api.ws.sql("SELECT count(*) AS n FROM ticket_facts WHERE NOT excluded AND channel = 'email'")
    assert 0 < email.to_pylist()[0]["n"] < everyone
    r = api.get("/api/v1/metrics", params={"metrics": "tickets", "channel": "email"})
    err = r.json()["error"]
    assert r.status_code == 400 and err["code"] == "unknown_parameter" and err["details"]["unknown"] == ["channel"]
    assert "where=channel=email" in err["message"] and "metrics" in err["details"]["parameters"]
    # the form it names gives the email tickets
    r = api.get("/api/v1/metrics", params={"metrics": "tickets", "where": "channel=email"})
    assert r.json()["rows"][0]["n"] == email.to_pylist()[0]["n"]
    # a misspelt name gets the closest one; several are all named
    err = api.get("/api/v1/metrics", params={"metric": "csat", "zz": "1"}).json()["error"]
    assert err["details"]["unknown"] == ["metric", "zz"] and "did you mean 'metrics'?" in err["message"]
    # endpoints with path parameters, and those taking none, are checked the same way
    r = api.get("/api/v1/catalogue/csat", params={"lang": "fr"})
    assert r.status_code == 400 and "/api/v1/catalogue/{metric_id}" in r.json()["error"]["message"]
    assert api.get("/api/v1/catalogue/csat").status_code == 200
    r = api.get("/api/v1/imports/nope/quarantine", params={"limit": 5, "offset": 0})
    assert r.json().get("error", {}).get("code") != "unknown_parameter"  # (taken parameters pass)
    assert api.client.get("/api/v1/health", params={"probe": "1"}).status_code == 400
    # a help desk's webhook may carry parameters of its own: not refused for them
    r = api.client.post("/api/v1/webhooks/zendesk", params={"via": "trigger"}, content=b"{}")
    assert r.json().get("error", {}).get("code") != "unknown_parameter"
