"""Query parameters shared by the endpoints: lists, filters, periods, and the cache.

Filters are repeated ``where=DIM=VALUE`` parameters, as in the CLI (``DIM:VALUE`` is accepted
too): ``where=channel=email&where=channel=chat`` means channel is email or chat; different
dimensions must all hold; values match case-blind. Dimension names come
from the allow-list (`cxmetrics.metrics._sources.DIMENSIONS`); values are data, never SQL.

>>> parse_where(["channel=email", "channel:chat", "team=Tier 1"])
{'channel': ['email', 'chat'], 'team': ['Tier 1']}
>>> split(["csat,frt", "nps"])
['csat', 'frt', 'nps']
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import Query, Request
from starlette.concurrency import run_in_threadpool

from cxmetrics._workspace import Workspace
from cxmetrics.api._errors import Rendered, dumps, error_response
from cxmetrics.errors import UserError
from cxmetrics.metrics._sources import split_filter

T = TypeVar("T")

WHERE_DOC = ("Filter `DIM=VALUE` (or `DIM:VALUE`), repeatable; values of one dimension are alternatives, "
             "different dimensions must all hold (e.g. `where=channel=email&where=team=Billing`); values match "
             "case-blind. Dimensions: see GET /dimensions.")
WhereQuery = Query([], description=WHERE_DOC, examples=[["channel=email"]])
FromQuery = Query(None, alias="from", description="Period start (inclusive), a date or ISO time, e.g. 2025-01-01; "
                  "read in the workspace's time zone unless it has an offset.", examples=["2025-01-01"])
ToQuery = Query(None, alias="to", description="Period end (exclusive), e.g. 2025-02-01.", examples=["2025-02-01"])


def split(values: list[str] | None) -> list[str]:
    """Comma-separated or repeated values as one list, blanks dropped; a value given twice
    counts once (`by=channel,channel` groups by channel: a second channel column would clash).

    >>> split(["channel,channel", "team"])
    ['channel', 'team']
    """
    return list(dict.fromkeys(v.strip() for item in values or [] for v in item.split(",") if v.strip()))


def parse_where(items: list[str] | None) -> dict[str, list[str]]:
    where: dict[str, list[str]] = {}
    for item in items or []:
        parts = split_filter(item)  # DIM=VALUE as in the CLI, or DIM:VALUE
        if parts is None:
            raise UserError(f"where '{item}' is not DIM=VALUE (e.g. where=channel=email).")
        where.setdefault(parts[0], []).append(parts[1])
    return where


def parse_instant(value: str | None, name: str) -> date | datetime | None:
    """A date (2025-03-01) or a time (2025-03-01T09:00, with or without offset)."""
    if value is None or value == "":
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"{name} '{value}' is not a date or time such as 2025-03-01, 2025-03-01T09:00 or "
                        "2025-03-01T09:00+01:00.") from None


def check_period(start: date | datetime | None, end: date | datetime | None) -> None:
    if start is None or end is None:
        return
    a, b = _as_datetime(start), _as_datetime(end)
    if (a.tzinfo is None) != (b.tzinfo is None):
        raise UserError("give from and to both with a UTC offset or both without one.")
    if b <= a:
        raise UserError(f"to ({end}) must be after from ({start}).")


def _as_datetime(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


def previous_period(start: date | datetime, end: date | datetime) -> tuple[date | datetime, date | datetime]:
    """The period of the same length just before [start, end).

    >>> previous_period(date(2025, 3, 1), date(2025, 3, 29))
    (datetime.date(2025, 2, 1), datetime.date(2025, 3, 1))
    """
    length = _as_datetime(end) - _as_datetime(start)
    if isinstance(start, datetime):
        return start - length, start
    days = length.days if length.seconds == 0 else None
    if days is not None:
        return start - timedelta(days=days), start
    return _as_datetime(start) - length, start


def parse_span(text: str) -> tuple[date | datetime, date | datetime]:
    """`START..END` (END excluded)."""
    a, sep, b = text.partition("..")
    if not sep:
        raise UserError(f"compare_to '{text}' is neither 'previous' nor START..END (e.g. 2025-01-01..2025-02-01).")
    start, end = parse_instant(a, "compare_to start"), parse_instant(b, "compare_to end")
    if start is None or end is None:
        raise UserError(f"compare_to '{text}' needs both a start and an end (START..END).")
    check_period(start, end)
    return start, end


def parameters_as_sent(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec's parameters as a client sends them: a query or path parameter is text or
    absent, never JSON null, so an optional one (`str | None`) is declared as its type only.

    >>> op = {"parameters": [{"name": "to", "in": "query", "schema": {"anyOf": [{"type": "string"},
    ...       {"type": "null"}], "title": "To"}}]}
    >>> parameters_as_sent({"paths": {"/x": {"get": op}}})["paths"]["/x"]["get"]["parameters"][0]["schema"]
    {'title': 'To', 'type': 'string'}
    """
    for ops in spec.get("paths", {}).values():
        for op in ops.values():
            for param in op.get("parameters", []):
                schema = param.get("schema", {})
                kept = [s for s in schema.get("anyOf", []) if s != {"type": "null"}]
                if "anyOf" in schema and len(kept) == 1:
                    param["schema"] = {**{k: v for k, v in schema.items() if k != "anyOf"}, **kept[0]}
    return spec


