"""Configuration carried over (issue 12, item 4): each help desk's schedules and SLA
policies, from saved API responses or through its API, become a schedules.toml and
sla.toml our own loaders accept, meaning what they meant in the help desk.

Business times below are worked by hand from the fixtures (tests/connectors/fixtures/
<vendor>/config/, written from the vendors' API reference examples; see their README).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from cxmetrics.calendar import ScheduleSet
from cxmetrics.cli import main
from cxmetrics.connectors import freshdesk
from cxmetrics.connectors._rails_zones import RAILS_ZONES, iana_zone
from cxmetrics.connectors.config import carry_over, convert
from cxmetrics.sla import SlaPolicies
from _fake_api import Faults, serve

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date(2026, 6, 1)  # recurring holidays are written for 2025-2028
H = 3600


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def written(tmp_path: Path, vendor: str) -> tuple[ScheduleSet, SlaPolicies, tuple[str, ...]]:
    """Carry `vendor`'s fixture configuration into a fresh folder and load it back with
    the workspace's own loaders."""
    folder = tmp_path / vendor
    result = carry_over(folder, vendor, source=FIXTURES / vendor / "config", write=True, today=TODAY)
    return (ScheduleSet.load(folder / "schedules.toml"), SlaPolicies.load(folder / "sla.toml"),
            result.carried.warnings)


def by_name(policies: SlaPolicies) -> dict[str, Any]:
    return {p.name: p for p in policies.policies}


# -- Zendesk ------------------------------------------------------------------------------------


def test_zendesk_schedule_means_what_zendesk_means(tmp_path: Path) -> None:
    ss, _, warnings = written(tmp_path, "zendesk")
    ny = ss.default
    assert (ny.name, ny.timezone) == ("new_york_support", "America/New_York")  # "Eastern Time (US & Canada)"
    # Wed 25 Nov 2026 16:00 EST -> Mon 30 Nov 10:00 EST: Wed 16-17, Thanksgiving Thu-Fri and the
    # weekend closed, Mon 09-10: 2 hours
    assert ny.business_seconds(utc(2026, 11, 25, 21), utc(2026, 11, 30, 15)) == 2 * H
    # Fri 30 Oct 16:00 EDT -> Mon 2 Nov 10:00 EST, across the end of DST: still 1 h + 1 h
    assert ny.business_seconds(utc(2026, 10, 30, 20), utc(2026, 11, 2, 15)) == 2 * H
    # Christmas Day is a holiday: Thu 24 Dec 16:00 -> Mon 28 Dec 10:00 EST is Thu 16-17 + Mon 9-10
    assert ny.business_seconds(utc(2026, 12, 24, 21), utc(2026, 12, 28, 15)) == 2 * H
    # intervals counted from Sunday midnight: 600-840 is Sunday 10-14, 9240-9480 Saturday 10-14
    berlin = ss["berlin_weekend_desk"]
    assert berlin.timezone == "Europe/Berlin"
    # Sat 28 Mar 2026 13:00 CET -> Sun 29 Mar 11:00 CEST (clocks went forward that night)
    assert berlin.business_seconds(utc(2026, 3, 28, 12), utc(2026, 3, 29, 9)) == 2 * H
    assert any("triggers" in w and "berlin_weekend_desk" in w for w in warnings)


def test_zendesk_sla_policies_keep_order_targets_and_conditions(tmp_path: Path) -> None:
    _, policies, warnings = written(tmp_path, "zendesk")
    assert policies.names() == ["Enterprise", "Email Tier 2", "Everyone else"]  # Zendesk's position order
    p = by_name(policies)
    ent = p["Enterprise"]
    # tags includes "enterprise vip"; priority greater_than normal
    assert ent.conditions.given() == {"priority": ("high", "urgent"), "tags": ("enterprise", "vip")}
    frt = ent.target("first_reply")
    assert (frt.seconds, frt.business) == ({"urgent": 30 * 60, "high": 60 * 60}, True)
    assert ent.target("next_reply").seconds == {"urgent": H, "high": 2 * H}
    assert ent.target("periodic_update").business is False
    assert ent.target("requester_wait").seconds == {"urgent": 8 * H}
    email = p["Email Tier 2"]
    assert email.conditions.given() == {"channel": ("email",), "team": ("Tier 2 US",)}  # via_id 4, group 360000111
    assert email.target("first_reply").seconds == {"normal": 4 * H, "high": 2 * H, "low": 8 * H}
    assert email.target("agent_work_time").seconds == {"normal": 16 * H}
    rest = p["Everyone else"]
    assert rest.conditions.given() == {}
    assert rest.target("pausable_update").seconds == {"normal": 24 * H}
    assert (rest.target("total_resolution").seconds, rest.target("total_resolution").business) == \
        ({"urgent": 48 * H}, False)
    # what cannot be expressed is named, never dropped silently
    text = "\n".join(warnings)
    assert "condition type is 'incident'" in text
    assert "group_ownership_time" in text
    assert "organization_id is '3600001'" in text
    assert "calendar hours for low" in text


