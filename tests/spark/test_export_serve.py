"""Serving what Spark built (issue 18): `cxmetrics export tables DIR`, `--engine spark --tables
DIR refresh` (the facts derived on Spark, written back), `cxmetrics -w NEW import tables DIR`,
then `cxmetrics serve` on NEW shows the export's facts as they are, and a Spark command run
while that server holds the workspace runs here, not in the server.

To tell the export's facts from facts the workspace could derive again from the same events
(Spark's equal DuckDB's, tests/spark/test_facts_parity.py), the Spark-built ticket_facts are
changed before the import: every email ticket's first reply time 3,600 s later. The served
mean FRT of email must be the workspace's own plus exactly 3,600 s, and equal what Spark
answers over the export; a re-derivation would show the old value.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from click.testing import CliRunner

import cxmetrics
from cxmetrics.api.auth import create_key
from cxmetrics.cli import main
from cxmetrics.engines import spark_metrics
from cxmetrics.engines._spark import read_manifest
from cxmetrics.errors import UserError
from cxmetrics.exports._import_tables import import_tables

from tests._serve import serving

from ._small import small_demo

LATER = 3600.0  # seconds added to each email ticket's frt_s in the Spark-built facts
ASKED = ["frt_mean", "fcr", "tickets", "sla_compliance"]
CONF = {"spark.master": "local[2]", "spark.sql.shuffle.partitions": "2"}


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@dataclass(frozen=True)
class Built:
    source: Path  # the workspace the export came from
    tables: Path  # the export, its facts derived on Spark (and email's frt_s moved)
    imported: Path  # a new workspace filled by `import tables`


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, spark_session: Any) -> Built:
    root = tmp_path_factory.mktemp("serve-spark")
    source, exported = small_demo(tmp_path_factory)
    tables = root / "tables"  # (the refresh and the change below write into it: a copy)
    shutil.copytree(exported, tables)
    cli("-w", str(source), "--engine", "spark", "--tables", str(tables), "refresh")
    assert read_manifest(tables)["facts"]["engine"] == "spark"
    facts = tables / "ticket_facts"
    (part,) = facts.glob("*.parquet")
    moved = root / "moved.parquet"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"COPY (SELECT * REPLACE (CASE WHEN channel = 'email' THEN frt_s + {LATER} ELSE frt_s END AS frt_s) "
                f"FROM read_parquet('{part}')) TO '{moved}' (FORMAT parquet)")
    con.close()
    os.replace(moved, part)
    (facts / f".{part.name}.crc").unlink(missing_ok=True)  # Hadoop's checksum of Spark's file
    out = cli("-w", str(root / "new"), "import", "tables", str(tables))
    assert "nothing derived again" in out
    return Built(source, tables, root / "new")


def _by_channel(rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[float | None, int]]:
    return {(r["metric"], r["channel"]): (r["value"], r["n"]) for r in rows}


def test_the_imported_workspace_holds_the_export_and_derives_nothing_again(built: Built, tmp_path: Path) -> None:
    copy = tmp_path / "ws"
    shutil.copytree(built.imported, copy)
    with cxmetrics.open(copy) as ws:
        assert ws.settings.timezone == "Europe/London"
        assert (copy / "sla.toml").is_file() and (copy / "schedules.toml").is_file()
        counts = read_manifest(built.tables)["rows"]
        for name in ("tickets", "events", "ticket_facts", "reply_intervals", "ticket_facts_bh", "sla_targets"):
            assert ws.sql(f"SELECT count(*) AS n FROM {name}").to_pylist()[0]["n"] == counts[name], name
        assert ws.refresh() == 0  # every row is reflected: the Spark-built facts stay as they are
        moved = ws.sql("SELECT count(*) AS n FROM ticket_facts WHERE channel = 'email' AND frt_s >= ?",
                       [LATER]).to_pylist()[0]["n"]
        assert moved > 0
        # new data is refreshed as usual: one new ticket, one ticket's facts derived
        (tmp_path / "t.csv").write_text("ticket_id,created_at,channel\nNEW-1,2026-01-05T09:00:00Z,chat\n")
        ws.import_file("tickets", tmp_path / "t.csv")
        assert ws.refresh() == 1


def test_import_tables_fills_only_a_new_workspace(built: Built) -> None:
    with cxmetrics.open(built.source) as ws, pytest.raises(UserError, match="holds tickets.*give a new one"):
        import_tables(ws, built.tables)


@dataclass(frozen=True)
class Served:
    url: str
    key: str

    def metrics(self, **params: object) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/api/v1/metrics", params=params, headers={"Authorization": f"Bearer {self.key}"},
                      timeout=120)
        assert r.status_code == 200, r.text
        return list(r.json()["rows"])


@pytest.fixture(scope="module")
def served(built: Built) -> Iterator[Served]:
    """`cxmetrics serve` on the imported workspace, in a process that cannot start Spark (no
    Java on its PATH): a Spark command it ran would fail."""
    with cxmetrics.open(built.imported) as ws:
        _, key = create_key(ws, "test admin", "admin")
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "CXMETRICS_WORKSPACE")}
    env["PATH"] = str(Path(sys.executable).parent)
    with serving(built.imported, env=env) as (url, process):
        yield Served(url, key)
    out = process.communicate(timeout=30)[0]  # (stopped by now)
    assert "Traceback" not in out, out


def test_the_api_shows_the_metrics_spark_computes_over_the_export(built: Built, served: Served) -> None:
    api = _by_channel(served.metrics(metrics=",".join(ASKED), by="channel"))
    sparked = _by_channel(spark_metrics(built.tables, ASKED, by=["channel"], conf=CONF).table.to_pylist())
    assert api.keys() == sparked.keys() and ("frt_mean", "email") in api
    for key, (value, n) in sparked.items():
        assert api[key][1] == n, key
        assert api[key][0] == pytest.approx(value, rel=1e-9), key
    # the export's facts, not the events derived again: email's mean FRT is 3,600 s later
    with cxmetrics.open(built.source, read_only=True) as ws:
        own = _by_channel(ws.metrics(["frt_mean"], by=["channel"]).to_pylist())
    assert api[("frt_mean", "email")][0] == pytest.approx(own[("frt_mean", "email")][0] + LATER, rel=1e-12)
    assert api[("frt_mean", "chat")][0] == pytest.approx(own[("frt_mean", "chat")][0], rel=1e-12)


def test_a_spark_command_runs_here_while_a_server_holds_the_workspace(built: Built, served: Served) -> None:
    """`--engine spark` reads --tables, not the workspace: never forwarded to the server
    (whose process has no Java here, so a forwarded run would fail)."""
    here = json.loads(cli("-w", str(built.imported), "--engine", "spark", "--tables", str(built.tables),
                          "--spark-conf", "spark.sql.shuffle.partitions=2", "metrics", "frt_mean", "--by", "channel",
                          "--format", "json"))
    api = _by_channel(served.metrics(metrics="frt_mean", by="channel"))
    assert here and {k: n for k, (_, n) in _by_channel(here).items()} == {k: n for k, (_, n) in api.items()}
    for key, (value, _) in _by_channel(here).items():
        assert value == pytest.approx(api[key][0], rel=1e-9), key
    # a workspace command is still forwarded (the server holds the file)
    forwarded = json.loads(cli("-w", str(built.imported), "metrics", "frt_mean", "--by", "channel", "--format", "json"))
    assert _by_channel(forwarded) == api