class RefuseUnknownParameters:
    """Middleware: an endpoint under `prefix` refuses a query parameter it does not take (400
    `unknown_parameter`, naming the ones it takes) rather than ignore it as FastAPI does. An
    ignored parameter misleads: `GET /metrics?channel=email` answered for every channel, and
    nothing said so (the filter is `where=channel=email`). What an endpoint takes is what the
    OpenAPI spec says it takes, read at the first request with a query (every router is in by
    then; `cxmetrics serve` builds the spec, 0.4 s, before it listens). Paths under `skip` (a help desk's webhooks, whose senders add parameters of their
    own) and endpoints outside the spec (the local CLI's) are left as they are."""

    def __init__(self, app: Any, prefix: str, skip: tuple[str, ...] = ()) -> None:
        self.app, self.prefix, self.skip = app, prefix, skip
        self._ops: list[tuple[re.Pattern[str], str, str, frozenset[str]]] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not scope.get("query_string") or not path.startswith(self.prefix) \
                or path.startswith(self.skip):
            await self.app(scope, receive, send)
            return
        if self._ops is None:
            self._ops = _operations(scope["app"].openapi())
        method = "get" if scope["method"] == "HEAD" else scope["method"].lower()
        for pattern, op_method, template, takes in self._ops:
            if op_method == method and pattern.fullmatch(path):
                sent = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
                unknown = sorted({k for k, _ in sent} - takes)
                if unknown:
                    response = error_response(400, unknown_message(unknown, takes, template), "unknown_parameter",
                                              {"unknown": unknown, "parameters": sorted(takes)})
                    await response(scope, receive, send)
                    return
                break
        await self.app(scope, receive, send)


def _operations(spec: dict[str, Any]) -> list[tuple[re.Pattern[str], str, str, frozenset[str]]]:
    """(path pattern, method, path, query names) of every operation in the spec; a literal path
    is tried before a templated one (/tickets/export before /tickets/{ticket_id})."""
    ops = []
    for template, methods in spec.get("paths", {}).items():
        pattern = re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))
        for method, op in methods.items():
            takes = frozenset(p["name"] for p in op.get("parameters", []) if p.get("in") == "query")
            ops.append((pattern, method, template, takes))
    return sorted(ops, key=lambda x: x[2].count("{"))


def unknown_message(unknown: list[str], takes: frozenset[str], path: str) -> str:
    """What to fix when a request names parameters `path` does not take: the closest name it
    takes, or, for a dimension where the endpoint filters, the `where` form.

    >>> unknown_message(["channel"], frozenset({"metrics", "where", "from", "to"}), "/api/v1/metrics")
    "/api/v1/metrics does not take the query parameter 'channel' (to filter: where=channel=VALUE, e.g. where=channel=email). It takes from, metrics, to, where."
    >>> unknown_message(["metric", "x"], frozenset({"metrics", "by"}), "/api/v1/metrics")
    "/api/v1/metrics does not take the query parameters 'metric' (did you mean 'metrics'?), 'x'. It takes by, metrics."
    """
    from cxmetrics.metrics._sources import DIMENSIONS

    named = []
    for name in unknown:
        close = difflib.get_close_matches(name, sorted(takes), n=1, cutoff=0.6)
        if close:
            named.append(f"'{name}' (did you mean '{close[0]}'?)")
        elif name in DIMENSIONS and "where" in takes:
            example = "email" if name == "channel" else "..."
            named.append(f"'{name}' (to filter: where={name}=VALUE, e.g. where={name}={example})")
        else:
            named.append(f"'{name}'")
    what = "the query parameter" if len(unknown) == 1 else "the query parameters"
    takes_text = f"It takes {', '.join(sorted(takes))}." if takes else "It takes none."
    return f"{path} does not take {what} {', '.join(named)}. {takes_text}"


def cached(request: Request, name: str, params: Any, compute: Callable[[Workspace], T]) -> T:
    """`compute(ws)`'s answer, cached under the current hub version and the request; it
    runs on a cursor of its own (it may run again later, in the background)."""
    state = request.app.state

    def fresh() -> T:
        with state.workspace.cursor(auto_refresh=False) as ws:
            return compute(ws)

    return state.cache.get_or_compute((state.hub.version, name, repr(params)), fresh)


async def answer(request: Request, name: str, params: Any, compute: Callable[[Workspace], Any]) -> Rendered:
    """The cached JSON answer, looked up on the event loop; on a miss `compute(ws)` runs in
    a worker thread on a cursor of its own, and the rendered JSON is kept."""
    state = request.app.state
    key = (state.hub.version, name, repr(params))

    def fresh() -> Rendered:
        with state.workspace.cursor(auto_refresh=False) as ws:
            return Rendered(dumps(compute(ws)))

    found, value = state.cache.peek(key, fresh)
    if found:
        return value  # type: ignore[no-any-return]
    return await run_in_threadpool(state.cache.get_or_compute, key, fresh)