# -- Freshdesk ----------------------------------------------------------------------------------


def test_freshdesk_business_hours_and_group_rules(tmp_path: Path) -> None:
    ss, _, warnings = written(tmp_path, "freshdesk")
    d = ss.default  # is_default: true
    assert (d.name, d.timezone) == ("default", "America/New_York")
    # Fri 6 Mar 2026 22:00 EST -> Mon 9 Mar 09:00 EDT (DST began Sunday): Friday runs to "11:59:59 pm",
    # the day's end, so Fri 22-24 + Mon 08-09 = 3 hours
    assert d.business_seconds(utc(2026, 3, 7, 3), utc(2026, 3, 9, 13)) == 3 * H
    # "--12-25" is every 25 December: Thu 24 Dec 16:00 -> Mon 28 Dec 09:00 EST is Thu 16-17 + Mon 8-9
    assert d.business_seconds(utc(2026, 12, 24, 21), utc(2026, 12, 28, 14)) == 2 * H
    assert date(2028, 12, 25) in d.holiday_dates(2028)
    # the group US West follows business hours 35000009127; others the default
    west = ss.schedule_for(team="US West")
    assert (west.name, west.timezone) == ("americas_west", "America/Los_Angeles")
    assert ss.schedule_for(team="Tier 1").name == "default"
    assert west.business_seconds(utc(2026, 6, 6, 16), utc(2026, 6, 6, 22)) == 4 * H  # Sat 10-14 PDT
    assert any("repeat every year" in w for w in warnings)


def test_freshdesk_sla_targets_per_priority(tmp_path: Path) -> None:
    _, policies, warnings = written(tmp_path, "freshdesk")
    assert policies.names() == ["Service Agent SLA Policy", "Default SLA Policy"]  # the default one last
    agent = by_name(policies)["Service Agent SLA Policy"]
    # applicable_to: group 8001 (Tier 1), sources 1 (email) and 7 (chat)
    assert agent.conditions.given() == {"channel": ("chat", "email"), "team": ("Tier 1",)}
    frt = agent.target("first_reply")
    assert frt.business is True
    # priority_4 urgent ... priority_1 low, named as the Freshdesk import names them
    assert frt.seconds == {"urgent": 1200, "high": 1800, "medium": 3600, "low": 7200}
    assert set(frt.seconds) == set(freshdesk.PRIORITIES.values())
    assert agent.target("requester_wait").seconds == {"urgent": 2 * H, "high": 4 * H, "medium": 8 * H, "low": 16 * H}
    default = by_name(policies)["Default SLA Policy"]
    assert default.conditions.given() == {}
    assert (default.target("first_reply").seconds["low"], default.target("first_reply").business) == (86400, False)
    text = "\n".join(warnings)
    assert "company_ids [43000596607] cannot be expressed" in text
    assert "'Old trial policy' is not active" in text
    assert "escalations" in text


# -- Intercom and Chatwoot ----------------------------------------------------------------------


def test_intercom_office_hours(tmp_path: Path) -> None:
    folder = tmp_path / "intercom"
    result = carry_over(folder, "intercom", source=FIXTURES / "intercom" / "config", write=True, today=TODAY)
    assert [f.name for f in result.files] == ["schedules.toml"]  # no SLA policies from Intercom
    ss = ScheduleSet.load(folder / "schedules.toml")
    std = ss.default
    # Christmas Day is closed every year; Christmas Eve's shorter hours cannot be said and are warned about
    assert std.business_seconds(utc(2026, 12, 24, 21), utc(2026, 12, 28, 15)) == 2 * H
    assert date(2027, 12, 25) in std.holiday_dates(2027)
    night = ss["night_shift"]
    # Mon 22:00 -> Tue 06:00 London (minutes 1320-1800 of the week): Mon 22:00 BST to Tue 07:00 BST is 8 h
    assert night.business_seconds(utc(2026, 6, 1, 21), utc(2026, 6, 2, 6)) == 8 * H
    text = "\n".join(result.carried.warnings)
    assert "Christmas Eve" in text and "SLA rules are not read" in text


