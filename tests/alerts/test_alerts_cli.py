"""`cxmetrics sla watch`: once at a given time, printing what it sent; clear errors."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import cxmetrics
from cxmetrics.alerts._cli import watch

POLICIES = """
[[policy]]
name = "Urgent"
conditions = { priority = ["urgent"] }
[policy.targets]
first_reply = { urgent = "1h" }
"""


def cli() -> click.Group:
    """The real `cxmetrics` command when `sla watch` is wired into it, else the same
    shape around the command: a root with --workspace and an `sla` group."""
    from cxmetrics.cli import main

    sla = main.commands.get("sla")
    if isinstance(sla, click.Group) and "watch" in sla.commands:
        return main

    @click.group()
    @click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path))
    @click.pass_context
    def root(ctx: click.Context, workspace: Path) -> None:
        ctx.obj = {"workspace": workspace}

    group = click.Group("sla")
    group.add_command(watch)
    root.add_command(group)
    return root


@pytest.fixture
def workspace(tmp_path, hooks) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    (path / "sla.toml").write_text(POLICIES)
    (path / "alerts.toml").write_text(f"""
at_risk_before = "30m"
[[destinations]]
name = "ops-hook"
type = "webhook"
url = "{hooks.url('/hook')}"
secret_env = "OPS_HOOK_SECRET"
""")
    events = tmp_path / "events.csv"
    events.write_text("event_id,ticket_id,ts,kind,actor_type,priority\n"
                      "E1,T-1,2025-03-03T09:00:00Z,created,customer,urgent\n")
    with cxmetrics.open(path, create=True) as ws:
        ws.configure(timezone="Europe/Berlin")
        ws.import_file("events", events)
    return path


def run(path: Path, *args: str):
    return CliRunner().invoke(cli(), ["--workspace", str(path), "sla", "watch", *args],
                              env={"OPS_HOOK_SECRET": "x" * 16})


def test_once_at_a_given_time_prints_each_delivery_and_a_summary(workspace, hooks):
    r = run(workspace, "--once", "--now", "2025-03-03T09:35:00Z")
    assert r.exit_code == 0, r.output
    assert "at_risk  ticket T-1 first_reply (Urgent) -> ops-hook: delivered (attempt 1)" in r.output
    assert "2025-03-03 09:35:00Z: 1 new alert(s), 1 delivered" in r.output
    # the same moment again: recorded already, nothing is sent twice
    r = run(workspace, "--once", "--now", "2025-03-03T09:36:00Z")
    assert "0 new alert(s), 0 delivered" in r.output and len(hooks.accepted) == 1
    # a naive time is read in the workspace's zone: 11:02 in Berlin is 10:02 UTC, past due
    r = run(workspace, "--once", "--now", "2025-03-03T11:02:00")
    assert "2025-03-03 10:02:00Z: 1 new alert(s), 1 delivered" in r.output
    assert "breached ticket T-1 first_reply (Urgent) -> ops-hook: delivered" in r.output
    assert [p.json["kind"] for p in hooks.accepted] == ["at_risk", "breached"]


def test_a_failing_destination_is_reported_with_its_retry(workspace, hooks):
    hooks.fail_first = 1
    r = run(workspace, "--once", "--now", "2025-03-03T09:35:00Z")
    assert r.exit_code == 0, r.output
    assert "attempt 1 failed (HTTP 500 Internal Server Error: boom); retry at 09:35:10 UTC" in r.output
    assert "1 waiting (next at 2025-03-03 09:35:10Z)" in r.output


def test_errors_say_what_to_fix(workspace, tmp_path):
    (workspace / "alerts.toml").unlink()
    r = run(workspace, "--once")
    assert r.exit_code == 1 and "AlertsConfigError" in r.output and "does not exist: create it" in r.output
    (workspace / "alerts.toml").write_text('at_risk_before = "soon"\n')
    r = run(workspace, "--once")
    assert r.exit_code == 1 and "at_risk_before: 'soon' is not a duration" in r.output
    r = run(workspace, "--interval", "often")
    assert r.exit_code == 2 and "'often' is not a duration" in r.output
    r = run(workspace, "--interval", "30")
    assert r.exit_code == 2 and "give a unit, e.g. 30s or 30m" in r.output
    r = run(workspace, "--now", "2025-03-03T09:35:00Z")
    assert r.exit_code == 2 and "--now only works with --once" in r.output
    r = run(tmp_path / "nowhere", "--once")
    assert r.exit_code == 1 and "no workspace at" in r.output
