"""The dashboard's global filters: period, every ticket dimension, and the clock of durations.

They live in the URL query string, so a view can be shared: `?period=28d&channel=email`
or `?from=2026-10-01&to=2026-11-01&team=Billing`. `from` is inclusive and `to` exclusive
(local dates in the workspace's time zone), as in the CLI and the API.

A dimension repeated is a choice of values: `?channel=email&channel=chat` is email OR chat
(the library's `where={"channel": ["email", "chat"]}`); different dimensions combine with
AND. `?hours=business` measures every duration in business hours: each metric with a
business-hours twin in the registry (`frt` -> `frt_bh`) is read as its twin (`for_view`).

A preset period (`7d`, `28d`, `90d`, `180d`, `365d`) ends with the last day that has data, a
new ticket or any event such as a solve (today at the latest; `anchor`, from
`web._data.anchor_day`), so a workspace imported last month still opens on its own numbers.

>>> f = Filters.parse({"channel": ["email"], "period": ["7d"]}, anchor=date(2026, 11, 1))
>>> f.start, f.end, f.where
(datetime.date(2026, 10, 25), datetime.date(2026, 11, 1), {'channel': 'email'})
>>> f.query(period="28d")
'period=28d&channel=email'
>>> f.previous()
(datetime.date(2026, 10, 18), datetime.date(2026, 10, 25))
>>> g = Filters.parse({"channel": ["email", "chat"], "hours": ["business"]}, anchor=date(2026, 11, 1))
>>> g.where, g.metric("frt_p90"), g.metric("csat"), g.query()
({'channel': ['email', 'chat']}, 'frt_bh_p90', 'csat', 'channel=email&channel=chat&hours=business')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from cxmetrics.errors import UserError
from cxmetrics.metrics._registry import TWIN_SUFFIX, registry

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

#: Global filter dimensions, in the order the filter bar shows them: name -> label. Every
#: one is a dimension of the library (metrics/_sources.py DIMENSIONS), so a filter reaches
#: every metric; custom fields a mapping imports as `product` or `region` are among them.
DIMENSIONS: dict[str, str] = {
    "channel": "Channel",
    "team": "Team",
    "priority": "Priority",
    "tier": "Tier",
    "agent_type": "Agent type",
    "topic": "Topic",
    "tag": "Tag",  # any of a ticket's tags
    "discovered_topic": "Discovered topic",  # the text layer's (`cxmetrics topics discover`)
    "product": "Product",
    "region": "Region",
    "source": "Source",
    "created_by": "Created by",
    "assignee": "Agent",
}
#: The dimensions the filter bar always shows; the others show when the workspace has values.
CORE_DIMENSIONS = ("channel", "team", "priority", "tier", "agent_type")
#: How durations are measured: `calendar` (the clock) or `business` (the schedules' hours).
HOURS: dict[str, str] = {"calendar": "Calendar time", "business": "Business hours"}
#: Preset periods: name -> (days, label).
PRESETS: dict[str, tuple[int, str]] = {
    "7d": (7, "Last 7 days"),
    "28d": (28, "Last 28 days"),
    "90d": (90, "Last 90 days"),
    "180d": (180, "Last 6 months"),
    "365d": (365, "Last 12 months"),
}
DEFAULT_PERIOD = "28d"
MAX_DAYS = 5 * 366


class FilterError(UserError, ValueError):
    """A filter in the URL is malformed; the message names it and the fix."""


def _date(name: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise FilterError(f"'{name}={text}' is not a date: use YYYY-MM-DD, e.g. {name}=2026-10-01.") from None


@dataclass(frozen=True)
class Filters:
    """The filters of one view: the period [start, end) and the dimension filters."""

    start: date
    end: date
    period: str  # a preset name, or "custom" when from/to were given
    dims: dict[str, tuple[str, ...]] = field(default_factory=dict)
    hours: str = "calendar"  # a key of HOURS

    @classmethod
    def parse(cls, params: Mapping[str, Sequence[str]], *, anchor: date) -> Filters:
        """Read filters from query parameters (name -> values); `anchor` is the day after
        the last day a preset period covers. Unknown parameters are left to the page."""

        def one(name: str) -> str | None:
            values = [v for v in params.get(name, ()) if v.strip()]
            return values[-1].strip() if values else None

        start_text, end_text = one("from"), one("to")
        period = one("period") or DEFAULT_PERIOD
        if start_text or end_text:
            if not (start_text and end_text):
                raise FilterError("give both 'from' and 'to' (to is exclusive), e.g. from=2026-10-01&to=2026-11-01.")
            start, end = _date("from", start_text), _date("to", end_text)
            if end <= start:
                raise FilterError(f"'to' ({end}) must be after 'from' ({start}); 'to' is exclusive.")
            if (end - start).days > MAX_DAYS:
                raise FilterError(f"the period {start}..{end} is longer than {MAX_DAYS} days; choose a shorter one.")
            period = "custom"
        else:
            if period not in PRESETS:
                raise FilterError(f"period '{period}' is not one of {', '.join(PRESETS)} "
                                  "(or give from=YYYY-MM-DD&to=YYYY-MM-DD).")
            end = anchor
            start = end - timedelta(days=PRESETS[period][0])
        dims = {}
        for name in DIMENSIONS:
            values = tuple(dict.fromkeys(v.strip() for v in params.get(name, ()) if v.strip()))
            if values:
                dims[name] = values
        hours = one("hours") or "calendar"
        if hours not in HOURS:
            raise FilterError(f"hours '{hours}' is not one of {', '.join(HOURS)}: use hours=business for business "
                              "hours, or leave it out for calendar time.")
        return cls(start=start, end=end, period=period, dims=dims, hours=hours)

    # -- what the library needs ------------------------------------------------------

    @property
    def where(self) -> dict[str, object]:
        """The dimension filters as the library's `where` (one value or a list)."""
        return {k: (v[0] if len(v) == 1 else list(v)) for k, v in self.dims.items()}

    @property
    def business(self) -> bool:
        """Whether durations are measured in business hours."""
        return self.hours == "business"

    def metric(self, name: str) -> str:
        """The metric to ask the library for `name` in this view: its business-hours twin
        (`frt_p90` -> `frt_bh_p90`) when the view measures business hours and it has one,
        else `name` itself (counts, scores, call times, unknown names)."""
        return business_name(name) if self.business else name

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> tuple[date, date]:
        """The period of the same length right before this one."""
        return self.start - timedelta(days=self.days), self.start

    def value(self, name: str) -> str:
        """The single value of a dimension filter, or '' (for the filter bar's selects)."""
        values = self.dims.get(name, ())
        return values[0] if len(values) == 1 else ""

    @property
    def label(self) -> str:
        """The period for people: '4 Oct – 31 Oct 2026 (28 days)' (the end day included)."""
        last = self.end - timedelta(days=1)
        first = f"{self.start.day} {self.start:%b}" + ("" if self.start.year == last.year else f" {self.start.year}")
        if self.start == last:
            return f"{last.day} {last:%b %Y}"
        return f"{first} – {last.day} {last:%b %Y} ({self.days} days)"

    # -- URLs ------------------------------------------------------------------------

    def params(self, **override: Any) -> list[tuple[str, str]]:
        """Query parameters that reproduce this view; keyword arguments replace or add
        parameters (None drops one). A preset period stays a preset, so a shared link
        keeps moving with the data."""
        out: list[tuple[str, str]] = []
        if self.period == "custom":
            out += [("from", self.start.isoformat()), ("to", self.end.isoformat())]
        elif self.period != DEFAULT_PERIOD:
            out.append(("period", self.period))
        for name, values in self.dims.items():
            out += [(name, v) for v in values]
        if self.business:
            out.append(("hours", "business"))
        if override:
            period_keys = {"from", "to", "period"}
            if period_keys & set(override):
                out = [(k, v) for k, v in out if k not in period_keys]
            out = [(k, v) for k, v in out if k not in override]
            front: list[tuple[str, str]] = []
            back: list[tuple[str, str]] = []
            for k, v in override.items():
                if v is None:
                    continue
                items = [(k, str(x)) for x in v] if isinstance(v, list | tuple) else [(k, str(v))]
                (front if k in period_keys else back).extend(items)
            out = front + out + back
        return out

    def query(self, **override: Any) -> str:
        """`params` as a query string (without '?')."""
        return urlencode(self.params(**override))

    def with_dims(self, **dims: str | Sequence[str] | None) -> Filters:
        """These filters with some dimensions set to a value or several (or cleared with None)."""
        new = dict(self.dims)
        for k, v in dims.items():
            if v is None:
                new.pop(k, None)
            else:
                new[k] = (v,) if isinstance(v, str) else tuple(v)
        return replace(self, dims=new)

    def shifted(self, start: date, end: date) -> Filters:
        """These filters over another period (custom dates), e.g. the previous one."""
        return replace(self, start=start, end=end, period="custom")

    def drill_params(self, metric: str, **extra_where: str) -> list[tuple[str, str]]:
        """Parameters of the tickets page behind `metric` in this view (explicit dates,
        so the list does not move while someone reads it; in business hours, the rows of
        the metric's twin, valued in business time)."""
        out = [("metric", self.metric(metric)), ("from", self.start.isoformat()), ("to", self.end.isoformat())]
        dims = {**{k: list(v) for k, v in self.dims.items()}, **{k: [v] for k, v in extra_where.items()}}
        for name, values in dims.items():
            out += [(name, v) for v in values]
        if self.business:
            out.append(("hours", "business"))
        return out


