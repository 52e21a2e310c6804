"""SLA policies: frozen models, the `sla.toml` file, and every check of it.

A policy file holds ordered policies; the first whose conditions a ticket meets
applies to it (Zendesk's rule). A policy has conditions (each an any-of list; every
condition given must hold) and targets: per SLA metric, a time per priority, in
business or calendar hours, optionally on a named schedule.

>>> p = SlaPolicies.loads('''
... [[policy]]
... name = "VIP"
... conditions = { customer_tier = ["vip"] }
... [policy.targets]
... first_reply = { urgent = "30m", normal = "1h30m", hours = "calendar" }
... ''')
>>> p.policies[0].targets[0].seconds["normal"]
5400.0
>>> format_duration(5400.0)
'1h30m'
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from cxmetrics.errors import UserError

POLICY_FILE = "sla.toml"
DEFAULT_PRIORITY = "default"  # a target key that applies to priorities not named (and to no priority)
STANDARD_PRIORITIES = ("urgent", "high", "normal", "low")
CONDITION_FIELDS = ("priority", "channel", "customer_tier", "team", "tags")
MIN_TARGET_S = 1.0


class SlaMetric(StrEnum):
    """Zendesk's seven SLA metrics."""

    FIRST_REPLY = "first_reply"
    NEXT_REPLY = "next_reply"
    PERIODIC_UPDATE = "periodic_update"
    PAUSABLE_UPDATE = "pausable_update"
    REQUESTER_WAIT = "requester_wait"
    AGENT_WORK_TIME = "agent_work_time"
    TOTAL_RESOLUTION = "total_resolution"


# what each metric measures and when its clock pauses (the docs and `sla policies` show these)
METRIC_DOCS: dict[SlaMetric, str] = {
    SlaMetric.FIRST_REPLY: "creation -> first public reply by a human agent (customer-created tickets); never pauses",
    SlaMetric.NEXT_REPLY: "each oldest unanswered public customer message after an agent reply -> the next public "
                          "agent reply; one cycle per wait; never pauses",
    SlaMetric.PERIODIC_UPDATE: "each public agent reply -> the next one; one cycle per reply; never pauses",
    SlaMetric.PAUSABLE_UPDATE: "each public agent reply -> the next one; pauses while pending",
    SlaMetric.REQUESTER_WAIT: "time in new, open and on-hold until the latest solve; pauses while pending",
    SlaMetric.AGENT_WORK_TIME: "time in new and open until the latest solve; pauses while pending and on-hold",
    SlaMetric.TOTAL_RESOLUTION: "creation -> latest solve; never pauses",
}


class SlaPolicyError(UserError, ValueError):
    """The SLA policy file is wrong; `issues` lists every problem, each with its fix."""

    def __init__(self, issues: Iterable[str], where: str = POLICY_FILE) -> None:
        self.issues = list(issues)
        self.where = where
        body = self.issues[0] if len(self.issues) == 1 else "\n" + "\n".join(f"  - {i}" for i in self.issues)
        super().__init__(f"{where}: {body}")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Conditions(_Frozen):
    """Which tickets a policy applies to: each field given is an any-of list (compared
    without regard to case); all fields given must hold. No conditions: every ticket."""

    priority: tuple[str, ...] | None = None
    channel: tuple[str, ...] | None = None
    customer_tier: tuple[str, ...] | None = None
    team: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None  # the ticket has at least one of these tags

    def given(self) -> dict[str, tuple[str, ...]]:
        return {f: v for f in CONDITION_FIELDS if (v := getattr(self, f)) is not None}

    def matches(self, ticket: Mapping[str, Any]) -> bool:
        """Whether a ticket (a mapping with the fields as keys) meets every condition."""
        for field, allowed in self.given().items():
            wanted = {a.lower() for a in allowed}
            value = ticket.get(field)
            if field == "tags":
                if not any(str(t).lower() in wanted for t in value or ()):
                    return False
            elif value is None or str(value).lower() not in wanted:
                return False
        return True


