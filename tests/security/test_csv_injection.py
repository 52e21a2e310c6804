"""Issue 9, item 11: no CSV the product writes starts a text cell with =, +, -, @, TAB or CR
(a spreadsheet would run it as a formula); such cells get a leading ' as OWASP recommends,
and numbers stay numbers. Covers the API's tickets.csv (the dashboard's export link) and
the CLI's `--format csv`."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from click.testing import CliRunner

import cxmetrics
from cxmetrics.cli import main
from security._hardening import RISKY_SUBJECTS, SAFE_SUBJECT, App, sec_app_with_tickets, tickets_csv  # noqa: F401

SRC = Path(cxmetrics.__file__).parent
MARCH = {"from": "2025-03-01", "to": "2025-04-01"}
# what each cell must read, worked out by hand from OWASP's rule
EXPECTED = {s: "'" + s for s in RISKY_SUBJECTS} | {SAFE_SUBJECT: SAFE_SUBJECT}


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def check_cells(cells: list[str]) -> None:
    assert sorted(cells) == sorted(EXPECTED.values()), cells
    for cell in cells:
        assert not re.match(r"[=+\-@\t\r]", cell), repr(cell)


def test_tickets_csv_neutralises_formula_cells(sec_app_with_tickets: App) -> None:  # noqa: F811
    app = sec_app_with_tickets
    r = app.client.get("/api/v1/tickets.csv", params={"metric": "frt", **MARCH}, headers=app.bearer(app.viewer))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = parse(r.text)
    assert len(rows) == len(EXPECTED)
    check_cells([row["subject"] for row in rows])
    check_cells([row["topic"] for row in rows])
    assert {row["frt_s"] for row in rows} == {"3600"}  # an hour, as a number
    assert all(row["created_at"][:4] == "2025" for row in rows)  # other cells are untouched


def _workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    with cxmetrics.Workspace(path) as ws:
        ws.import_file("tickets", tickets_csv(tmp_path))
    return path


def test_cli_csv_neutralises_formula_cells_and_keeps_numbers(tmp_path: Path) -> None:
    path = _workspace(tmp_path)
    runner = CliRunner()
    topics = runner.invoke(main, ["-w", str(path), "topics", "--from", MARCH["from"], "--to", MARCH["to"],
                                  "--format", "csv"])
    assert topics.exit_code == 0, topics.output
    rows = parse(topics.output)
    check_cells([row["topic"] for row in rows])
    assert {row["frt"] for row in rows} == {"3600.0"} and {row["tickets"] for row in rows} == {"1"}
    metrics = runner.invoke(main, ["-w", str(path), "metrics", "frt", "--by", "topic", "--from", MARCH["from"],
                                   "--to", MARCH["to"], "--format", "csv"])
    assert metrics.exit_code == 0, metrics.output
    rows = parse(metrics.output)
    check_cells([row["topic"] for row in rows])
    assert {row["value"] for row in rows} == {"3600.0"}


def test_cli_csv_keeps_negative_numbers_as_numbers(tmp_path: Path) -> None:
    from cxmetrics._output import render
    import pyarrow as pa

    text = render(pa.table({"label": ["-5", "ok"], "change": [-5.0, 2.5]}), "csv")
    assert parse(text) == [{"label": "'-5", "change": "-5.0"}, {"label": "ok", "change": "2.5"}]


def test_key_names_in_keys_list_csv(tmp_path: Path) -> None:
    from cxmetrics.api._keys import create_key

    path = tmp_path / "ws"
    with cxmetrics.Workspace(path) as ws:
        create_key(ws, "=HYPERLINK(\"http://evil.example\")", "viewer")
        create_key(ws, "wall screen", "viewer")
    out = CliRunner().invoke(main, ["-w", str(path), "keys", "list", "--format", "csv"])
    assert out.exit_code == 0, out.output
    assert sorted(r["name"] for r in parse(out.output)) == ["'=HYPERLINK(\"http://evil.example\")", "wall screen"]


def test_every_csv_writer_in_the_package_neutralises() -> None:
    """A CSV writer added later must go through cxmetrics._csvsafe (or be listed here as
    internal, with why)."""
    internal = {"ingest/_readers.py",  # a normalised copy of an uploaded file, read back by the engine
                "text/_sentiment_cli.py"}  # row numbers, the three fixed labels and formatted scores only
    writers = {str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
               if re.search(r"csv\.writer\(|DictWriter\(|write_csv\(|to_csv\(|FORMAT\s+csv", p.read_text("utf-8"), re.I)}
    assert writers - internal == {"_output.py", "api/_routes_tickets.py", "exports/_writers.py", "text/_topics_cli.py"}
    for name in writers - internal:
        assert "_csvsafe" in (SRC / name).read_text("utf-8"), name
