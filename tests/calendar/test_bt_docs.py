"""docs/business-time.md: its TOML example is valid and means what the text says, and every
`schedule` command and rule dimension is documented."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cxmetrics.calendar import DIMENSIONS, ScheduleSet
from cxmetrics.calendar._cli import schedule_group

DOC = (Path(__file__).resolve().parents[2] / "docs" / "business-time.md").read_text(encoding="utf-8")


def _example() -> str:
    start = DOC.index("```toml\n") + len("```toml\n")
    return DOC[start:DOC.index("```", start)]


def test_the_example_parses_and_behaves_as_documented() -> None:
    ss = ScheduleSet.from_toml(_example())
    assert ss.default.name == "support_de" and ss.names == ["support_de", "us", "night_desk", "phone"]
    assert ss.schedule_for(team="Tier 2 US", channel="phone").name == "us"
    assert ss.schedule_for(region="APAC").name == "night_desk"
    # the CLI example: Fri 6 March 16:00 CET -> Mon 10:00 = Mon 09:00-10:00 (Friday closes at 15:00)
    a, b = datetime(2026, 3, 6, 15, tzinfo=UTC), datetime(2026, 3, 9, 9, tzinfo=UTC)
    assert ss.default.business_seconds(a, b) == 3600


def test_every_command_and_dimension_is_documented() -> None:
    for name in schedule_group.commands:
        assert f"cxmetrics schedule {name}" in DOC, name
    for dim in DIMENSIONS:
        assert f"`{dim}`" in DOC, dim