def business_name(name: str) -> str:
    """The business-hours twin of a metric name (`frt` -> `frt_bh`, `frt_p90` ->
    `frt_bh_p90`), or the name itself when it has none (or is no metric: the library then
    says so with its own message).

    >>> business_name("full_resolution_time_mean"), business_name("tickets"), business_name("aht")
    ('full_resolution_time_bh_mean', 'tickets', 'aht')
    """
    specs = registry().specs
    if name in specs:
        return name + TWIN_SUFFIX if name + TWIN_SUFFIX in specs else name
    base, _, stat = name.rpartition("_")
    if base and base in specs and base + TWIN_SUFFIX in specs:
        try:
            registry().resolve(name)
        except UserError:
            return name
        return f"{base}{TWIN_SUFFIX}_{stat}"
    return name


class _BusinessWorkspace:
    """A workspace that reads every metric in business hours: `metrics` and `compare` ask
    for each metric's twin and name the rows by the metric asked, so a page built for
    calendar time follows the toggle without a change of its own. Everything else is the
    workspace's."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)

    @staticmethod
    def _renamed(table: Any, back: dict[str, str]) -> Any:
        import pyarrow as pa

        i = table.schema.get_field_index("metric")
        if i < 0 or not back:
            return table
        names = [back.get(m, m) for m in table.column(i).to_pylist()]
        return table.set_column(i, "metric", pa.array(names, type=table.schema.field(i).type))

    def metrics(self, metrics: list[str] | str, **kwargs: Any) -> Any:
        from cxmetrics.metrics._query import MetricTable

        names = [metrics] if isinstance(metrics, str) else list(metrics)
        back = {business_name(n): n for n in names if business_name(n) != n}
        result = self._ws.metrics([business_name(n) for n in names], **kwargs)
        if not back or not isinstance(result, MetricTable) or kwargs.get("explain"):
            return result
        return MetricTable(self._renamed(result.table, back), result.sql)

    def compare(self, metrics: list[str] | str, *args: Any, **kwargs: Any) -> Any:
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        back = {business_name(n): n for n in names if business_name(n) != n}
        return self._renamed(self._ws.compare([business_name(n) for n in names], *args, **kwargs), back)


def for_view(ws: Workspace, f: Filters) -> Workspace:
    """The workspace a page of view `f` reads: in business hours when the view says so."""
    return _BusinessWorkspace(ws) if f.business else ws  # type: ignore[return-value]


__all__ = ["CORE_DIMENSIONS", "DEFAULT_PERIOD", "DIMENSIONS", "HOURS", "PRESETS", "FilterError", "Filters",
           "business_name", "for_view"]