def test_chatwoot_inbox_working_hours_and_sla(tmp_path: Path) -> None:
    ss, policies, warnings = written(tmp_path, "chatwoot")
    web = ss.default
    assert (web.name, web.timezone) == ("website", "Asia/Kolkata")
    # Fri 6 Mar 2026 17:00 IST -> Mon 9 Mar 10:00 IST: Fri 17-18, Sat 10-14, Sun closed, Mon 9-10 = 6 h
    assert web.business_seconds(utc(2026, 3, 6, 11, 30), utc(2026, 3, 9, 4, 30)) == 6 * H
    mail = ss.schedule_for(channel="email")
    assert (mail.name, mail.timezone) == ("support_email", "Europe/Berlin")
    # Mon 2 Mar 2026 08:00 -> 09:00 CET: the inbox opens at 08:30
    assert mail.business_seconds(utc(2026, 3, 2, 7), utc(2026, 3, 2, 8)) == 1800
    assert ss.schedule_for(channel="messaging").is_always  # WhatsApp: working hours off
    premium, standard = policies.policies
    assert premium.target("first_reply").seconds == {"default": 1800} and premium.target("first_reply").business
    assert premium.target("total_resolution").seconds == {"default": 86400}
    assert standard.target("next_reply") is None  # no threshold set
    assert (standard.target("total_resolution").seconds, standard.target("total_resolution").business) == \
        ({"default": 259200}, False)
    assert any("automation rule" in w for w in warnings)


def test_unknown_time_zone_is_a_warning_not_a_wrong_schedule() -> None:
    carried = convert("zendesk", [("schedules.json", {"schedules": [
        {"id": 1, "name": "Lost", "time_zone": "Atlantis", "intervals": [{"start_time": 1980, "end_time": 2460}]},
        {"id": 2, "name": "Found", "time_zone": "Tokyo", "intervals": [{"start_time": 1980, "end_time": 2460}]}]})])
    assert carried.schedules is not None and carried.schedules.names == ["found"]
    assert carried.schedules.default.timezone == "Asia/Tokyo"
    assert any("'Atlantis'" in w for w in carried.warnings)


def test_every_rails_zone_is_a_real_iana_zone() -> None:
    for rails, iana in RAILS_ZONES.items():
        assert ZoneInfo(iana) and iana_zone(rails) in (iana, "UTC")


# -- the command line ---------------------------------------------------------------------------


