"""alerts.toml: the documented example loads, every key is documented, mistakes are
refused naming the field and the fix, secrets stay secret."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cxmetrics import alerts
from cxmetrics.alerts import AlertsConfig, AlertsConfigError, parse_duration
from cxmetrics.alerts._config import EmailDestination, QuietHours, RetryPolicy, SlackDestination, WebhookDestination
from cxmetrics.alerts._message import payload

DOC = (Path(__file__).resolve().parents[2] / "docs" / "alerts.md").read_text(encoding="utf-8")
ENV = {"OPS_WEBHOOK_AUTH": "Bearer t0ken", "OPS_WEBHOOK_SECRET": "s3cret", "SLACK_WEBHOOK_URL":
       "https://hooks.slack.com/services/T0/B0/XYZ", "SMTP_USER": "mailer", "SMTP_PASSWORD": "pw"}


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.DOTALL)


def test_the_documented_example_loads_as_documented():
    [example] = blocks("toml")
    cfg = AlertsConfig.from_dict(tomllib.loads(example), environ=ENV)
    assert cfg.at_risk_before_s == 1800 and cfg.interval_s == 30 and cfg.backfill_s == 3600
    assert (cfg.retry.max_attempts, cfg.retry.base_delay, cfg.retry.max_delay, cfg.retry.timeout) == (8, 10, 1800, 10)
    assert [d.name for d in cfg.destinations] == ["ops-webhook", "support-slack", "leads-mail"]
    _, slack, mail = cfg.destinations
    assert cfg.secrets["ops-webhook"].headers["Authorization"].get_secret_value() == "Bearer t0ken"
    assert cfg.secrets["support-slack"].url.get_secret_value() == ENV["SLACK_WEBHOOK_URL"]
    assert slack.priorities == ("urgent", "high") and slack.quiet_hours is False
    assert mail.effective_port == 587 and mail.kinds[0].value == "breached" and mail.teams == ("Tier 2", "Billing")
    assert cfg.quiet_hours.hold.value == "at_risk" and len(cfg.quiet_hours.spans) == 2


def test_defaults_are_the_documented_ones():
    cfg = AlertsConfig.from_dict({})
    assert (cfg.at_risk_before_s, cfg.interval_s, cfg.backfill_s) == (1800, 30, 3600)
    assert cfg.retry == RetryPolicy(max_attempts=8, base_delay=10, max_delay=1800, timeout=10)
    assert "| `retry.max_attempts` | `8` |" in DOC and "| `at_risk_before` | `30m` |" in DOC


def test_every_key_is_documented():
    keys = {"at_risk_before", "interval", "backfill", *RetryPolicy.model_fields, "timezone", "hold", "spans"}
    for model in (WebhookDestination, SlackDestination, EmailDestination):
        keys |= {f.alias or n for n, f in model.model_fields.items()}
    assert set(QuietHours.model_fields) <= keys
    for key in keys:
        assert f"`{key}`" in DOC or f"`retry.{key}`" in DOC or f"`quiet_hours.{key}`" in DOC, key


def test_documented_payloads_have_the_fields_alerts_send():
    alert = {"alert_id": "sla-1", "kind": "at_risk", "source": "s", "ticket_id": "t", "metric": "first_reply",
             "cycle": 1, "policy": "p", "priority": None, "channel": None, "team": None, "assignee_id": None,
             "subject": None, "business_hours": False, "due_at": datetime(2025, 1, 1, tzinfo=UTC),
             "breached_at": None, "seconds_left": 60.0, "timezone": "UTC",
             "detected_at": datetime(2025, 1, 1, tzinfo=UTC)}
    real = payload(alert)
    for doc in (json.loads(b) for b in blocks("json")):
        assert doc.keys() == real.keys() and doc["ticket"].keys() == real["ticket"].keys()
        assert doc["sla"].keys() == real["sla"].keys()
        for key in [*(k for k in real if k not in ("ticket", "sla")), *(f"sla.{k}" for k in real["sla"]),
                    *(f"ticket.{k}" for k in real["ticket"])]:
            assert f"`{key}`" in DOC, key
    # the documented examples are what the code says for them
    at_risk, breached = (json.loads(b) for b in blocks("json"))
    for doc in (at_risk, breached):
        a = {**doc["ticket"], **{k: v for k, v in doc["sla"].items() if k not in ("due_at_local", "seconds_late")},
             "alert_id": doc["alert_id"], "kind": doc["kind"],
             "detected_at": datetime.fromisoformat(doc["detected_at"]),
             "due_at": datetime.fromisoformat(doc["sla"]["due_at"]),
             "breached_at": doc["sla"]["breached_at"] and datetime.fromisoformat(doc["sla"]["breached_at"])}
        a["seconds_left"] = doc["sla"]["seconds_left"]
        assert payload(a) == doc


def test_every_public_name_is_exported_sorted():
    public = sorted(n for n in dir(alerts) if not n.startswith("_") and n != "annotations" and
                    not isinstance(getattr(alerts, n), type(alerts)))
    assert alerts.__all__ == sorted(alerts.__all__) == public


@pytest.mark.parametrize("data, message", [
    ({"at_risk_befor": "1m"}, "unknown key 'at_risk_befor'. Did you mean 'at_risk_before'?"),
    ({"at_risk_before": "soon"}, "at_risk_before: 'soon' is not a duration"),
    ({"interval": "0s"}, "interval: must be more than 0"),
    ({"retry": {"max_attempts": 0}}, "retry.max_attempts: Input should be greater than or equal to 1"),
    ({"retry": {"base_delay": "-5s"}}, "retry.base_delay: '-5s' is not a duration"),
    ({"quiet_hours": {"hold": "some"}}, "quiet_hours.hold: Input should be 'at_risk' or 'all'"),
    ({"quiet_hours": {"timezone": "Mars/Olympus"}}, "quiet_hours.timezone: 'Mars/Olympus' is not an IANA time zone"),
    ({"destinations": {"name": "x"}}, "destinations must be a list of tables: write [[destinations]] blocks"),
    ({"destinations": [{"name": "x"}]}, "destinations[0]: type is missing; set type = \"webhook\""),
    ({"destinations": [{"name": "x", "type": "pager"}]}, "destinations[0]: type must be \"webhook\", \"slack\" or"),
    ({"destinations": [{"name": "x", "type": "webhook", "urll": "http://a"}]},
     "destinations[0].urll: unknown key for a webhook destination. Did you mean 'url'?"),
    ({"destinations": [{"name": "x", "type": "webhook"}]}, "give exactly one of url or url_env"),
    ({"destinations": [{"name": "x", "type": "webhook", "url": "ftp://a"}]}, "url must start with http:// or https://"),
    ({"destinations": [{"name": "x", "type": "slack", "url_env": "NOPE"}]},
     "destinations[0] (x): url_env: environment variable NOPE is not set"),
    ({"destinations": [{"name": "m", "type": "email", "host": "h", "to": "a@b"}]}, "destinations[0].from is missing"),
    ({"destinations": [{"name": "m", "type": "email", "host": "h", "from": "a@b", "to": ["nobody"]}]},
     "destinations[0].to: 'nobody' is not an e-mail address"),
    ({"destinations": [{"name": "m", "type": "email", "host": "h", "from": "a@b", "to": "c@d", "password_env": "P"}]},
     "give both username_env and password_env"),
    ({"destinations": [{"name": "m", "type": "email", "host": "h", "from": "a@b", "to": "c@d", "port": 70000}]},
     "destinations[0].port: Input should be less than or equal to 65535"),
    ({"destinations": [{"name": "m", "type": "email", "host": "h", "from": "a@b", "to": "c@d", "ca_file": "/no"}]},
     "destinations[0].ca_file: '/no' is not a file"),
    ({"destinations": [{"name": "a", "type": "slack", "url": "http://x"}, {"name": "a", "type": "slack",
                                                                         "url": "http://y"}]},
     "destination name 'a' is used twice"),
    ({"destinations": [{"name": "a", "type": "slack", "url": "http://x", "teams": []}]},
     "destinations[0].teams: an empty filter matches nothing"),
    ({"destinations": [{"name": "a", "type": "slack", "url": "http://x", "kinds": ["late"]}]},
     "destinations[0].kinds[0]: Input should be 'at_risk' or 'breached'"),
])
def test_mistakes_name_the_field_and_the_fix(data, message):
    with pytest.raises(AlertsConfigError) as err:
        AlertsConfig.from_dict(data, environ={})
    assert message in str(err.value)
    assert isinstance(err.value, cxmetrics_user_error())


def cxmetrics_user_error():
    from cxmetrics.errors import UserError

    return UserError


def test_files(tmp_path):
    with pytest.raises(AlertsConfigError, match="does not exist: create it"):
        AlertsConfig.load(tmp_path)
    (tmp_path / "alerts.toml").write_text("at_risk_before = \n")
    with pytest.raises(AlertsConfigError, match="is not valid TOML"):
        AlertsConfig.load(tmp_path)
    (tmp_path / "alerts.toml").write_text('at_risk_before = "1h"\n')
    assert AlertsConfig.load(tmp_path).at_risk_before_s == 3600
    assert AlertsConfig.load(tmp_path / "alerts.toml").at_risk_before_s == 3600


def test_secrets_never_show():
    cfg = AlertsConfig.from_dict({"destinations": [
        {"name": "h", "type": "webhook", "url_env": "U", "secret_env": "S", "headers_env": {"Authorization": "A"}},
        {"name": "m", "type": "email", "host": "h", "from": "a@b", "to": "c@d", "username_env": "N",
         "password_env": "P"}]}, environ={"U": "https://x/SECRETPATH", "S": "SIGNKEY", "A": "Bearer HDR", "N": "usr",
                                          "P": "PASSWD"})
    shown = repr(cfg) + str(cfg) + cfg.model_dump_json() + repr(cfg.secrets)
    for secret in ("SECRETPATH", "SIGNKEY", "Bearer HDR", "PASSWD"):
        assert secret not in shown


@pytest.mark.parametrize("text, seconds", [("30m", 1800), ("1h30m", 5400), ("45s", 45), ("2d", 172800),
                                           ("1.5h", 5400), ("90", 90), (90, 90), ("250ms", 0.25), ("1h 5m", 3900)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5 minutes", "m5", "-5m", "1h-", True])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="not a duration|negative"):
        parse_duration(text)
