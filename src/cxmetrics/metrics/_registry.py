"""The registry: every metric declaration, loaded and validated once.

Validation returns every issue at once, each naming the metric, the field and the fix;
a broken declaration stops the registry from loading (a wrong number is worse than none).

>>> r = registry()
>>> r.resolve("frt_p90").stat
'p90'
>>> r.resolve("frt").stat
'median'
>>> r.resolve("aht").stat
'mean'
>>> r.resolve("frt_bh_p90").spec.expr   # the business-hours twin of frt, generated
'frt_bh_s'
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import sqlglot
import yaml
from pydantic import ValidationError
from sqlglot import exp
from sqlglot.tokens import TokenType

from cxmetrics import _yaml
from cxmetrics.errors import CxError, UnknownNameError
from cxmetrics.metrics._sources import BUSINESS_SOURCES, DIMENSIONS, SOURCES
from cxmetrics.metrics._spec import Kind, MetricSpec

STATS = ("median", "mean", "p90")

# Business-hours twins. A metric whose value is a ticket duration (or a share or mean of
# one) is also offered in business time as `<id>_bh`, generated from its declaration: the
# same declaration over its source's business twin (BUSINESS_SOURCES), every duration
# column replaced by its business column (`frt_s` -> `frt_bh_s`), so the same rows count
# (the twins are NULL exactly where the calendar columns are) and only the clock differs.
# Statistic suffixes work alike (`frt_bh_p90`). Metrics over calls and chats (`contacts`:
# AHT, ASA, service level, abandonment) stay calendar-only: a contact is answered and
# handled live, while the line is staffed, and the call-centre standards (answered within
# 20 s, Erlang C staffing) count the caller's wait on the clock; a business clock would
# only hide what happens in the queue after hours.
TWIN_SUFFIX = "_bh"
_TWIN_CUSTOM = ("per_ticket_mean",)  # custom builders that read only twinned columns (`seconds`)
_VALUE_FIELDS = ("expr", "numerator", "denominator")
_SQL_FIELDS = ("where", "numerator", "denominator", "expr", "promoter", "detractor")


def _columns_of(text: str | None) -> set[str]:
    if text is None:
        return set()
    return {c.name for c in sqlglot.parse_one(text, dialect="duckdb").find_all(exp.Column)}


def _renamed(text: str, columns: dict[str, str]) -> str:
    """The SQL text with these column names replaced, the rest kept as written."""
    out, at = [], 0
    for token in sqlglot.tokenize(text, read="duckdb"):
        if token.token_type is TokenType.VAR and token.text in columns:
            out += [text[at:token.start], columns[token.text]]
            at = token.end + 1
    return "".join(out) + text[at:]


def business_twin(spec: MetricSpec) -> MetricSpec | None:
    """The business-hours twin of a declaration, or None when it has none: its source
    has no business twin, its value reads no duration, or it reads a duration that has
    no business twin (the call times)."""
    if spec.twin_of is not None or spec.source not in BUSINESS_SOURCES:
        return None
    twin_source, columns = BUSINESS_SOURCES[spec.source]
    if spec.kind is Kind.CUSTOM:
        if spec.sql not in _TWIN_CUSTOM:
            return None
    else:
        read = set().union(*(_columns_of(getattr(spec, f)) for f in _SQL_FIELDS))
        durations = {c for c in read if c.endswith("_s") or c in columns}
        valued = set().union(*(_columns_of(getattr(spec, f)) for f in _VALUE_FIELDS))
        if not valued & set(columns) or not durations <= set(columns):
            return None

    rewritten = {f: _renamed(text, columns) for f in _SQL_FIELDS
                 if (text := getattr(spec, f)) is not None and _columns_of(text) & set(columns)}
    return spec.model_copy(update={
        **rewritten,
        "id": spec.id + TWIN_SUFFIX,
        "label": f"{spec.label} (business hours)",
        "description": f"{spec.description} In business hours: only the business time of the ticket's schedule "
                       f"(schedules.toml) counts; without schedules it equals {spec.id}.",
        "source": twin_source,
        "benchmarks": (),  # the published references are calendar times
        "twin_of": spec.id,
    })


def custom_queries() -> tuple[str, ...]:
    """Names of the custom query builders (imported late: they import the registry)."""
    from cxmetrics.metrics._custom import BUILDERS

    return tuple(sorted(BUILDERS))


class RegistryError(CxError):
    """Metric declarations are invalid; `issues` lists every problem."""

    def __init__(self, issues: list[str]) -> None:
        self.issues = issues
        super().__init__("invalid metric declarations:\n  " + "\n  ".join(issues))


@dataclass(frozen=True)
class MetricRef:
    """A metric as requested: its declaration and, for durations, the statistic."""

    name: str  # as asked, e.g. frt_p90
    spec: MetricSpec
    stat: str | None = None


def _required(spec: MetricSpec) -> tuple[str, ...]:
    return {
        Kind.PROPORTION: ("numerator",),
        Kind.MEAN: ("expr",),
        Kind.DURATION: ("expr",),
        Kind.NPS: ("promoter", "detractor"),
        Kind.RATIO: ("numerator", "denominator"),
        Kind.CUSTOM: ("sql",),
        Kind.COUNT: (),
    }[spec.kind]


def validate(spec: MetricSpec) -> list[str]:
    """Every problem with one declaration, each naming the metric and the field."""
    issues = []
    where = f"metric '{spec.id}'"
    source = SOURCES.get(spec.source)
    if source is None:
        close = difflib.get_close_matches(spec.source, SOURCES, n=1)
        return [f"{where}, field 'source': unknown source '{spec.source}'"
                + (f"; did you mean '{close[0]}'?" if close else f"; sources are {', '.join(SOURCES)}")]
    if spec.time not in source.times:
        issues.append(f"{where}, field 'time': '{spec.time}' is not a timestamp of source '{spec.source}' "
                      f"({', '.join(source.times)})")
    for name in _required(spec):
        if getattr(spec, name) is None:
            issues.append(f"{where}, field '{name}': required for kind '{spec.kind.value}'")
    if spec.stat not in STATS:
        issues.append(f"{where}, field 'stat': '{spec.stat}' is not one of {', '.join(STATS)}")
    if spec.kind is Kind.CUSTOM and spec.sql is not None and spec.sql not in custom_queries():
        issues.append(f"{where}, field 'sql': unknown custom query '{spec.sql}' ({', '.join(custom_queries())})")
    known = set(source.columns) | set(DIMENSIONS.values()) | set(source.times)
    for name in ("where", "numerator", "denominator", "expr", "promoter", "detractor"):
        text = getattr(spec, name)
        if text is None:
            continue
        try:
            tree = sqlglot.parse_one(text, dialect="duckdb")
        except sqlglot.errors.ParseError as exc:
            issues.append(f"{where}, field '{name}': not valid SQL ({str(exc).splitlines()[0]})")
            continue
        for col in tree.find_all(exp.Column):
            if col.name not in known:
                close = difflib.get_close_matches(col.name, known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                issues.append(f"{where}, field '{name}': unknown column '{col.name}' in source '{spec.source}'{hint}")
    return issues


class Registry:
    def __init__(self, specs: list[MetricSpec]) -> None:
        self.specs = {s.id: s for s in specs}

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.specs.values())

    def names(self) -> list[str]:
        """Every name a request may use, statistic suffixes included."""
        out = []
        for s in self.specs.values():
            out.append(s.id)
            if s.kind is Kind.DURATION:
                out += [f"{s.id}_{stat}" for stat in STATS]
        return out

    def resolve(self, name: str) -> MetricRef:
        if name in self.specs:
            spec = self.specs[name]
            return MetricRef(name, spec, spec.stat if spec.kind is Kind.DURATION else None)
        base, _, stat = name.rpartition("_")
        if stat in STATS and base in self.specs and self.specs[base].kind is Kind.DURATION:
            return MetricRef(name, self.specs[base], stat)
        raise UnknownNameError("metric", name, self.names(), "List them with `cxmetrics catalogue`.",
                               suggestion=self.known_as(name))

    def known_as(self, name: str) -> str | None:
        """The metric a name that is not an id most likely means: a metric's label, or what
        dashboards and help desks call it (`volume` is `tickets`, the dashboard's Volume tile).

        >>> registry().known_as("Volume"), registry().known_as("first response time"), registry().known_as("x")
        ('tickets', 'frt', None)
        """
        key = _plain(name)
        for metric_id, spec in self.specs.items():
            if _plain(spec.label) == key:
                return metric_id
        target = _KNOWN_AS.get(key)
        return target if target in self.specs else None


# names other tools (and our own dashboard tiles) give metrics, for "did you mean"
_KNOWN_AS = {
    "volume": "tickets", "ticket_volume": "tickets", "tickets_created": "tickets", "created": "tickets",
    "solved": "solved_tickets", "first_response_time": "frt", "first_reply_time": "frt", "frt_median": "frt",
    "resolution_time": "full_resolution_time", "time_to_resolution": "full_resolution_time",
    "handle_time": "aht", "average_handle_time": "aht", "speed_of_answer": "asa",
    "average_speed_of_answer": "asa", "customer_satisfaction": "csat", "satisfaction": "csat",
    "net_promoter_score": "nps", "customer_effort": "ces", "customer_effort_score": "ces",
    "first_contact_resolution": "fcr", "sla": "sla_compliance", "sla_achievement": "sla_compliance",
    "abandon_rate": "abandonment_rate", "abandonment": "abandonment_rate", "reopens": "reopen_rate",
}


def _plain(text: str) -> str:
    """Case- and punctuation-blind form of a name: `First response` -> `first_response`."""
    return "_".join(re.findall(r"[a-z0-9]+", text.lower()))


def load(texts: dict[str, str]) -> Registry:
    """Parse and validate declarations from YAML texts (file name -> text)."""
    specs, issues, seen = [], [], {}
    for file, text in sorted(texts.items()):
        try:
            items: Any = _yaml.safe_load(text) or []
        except yaml.YAMLError as exc:
            issues.append(f"{file}: not valid YAML: {exc}")
            continue
        if not isinstance(items, list):
            issues.append(f"{file}: must be a list of metric declarations")
            continue
        for i, item in enumerate(items):
            label = f"{file}[{i}] (metric '{item.get('id', '?')}')" if isinstance(item, dict) else f"{file}[{i}]"
            try:
                spec = MetricSpec.model_validate(item)
            except ValidationError as exc:
                for err in exc.errors():
                    loc = ".".join(str(p) for p in err["loc"]) or "(declaration)"
                    issues.append(f"{label}, field '{loc}': {err['msg']}")
                continue
            if spec.id in seen:
                issues.append(f"{label}: id '{spec.id}' is declared twice (also in {seen[spec.id]})")
                continue
            seen[spec.id] = file
            if spec.twin_of is not None:
                issues.append(f"{label}, field 'twin_of': set by the registry on the business-hours twins it "
                              f"generates; remove it")
            issues += [f"{file}: {msg}" for msg in validate(spec)]
            specs.append(spec)
    if issues:
        raise RegistryError(list(dict.fromkeys(issues)))
    return Registry(_with_twins(specs))


def _with_twins(specs: list[MetricSpec]) -> list[MetricSpec]:
    """The declarations, each followed by its business-hours twin (a declared metric of
    the twin's id wins over the generated one)."""
    declared = {s.id for s in specs}
    out, issues = [], []
    for spec in specs:
        out.append(spec)
        twin = business_twin(spec)
        if twin is not None and twin.id not in declared:
            issues += validate(twin)
            out.append(twin)
    if issues:  # a twin is generated from a valid declaration: this is a bug here, not in the YAML
        raise RegistryError([f"business-hours twin: {msg}" for msg in issues])
    return out


@functools.cache
def registry() -> Registry:
    """The registry of the declarations shipped with the package."""
    folder = resources.files("cxmetrics.metrics.definitions")
    texts = {e.name: e.read_text(encoding="utf-8") for e in folder.iterdir() if e.name.endswith(".yaml")}
    return load(texts)