class Target(_Frozen):
    """One metric's target times by priority (seconds), in business or calendar hours."""

    metric: SlaMetric
    seconds: dict[str, float]  # priority (lower case, or `default`) -> target seconds
    business: bool = False
    schedule: str | None = None  # a named schedule; None: the policy's, else the ticket's

    def for_priority(self, priority: str | None) -> float | None:
        """The target for a ticket of this priority: its own, else `default`, else none."""
        key = (priority or "").lower()
        if key in self.seconds:
            return self.seconds[key]
        return self.seconds.get(DEFAULT_PRIORITY)


class Policy(_Frozen):
    """One SLA policy: a name, conditions and targets."""

    name: str
    description: str = ""
    schedule: str | None = None  # schedule of its business-hours targets (None: the ticket's own)
    conditions: Conditions = Conditions()
    targets: tuple[Target, ...] = ()

    def target(self, metric: SlaMetric | str) -> Target | None:
        for t in self.targets:
            if t.metric == metric:
                return t
        return None

    def schedule_of(self, target: Target) -> str | None:
        """The schedule a business-hours target is measured in (None: the ticket's)."""
        return target.schedule or self.schedule if target.business else None


class SlaPolicies(_Frozen):
    """The ordered policies of a workspace; the first whose conditions match applies."""

    policies: tuple[Policy, ...] = ()

    # -- reading and writing -------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> SlaPolicies:
        """Read a policy file; a missing file means no policies."""
        path = Path(path)
        if not path.exists():
            return cls()
        return cls.loads(path.read_text(encoding="utf-8"), where=str(path))

    @classmethod
    def loads(cls, text: str, where: str = POLICY_FILE) -> SlaPolicies:
        """Parse policy TOML; raises SlaPolicyError listing every problem."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SlaPolicyError([f"not valid TOML: {exc}"], where) from None
        policies, issues = _parse(data)
        if issues:
            raise SlaPolicyError(issues, where)
        return cls(policies=tuple(policies))

    def dumps(self) -> str:
        """The policies as TOML that `loads` reads back to equal policies."""
        out = ["# SLA policies: the first policy whose conditions a ticket meets applies to it.", ""]
        for p in self.policies:
            out.append("[[policy]]")
            out.append(f"name = {_q(p.name)}")
            if p.description:
                out.append(f"description = {_q(p.description)}")
            if p.schedule:
                out.append(f"schedule = {_q(p.schedule)}")
            given = p.conditions.given()
            if given:
                items = ", ".join(f"{k} = [{', '.join(_q(v) for v in vs)}]" for k, vs in given.items())
                out.append(f"conditions = {{ {items} }}")
            if p.targets:
                out.append("[policy.targets]")
                for t in p.targets:
                    parts = [f"{_key(k)} = {_q(format_duration(s, days=not t.business))}"
                             for k, s in t.seconds.items()]
                    parts.append(f"hours = {_q('business' if t.business else 'calendar')}")
                    if t.schedule:
                        parts.append(f"schedule = {_q(t.schedule)}")
                    out.append(f"{t.metric.value} = {{ {', '.join(parts)} }}")
            out.append("")
        return "\n".join(out)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.dumps(), encoding="utf-8")

    # -- use ---------------------------------------------------------------------------

    def names(self) -> list[str]:
        return [p.name for p in self.policies]

    def matching(self, ticket: Mapping[str, Any]) -> Policy | None:
        """The policy that applies to a ticket (the first that matches), or None."""
        for p in self.policies:
            if p.conditions.matches(ticket):
                return p
        return None

    def schedules(self) -> set[str]:
        """Schedule names the policies refer to."""
        return {s for p in self.policies for t in p.targets if (s := p.schedule_of(t))}

    def uses_business_hours(self) -> bool:
        return any(t.business for p in self.policies for t in p.targets)

    def fingerprint(self) -> str:
        """A digest that changes whenever anything that decides a target changes."""
        payload = json.dumps(self.model_dump(mode="json", exclude={"policies": {"__all__": {"description"}}}),
                             sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


# -- parsing ---------------------------------------------------------------------------

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")
_UNITS = (86400.0, 3600.0, 60.0, 1.0)


def parse_duration(text: str) -> float:
    """Seconds in a duration such as '30m', '4h', '1h30m', '2d' or '90s' (d = 24 hours).

    >>> parse_duration("1h30m"), parse_duration("2d"), parse_duration("45s")
    (5400.0, 172800.0, 45.0)
    """
    compact = re.sub(r"\s+", "", str(text).lower())
    m = _DURATION.match(compact)
    if not compact or not m or not any(m.groups()):
        raise ValueError(f"'{text}' is not a duration; write it like '30m', '4h', '1h30m' or '2d'")
    return sum(float(g) * u for g, u in zip(m.groups(), _UNITS, strict=True) if g)


def format_duration(seconds: float, *, days: bool = True) -> str:
    """The shortest text `parse_duration` reads back to `seconds` (whole seconds);
    without `days` (business hours, where a day is ambiguous) in hours at most.

    >>> format_duration(93600), format_duration(93600, days=False)
    ('1d2h', '26h')
    """
    s = round(seconds)
    if s == 0:
        return "0s"
    out = []
    units = ((86400, "d"), (3600, "h"), (60, "m"), (1, "s")) if days else ((3600, "h"), (60, "m"), (1, "s"))
    for unit, word in units:
        if s >= unit:
            out.append(f"{s // unit}{word}")
            s %= unit
    return "".join(out)


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _q(k)


def _suggest(name: str, choices: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" Did you mean '{close[0]}'?" if close else ""


def _strings(value: Any) -> tuple[str, ...] | None:
    """A condition value: a string or a list of strings (None if neither)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(value)
    return None


