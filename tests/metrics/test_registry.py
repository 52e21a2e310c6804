"""Declarations are data, validated when loaded, with errors naming the metric and field."""

from __future__ import annotations

import pytest

from cxmetrics.metrics._registry import RegistryError, load, registry
from cxmetrics.metrics._spec import Kind

GOOD = """
- id: x_rate
  label: X
  description: A share.
  kind: proportion
  unit: percent
  source: tickets
  time: created_at
  numerator: solved
"""


def test_shipped_declarations_load_and_cover_the_issue_list():
    ids = {s.id for s in registry()}
    wanted = {"csat", "dsat", "csat_mean", "ces", "ces_easy", "nps", "esat", "survey_response_rate", "frt",
              "frt_first_touch", "frt_within_5m", "unanswered", "next_reply_time", "avg_response_time",
              "requester_wait", "agent_wait", "on_hold_time", "agent_work_time", "first_resolution_time",
              "full_resolution_time", "aht", "asa", "service_level", "abandonment_rate", "fcr", "one_touch",
              "reopen_rate", "agent_touches", "escalation_rate", "tickets", "tickets_per_customer",
              "bot_resolution_rate", "bot_handoff_rate", "automation_rate"}
    assert wanted <= ids


def test_a_good_declaration_loads():
    assert load({"a.yaml": GOOD}).resolve("x_rate").spec.kind is Kind.PROPORTION


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("numerator: solved", "numerator: solvd"), "metric 'x_rate', field 'numerator': unknown column 'solvd' in source 'tickets'; did you mean 'solved'?"),
        (("source: tickets", "source: tikets"), "metric 'x_rate', field 'source': unknown source 'tikets'; did you mean 'tickets'?"),
        (("time: created_at", "time: ts"), "metric 'x_rate', field 'time': 'ts' is not a timestamp of source 'tickets'"),
        (("  numerator: solved\n", ""), "metric 'x_rate', field 'numerator': required for kind 'proportion'"),
        (("kind: proportion", "kind: percentage"), "(metric 'x_rate'), field 'kind': Input should be"),
        (("unit: percent", "unit: percent\n  colour: red"), "(metric 'x_rate'), field 'colour': Extra inputs are not permitted"),
        (("numerator: solved", "numerator: solved AND ("), "metric 'x_rate', field 'numerator': not valid SQL"),
    ],
)
def test_bad_declarations_name_metric_and_field(change, message):
    with pytest.raises(RegistryError) as info:
        load({"a.yaml": GOOD.replace(*change)})
    assert any(message in issue for issue in info.value.issues), info.value.issues


def test_every_issue_is_reported_at_once():
    bad = GOOD.replace("source: tickets", "source: nope") + GOOD.replace("x_rate", "y_rate").replace("numerator: solved", "numerator: nope")
    with pytest.raises(RegistryError) as info:
        load({"a.yaml": bad})
    assert len(info.value.issues) == 2


def test_duplicate_ids_are_refused():
    with pytest.raises(RegistryError, match="declared twice"):
        load({"a.yaml": GOOD, "b.yaml": GOOD})


def test_a_name_from_the_dashboard_or_another_tool_suggests_our_metric():
    # the dashboard's tile is called Volume; Zendesk Explore says "first reply time"
    from cxmetrics.errors import UnknownNameError
    from cxmetrics.metrics._registry import _KNOWN_AS, registry

    reg = registry()
    for name, expected in [("volume", "tickets"), ("Volume", "tickets"), ("first reply time", "frt"),
                           ("Customer effort score", "ces"), ("Solved Tickets", "solved_tickets")]:
        with pytest.raises(UnknownNameError) as info:
            reg.resolve(name)
        assert info.value.suggestion == expected, name
        assert f"Did you mean '{expected}'?" in str(info.value)
    # spelling still helps, and a name like nothing suggests nothing
    with pytest.raises(UnknownNameError) as info:
        reg.resolve("csatt")
    assert info.value.suggestion == "csat"
    with pytest.raises(UnknownNameError) as info:
        reg.resolve("qqqq")
    assert info.value.suggestion is None and "Did you mean" not in str(info.value)
    # the table only names metrics that exist
    assert {target for target in _KNOWN_AS.values()} <= set(reg.names())


def test_a_yaml_error_shows_the_line_and_where_on_it():
    # the fast parser (libyaml) reads the files; an error is reported as PyYAML's own parser
    # words it, with the offending line and a caret under the place
    with pytest.raises(RegistryError) as info:
        load({"a.yaml": GOOD.replace("unit: percent", "unit: [percent")})
    (issue,) = info.value.issues
    assert issue.startswith("a.yaml: not valid YAML:")
    assert "unit: [percent" in issue and "^" in issue
