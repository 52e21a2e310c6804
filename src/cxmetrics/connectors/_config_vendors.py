"""Converting each help desk's configuration objects into our schedules and policies
(the per-vendor half of `connectors/config.py`; docs/connectors.md, "Configuration
carried over"). Each `<vendor>(found, warn, years)` returns a ScheduleSet and
SlaPolicies (None when there is nothing) and reports through `warn` everything it
could not carry over.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cxmetrics.calendar import Rule, Schedule, ScheduleSet
from cxmetrics.calendar._schedule import WEEKDAYS
from cxmetrics.connectors import chatwoot as chatwoot_module
from cxmetrics.connectors import freshdesk as freshdesk_module
from cxmetrics.connectors import zendesk as zendesk_module
from cxmetrics.connectors._rails_zones import iana_zone
from cxmetrics.errors import SettingsError
from cxmetrics.sla import Conditions, Policy, SlaMetric, SlaPolicies, Target

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass
class Found:
    """A vendor's configuration objects, sorted by kind; holidays by their schedule's id."""

    schedules: list[dict[str, Any]] = field(default_factory=list)
    holidays: dict[str | None, list[dict[str, Any]]] = field(default_factory=dict)
    policies: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    other: int = 0


class Warnings(list[str]):
    """What could not be carried over, each said once, in the order met."""

    def __init__(self, first: Iterable[str] = ()) -> None:
        super().__init__(first)

    def __call__(self, text: str) -> None:
        if text not in self:
            self.append(text)


def _slug(name: object, taken: set[str], fallback: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", str(name or "").lower()).strip("_") or fallback
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}_{n}", n + 1
    taken.add(slug)
    return slug


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _schedule(label: str, name: str, zone: object, days: list[list[tuple[int, int]]],
              holidays: list[str], warn: Warnings) -> Schedule | None:
    """A Schedule from per-weekday (start, end) minutes (Monday first), or None with a warning."""
    tz = iana_zone(zone)
    if tz is None:
        warn(f"{label}: time zone {zone!r} is neither a Rails nor an IANA name; the schedule is left out. "
             "Add it by hand with `cxmetrics schedule set`.")
        return None
    # an end past midnight (an overnight span such as 22:00-06:00) is written as the next day's time
    hours = {WEEKDAYS[d]: [f"{_hm(a)}-{_hm(b if b <= 1440 else b - 1440)}" for a, b in sorted(spans)]
             for d, spans in enumerate(days)}
    try:
        return Schedule.from_dict(name, {"timezone": tz, "hours": hours, "holidays": sorted(set(holidays))})
    except SettingsError as exc:
        warn(f"{label}: {exc}; the schedule is left out.")
        return None


def _schedule_set(schedules: list[Schedule], default: str | None,
                  rules: list[tuple[str, str, list[str]]]) -> ScheduleSet | None:
    """The set, read back through our own parser (so it is exactly what the file will load)."""
    if not schedules:
        return None
    ss = ScheduleSet(schedules=tuple(schedules), default_name=default or schedules[0].name,
                     rules=tuple(Rule(schedule=s, when=((dim, tuple(values)),)) for s, dim, values in rules))
    return ScheduleSet.from_toml(ss.to_toml())


def _recurring(month_day: str, years: range) -> list[str]:
    """An annual holiday (MM-DD) on each of `years` (a 29 February only in leap years)."""
    out = []
    for y in years:
        try:
            out.append(date.fromisoformat(f"{y}-{month_day}").isoformat())
        except ValueError:
            continue
    return out


def _target(metric: SlaMetric, label: str, entries: list[tuple[str, float, bool]], warn: Warnings) -> Target | None:
    """One metric's target from (priority, seconds, business) entries; one hours kind
    per metric, so a mix takes the more common (business on a tie) and says so."""
    for p, s, _ in entries:
        if s < 1:
            warn(f"{label}: {metric.value} for {p} is 0; left out.")
    entries = [e for e in entries if e[1] >= 1]
    if not entries:
        return None
    business = sum(b for _, _, b in entries) * 2 >= len(entries)
    odd = sorted(p for p, _, b in entries if b != business)
    if odd:
        warn(f"{label}: {metric.value} is in {'calendar' if business else 'business'} hours for {', '.join(odd)} "
             f"but in {'business' if business else 'calendar'} hours for the others; cxmetrics gives a metric one "
             f"kind of hours, so all are in {'business' if business else 'calendar'} hours.")
    return Target(metric=metric, seconds={p: float(s) for p, s, _ in entries}, business=business)


def _policy(name: str, description: str, conditions: dict[str, set[str]],
            targets: dict[SlaMetric, list[tuple[str, float, bool]]], label: str, warn: Warnings,
            taken: set[str]) -> Policy | None:
    built = [t for m, e in targets.items() if (t := _target(m, label, e, warn)) is not None]
    if not built:
        warn(f"{label}: no target cxmetrics can measure; the policy is left out.")
        return None
    unique, n = name, 2
    while unique in taken:
        unique, n = f"{name} ({n})", n + 1
    taken.add(unique)
    return Policy(name=unique, description=description or "",
                  conditions=Conditions(**{k: tuple(sorted(v)) for k, v in conditions.items()}), targets=tuple(built))


# Zendesk ---------------------------------------------------------------------------------------

ZENDESK_METRICS = {
    "first_reply_time": SlaMetric.FIRST_REPLY, "next_reply_time": SlaMetric.NEXT_REPLY,
    "periodic_update_time": SlaMetric.PERIODIC_UPDATE, "pausable_update_time": SlaMetric.PAUSABLE_UPDATE,
    "requester_wait_time": SlaMetric.REQUESTER_WAIT, "agent_work_time": SlaMetric.AGENT_WORK_TIME,
    "total_resolution_time": SlaMetric.TOTAL_RESOLUTION,
}
ZENDESK_PRIORITIES = ("low", "normal", "high", "urgent")
# via ids of the Via types reference (developer.zendesk.com/documentation/ticketing/reference-guides/via-types)
ZENDESK_VIA = {0: "web", 4: "email", 5: "api", 17: "web", 26: "social", 29: "chat", 30: "social", 33: "phone",
               34: "phone", 35: "phone", 38: "social", 41: "social", 48: "web", 49: "messaging"}


def conditions_of(policy: dict[str, Any]) -> list[dict[str, Any]]:
    flt = policy.get("filter") if isinstance(policy.get("filter"), dict) else {}
    return [c for k in ("all", "any") for c in flt.get(k) or [] if isinstance(c, dict)]


def _zendesk(found: Found, warn: Warnings, years: range) -> tuple[ScheduleSet | None, SlaPolicies | None]:
    taken: set[str] = set()
    schedules = []
    known = {str(s.get("id")) for s in found.schedules}
    stray = [k for k in found.holidays if k not in known]
    if stray and len(found.schedules) == 1:  # one schedule: the holidays are its own, whatever the file name
        found.holidays[str(found.schedules[0].get("id"))] = [h for hs in found.holidays.values() for h in hs]
    elif stray:
        warn(f"{sum(len(found.holidays[k]) for k in stray)} Zendesk holiday(s) name no schedule we read; save each "
             "schedule's holidays as holidays-<schedule id>.json.")
    for s in found.schedules:
        label = f"Zendesk schedule '{s.get('name')}'"
        days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for i in s.get("intervals") or []:
            start, end = int(i["start_time"]), int(i["end_time"])
            day = start // 1440  # 0 is Sunday: minutes count from Sunday midnight
            days[(day + 6) % 7].append((start - day * 1440, end - day * 1440))
        holidays = [f"{h['start_date']}..{h['end_date']}" if h.get("end_date") not in (None, h.get("start_date"))
                    else str(h["start_date"]) for h in found.holidays.get(str(s.get("id")), [])]
        built = _schedule(label, _slug(s.get("name"), taken, f"schedule_{s.get('id')}"), s.get("time_zone"), days,
                          holidays, warn)
        if built is not None:
            schedules.append(built)
    if len(schedules) > 1:
        warn(f"Zendesk gives tickets a schedule other than the default ('{schedules[0].name}') through triggers, "
             "which are not read: add [[schedule_rules]] to schedules.toml for "
             + ", ".join(f"'{s.name}'" for s in schedules[1:]) + ".")
    groups = {str(g.get("id")): str(g.get("name")) for g in found.groups if g.get("name")}
    policies: list[Policy] = []
    names: set[str] = set()
    for p in sorted(found.policies, key=lambda p: (p.get("position") is None, p.get("position") or 0)):
        label = f"Zendesk SLA policy '{p.get('title')}'"
        conditions = _zendesk_conditions(label, p.get("filter") or {}, groups, warn)
        if conditions is None:
            continue
        targets: dict[SlaMetric, list[tuple[str, float, bool]]] = {}
        for m in p.get("policy_metrics") or []:
            metric = ZENDESK_METRICS.get(str(m.get("metric")))
            if metric is None:
                warn(f"{label}: metric '{m.get('metric')}' has no cxmetrics equivalent; left out.")
                continue
            seconds = m.get("target_in_seconds") or (m.get("target") or 0) * 60
            targets.setdefault(metric, []).append((str(m.get("priority")).lower(), seconds,
                                                   bool(m.get("business_hours"))))
        settings = p.get("metric_settings") or {}
        if any(v for s in settings.values() if isinstance(s, dict) for v in s.values()):
            warn(f"{label}: metric_settings {settings} are not carried over; cxmetrics counts as docs/sla.md says.")
        built = _policy(str(p.get("title")), str(p.get("description") or ""), conditions, targets, label, warn, names)
        if built is not None:
            policies.append(built)
    return _schedule_set(schedules, None, []), SlaPolicies(policies=tuple(policies)) if policies else None


def _zendesk_condition(c: dict[str, Any], groups: dict[str, str]) -> tuple[str, set[str]] | str:
    """(our condition field, its values) for one Zendesk filter condition, or why not."""
    f, op, value = c.get("field"), c.get("operator"), c.get("value")
    if f == "priority" and str(value).lower() in ZENDESK_PRIORITIES:
        i = ZENDESK_PRIORITIES.index(str(value).lower())
        picks = {"is": [i], "is_not": [j for j in range(4) if j != i], "less_than": range(i),
                 "greater_than": range(i + 1, 4)}.get(str(op))
        return ("priority", {ZENDESK_PRIORITIES[j] for j in picks}) if picks is not None else f"operator '{op}'"
    if f == "via_id" and op == "is":
        text = str(value).lower()
        channel = ZENDESK_VIA.get(int(text)) if text.isdigit() else zendesk_module.CHANNELS.get(text)
        return ("channel", {channel}) if channel else f"via {value!r} has no cxmetrics channel"
    if f == "group_id" and op == "is" and value not in (None, ""):
        return "team", {groups.get(str(value), str(value))}
    if f == "current_tags" and op == "includes":
        return "tags", set(str(value).split())
    return "is not a condition cxmetrics can express (priority, channel, team, tags)"


def _zendesk_conditions(label: str, flt: dict[str, Any], groups: dict[str, str],
                        warn: Warnings) -> dict[str, set[str]] | None:
    def say(c: dict[str, Any], why: str) -> None:
        warn(f"{label}: condition {c.get('field')} {c.get('operator')} {c.get('value')!r} {why}; left out, so the "
             "policy applies to more tickets than in Zendesk.")

    acc: dict[str, set[str]] = {}
    for c in flt.get("all") or []:
        got = _zendesk_condition(c, groups)
        if isinstance(got, str):
            say(c, got if got.startswith("is ") else f"({got})")
            continue
        if c.get("field") == "group_id" and str(c.get("value")) not in groups:
            warn(f"{label}: group {c.get('value')} is not among the groups read; the team condition names its id.")
        acc[got[0]] = acc[got[0]] & got[1] if got[0] in acc else set(got[1])
    anys = [c for c in flt.get("any") or [] if isinstance(c, dict)]
    parsed = [(c, _zendesk_condition(c, groups)) for c in anys]
    fields = {g[0] for _, g in parsed if not isinstance(g, str)}
    if anys and (len(fields) != 1 or any(isinstance(g, str) for _, g in parsed)):
        listed = ", ".join(f"{c.get('field')} {c.get('operator')} {c.get('value')!r}" for c in anys)
        warn(f"{label}: its 'any' conditions ({listed}) cannot be expressed (cxmetrics conditions are each an any-of "
             "list of one field); left out, so the policy applies to more tickets than in Zendesk.")
    elif anys:
        (only,) = fields
        values = set().union(*(g[1] for _, g in parsed if not isinstance(g, str)))
        acc[only] = acc[only] & values if only in acc else values
    empty = [k for k, v in acc.items() if not v]
    if empty:
        warn(f"{label}: its {', '.join(empty)} conditions exclude each other, so it matches no ticket; left out.")
        return None
    return acc


# Freshdesk -------------------------------------------------------------------------------------

def _clock(text: object) -> int | None:
    """Minutes after midnight of Freshdesk's '08:00:00 am'; '11:59:59 pm' is the day's end."""
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]m)?\s*", str(text).lower())
    if not m:
        return None
    h, mi, s, half = int(m[1]), int(m[2]), int(m[3] or 0), m[4]
    if half:
        h = h % 12 + (12 if half == "pm" else 0)
    return h * 60 + mi + (1 if s >= 59 else 0)


def _freshdesk(found: Found, warn: Warnings, years: range) -> tuple[ScheduleSet | None, SlaPolicies | None]:
    taken: set[str] = set()
    schedules: list[Schedule] = []
    by_id: dict[str, str] = {}
    default: str | None = None
    for b in found.schedules:
        label = f"Freshdesk business hours '{b.get('name')}' ({b.get('id')})"
        days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for d, day in enumerate(_DAYS):
            spec = (b.get("business_hours") or {}).get(day)
            if isinstance(spec, dict):
                a, z = _clock(spec.get("start_time")), _clock(spec.get("end_time"))
                if a is None or z is None:
                    warn(f"{label}: {day} {spec} is not start_time/end_time like '08:00:00 am'; the day is closed.")
                elif z != a:
                    days[d].append((a, z))
        holidays = []
        for h in b.get("holidays") or b.get("list_of_holidays") or []:
            when = str(h.get("holiday_date") or h.get("date") or "")
            if re.fullmatch(r"--\d{2}-\d{2}", when):  # every year on that day
                holidays += _recurring(when[2:], years)
                warn(f"{label}: holidays repeat every year; written for {years[0]}-{years[-1]}: carry over again "
                     "for later years.")
            elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", when):
                holidays.append(when)
            else:
                warn(f"{label}: holiday {h} has no date we read; left out.")
        built = _schedule(label, _slug(b.get("name"), taken, f"hours_{b.get('id')}"), b.get("time_zone"), days,
                          holidays, warn)
        if built is not None:
            schedules.append(built)
            by_id[str(b.get("id"))] = built.name
            if b.get("is_default"):
                default = built.name
    groups = {str(g.get("id")): str(g.get("name")) for g in found.groups}
    rules: dict[str, list[str]] = {}
    for g in found.groups:
        target = by_id.get(str(g.get("business_hour_id")))
        if g.get("business_hour_id") and target is None:
            warn(f"Freshdesk group '{g.get('name')}' follows business hours {g.get('business_hour_id')}, which "
                 "were not read; it gets the default schedule.")
        elif target is not None and target != (default or (schedules[0].name if schedules else None)):
            rules.setdefault(target, []).append(str(g.get("name")))
    if len(schedules) > 1 and not found.groups:
        warn("Freshdesk gives each group its business hours; no groups were read, so every ticket gets the default "
             "schedule: add the groups response (GET /api/v2/groups).")
    ss = _schedule_set(schedules, default, [(s, "team", sorted(n)) for s, n in rules.items()])
    policies: list[Policy] = []
    names: set[str] = set()
    for p in sorted(found.policies, key=lambda p: (bool(p.get("is_default")), p.get("position") or 0)):
        label = f"Freshdesk SLA policy '{p.get('name')}'"
        if p.get("active") is False:
            warn(f"{label} is not active in Freshdesk; left out.")
            continue
        conditions: dict[str, set[str]] = {}
        applies = p.get("applicable_to") or {}
        if applies.get("group_ids"):
            conditions["team"] = {groups.get(str(i), str(i)) for i in applies["group_ids"]}
            if any(str(i) not in groups for i in applies["group_ids"]):
                warn(f"{label}: some group_ids are not among the groups read; the team condition names their ids.")
        if applies.get("sources"):
            channels = {freshdesk_module.SOURCES.get(int(s)) for s in applies["sources"] if str(s).isdigit()}
            if None in channels or not channels:
                warn(f"{label}: sources {applies['sources']} include codes with no cxmetrics channel; those are "
                     "left out.")
            conditions["channel"] = {c for c in channels if c}
        for key in sorted(set(applies) - {"group_ids", "sources"}):
            if applies[key]:
                warn(f"{label}: condition {key} {applies[key]} cannot be expressed (cxmetrics conditions: priority, "
                     "channel, team, tags); left out, so the policy applies to more tickets than in Freshdesk.")
        if conditions.get("channel") == set():
            warn(f"{label}: none of its sources has a cxmetrics channel, so it matches no ticket; left out.")
            continue
        targets: dict[SlaMetric, list[tuple[str, float, bool]]] = {}
        for key, t in (p.get("sla_target") or {}).items():
            code = key.removeprefix("priority_")
            priority = freshdesk_module.PRIORITIES.get(int(code)) if code.isdigit() else None
            if priority is None or not isinstance(t, dict):
                warn(f"{label}: sla_target '{key}' is not priority_1 ... priority_4; left out.")
                continue
            for field_name, metric in (("respond_within", SlaMetric.FIRST_REPLY),
                                       ("next_respond_within", SlaMetric.NEXT_REPLY),
                                       ("resolve_within", SlaMetric.REQUESTER_WAIT)):
                if t.get(field_name):
                    targets.setdefault(metric, []).append((priority, float(t[field_name]),
                                                           bool(t.get("business_hours"))))
        if SlaMetric.REQUESTER_WAIT in targets:
            warn("Freshdesk's resolve_within becomes requester_wait, which pauses while a ticket is pending; "
                 "Freshdesk pauses it in every status whose SLA timer is off: if your on-hold statuses stop the "
                 "SLA timer too, rename the metric to agent_work_time in sla.toml.")
        if p.get("escalation"):
            warn(f"{label}: escalations (who is told of a breach) are not carried over.")
        built = _policy(str(p.get("name")), str(p.get("description") or ""), conditions, targets, label, warn, names)
        if built is not None:
            policies.append(built)
    return ss, SlaPolicies(policies=tuple(policies)) if policies else None


# Intercom --------------------------------------------------------------------------------------

def _week_spans(intervals: list[dict[str, Any]], whole_week: bool) -> list[list[tuple[int, int]]]:
    """Per-weekday spans of week-minute intervals (Monday 00:00 = 0): a span of up to a
    day stays on the day it starts (22:00-06:00 runs past midnight); longer ones are cut
    at midnights."""
    days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    pieces = [(0, 10080)] if whole_week else []
    for i in intervals:
        a, z = int(i.get("start_minute", 0)), int(i.get("end_minute", 0))
        pieces.append((a, 10080 if (a, z) == (0, 10079) else z))  # 0-10079 is Intercom's 24/7
    for a, z in pieces:
        if 0 < z - a <= 1440:
            days[(a // 1440) % 7].append((a % 1440, a % 1440 + z - a))
            continue
        while a < z:
            cut = min(z, (a // 1440 + 1) * 1440)
            days[(a // 1440) % 7].append((a % 1440, cut - (a // 1440) * 1440))
            a = cut
    return [_merge(d) for d in days]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, z in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(z, out[-1][1]))
        else:
            out.append((a, z))
    return out


def _intercom(found: Found, warn: Warnings, years: range) -> tuple[ScheduleSet | None, SlaPolicies | None]:
    taken: set[str] = set()
    schedules = []
    for s in found.schedules:
        label = f"Intercom office hours '{s.get('name')}'"
        holidays = []
        for e in found.holidays.get(str(s.get("id")), []):
            day = str(e.get("exception_date"))
            if e.get("exception_type") != "closed":
                warn(f"{label}: exception {day} ({e.get('name')}) changes the hours of one day, which a schedule "
                     "cannot say; left out.")
                continue
            if e.get("recurring_annually"):
                holidays += _recurring(day[5:], years)
                warn(f"{label}: exception '{e.get('name')}' repeats every year; written for {years[0]}-{years[-1]}.")
            else:
                holidays.append(day)
        days = _week_spans(s.get("time_intervals") or [], bool(s.get("twenty_four_seven")))
        built = _schedule(label, _slug(s.get("name"), taken, f"office_hours_{s.get('id')}"),
                          s.get("time_zone_name"), days, holidays, warn)
        if built is not None:
            schedules.append(built)
    if len(schedules) > 1:
        warn(f"Intercom gives teams their office hours in its inbox settings, which the API does not say: every "
             f"ticket gets '{schedules[0].name}' until you add [[schedule_rules]] (e.g. by team).")
    warn("Intercom's SLA rules are not read (their API is a preview); write sla.toml by hand.")
    return _schedule_set(schedules, None, []), None


# Chatwoot --------------------------------------------------------------------------------------

def _chatwoot_days(hours: list[dict[str, Any]]) -> list[list[tuple[int, int]]]:
    days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for h in hours:
        d = (int(h.get("day_of_week", 0)) + 6) % 7  # Chatwoot counts from Sunday = 0
        if h.get("open_all_day"):
            days[d].append((0, 1440))
        elif not h.get("closed_all_day"):
            a = int(h.get("open_hour") or 0) * 60 + int(h.get("open_minutes") or 0)
            z = int(h.get("close_hour") or 0) * 60 + int(h.get("close_minutes") or 0)
            if z != a:
                days[d].append((a, z))
    return days


def _chatwoot(found: Found, warn: Warnings, years: range) -> tuple[ScheduleSet | None, SlaPolicies | None]:
    taken: set[str] = set()
    schedules: list[Schedule] = []
    channel_count: dict[str | None, int] = {}
    for inbox in found.schedules:
        ch = chatwoot_module.CHANNELS.get(str(inbox.get("channel_type")).lower())
        channel_count[ch] = channel_count.get(ch, 0) + 1
    rules, always = [], False
    for inbox in found.schedules:
        label = f"Chatwoot inbox '{inbox.get('name')}'"
        ch = chatwoot_module.CHANNELS.get(str(inbox.get("channel_type")).lower())
        if not inbox.get("working_hours_enabled"):
            target = "always"
            always = True
        else:
            built = _schedule(label, _slug(inbox.get("name"), taken, f"inbox_{inbox.get('id')}"),
                              inbox.get("timezone") or "UTC", _chatwoot_days(inbox.get("working_hours") or []), [],
                              warn)
            if built is None:
                continue
            schedules.append(built)
            target = built.name
        rules.append((label, ch, target))
    if not schedules:
        if found.schedules:
            warn("No Chatwoot inbox has working hours enabled: every conversation runs on calendar time, as without "
                 "schedules.toml; none is written.")
        ss = None
    else:
        if always:
            schedules.append(Schedule.from_dict(_slug("always", taken, "always"),
                                                {"timezone": "UTC", "hours": "24/7"}))
        default = schedules[0].name
        chosen: list[tuple[str, str, list[str]]] = []
        for label, ch, target in rules:
            if target == "always":
                target = schedules[-1].name
            if target == default:
                continue
            if ch is not None and channel_count.get(ch) == 1:
                chosen.append((target, "channel", [ch]))
            else:
                warn(f"{label}: its conversations cannot be told from other inboxes' (no inbox dimension; channel "
                     f"{ch!r} is shared), so they get the default schedule '{default}'.")
        ss = _schedule_set(schedules, default, chosen)
    policies: list[Policy] = []
    names: set[str] = set()
    for p in found.policies:
        label = f"Chatwoot SLA policy '{p.get('name')}'"
        business = bool(p.get("only_during_business_hours"))
        targets: dict[SlaMetric, list[tuple[str, float, bool]]] = {}
        for keys, metric in ((("first_response_time_threshold", "frt_threshold"), SlaMetric.FIRST_REPLY),
                             (("next_response_time_threshold", "nrt_threshold"), SlaMetric.NEXT_REPLY),
                             (("resolution_time_threshold", "rt_threshold"), SlaMetric.TOTAL_RESOLUTION)):
            value = next((p[k] for k in keys if p.get(k)), None)
            if value:
                targets[metric] = [("default", float(value), business)]
        built = _policy(str(p.get("name")), str(p.get("description") or ""), {}, targets, label, warn, names)
        if built is not None:
            policies.append(built)
    if len(policies) > 1:
        warn("Chatwoot applies an SLA policy to a conversation by an automation rule, which is not read: in sla.toml "
             f"the first policy ('{policies[0].name}') applies to every ticket until you give it conditions "
             "(channel, team, priority, tags) that leave the others theirs.")
    return ss, SlaPolicies(policies=tuple(policies)) if policies else None


CONVERT: dict[str, Callable[[Found, Warnings, range], tuple[ScheduleSet | None, SlaPolicies | None]]] = {
    "zendesk": _zendesk, "freshdesk": _freshdesk, "intercom": _intercom, "chatwoot": _chatwoot,
}