def _parse(data: dict[str, Any]) -> tuple[list[Policy], list[str]]:
    issues: list[str] = []
    unknown = sorted(set(data) - {"policy"})
    if unknown:
        issues.append(f"unknown top-level key(s) {', '.join(unknown)}; policies are [[policy]] tables.")
    raw = data.get("policy", [])
    if not isinstance(raw, list):
        return [], [*issues, "'policy' must be an array of tables: write each policy as a [[policy]] block."]
    policies: list[Policy] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            issues.append(f"policy #{i} is not a table; write it as a [[policy]] block.")
            continue
        policy, found = _parse_policy(i, entry)
        issues += found
        if policy is None:
            continue
        if policy.name in seen:
            issues.append(f"policy '{policy.name}' (#{i}): the name is already used by policy #{seen[policy.name]}; "
                          "give each policy its own name.")
        seen.setdefault(policy.name, i)
        policies.append(policy)
    return policies, issues


def _parse_policy(i: int, entry: dict[str, Any]) -> tuple[Policy | None, list[str]]:
    issues: list[str] = []
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        return None, [f"policy #{i}: 'name' is missing or blank; add name = \"...\"."]
    label = f"policy '{name}'"
    known = {"name", "description", "schedule", "conditions", "targets"}
    for key in sorted(set(entry) - known):
        issues.append(f"{label}: unknown field '{key}'.{_suggest(key, known)} Fields: {', '.join(sorted(known))}.")
    description = entry.get("description", "")
    if not isinstance(description, str):
        issues.append(f"{label}: 'description' must be text.")
        description = ""
    schedule = entry.get("schedule")
    if schedule is not None and (not isinstance(schedule, str) or not schedule.strip()):
        issues.append(f"{label}: 'schedule' must be the name of a schedule (text).")
        schedule = None
    conditions, found = _parse_conditions(label, entry.get("conditions", {}))
    issues += found
    targets_raw = entry.get("targets", {})
    targets: list[Target] = []
    if not isinstance(targets_raw, dict):
        issues.append(f"{label}: 'targets' must be a table of metrics, e.g. [policy.targets] with "
                      "first_reply = {{ normal = \"8h\", hours = \"business\" }}.")
    else:
        if not targets_raw:
            issues.append(f"{label}: no targets; add at least one under [policy.targets], e.g. "
                          "first_reply = { normal = \"8h\", hours = \"business\" }.")
        for metric_name, spec in targets_raw.items():
            target, found = _parse_target(label, metric_name, spec)
            issues += found
            if target is not None:
                targets.append(target)
    if issues:
        return None, issues
    return Policy(name=name, description=description, schedule=schedule, conditions=conditions,
                  targets=tuple(targets)), []


