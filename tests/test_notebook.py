"""The library as a notebook user meets it (issue 10, item 7): the README's notebook
example runs as written, periods are dates, a missing pandas or Polars names the extra to
install, and a mistyped workspace path is refused rather than created."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pyarrow as pa
import pytest

import cxmetrics
from cxmetrics._demo_run import ORDER, SOURCE
from cxmetrics.demo import DemoConfig, generate

README = Path(__file__).resolve().parents[1] / "README.md"
END = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)


def notebook_example() -> str:
    """The first python block of the README's Python API section."""
    section = README.read_text(encoding="utf-8").split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo workspace at ./cxmetrics-workspace of a scratch folder."""
    folder = tmp_path_factory.mktemp("notebook")
    with cxmetrics.open(folder / "cxmetrics-workspace", create=True) as ws:
        for batch in generate(DemoConfig(tickets=3_000, seed=11, end=END)):
            for name in ORDER:
                if name in batch and batch[name].num_rows:
                    ws.import_table(name, batch[name], source=SOURCE, label=f"demo:{name}", canonical=True)
    return folder / "cxmetrics-workspace"


def test_the_readme_notebook_example_runs(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pd = pytest.importorskip("pandas")
    code = notebook_example()
    assert "to_pandas()" in code and "compare(" in code
    monkeypatch.chdir(workspace.parent)
    scope: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the README's own code
    frame = scope["by_channel"]
    assert isinstance(frame, pd.DataFrame)
    # periods are dates: the first of each month of the demo's year, November 2025 to October 2026
    months = sorted(set(frame["period"]))
    assert months[0] == dt.date(2025, 11, 1) and months[-1] == dt.date(2026, 10, 1) and len(months) == 12
    # the email CSAT of October, by hand from the survey answers (scores 4-5 of 1-5 are satisfied)
    with cxmetrics.open(workspace) as ws:
        scores = ws.sql("""
            SELECT s.score FROM surveys s JOIN tickets t USING (source, ticket_id)
            WHERE s.kind = 'csat' AND t.channel = 'email' AND t.status NOT IN ('deleted', 'spam')
              AND s.responded_at >= TIMESTAMPTZ '2026-10-01 00:00:00+01' AND s.responded_at < TIMESTAMPTZ '2026-11-01 00:00:00+00'
        """).column("score").to_pylist()
    row = frame[(frame.metric == "csat") & (frame.channel == "email") & (frame.period == dt.date(2026, 10, 1))]
    assert row["n"].item() == len(scores)
    assert row["value"].item() == pytest.approx(100 * sum(s >= 4 for s in scores) / len(scores))
    launch = scope["launch"].to_pandas()
    assert set(launch["metric"]) == {"csat", "frt_first_touch"}


def test_periods_are_dates_and_hours_are_date_times(workspace: Path) -> None:
    with cxmetrics.open(workspace) as ws:
        week = ws.metrics(["tickets"], grain="week", start="2026-10-05", end="2026-10-19").table
        hour = ws.metrics(["tickets"], grain="hour", start="2026-10-05", end="2026-10-06").table
        day = ws.metrics(["tickets"], grain="day", start="2026-10-05", end="2026-10-06").table
    assert week.schema.field("period").type == pa.date32()
    assert week.column("period").to_pylist() == [dt.date(2026, 10, 5), dt.date(2026, 10, 12)]  # ISO Mondays
    assert day.column("period").to_pylist() == [dt.date(2026, 10, 5)]
    assert hour.schema.field("period").type == pa.timestamp("us")
    hours = hour.column("period").to_pylist()
    assert len(hours) >= 3 and hours == sorted(hours)
    assert all(h.date() == dt.date(2026, 10, 5) and (h.minute, h.second) == (0, 0) for h in hours)
    assert sum(hour.column("n").to_pylist()) == day.column("n")[0].as_py()  # the day's tickets, hour by hour


def test_cli_json_and_csv_write_periods_as_iso_text(workspace: Path) -> None:
    import json

    from click.testing import CliRunner

    from cxmetrics.cli import main

    with cxmetrics.open(workspace) as ws:
        hours = ws.metrics(["tickets"], grain="hour", start="2026-10-05", end="2026-10-06").table
    want = [f"2026-10-05T{h.hour:02d}:00:00" for h in hours.column("period").to_pylist()]
    assert want
    args = ["-w", str(workspace), "metrics", "tickets", "--grain", "hour", "--from", "2026-10-05", "--to", "2026-10-06"]
    out = CliRunner().invoke(main, [*args, "--format", "json"])
    assert out.exit_code == 0, out.output
    assert [r["period"] for r in json.loads(out.output)] == want
    out = CliRunner().invoke(main, [*args, "--format", "csv"])
    assert [line.split(",")[1] for line in out.output.splitlines()[1:]] == want


@pytest.mark.parametrize(("call", "module", "extra"), [("to_pandas", "pandas", "cxmetrics[pandas]"),
                                                       ("to_polars", "polars", "cxmetrics[polars]")])
def test_a_missing_dataframe_library_names_the_extra(workspace: Path, monkeypatch: pytest.MonkeyPatch, call: str,
                                                     module: str, extra: str) -> None:
    with cxmetrics.open(workspace) as ws:
        table = ws.metrics(["tickets"], by="channel")
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed: importing it fails
    with pytest.raises(cxmetrics.UserError, match=re.escape(f"pip install '{extra}'")) as err:
        getattr(table, call)()
    assert isinstance(err.value, ImportError)


def test_a_mistyped_workspace_is_refused_not_created(tmp_path: Path) -> None:
    typo = tmp_path / "cxmetrics-wrokspace"
    with pytest.raises(cxmetrics.StoreError, match=r"no workspace at .*cxmetrics-wrokspace.*create=True"):
        cxmetrics.open(typo)
    assert not typo.exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(cxmetrics.StoreError, match="create=True"):
        cxmetrics.open(tmp_path / "empty")
    with cxmetrics.open(typo, create=True) as ws:
        assert ws.counts()["tickets"] == 0
    with cxmetrics.open(typo) as ws:  # it holds a workspace now
        assert ws.counts()["tickets"] == 0
