"""The dashboard's routes: sign-in, the ten pages, and the static files.

Pages are rendered on the server (Jinja2) from the data functions of `_data` and its
siblings; a small script draws the Plotly charts and keeps the page live. A request
with the `X-CXM-Fragment: 1` header gets only the page's content (what the live update
swaps in). Page answers are cached per data version (the hub's), so twenty open
dashboards cost one computation per change.
"""

from __future__ import annotations

import gzip
import logging
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.exceptions import HTTPException

from cxmetrics._workspace import Workspace
from cxmetrics.api._redact import redact_paths
from cxmetrics.api.auth import login, logout, optional_principal, workspace_cursor
from cxmetrics.errors import StoreError, UserError
from cxmetrics.web import _agent
from cxmetrics.web import _distributions
from cxmetrics.web import _queue
from cxmetrics.web import _agents, _channels, _data, _sla, _staffing, _studies, _surveys, _tickets, _topics, _trends
from cxmetrics.web import _ticket
from cxmetrics.web import _format as fmt
from cxmetrics.web import _exports
from cxmetrics.exports import MEDIA_TYPES
from cxmetrics.web import _views
from cxmetrics.web._filters import CORE_DIMENSIONS, DIMENSIONS, HOURS, PRESETS, Filters, for_view

router = APIRouter(include_in_schema=False)
log = logging.getLogger("cxmetrics.web")

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("cxmetrics.web", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
)
_TEMPLATES.filters["count"] = fmt.count
_TEMPLATES.globals["ticket_href"] = _ticket.href  # every ticket id in every list links to its page

_ICONS = {  # inner SVG of 24x24 line icons (constants, not user data)
    "overview": '<rect x="3" y="3" width="7" height="7" rx="1.5"/><rect x="14" y="3" width="7" height="7" rx="1.5"/>'
                '<rect x="3" y="14" width="7" height="7" rx="1.5"/><rect x="14" y="14" width="7" height="7" rx="1.5"/>',
    "trends": '<polyline points="3 17 9 11 13 15 21 7"/><polyline points="15 7 21 7 21 13"/>',
    "queue": '<path d="M22 12h-6l-2 3h-4l-2-3H2"/><path d="M5.5 5.1 2 12v6a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-6'
             'l-3.5-6.9A2 2 0 0 0 16.8 4H7.2a2 2 0 0 0-1.7 1.1z"/>',
    "distributions": '<rect x="3" y="13" width="4" height="8" rx="1"/><rect x="10" y="5" width="4" height="16" rx="1"/>'
                     '<rect x="17" y="10" width="4" height="11" rx="1"/>',
    "channels": '<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/>',
    "topics": '<path d="M3 12V4a1 1 0 0 1 1-1h8l9 9-9 9z"/><circle cx="7.5" cy="7.5" r="1.2"/>',
    "agents": '<circle cx="9" cy="8" r="4"/><path d="M2 21v-1a7 7 0 0 1 14 0v1"/><path d="M16 4.1a4 4 0 0 1 0 7.8"/>'
              '<path d="M22 21v-1a6 6 0 0 0-4-5.6"/>',
    "sla": '<circle cx="12" cy="12" r="9"/><polyline points="12 7 12 12 15.5 14"/>',
    "staffing": '<rect x="3" y="5" width="18" height="16" rx="2"/><line x1="3" y1="10" x2="21" y2="10"/>'
                '<line x1="8" y1="3" x2="8" y2="7"/><line x1="16" y1="3" x2="16" y2="7"/>',
    "studies": '<line x1="4" y1="20" x2="4" y2="11"/><line x1="10" y1="20" x2="10" y2="5"/>'
               '<line x1="16" y1="20" x2="16" y2="9"/><line x1="2" y1="20" x2="22" y2="20"/>',
    "surveys": '<polygon points="12 2.5 15 8.6 21.6 9.6 16.8 14.2 18 20.8 12 17.6 6 20.8 7.2 14.2 2.4 9.6 9 8.6"/>',
    "tickets": '<line x1="9" y1="6" x2="21" y2="6"/><line x1="9" y1="12" x2="21" y2="12"/>'
               '<line x1="9" y1="18" x2="21" y2="18"/><circle cx="4.5" cy="6" r="1"/><circle cx="4.5" cy="12" r="1"/>'
               '<circle cx="4.5" cy="18" r="1"/>',
}
#: The left navigation: (path, label, icon markup).
NAV = tuple((path, label, Markup(f'<svg viewBox="0 0 24 24" aria-hidden="true">{_ICONS[key]}</svg>'))
            for path, label, key in (("/", "Overview", "overview"), ("/queue", "Queue", "queue"),
                                     ("/trends", "Trends", "trends"),
                                     ("/distributions", "Distributions", "distributions"),
                                     ("/channels", "Channels", "channels"), ("/topics", "Topics", "topics"),
                                     ("/agents", "Agents & bots", "agents"),
                                     ("/sla", "SLA", "sla"), ("/staffing", "Staffing", "staffing"),
                                     ("/studies", "Studies", "studies"),
                                     ("/surveys", "Surveys", "surveys"),
                                     ("/tickets", "Tickets", "tickets")))