def _parse_conditions(label: str, raw: Any) -> tuple[Conditions, list[str]]:
    if not isinstance(raw, dict):
        return Conditions(), [(f"{label}: 'conditions' must be a table such as "
                              "conditions = { priority = [\"urgent\", \"high\"], channel = [\"email\"] }.")]
    issues = []
    values: dict[str, tuple[str, ...]] = {}
    for key, value in raw.items():
        if key not in CONDITION_FIELDS:
            issues.append(f"{label}: unknown condition '{key}'.{_suggest(key, CONDITION_FIELDS)} "
                          f"Conditions: {', '.join(CONDITION_FIELDS)}.")
            continue
        listed = _strings(value)
        if listed is None:
            issues.append(f"{label}: condition '{key}' must be a non-empty list of names, e.g. {key} = [\"a\", \"b\"].")
            continue
        values[key] = listed
    return Conditions(**values), issues


def _parse_target(label: str, metric_name: str, spec: Any) -> tuple[Target | None, list[str]]:
    metrics = [m.value for m in SlaMetric]
    where = f"{label}, targets.{metric_name}"
    if metric_name not in metrics:
        return None, [(f"{label}: unknown SLA metric '{metric_name}'.{_suggest(metric_name, metrics)} "
                      f"Metrics: {', '.join(metrics)}.")]
    if not isinstance(spec, dict):
        return None, [(f"{where}: give a table of times by priority, e.g. "
                      f"{metric_name} = {{ urgent = \"1h\", normal = \"8h\", hours = \"business\" }}.")]
    issues = []
    hours = spec.get("hours", "calendar")
    if hours not in ("business", "calendar"):
        issues.append(f"{where}.hours: '{hours}' is neither 'business' nor 'calendar'.")
    schedule = spec.get("schedule")
    if schedule is not None and (not isinstance(schedule, str) or not schedule.strip()):
        issues.append(f"{where}.schedule: must be the name of a schedule (text).")
    if schedule is not None and hours != "business":
        issues.append(f"{where}.schedule: a schedule only applies to business hours; add hours = \"business\" "
                      "or remove the schedule.")
    seconds: dict[str, float] = {}
    for key, value in spec.items():
        if key in ("hours", "schedule"):
            continue
        if not key.strip() or key != key.lower():
            issues.append(f"{where}.{key}: priorities are written in lower case (as imports store them): "
                          f"write '{key.lower()}'.")
            continue
        if isinstance(value, bool) or not isinstance(value, str):
            issues.append(f"{where}.{key}: {value!r} has no unit; write the time as text with a unit, "
                          "e.g. \"30m\", \"4h\" or \"1h30m\".")
            continue
        try:
            s = parse_duration(value)
        except ValueError as exc:
            issues.append(f"{where}.{key}: {exc}.")
            continue
        if s < MIN_TARGET_S:
            issues.append(f"{where}.{key}: '{value}' is shorter than {MIN_TARGET_S:g} second; give a positive time.")
            continue
        if hours == "business" and re.search(r"\d\s*d", value.lower()):
            issues.append(f"{where}.{key}: '{value}' uses days, which are ambiguous in business hours "
                          f"(a business day depends on the schedule); write hours instead, e.g. "
                          f"'{s / 3600:g}h'.")
            continue
        seconds[key] = s
    if not seconds and not issues:
        issues.append(f"{where}: no times; give one per priority ({', '.join(STANDARD_PRIORITIES)}) or "
                      f"'{DEFAULT_PRIORITY}' for every priority, e.g. normal = \"8h\".")
    if issues:
        return None, issues
    return Target(metric=SlaMetric(metric_name), seconds=seconds, business=hours == "business",
                  schedule=schedule), []


def validate_policies(source: str | Path) -> list[str]:
    """Every problem of a policy file (a path) or of policy TOML text (a string with a
    newline or a `[`), each with its fix; an empty list when it is fine."""
    try:
        if isinstance(source, Path) or ("\n" not in source and "[" not in source):
            SlaPolicies.load(source)
        else:
            SlaPolicies.loads(source)
    except SlaPolicyError as exc:
        return exc.issues
    return []
