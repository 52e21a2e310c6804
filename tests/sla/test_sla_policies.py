"""The policy file: parsing, every error naming policy, field and fix, and writing back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cxmetrics.errors import UserError
from cxmetrics.sla import (
    Conditions,
    Policy,
    SlaMetric,
    SlaPolicies,
    SlaPolicyError,
    Target,
    format_duration,
    load_policies,
    parse_duration,
    save_policies,
    validate_policies,
)

FULL = """
[[policy]]
name = "Enterprise"
description = "Enterprise and VIP customers"
schedule = "office"
conditions = { customer_tier = ["enterprise", "vip"], channel = "email" }
[policy.targets]
first_reply = { urgent = "30m", high = "1h", normal = "4h", low = "8h", hours = "business" }
total_resolution = { urgent = "1d", default = "3d" }
pausable_update = { normal = "2h30m", hours = "business", schedule = "weekend" }

[[policy]]
name = "Default"
[policy.targets]
next_reply = { default = "90s" }
"""


def test_a_full_file_parses_into_frozen_models():
    p = SlaPolicies.loads(FULL)
    assert p.names() == ["Enterprise", "Default"]
    ent = p.policies[0]
    assert ent.conditions == Conditions(customer_tier=("enterprise", "vip"), channel=("email",))
    fr = ent.target("first_reply")
    # 30 min, 1 h, 4 h, 8 h in seconds
    assert fr == Target(metric=SlaMetric.FIRST_REPLY, business=True,
                        seconds={"urgent": 1800.0, "high": 3600.0, "normal": 14400.0, "low": 28800.0})
    # days are 24 h in calendar hours: 1 d = 86400 s, 3 d = 259200 s; calendar is the default
    assert ent.target("total_resolution").seconds == {"urgent": 86400.0, "default": 259200.0}
    assert ent.target("total_resolution").business is False
    # a target's schedule overrides the policy's; calendar targets have none
    assert ent.schedule_of(ent.target("pausable_update")) == "weekend"
    assert ent.schedule_of(fr) == "office"
    assert ent.schedule_of(ent.target("total_resolution")) is None
    assert p.schedules() == {"office", "weekend"}
    with pytest.raises(ValidationError, match="frozen"):
        ent.name = "x"


def test_dumps_reads_back_to_equal_policies(tmp_path):
    # 24 h in business hours is written in hours (days are refused there), in calendar hours as 1d
    extra = '\nrequester_wait = { default = "24h", hours = "business" }\nagent_work_time = { default = "24h" }\n'
    p = SlaPolicies.loads(FULL + extra)  # (added to the last policy's targets)
    assert 'requester_wait = { default = "24h", hours = "business" }' in p.dumps()
    assert 'agent_work_time = { default = "1d", hours = "calendar" }' in p.dumps()
    assert SlaPolicies.loads(p.dumps()) == p
    save_policies(p, tmp_path)
    assert load_policies(tmp_path) == p
    assert load_policies(tmp_path / "sla.toml") == p


def test_first_match_in_python_follows_the_order():
    p = SlaPolicies.loads(FULL)
    assert p.matching({"customer_tier": "VIP", "channel": "Email"}).name == "Enterprise"
    assert p.matching({"customer_tier": "vip", "channel": "chat"}).name == "Default"
    assert p.policies[0].target("first_reply").for_priority("HIGH") == 3600.0
    assert p.policies[0].target("first_reply").for_priority(None) is None
    assert p.policies[0].target("total_resolution").for_priority(None) == 259200.0


def test_tags_match_any_of():
    c = Conditions(tags=("outage", "security"))
    assert c.matches({"tags": ["billing", "Security"]})
    assert not c.matches({"tags": ["billing"]})
    assert not c.matches({"tags": None})


@pytest.mark.parametrize(("text", "message"), [
    ('[[policy]]\nname = "A"\n[policy.targets]\nfirst_replie = { normal = "1h" }',
     "policy 'A': unknown SLA metric 'first_replie'. Did you mean 'first_reply'?"),
    ('[[policy]]\nname = "A"\n[policy.targets]\nfirst_reply = { normal = "1 hour" }',
     "policy 'A', targets.first_reply.normal: '1 hour' is not a duration; write it like '30m', '4h'"),
    ('[[policy]]\nname = "A"\n[policy.targets]\nfirst_reply = { normal = 60 }',
     "policy 'A', targets.first_reply.normal: 60 has no unit"),
    ('[[policy]]\nname = "A"\n[policy.targets]\nfirst_reply = { Normal = "1h" }',
     "priorities are written in lower case (as imports store them): write 'normal'"),
    ('[[policy]]\nname = "A"\n[policy.targets]\nfirst_reply = { normal = "1h", hours = "office" }',
     "targets.first_reply.hours: 'office' is neither 'business' nor 'calendar'"),
    ('[[policy]]\nname = "A"\n[policy.targets]\nfirst_reply = { normal = "2d", hours = "business" }',
     "'2d' uses days, which are ambiguous in business hours"),
    ('[[policy]]\nname = "A"\n[policy.targets]\nfirst_reply = { normal = "1h", schedule = "x" }',
     "a schedule only applies to business hours"),
    ('[[policy]]\nname = "A"\n[policy.targets]\nfirst_reply = { hours = "business" }',
     "targets.first_reply: no times"),
    ('[[policy]]\nname = "A"\n[policy.targets]\nfirst_reply = { normal = "0s" }',
     "is shorter than 1 second"),
    ('[[policy]]\nname = "A"\nconditions = { tier = ["vip"] }\n[policy.targets]\nfirst_reply = { normal = "1h" }',
     "policy 'A': unknown condition 'tier'."),
    ('[[policy]]\nname = "A"\nconditions = { team = [] }\n[policy.targets]\nfirst_reply = { normal = "1h" }',
     "condition 'team' must be a non-empty list of names"),
    ('[[policy]]\nname = "A"\nconditon = { team = ["x"] }\n[policy.targets]\nfirst_reply = { normal = "1h" }',
     "policy 'A': unknown field 'conditon'. Did you mean 'conditions'?"),
    ('[[policy]]\nname = "A"\n', "policy 'A': no targets"),
    ('[[policy]]\ndescription = "x"\n[policy.targets]\nfirst_reply = { normal = "1h" }',
     "policy #1: 'name' is missing"),
    (('[[policy]]\nname = "A"\n[policy.targets]\nfirst_reply = { normal = "1h" }\n'
     '[[policy]]\nname = "A"\n[policy.targets]\nfirst_reply = { normal = "1h" }'),
     "policy 'A' (#2): the name is already used by policy #1"),
    ('[policy]\nname = "A"', "'policy' must be an array of tables"),
    ('[[policies]]\nname = "A"', "unknown top-level key(s) policies"),
    ('[[policy]\nname = "A"', "not valid TOML"),
])
def test_errors_name_the_policy_the_field_and_the_fix(text, message):
    with pytest.raises(SlaPolicyError) as info:
        SlaPolicies.loads(text)
    assert message in str(info.value)
    assert isinstance(info.value, UserError) and isinstance(info.value, ValueError)


def test_every_problem_is_reported_at_once():
    text = """
        [[policy]]
        name = "A"
        conditions = { tier = ["vip"] }
        [policy.targets]
        first_reply = { normal = "soon" }
        next_reply = { urgent = "5" }
    """
    issues = validate_policies(text)
    assert len(issues) == 3, issues
    assert validate_policies(FULL) == []


def test_models_can_be_built_in_python_and_written():
    p = SlaPolicies(policies=(
        Policy(name="Chat", conditions=Conditions(channel=("chat",)),
               targets=(Target(metric=SlaMetric.FIRST_REPLY, seconds={"default": 120.0}),)),
    ))
    assert "first_reply = { default = \"2m\", hours = \"calendar\" }" in p.dumps()
    assert SlaPolicies.loads(p.dumps()) == p


@given(st.integers(min_value=1, max_value=400 * 86400))
def test_format_duration_reads_back(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


def test_durations():
    # 1 h 30 min = 5400 s; 2 d = 172800 s; 1.5 h = 5400 s; 45 s
    assert [parse_duration(x) for x in ("1h30m", "2d", "1.5h", "45s", " 1h 30m ")] == [
        5400.0, 172800.0, 5400.0, 45.0, 5400.0]
    for bad in ("", "h", "1x", "-1h", "1m1h"):
        with pytest.raises(ValueError):
            parse_duration(bad)
