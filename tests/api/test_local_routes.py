"""The CLI and the library while a server holds the workspace (issue 10, item 2): a real
`cxmetrics serve` in one process; the CLI and a `cxmetrics.open()` script in others. They
must work, print what they print without a server, and agree with the dashboard's API.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import cxmetrics
from cxmetrics.api import create_app
from cxmetrics.api.auth import create_key
from tests._serve import free_port, serving

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

# new tickets for the import tests: one satisfied email customer, one bad row
NEW_TICKETS = "ticket_id,created_at,channel,csat\nLR-1,2026-01-05 10:00,email,5\nLR-2,not a date,email,4\n"


def cli(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`cxmetrics ARGS` in another process, as a user types it."""
    env = {k: v for k, v in os.environ.items() if k != "CXMETRICS_WORKSPACE"}
    return subprocess.run([sys.executable, "-m", "cxmetrics", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


@dataclass
class Served:
    path: Path  # the workspace the server holds
    copy: Path  # an untouched copy of it as it was when the server started (no server)
    cwd: Path
    url: str
    key: str
    process: subprocess.Popen[str]

    def api(self, route: str, **params: object) -> dict:
        r = httpx.get(f"{self.url}/api/v1/{route}", params=params, headers={"Authorization": f"Bearer {self.key}"},
                      timeout=60)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="module")
def served(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("local-routes")
    path, copy = root / "ws", root / "copy"
    shutil.copytree(demo_dir, path)
    with cxmetrics.open(path) as ws:
        _, key = create_key(ws, "test admin", "admin")
    shutil.copytree(path, copy)
    with serving(path, cwd=root) as (url, process):
        yield Served(path, copy, root, url, key, process)
    out = process.communicate(timeout=30)[0]  # (stopped by now)
    assert "Traceback" not in out, out


def _by_channel(rows: list[dict]) -> dict[str, tuple[float, int]]:
    return {r["channel"]: (round(r["value"], 9), r["n"]) for r in rows}


def test_cli_metrics_while_serving_prints_what_it_prints_without_a_server(served: Served) -> None:
    shown = cli("-w", "ws", "metrics", "csat", "--by", "channel", cwd=served.cwd)
    assert shown.returncode == 0, shown.stderr
    alone = cli("-w", "copy", "metrics", "csat", "--by", "channel", cwd=served.cwd)  # the same data, no server
    assert alone.returncode == 0, alone.stderr
    assert shown.stdout == alone.stdout and "csat" in shown.stdout and "email" in shown.stdout
    as_json = cli("-w", "ws", "metrics", "csat", "--by", "channel", "--format", "json", cwd=served.cwd)
    api = served.api("metrics", metrics="csat", by="channel")
    assert _by_channel(json.loads(as_json.stdout)) == _by_channel(api["rows"])


def test_a_user_error_reads_and_exits_as_without_a_server(served: Served) -> None:
    for args, code in ((["metrics", "csatt"], 1), (["metrics", "csat", "--grain", "fortnight"], 2)):
        shown = cli("-w", "ws", *args, cwd=served.cwd)
        alone = cli("-w", "copy", *args, cwd=served.cwd)
        assert (shown.returncode, shown.stderr, shown.stdout) == (alone.returncode, alone.stderr, alone.stdout)
        assert shown.returncode == code
    unknown = cli("-w", "ws", "metrics", "csatt", cwd=served.cwd)
    assert unknown.stderr.startswith("UnknownNameError: Unknown metric 'csatt'. Did you mean 'csat'?")


def test_cli_import_while_serving_shows_on_the_dashboard_at_once(served: Served) -> None:
    before = _by_channel(served.api("metrics", metrics="csat", by="channel")["rows"])
    (served.cwd / "data").mkdir(exist_ok=True)
    (served.cwd / "data" / "new.csv").write_text(NEW_TICKETS)
    # a relative path: the server reads the file this shell's folder names
    imported = cli("-w", "ws", "import", "tickets", "data/new.csv", "--format", "json", cwd=served.cwd)
    assert imported.returncode == 0, imported.stderr
    summary = json.loads(imported.stdout)
    assert (summary["read"], summary["inserted"], summary["quarantined"]) == (2, 1, 1)
    after = _by_channel(served.api("metrics", metrics="csat", by="channel")["rows"])
    value, n = before["email"]
    # one more satisfied answer: the share moves from k/n to (k+1)/(n+1)
    assert after["email"][1] == n + 1
    assert after["email"][0] == pytest.approx((value / 100 * n + 1) / (n + 1) * 100)
    assert {k: v for k, v in after.items() if k != "email"} == {k: v for k, v in before.items() if k != "email"}
    logged = [r for r in served.api("imports")["rows"] if r["import_id"] == summary["import_id"]]
    assert logged and logged[0]["inserted"] == 1 and logged[0]["quarantined"] == 1

    rejected = cli("-w", "ws", "quarantine", "--import", summary["import_id"], "--format", "json", cwd=served.cwd)
    assert rejected.returncode == 0, rejected.stderr
    rows = json.loads(rejected.stdout)
    assert len(rows) == 1 and rows[0]["line"] == 3 and "LR-2" in rows[0]["raw"]
    assert rows[0]["file"] == str(served.cwd / "data" / "new.csv")


def test_a_notebook_script_works_through_the_server(served: Served) -> None:
    (served.cwd / "script").mkdir(exist_ok=True)
    (served.cwd / "script" / "more.csv").write_text("ticket_id,created_at,channel,csat\nLR-9,2026-01-07 09:00,chat,1\n")
    script = textwrap.dedent("""
        import json, sys, cxmetrics, pyarrow as pa
        with cxmetrics.open("../ws") as ws:
            kind = type(ws).__name__
            before = ws.metrics("csat", by="channel").table.to_pylist()
            summary = ws.import_file("tickets", "more.csv")
            after = ws.metrics(["csat"], by=["channel"]).table.to_pylist()
            n = ws.sql("SELECT count(*) AS n FROM tickets WHERE ticket_id = ?", ["LR-9"]).to_pylist()[0]["n"]
            counted = ws.counts()["tickets"]
            rows = pa.table({"ticket_id": ["LR-10", "LR-11"], "created_at": ["2026-01-08 09:00"] * 2,
                             "channel": ["web", "web"]})
            from_table = ws.import_table("tickets", rows, label="notebook").inserted
            counted_after = ws.counts()["tickets"]
            with ws.cursor() as cur:
                timezone = cur.settings.timezone
            try:
                ws.metrics("csatt")
            except cxmetrics.UnknownNameError as exc:
                error = [type(exc).__name__, str(exc), exc.name]
        with cxmetrics.open("../ws", read_only=True) as ro:
            read_only = ro.metrics("csat", by="channel").table.to_pylist()
        print(json.dumps({"kind": kind, "before": before, "after": after, "inserted": summary.inserted,
                          "n": n, "error": error, "read_only": read_only,
                          "counted": [counted, from_table, counted_after], "timezone": timezone}, default=str))
    """)
    ran = subprocess.run([sys.executable, "-c", script], cwd=served.cwd / "script", capture_output=True, text=True,
                         timeout=180)
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout)
    assert out["kind"] == "RemoteWorkspace" and out["inserted"] == 1 and out["n"] == 1
    assert out["error"][0] == "UnknownNameError" and out["error"][2] == "csatt"
    counted, from_table, counted_after = out["counted"]
    assert from_table == 2 and counted_after == counted + 2
    assert out["timezone"] == cxmetrics.Settings.load(served.path / "settings.toml").timezone
    assert out["error"][1].startswith("Unknown metric 'csatt'. Did you mean 'csat'?")
    api = served.api("metrics", metrics="csat", by="channel")["rows"]
    assert _by_channel(out["after"]) == _by_channel(api) == _by_channel(out["read_only"])
    chat_before, chat_after = _by_channel(out["before"])["chat"], _by_channel(out["after"])["chat"]
    assert chat_after[1] == chat_before[1] + 1  # one more (unsatisfied) chat answer


def test_server_file_is_private_and_the_local_routes_need_its_token(served: Served) -> None:
    info = served.path / "server.json"
    assert stat.S_IMODE(info.stat().st_mode) == 0o600
    data = json.loads(info.read_text())
    assert data["pid"] == served.process.pid and data["url"] == served.url
    body = {"argv": ["--workspace", str(served.path), "status"]}
    for headers in ({}, {"X-Cxmetrics-Local-Token": "wrong"}, {"Authorization": f"Bearer {served.key}"}):
        r = httpx.post(f"{served.url}/_local/cli", json=body, headers=headers, timeout=30)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = httpx.post(f"{served.url}/_local/cli", json=body, headers={"X-Cxmetrics-Local-Token": data["token"]},
                   timeout=60)
    assert r.status_code == 200 and r.json()["exit_code"] == 0 and str(served.path) in r.json()["stdout"]
    spec = httpx.get(f"{served.url}/api/v1/openapi.json", headers={"Authorization": f"Bearer {served.key}"},
                     timeout=30).json()
    assert spec["paths"] and not [p for p in spec["paths"] if "_local" in p]


def test_commands_that_cannot_run_inside_the_server_say_why(served: Served) -> None:
    again = cli("-w", "ws", "serve", "--port", str(free_port()), "--no-open", cwd=served.cwd)
    assert again.returncode == 1
    assert again.stderr.startswith("UserError: the workspace ws is already being served at " + served.url)
    watch = cli("-w", "ws", "sla", "watch", cwd=served.cwd)
    assert watch.returncode == 1 and "sla watch --once" in watch.stderr


def test_serve_help_says_commands_go_through_the_server(tmp_path: Path) -> None:
    shown = cli("serve", "--help", cwd=tmp_path)
    assert "go through it" in shown.stdout and "wait" not in shown.stdout


# -- without a real server --------------------------------------------------------------------

def _dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def test_a_stale_server_file_is_ignored(demo_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "ws"
    shutil.copytree(demo_dir, path)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # a dead process; a live process that is no server (old file, nothing listening)
        for pid in (_dead_pid(), sleeper.pid):
            (path / "server.json").write_text(json.dumps({"pid": pid, "url": f"http://127.0.0.1:{free_port()}",
                                                          "token": "x"}))
            old = time.time() - 3600
            os.utime(path / "server.json", (old, old))
            shown = cli("-w", "ws", "metrics", "csat", "--by", "channel", cwd=tmp_path)
            assert shown.returncode == 0, shown.stderr
            with cxmetrics.open(path) as ws:
                assert type(ws) is cxmetrics.Workspace
    finally:
        sleeper.kill()
        sleeper.wait()


def test_the_server_replaces_a_stale_file_and_removes_its_own(demo_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "ws"
    shutil.copytree(demo_dir, path)
    (path / "server.json").write_text(json.dumps({"pid": _dead_pid(), "url": "http://127.0.0.1:9", "token": "x"}))
    app = create_app(path)
    app.state.local_url = "http://127.0.0.1:1234"  # what `serve` sets
    with TestClient(app) as client:
        data = json.loads((path / "server.json").read_text())
        assert data == {"pid": os.getpid(), "url": "http://127.0.0.1:1234", "token": app.state.local_token,
                        "workspace": str(path.resolve())}
        assert stat.S_IMODE((path / "server.json").stat().st_mode) == 0o600
        # in the server's own process, open() hands out a cursor: closing it leaves the server's open
        ws = cxmetrics.open(path)
        assert ws.con is not app.state.workspace.con
        assert ws.counts()["tickets"] == app.state.workspace.counts()["tickets"] > 0
        ws.close()
        assert client.get("/api/v1/health").status_code == 200
        assert app.state.workspace.counts()["tickets"] > 0
    assert not (path / "server.json").exists()


def test_outputs_of_concurrent_commands_do_not_mix(demo_dir: Path, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "ws"
    shutil.copytree(demo_dir, path)
    app = create_app(path)
    with TestClient(app) as client:
        token = {"X-Cxmetrics-Local-Token": app.state.local_token}

        def run(args: list[str]) -> dict:
            r = client.post("/_local/cli", json={"argv": ["-w", str(path), *args]}, headers=token)
            assert r.status_code == 200
            return r.json()

        jobs = [["metrics", "csat", "--by", "channel"], ["metrics", "csatt"], ["formats", "surveys"]] * 3
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(run, jobs))
    for args, answer in zip(jobs, answers, strict=True):
        if args[1] == "csatt":
            assert answer["exit_code"] == 1 and answer["stdout"] == ""
            assert answer["stderr"].startswith("UnknownNameError: Unknown metric 'csatt'")
        elif args[0] == "formats":
            assert answer["exit_code"] == 0 and answer["stdout"].startswith("surveys:") and answer["stderr"] == ""
        else:
            assert answer["exit_code"] == 0 and answer["stdout"].startswith("metric")
            assert "surveys:" not in answer["stdout"] and answer["stderr"] == ""


def test_a_setting_changed_through_the_server_reaches_its_requests(demo_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "ws"
    shutil.copytree(demo_dir, path)
    app = create_app(path)
    with TestClient(app) as client:
        r = client.post("/_local/cli", json={"argv": ["-w", str(path), "config", "timezone=Asia/Tokyo"]},
                        headers={"X-Cxmetrics-Local-Token": app.state.local_token})
        assert r.status_code == 200 and r.json()["exit_code"] == 0, r.json()
        assert app.state.workspace.settings.timezone == "Asia/Tokyo"
        with app.state.workspace.cursor() as cur:  # what each API request works on
            assert cur.sql("SELECT current_setting('TimeZone') AS tz").to_pylist() == [{"tz": "Asia/Tokyo"}]


def test_paths_in_a_forwarded_command_line_are_made_absolute() -> None:
    from cxmetrics._remote_cli import plan_argv
    from cxmetrics.cli import main

    cwd = Path("/home/ana/work")
    plan = plan_argv(main, ["-wws", "import", "--source", "desk", "tickets", "../t.csv", "--mapping", "m.toml"], cwd)
    assert plan.argv == ["-w/home/ana/work/ws", "import", "--source", "desk", "tickets", "/home/ana/work/../t.csv",
                         "--mapping", "/home/ana/work/m.toml"]
    assert plan.command == ("import",) and not plan.local
    # values that are not paths stay as typed, even when they look like one
    plan = plan_argv(main, ["metrics", "csat", "--where", "team=a/b", "--", "frt"], cwd)
    assert plan.argv == ["metrics", "csat", "--where", "team=a/b", "--", "frt"]
    assert plan_argv(main, ["sla", "watch", "--once"], cwd).options == {"--once"}
    assert plan_argv(main, ["sla", "watch", "--once"], cwd).command == ("sla", "watch")
    assert plan_argv(main, ["metrics", "--help"], cwd).local