FRAGMENT_HEADER = "x-cxm-fragment"


# -- helpers ---------------------------------------------------------------------------


def _params(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in request.query_params.multi_items():
        out.setdefault(k, []).append(v)
    return out


def _safe_next(target: str | None) -> str:
    """Only a path on this server (no scheme, no other host) may follow a sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.headers.get(FRAGMENT_HEADER):
        return Response(status_code=401)
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


def _cached(request: Request, name: str, compute: Callable[[Workspace], Any]) -> Any:
    """`compute(ws)`, cached under the hub's data version and the request's query string.

    It runs on a cursor of its own, opened and closed around it, never on the request's:
    the cache renews an entry past its ttl later, in a thread of its own, when the request's
    cursor is closed (or still busy with the rest of the request)."""
    state = request.app.state

    def fresh() -> Any:
        with state.workspace.cursor(auto_refresh=False) as ws:
            return compute(ws)

    cache, hub = getattr(state, "cache", None), getattr(state, "hub", None)
    if cache is None or hub is None:
        return fresh()
    # the path too: one page name serves many addresses (/tickets/{source}/{ticket_id})
    return cache.get_or_compute((hub.version, "web", name, request.url.path, request.url.query), fresh)


def _filter_options(request: Request) -> dict[str, list[dict[str, Any]]]:
    """The filter bar's values: the same for every page and view of a data version, so
    computed once per version (not once per page and query string)."""
    state = request.app.state

    def fresh() -> Any:
        with state.workspace.cursor(auto_refresh=False) as ws:
            return _data.filter_options(ws)

    cache, hub = getattr(state, "cache", None), getattr(state, "hub", None)
    if cache is None or hub is None:
        return fresh()
    return cache.get_or_compute((hub.version, "web", "filter-options"), fresh)


def _render(name: str, code: int = 200, **context: Any) -> HTMLResponse:
    html = _TEMPLATES.get_template(name).render(**context)
    return HTMLResponse(html, status_code=code, headers={"Cache-Control": "no-store", "Vary": "X-CXM-Fragment"})


def _page(request: Request, ws: Workspace, page: str, title: str,
          build: Callable[[Workspace, Filters, dict[str, list[str]]], dict[str, Any]],
          keep: tuple[str, ...] = (), notice: tuple[int, str] | None = None) -> Response:
    """Render a page: check the sign-in, read the filters, build its data (cached), and
    answer the whole page or, for a live update, only its content. `build(ws, f, params)`
    reads the workspace it is given (a cursor of the cache's), not the request's `ws`."""
    principal = optional_principal(request)
    if principal is None:
        return _login_redirect(request)
    params = _params(request)
    error, code, data = None, 200, None
    try:
        anchor = _data.anchor_day(ws)
        f = Filters.parse(params, anchor=anchor)
    except UserError as exc:
        f, error, code = Filters.parse({}, anchor=_data.anchor_day(ws)), str(exc), 400
    if error is None:
        try:
            # (for_view: in business hours, every metric is read as its `_bh` twin)
            data = {**_cached(request, page, lambda cur: {"page": build(for_view(cur, f), f, params),
                                                         "status": _data.data_status(cur)}),
                    "options": _filter_options(request)}
        except UserError as exc:
            error, code = str(exc), 400
        except StoreError as exc:
            error, code = f"the store could not answer ({exc}); the page tries again on the next change.", 503
        except Exception:  # a bug: logged with its traceback; the page still renders, saying so
            log.exception("the %s page failed on %s", page, request.url)
            error, code = "internal error: this is a bug in cxmetrics; the server log has the details.", 500
    if error is None and isinstance((data or {}).get("page"), dict):
        code = int(data["page"].get("http_status", 200))  # a page may answer 404 (an unknown ticket)
    if error is None and notice is not None:  # a form's answer shown on the page it renders (saved views)
        code, error = notice
    if error is not None:
        error = redact_paths(error)  # viewers see no server folders (api/_redact.py)
    if data is None:
        data = {"page": None, "status": _data.data_status(ws), "options": _data.filter_options(ws)}
    # (a parameter the filter bar has a field for is not repeated hidden: `hours`, which the
    # distributions page keeps too, would otherwise be sent twice and the old one win)
    hidden = [(k, v) for k in keep if k not in ("hours", *DIMENSIONS) for v in params.get(k, []) if v.strip()]
    context = {
        "page": page, "title": title, "f": f, "d": data["page"], "status": data["status"], "options": data["options"],
        "error": error, "principal": principal, "nav": NAV, "dimensions": DIMENSIONS, "presets": PRESETS,
        "hidden": hidden, "nav_query": f.query(), "fmt": fmt, "path": request.url.path,
        # read on every page view, not cached with the data: saving a view changes no data version
        "hours": HOURS, "core_dimensions": CORE_DIMENSIONS, "views": _views.menu(ws.path),
        "query": request.url.query,
    }
    if request.headers.get(FRAGMENT_HEADER):
        return _render(f"{page}.html", code, fragment=True, **context)
    return _render(f"{page}.html", code, fragment=False, **context)


# -- sign in ---------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    if optional_principal(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _render("login.html", next=_safe_next(next), error=None)


@router.post("/login")
def login_submit(request: Request, key: str = Form(""), next: str = Form("/")) -> Response:
    target = _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    if not key.strip():
        return _render("login.html", 400, next=target, error="Paste an API key to sign in.")
    try:
        login(request, response, key)
    except HTTPException as exc:
        if exc.status_code == 403:  # posted from another site's page (login CSRF)
            return _render("login.html", 403, next="/", error=str(exc.detail))
        return _render("login.html", 401, next=target,
                       error="That key is not valid (unknown, revoked or mistyped). Check it and try again.")
    return response


@router.post("/logout")
def logout_submit(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    logout(response, request)  # ends the session on the server, not just the cookie
    return response


# -- pages -----------------------------------------------------------------------------


def _sla_clock(request: Request, ws: Workspace) -> Callable[[], None] | None:
    """Bring the SLA clocks to now the way the API does (at most every few seconds), on `ws`."""
    if not _sla.available():
        return None
    from cxmetrics.api._routes_sla import fresh

    state = request.app.state  # not the request itself: a renewal runs after it has ended
    return lambda: fresh(state, ws)


@router.get("/")
def overview_page(request: Request, ws: Workspace = Depends(workspace_cursor)) -> Response:
    def build(ws: Workspace, f: Filters, params: dict[str, list[str]]) -> dict[str, Any]:
        bench = (params.get("benchmark") or [""])[-1].strip() or None
        return _data.overview(ws, f, benchmark=bench, evaluate_sla=_sla_clock(request, ws))

    return _page(request, ws, "overview", "Overview", build, keep=("benchmark",))


@router.get("/queue")
def queue_page(request: Request, ws: Workspace = Depends(workspace_cursor)) -> Response:
    def build(ws: Workspace, f: Filters, params: dict[str, list[str]]) -> dict[str, Any]:
        split = (params.get("split") or [""])[-1].strip()
        return _queue.queue(ws, f, split=split, evaluate=_sla_clock(request, ws))

    return _page(request, ws, "queue", "Queue", build, keep=("split",))


@router.get("/trends")
def trends_page(request: Request, ws: Workspace = Depends(workspace_cursor)) -> Response:
    def build(ws: Workspace, f: Filters, params: dict[str, list[str]]) -> dict[str, Any]:
        def one(name: str) -> str | None:
            return (params.get(name) or [""])[-1].strip() or None

        data = _trends.trends(ws, f, one("metric") or _trends.DEFAULT_METRIC, one("by"), one("grain"),
                              _trends.check_overlays(params.get("overlay", [])))
        return {**data, "choices": _trends.metric_choices(), "splits": _trends.SPLITS, "grains": _trends.GRAINS,
                "grain_asked": one("grain") or ""}

    return _page(request, ws, "trends", "Trends", build, keep=("metric", "by", "grain", "overlay"))


@router.get("/distributions")
def distributions_page(request: Request, ws: Workspace = Depends(workspace_cursor)) -> Response:
    def build(ws: Workspace, f: Filters, params: dict[str, list[str]]) -> dict[str, Any]:
        def one(name: str) -> str | None:
            return (params.get(name) or [""])[-1].strip() or None

        edges, hours, by = _distributions.check(one("edges"), one("hours"), one("by"))
        return _distributions.distributions(ws, f, edges=edges, hours=hours, by=by)

    return _page(request, ws, "distributions", "Distributions", build, keep=("edges", "hours", "by"))


@router.get("/channels")
def channels_page(request: Request, ws: Workspace = Depends(workspace_cursor)) -> Response:
    return _page(request, ws, "channels", "Channels", lambda cur, f, params: _channels.channels(cur, f))


@router.get("/topics")
def topics_page(request: Request, ws: Workspace = Depends(workspace_cursor)) -> Response:
    return _page(request, ws, "topics", "Topics", lambda cur, f, params: _topics.topics(cur, f))


@router.get("/agents")
def agents_page(request: Request, ws: Workspace = Depends(workspace_cursor)) -> Response:
    def build(ws: Workspace, f: Filters, params: dict[str, list[str]]) -> dict[str, Any]:
        min_n, rank_by = _agents.check((params.get("min_n") or [""])[-1].strip(),
                                       (params.get("rank_by") or [""])[-1].strip() or None)
        return _agents.agents(ws, f, min_n=min_n, rank_by=rank_by)

    return _page(request, ws, "agents", "Agents & bots", build, keep=("min_n", "rank_by"))


# `:path`: an agent id or a team may hold `/` (linked as %2F, decoded before routing), spaces
# or any letter; an unknown one answers 404 on a page of the dashboard that names it
@router.get("/agents/{agent_id:path}")
def agent_page(request: Request, agent_id: str, ws: Workspace = Depends(workspace_cursor)) -> Response:
    if not agent_id.strip():  # `/agents/`: the list
        return RedirectResponse("/agents" + (f"?{request.url.query}" if request.url.query else ""), status_code=307)
    return _page(request, ws, "agent", f"Agent · {agent_id}",
                 lambda cur, f, params: _agent.page_or_404(cur, f, "agent", agent_id))


@router.get("/teams/{team:path}")
def team_page(request: Request, team: str, ws: Workspace = Depends(workspace_cursor)) -> Response:
    return _page(request, ws, "agent", f"Team · {team}",
                 lambda cur, f, params: _agent.page_or_404(cur, f, "team", team))


@router.get("/sla")
def sla_page(request: Request, ws: Workspace = Depends(workspace_cursor)) -> Response:
    def build(ws: Workspace, f: Filters, params: dict[str, list[str]]) -> dict[str, Any]:
        within = (params.get("within") or [""])[-1].strip() or _sla.DEFAULT_WITHIN
        return _sla.sla(ws, f, within=within, evaluate=_sla_clock(request, ws))

    return _page(request, ws, "sla", "SLA", build, keep=("within",))


@router.get("/staffing")
def staffing_page(request: Request, ws: Workspace = Depends(workspace_cursor)) -> Response:
    return _page(request, ws, "staffing", "Staffing", lambda cur, f, params: _staffing.staffing(cur, params))


@router.get("/studies")
def studies_page(request: Request, ws: Workspace = Depends(workspace_cursor)) -> Response:
    return _page(request, ws, "studies", "Studies", lambda cur, f, params: _studies.studies_page(cur, params),
                 keep=("study",))


@router.get("/surveys")
def surveys_page(request: Request, ws: Workspace = Depends(workspace_cursor)) -> Response:
    return _page(request, ws, "surveys", "Surveys", lambda cur, f, params: _surveys.surveys(cur, f))


@router.get("/tickets")
def tickets_page(request: Request, ws: Workspace = Depends(workspace_cursor)) -> Response:
    def build(ws: Workspace, f: Filters, params: dict[str, list[str]]) -> dict[str, Any]:
        metric = (params.get("metric") or [""])[-1].strip() or "tickets"
        page_text = (params.get("page") or ["1"])[-1].strip() or "1"
        if not page_text.isdigit() or int(page_text) < 1:
            raise UserError(f"page '{page_text}' is not a page number (1, 2, ...).")
        extra = _tickets.extra_where(params)
        data = _tickets.tickets(ws, f, metric, extra, page=min(int(page_text), 1_000_000))
        base = [(k, v) for k, vs in params.items() if k != "page" for v in vs]
        data["prev_href"] = "/tickets?" + urlencode(base + [("page", str(data["page"] - 1))]) if data["page"] > 1 else None
        data["next_href"] = ("/tickets?" + urlencode(base + [("page", str(data["page"] + 1))])
                             if data["page"] < data["pages"] else None)
        data["choices"] = _tickets.drillable_choices(metric)
        data["back"] = "/tickets?" + urlencode([(k, v) for k, vs in params.items() for v in vs])  # a ticket's way back
        return data

    return _page(request, ws, "tickets", "Tickets", build, keep=("metric", *_tickets.EXTRA))


# `:path`: a ticket id may hold `/` (linked as %2F, which the server decodes before routing);
# the source is the first segment, so the list route `/tickets` above is not shadowed
@router.get("/tickets/{source}/{ticket_id:path}")
def ticket_page(request: Request, source: str, ticket_id: str,
                ws: Workspace = Depends(workspace_cursor)) -> Response:
    def build(ws: Workspace, f: Filters, params: dict[str, list[str]]) -> dict[str, Any]:
        return _ticket.ticket(ws, source, ticket_id, back=(params.get("back") or [""])[-1].strip() or None)

    return _page(request, ws, "ticket", f"Ticket {ticket_id}", build, keep=("back",))


def views_page(request: Request, ws: Workspace, notice: tuple[int, str] | None = None) -> Response:
    """The saved views, to open, share, rename or delete (web/_views.py); `notice`: a
    form's error (status, message) to show on it."""
    def build(cur: Workspace, f: Filters, params: dict[str, list[str]]) -> dict[str, Any]:
        _views.load(cur.path)  # a views.toml that cannot be read is said here (the menu shows none)
        return {}  # the list itself is read on every view (`views` in the context), never cached

    return _page(request, ws, "views", "Saved views", build, notice=notice)


router.include_router(_views.router)  # /views, /v/NAME, the forms behind them and /api/v1/views


# -- downloads: a table's or chart's data as CSV or Excel (web/_exports.py) ------------


@router.get("/export/data.{fmt_text}")
def export_data(request: Request, fmt_text: str, ws: Workspace = Depends(workspace_cursor)) -> Response:
    """The library query behind a table or chart, as a file; bad parameters: the API's 400."""
    if optional_principal(request) is None:
        return _login_redirect(request)
    params = _params(request)
    body, kind = _exports.download(ws, fmt_text, params, _data.anchor_day(ws))
    return Response(body, media_type=MEDIA_TYPES[kind], headers={
        "Content-Disposition": f'attachment; filename="{_exports.file_name(params, kind)}"',
        "Cache-Control": "no-store"})


# -- static files ----------------------------------------------------------------------

_STATIC = resources.files("cxmetrics.web") / "static"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "application/javascript; charset=utf-8",
          ".svg": "image/svg+xml"}
_gzipped: dict[str, bytes] = {}
_gzip_lock = threading.Lock()


def _plotly_path() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _served(name: str, data_fn: Callable[[], bytes], media: str, request: Request, max_age: int) -> Response:
    """A static file, gzipped once in memory when the browser accepts it."""
    headers = {"Cache-Control": f"public, max-age={max_age}", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        with _gzip_lock:
            if name not in _gzipped:
                _gzipped[name] = gzip.compress(data_fn(), compresslevel=6)
        return Response(_gzipped[name], media_type=media, headers={**headers, "Content-Encoding": "gzip"})
    return Response(data_fn(), media_type=media, headers=headers)


@router.get("/static/plotly.min.js")
def plotly_js(request: Request) -> Response:
    """Plotly's browser bundle from the installed plotly package (no CDN: works offline)."""
    path = _plotly_path()
    if not path.is_file():
        raise HTTPException(404, "plotly.min.js is missing from the installed plotly package: reinstall plotly.")
    return _served("plotly", path.read_bytes, _TYPES[".js"], request, 86400)


@router.get("/static/{name}")
def static_file(name: str, request: Request) -> Response:
    suffix = Path(name).suffix
    if "/" in name or name.startswith(".") or suffix not in _TYPES:
        raise HTTPException(404, f"no static file '{quote(name)}'")
    item = _STATIC / name
    if not item.is_file():
        raise HTTPException(404, f"no static file '{quote(name)}'")
    return _served(name, item.read_bytes, _TYPES[suffix], request, 300)


@router.get("/favicon.ico")
def favicon(request: Request) -> Response:
    return _served("favicon.svg", (_STATIC / "favicon.svg").read_bytes, _TYPES[".svg"], request, 86400)


__all__ = ["NAV", "router"]