def test_cli_shows_without_writing_then_writes_and_keeps_bak(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    old_sla = '[[policy]]\nname = "Mine"\n[policy.targets]\nfirst_reply = { default = "2h" }\n'
    (ws / "sla.toml").write_text(old_sla, encoding="utf-8")
    runner = CliRunner()
    args = ["-w", str(ws), "sync", "freshdesk", "--config", "--from", str(FIXTURES / "freshdesk" / "config")]
    shown = runner.invoke(main, args)
    assert shown.exit_code == 0, shown.output
    assert "--- schedules.toml (new; the workspace has none) ---" in shown.output
    assert "--- sla.toml: changes ---" in shown.output and '-name = "Mine"' in shown.output
    assert "company_ids" in shown.output and "Nothing written" in shown.output
    assert sorted(p.name for p in ws.iterdir()) == ["sla.toml"]  # nothing written without --write
    assert (ws / "sla.toml").read_text(encoding="utf-8") == old_sla

    done = runner.invoke(main, [*args, "--write"])
    assert done.exit_code == 0, done.output
    assert "wrote sla.toml (the previous one is sla.toml.bak)" in done.output
    assert (ws / "sla.toml.bak").read_text(encoding="utf-8") == old_sla
    assert SlaPolicies.load(ws / "sla.toml").names() == ["Service Agent SLA Policy", "Default SLA Policy"]
    assert ScheduleSet.load(ws / "schedules.toml").default.name == "default"
    again = runner.invoke(main, args)  # the workspace now holds exactly this configuration
    assert "--- sla.toml: unchanged ---" in again.output and "Nothing to write" in again.output


def test_write_and_from_need_config(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["-w", str(tmp_path), "sync", "zendesk", "--write"])
    assert result.exit_code == 2 and "go with --config" in result.output


# -- through the API ----------------------------------------------------------------------------


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def routes_for(vendor: str) -> dict[str, Any]:
    cfg = FIXTURES / vendor / "config"
    if vendor == "zendesk":
        return {"/api/v2/business_hours/schedules": _read(cfg / "schedules.json"),
                "/api/v2/business_hours/schedules/360000001/holidays": _read(cfg / "holidays-360000001.json"),
                "/api/v2/business_hours/schedules/360000002/holidays": {"holidays": []},
                "/api/v2/slas/policies": _read(cfg / "sla_policies.json"), "/api/v2/groups": _read(cfg / "groups.json")}
    if vendor == "freshdesk":
        return {f"/api/v2/{n}": _read(cfg / f"{n}.json") for n in ("business_hours", "sla_policies", "groups")}
    if vendor == "intercom":
        return {"/office_hours_schedules": _read(cfg / "office_hours_schedules.json"),
                "/office_hours_schedules/123/office_hours_exceptions": _read(cfg / "office_hours_exceptions-123.json"),
                "/office_hours_schedules/124/office_hours_exceptions": {"type": "list", "data": []}}
    return {"/api/v1/accounts/7/inboxes": _read(cfg / "inboxes.json"),
            "/api/v1/accounts/7/sla_policies": _read(cfg / "sla_policies.json")}


class JsonApp:
    """Serves fixed JSON bodies by path (404 otherwise) and keeps each request's headers."""

    def __init__(self, routes: dict[str, Any]) -> None:
        self.routes = routes
        self.headers: list[dict[str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.headers.append({k.decode().lower(): v.decode() for k, v in scope["headers"]})
        body = self.routes.get(scope["path"])
        await send({"type": "http.response.start", "status": 200 if body is not None else 404,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps(body if body is not None else {}).encode()})


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CXM_CONFIG_TEST_TOKEN", "s3cret-token")
    yield "CXM_CONFIG_TEST_TOKEN"


@pytest.mark.parametrize("vendor", ["zendesk", "freshdesk", "intercom", "chatwoot"])
def test_api_gives_what_the_saved_responses_give(vendor: str, tmp_path: Path, token: str) -> None:
    app = JsonApp(routes_for(vendor))
    # one server error on the second request: the client retries it
    with serve(Faults(app, {2: "500"})) as url:
        ws = tmp_path / "ws"
        ws.mkdir()
        extra = {"zendesk": 'email = "admin@example.com"\n', "chatwoot": 'account_id = "7"\n'}.get(vendor, "")
        (ws / "settings.toml").write_text(f'[connectors.{vendor}]\nbase_url = "{url}"\ntoken_env = "{token}"\n{extra}',
                                          encoding="utf-8")
        live = carry_over(ws, vendor, today=TODAY)
    saved = carry_over(tmp_path / "files", vendor, source=FIXTURES / vendor / "config", today=TODAY)
    assert [(f.name, f.new) for f in live.files] == [(f.name, f.new) for f in saved.files]
    assert live.carried.warnings == saved.carried.warnings
    assert not (ws / "schedules.toml").exists()  # shown, not written
    sent = app.headers[-1]
    signed_in = {"zendesk": ("authorization", "Basic " + base64.b64encode(b"admin@example.com/token:s3cret-token").decode()),
                 "freshdesk": ("authorization", "Basic " + base64.b64encode(b"s3cret-token:X").decode()),
                 "intercom": ("authorization", "Bearer s3cret-token"),
                 "chatwoot": ("api_access_token", "s3cret-token")}[vendor]
    assert sent[signed_in[0]] == signed_in[1]
    if vendor == "intercom":
        assert sent["intercom-version"] == "2.16"  # office hours need API 2.16


def test_a_response_of_another_shape_is_a_clear_error(tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "schedules.json").write_text(json.dumps({"schedules": [
        {"id": 1, "name": "Office", "time_zone": "UTC", "intervals": [{"start": 1980, "end": 2460}]}]}))
    result = CliRunner().invoke(main, ["-w", str(tmp_path / "ws"), "sync", "zendesk", "--config", "--from",
                                       str(saved)])
    assert result.exit_code == 1
    assert "UserError: The zendesk configuration is not shaped as its API returns it (KeyError: 'start_time')" \
        in result.output


def test_chatwoot_without_sla_api_still_carries_working_hours(tmp_path: Path, token: str) -> None:
    routes = routes_for("chatwoot")
    del routes["/api/v1/accounts/7/sla_policies"]  # a Community edition: 404
    with serve(JsonApp(routes)) as url:
        (tmp_path / "settings.toml").write_text(
            f'[connectors.chatwoot]\nbase_url = "{url}"\ntoken_env = "{token}"\naccount_id = "7"\n', encoding="utf-8")
        result = carry_over(tmp_path, "chatwoot", today=TODAY)
    assert [f.name for f in result.files] == ["schedules.toml"]
    assert any("no SLA policies API" in w for w in result.carried.warnings)
