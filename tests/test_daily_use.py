"""Issue 10 ("Daily use"), item 10: the small things a daily user meets, through the
library, the CLI and the API alike. (The dashboard's points are in
tests/web/test_browser_daily_use.py; untimed survey answers in
tests/ingest/test_every_row_counts.py.)"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import cxmetrics
from cxmetrics.cli import main

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TICKETS = """ticket_id,created_at,channel,priority,status,requester_id,assignee_id,team,first_reply_at,solved_at,csat
T1,2025-03-03T08:00:00Z,email,normal,solved,C-77,A1,Billing,2025-03-03T09:00:00Z,2025-03-03T10:00:00Z,5
T2,2025-03-04T08:00:00Z,chat,normal,solved,C-78,A1,Billing,2025-03-04T08:01:00Z,2025-03-04T09:00:00Z,2
T3,2025-03-05T08:00:00Z,email,high,open,C-79,A2,Tier 1,,,
"""
CUSTOMERS = "customer_id,created_at,tier\nC-77,2024-06-01T10:00:00Z,Pro\nC-78,2024-06-01T10:00:00Z,Free\n"
PERIOD = ["--from", "2025-03-01", "--to", "2025-04-01"]


def _open(path: Path) -> cxmetrics.Workspace:
    # versions before `create` made the folder on open (so this runs on older checkouts too)
    create = {"create": True} if "create" in inspect.signature(cxmetrics.open).parameters else {}
    return cxmetrics.open(path, **create)


@pytest.fixture
def wsdir(tmp_path: Path) -> Path:
    (tmp_path / "t.csv").write_text(TICKETS, encoding="utf-8")
    (tmp_path / "c.csv").write_text(CUSTOMERS, encoding="utf-8")
    with _open(tmp_path / "ws") as ws:
        ws.import_file("tickets", tmp_path / "t.csv")
        ws.import_file("customers", tmp_path / "c.csv")
        ws.refresh()
    return tmp_path / "ws"


def cli(wsdir: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--workspace", str(wsdir), *args])


@pytest.fixture
def api(wsdir: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    app = create_app(wsdir, watch_alerts=False)
    with TestClient(app) as client:
        _, key = create_key(app.state.workspace, "t", "admin")
        yield client, {"Authorization": f"Bearer {key}"}


# -- filter values match case-blind (as the docs say) ---------------------------------


def test_filter_values_match_case_blind_in_every_kind_of_metric(wsdir: Path) -> None:
    with _open(wsdir) as ws:
        def value(metric: str, **where: str) -> Any:
            rows = ws.metrics([metric], where=where, start="2025-03-01", end="2025-04-01").to_pylist()
            return (rows[0]["value"], rows[0]["n"]) if rows else None

        assert value("tickets", team="billing") == (2, 2) == value("tickets", team="Billing")
        assert value("tickets", channel="EMAIL") == (2, 2)
        assert value("csat", team="BILLING") == (50.0, 2)  # compiled from the survey source
        # custom builders (customers): C-77 is the one Pro customer, retained
        assert value("crr", tier="pro") == (100.0, 1) == value("crr", tier="Pro")


def test_drill_rows_and_api_filters_match_case_blind(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    q = {"metric": "tickets", "from": "2025-03-01", "to": "2025-04-01"}
    rows = client.get("/api/v1/tickets", params={**q, "where": "team=billing"}, headers=auth).json()
    assert sorted(r["ticket_id"] for r in rows["rows"]) == ["T1", "T2"]


# -- one filter form everywhere: DIM=VALUE (DIM:VALUE accepted too) ---------------------


@pytest.mark.parametrize("form", ["team=Tier 1", "team:Tier 1"])
def test_cli_takes_both_filter_forms(wsdir: Path, form: str) -> None:
    res = cli(wsdir, "metrics", "tickets", *PERIOD, "--where", form, "--format", "json")
    assert res.exit_code == 0, res.output
    assert '"value": 1' in res.output.replace(" 1.0", " 1")


@pytest.mark.parametrize("form", ["team=Tier 1", "team:Tier 1", "team=tier 1"])
def test_api_takes_both_filter_forms(api: tuple[TestClient, dict[str, str]], form: str) -> None:
    client, auth = api
    r = client.get("/api/v1/metrics", params={"metrics": "tickets", "from": "2025-03-01", "to": "2025-04-01",
                                              "where": form}, headers=auth)
    assert r.status_code == 200, r.text
    assert [row["value"] for row in r.json()["rows"]] == [1]


# -- a reversed period is refused, not answered with nothing ----------------------------


def test_reversed_range_is_refused_by_the_library_cli_and_api(wsdir: Path, api: tuple[TestClient, dict[str, str]]) -> None:
    with _open(wsdir) as ws, pytest.raises(cxmetrics.UserError, match="ends before it starts"):
        ws.metrics(["tickets"], start="2025-04-01", end="2025-03-01")
    res = cli(wsdir, "metrics", "tickets", "--from", "2025-04-01", "--to", "2025-03-01")
    assert res.exit_code == 1
    assert "UserError: the period ends before it starts: end (--to) 2025-03-01 is not after start (--from) 2025-04-01" \
        in res.output
    client, auth = api
    r = client.get("/api/v1/metrics", params={"metrics": "tickets", "from": "2025-04-01", "to": "2025-03-01"},
                   headers=auth)
    message = r.json()["error"]["message"]
    assert r.status_code == 400 and "2025-03-01" in message and "2025-04-01" in message, message
    r = client.get("/api/v1/tickets", params={"metric": "tickets", "from": "2025-04-01", "to": "2025-03-01"},
                   headers=auth)
    message = r.json()["error"]["message"]
    assert r.status_code == 400 and "2025-03-01" in message and "2025-04-01" in message, message


# -- import messages that name the real problem and the real option -----------------------


def test_unknown_extension_names_the_real_option(wsdir: Path, tmp_path: Path) -> None:
    (tmp_path / "t.dat").write_text(TICKETS, encoding="utf-8")
    res = cli(wsdir, "import", "tickets", str(tmp_path / "t.dat"))
    assert res.exit_code == 1
    assert "--file-format csv|jsonl|parquet" in res.output and "--format csv" not in res.output
    # and the option it names works
    res = cli(wsdir, "import", "tickets", str(tmp_path / "t.dat"), "--file-format", "csv")
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("name", ["photo.csv", "photo.jsonl"])
def test_a_binary_file_is_refused_not_read_as_column_names(wsdir: Path, tmp_path: Path, name: str) -> None:
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256))
    (tmp_path / name).write_bytes(data)
    res = cli(wsdir, "import", "tickets", str(tmp_path / name))
    assert res.exit_code == 1
    assert f"ImportFileError: {name} is not a CSV, JSON Lines or Parquet file (binary data at byte 0)" in res.output
    assert "IHDR" not in res.output  # its bytes are not echoed as column names
    # a text file with one stray NUL byte in its head is binary at that byte
    (tmp_path / "nul.csv").write_bytes(TICKETS.encode()[:40] + b"\x00" + TICKETS.encode()[40:])
    res = cli(wsdir, "import", "tickets", str(tmp_path / "nul.csv"))
    assert "(binary data at byte 40)" in res.output


def test_a_score_between_points_is_not_called_outside_its_scale(wsdir: Path, tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("response_id,ticket_id,kind,score,responded_at\n"
                                    "R1,T1,csat,4.5,2025-03-03T11:00:00Z\nR2,T1,csat,6,2025-03-03T11:00:00Z\n",
                                    encoding="utf-8")
    with _open(wsdir) as ws:
        assert ws.import_file("surveys", tmp_path / "s.csv").quarantined == 2
        reasons = {r["line"]: r["reason"] for r in ws.quarantine().to_pylist()}
    assert reasons == {2: "score 4.5 is not a whole point of its scale 1-5", 3: "score 6 is outside its scale 1-5"}
