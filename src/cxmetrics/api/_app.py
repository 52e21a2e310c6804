"""The server application: one process, one open workspace, the REST API under
`/api/v1`, the live-change hub, and the dashboard pages when `cxmetrics.web` exists.

The process owns the workspace while it runs (DuckDB lets one process open the file
for writing): each request works on its own cursor of it, writes take turns, and after
each write the facts are refreshed once and a change is published on the hub.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import logging
import os
import threading
import webbrowser
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

import cxmetrics
from cxmetrics.api import _errors
from cxmetrics.api._cache import ResultCache
from cxmetrics.api._headers import install as install_headers
from cxmetrics.api._auth import api_viewer
from cxmetrics.api._hub import Hub
from cxmetrics.api._keys import session_secret
from cxmetrics.api._limits import BodyLimits
from cxmetrics.api._models import EventIn
from cxmetrics.api._params import RefuseUnknownParameters, parameters_as_sent
from cxmetrics.api._refresher import Refresher

log = logging.getLogger("cxmetrics.api")

PREFIX = "/api/v1"


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _alert_watcher(app: FastAPI) -> Any:
    """The SLA alert watcher over this workspace, when the alerts package is installed
    and the workspace has an `alerts.toml` (else there is nothing to deliver)."""
    if not _has("cxmetrics.alerts"):
        return None
    alerts = importlib.import_module("cxmetrics.alerts")
    watcher = getattr(alerts, "Watcher", None)
    config = app.state.workspace.path / getattr(alerts, "CONFIG_FILE", "alerts.toml")
    if watcher is None or not config.exists():
        log.info("no %s: SLA alerts are not watched", config)
        return None
    return watcher(app.state.workspace)


def create_app(workspace_path: str | os.PathLike[str], *, open_browser: bool = False, url: str | None = None,
               keepalive_s: float = 15.0, cache_entries: int = 256, cache_ttl_s: float = 30.0,
               refresh_delay_s: float = 0.5, watch_alerts: bool = True, sync_connectors: bool = True,
               send_surveys: bool = True, send_reports: bool = True) -> FastAPI:
    """The application over the workspace at `workspace_path` (opened now, closed at shutdown).

    `app.state.workspace` is the process's workspace, `app.state.hub` the live-change hub.
    `open_browser` opens `url` when the server has started. `cache_entries=0` turns the
    result cache off. Writes that do not wait for the facts are refreshed (together) at
    most `refresh_delay_s` seconds later. `sync_connectors` runs the live syncs whose
    [connectors.VENDOR] sets an interval (connectors/_schedule.py). `send_surveys` runs the
    survey sender (surveys/_scheduler.py; idle while surveys.toml defines no survey).
    `send_reports` runs the report schedules (reports/_scheduler.py; idle without reports.toml)."""
    ws = cxmetrics.open(workspace_path)
    try:
        ws.refresh()  # reads run without refreshing: bring the facts up to date once now
        secret = session_secret(ws)
        schema_version = ws.schema_version  # it cannot change while the server holds the workspace
    except BaseException:
        ws.close()
        raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        watcher = None
        if watch_alerts:
            try:
                watcher = _alert_watcher(app)
                if watcher is not None:
                    watcher.start()
            except Exception:  # alerts must not keep the dashboard from starting
                log.exception("the alert watcher could not start")
                watcher = None
        app.state.alert_watcher = watcher
        warm_up = None
        if app.state.sla_enabled and watcher is None:  # the watcher evaluates them itself
            warm_up = _routes_sla.warm_up(app.state)
        if open_browser and url:
            webbrowser.open(url)
        if sync_connectors:  # interval syncs; what they land is refreshed and published as an ingest is
            from cxmetrics.connectors._schedule import Scheduler

            app.state.sync_scheduler = Scheduler(app.state.workspace, app.state.refresher.wrote).start()
        if send_surveys:  # always started: a survey defined while the server runs is sent without a restart
            try:
                from cxmetrics.surveys._scheduler import SurveyScheduler

                app.state.survey_scheduler = SurveyScheduler(app.state.workspace, app.state.refresher.wrote,
                                                             quiet=app.state.refresher.quiet_s).start()
            except Exception:  # surveys must not keep the dashboard from starting
                log.exception("the survey sender could not start")
        if send_reports:  # always started: a schedule added while the server runs needs no restart
            try:
                from cxmetrics.reports._scheduler import ReportScheduler

                app.state.report_scheduler = ReportScheduler(
                    app.state.workspace, evaluate_sla=lambda ws: _routes_sla.fresh(app.state, ws)).start()
            except Exception:  # reports must not keep the dashboard from starting
                log.exception("the report scheduler could not start")
        try:
            yield
        finally:
            if app.state.survey_scheduler is not None:
                app.state.survey_scheduler.stop()
            if app.state.report_scheduler is not None:
                app.state.report_scheduler.stop()
            if app.state.sync_scheduler is not None:
                app.state.sync_scheduler.stop()
            if watcher is not None:
                try:
                    watcher.stop()
                except Exception:
                    log.exception("the alert watcher did not stop cleanly")
            app.state.refresher.close()
            app.state.hub.close()
            app.state.cache.close()
            if warm_up is not None:
                warm_up.join(60)
            _close(app.state.workspace)

    app = FastAPI(
        title="cxmetrics", version=cxmetrics.__version__, lifespan=lifespan,
        description="Customer-service KPIs over one workspace. Every endpoint but /health needs a key: "
                    "`Authorization: Bearer <key>`, `X-API-Key: <key>` or the dashboard's session cookie.",
        openapi_url=None, docs_url=None, redoc_url=None,  # both served below, behind a key
    )
    app.state.workspace = ws
    app.state.hub = Hub()
    app.state.cache = ResultCache(cache_entries, cache_ttl_s)
    app.state.session_secret = secret
    app.state.schema_version = schema_version
    app.state.keepalive_s = keepalive_s
    app.state.alert_watcher = None
    app.state.sync_scheduler = None
    app.state.survey_scheduler = None
    app.state.report_scheduler = None

    def wake_watcher() -> None:
        watcher = app.state.alert_watcher
        if watcher is not None:
            watcher.notify()  # evaluate SLA clocks now rather than at the next tick
        surveys = app.state.survey_scheduler
        if surveys is not None:
            surveys.notify()  # a solve may make a survey due (a zero delay: at once)

    app.state.derive_lock = threading.Lock()  # facts and SLA derivations, one at a time
    app.state.refresher = Refresher(ws, app.state.hub.publish, max_delay_s=refresh_delay_s, after=wake_watcher,
                                    derive_lock=app.state.derive_lock, checkpoint_idle_s=1.0)
    _errors.install(app)
    app.add_middleware(ServerTiming)
    # a query parameter an endpoint does not take is a 400, not ignored (api/_params.py)
    app.add_middleware(RefuseUnknownParameters, prefix=PREFIX, skip=(f"{PREFIX}/webhooks/",))
    app.add_middleware(BodyLimits)  # body caps and credentials, before any body is read (api/_limits.py)
    install_headers(app)  # CSP, nosniff, no framing... on every response, 500s too (api/_headers.py)

    from cxmetrics.api import _routes_data, _routes_meta, _routes_metrics, _routes_sla, _routes_stream, _routes_tickets

    for module in (_routes_meta, _routes_metrics, _routes_tickets, _routes_data, _routes_stream):
        if hasattr(module, "public"):
            app.include_router(module.public, prefix=PREFIX)
        app.include_router(module.router, prefix=PREFIX)
    from cxmetrics.api import _routes_targets

    app.include_router(_routes_targets.router, prefix=PREFIX)
    from cxmetrics.api import _routes_webhooks

    app.include_router(_routes_webhooks.router, prefix=PREFIX)  # signed by the help desk, no key
    from cxmetrics.surveys import _page as _survey_page

    _survey_page.install(app)  # the survey page /s/TOKEN: no key, its own headers and rate limits
    from cxmetrics.api import _routes_reconcile

    app.include_router(_routes_reconcile.router, prefix=PREFIX)  # the vendor's numbers beside ours
    from cxmetrics.api import _routes_text

    app.include_router(_routes_text.router, prefix=PREFIX)  # the text layer's reports (docs/text.md)
    from cxmetrics.api import _routes_workforce

    app.include_router(_routes_workforce.router, prefix=PREFIX)  # forecast, staffing, plan (docs/workforce.md)
    from cxmetrics.api import _routes_studies

    app.include_router(_routes_studies.router, prefix=PREFIX)  # studies, SPI, findings, reviews (docs/studies.md)
    from cxmetrics.api import _routes_surveys

    app.include_router(_routes_surveys.router, prefix=PREFIX)  # definitions, links, sends (docs/surveys.md)
    app.state.sla_enabled = _routes_sla.available()
    if app.state.sla_enabled:
        app.include_router(_routes_sla.router, prefix=PREFIX)
    from cxmetrics.api import _routes_local

    _routes_local.mount(app)  # the CLI and library of other processes run through this server
    _security_scheme(app)

    # the spec and its page need a key (or the dashboard's session), as every endpoint but /health
    @app.get(f"{PREFIX}/openapi.json", include_in_schema=False, dependencies=[Depends(api_viewer)])
    def openapi_json() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get(f"{PREFIX}/docs", include_in_schema=False, dependencies=[Depends(api_viewer)])
    def docs() -> HTMLResponse:
        return HTMLResponse(_docs_page(app.openapi()))

    web = importlib.import_module("cxmetrics.web") if _has("cxmetrics.web") else None
    if web is not None and hasattr(web, "router"):
        app.include_router(web.router)
        if hasattr(web, "mount"):  # static files and anything else the pages need
            web.mount(app)
    else:
        @app.get("/", include_in_schema=False)
        def root() -> RedirectResponse:
            return RedirectResponse(f"{PREFIX}/docs")

    return app


class ServerTiming:
    """Adds `Server-Timing: app;dur=<ms>` to every response: the time the server spent
    until the response started (what a client's latency is made of, minus the network)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        import time

        started = time.perf_counter()

        async def timed_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - started) * 1000
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"server-timing", f"app;dur={ms:.1f}".encode())]
            await send(message)

        await self.app(scope, receive, timed_send)


def _close(ws: Any, attempts: int = 50) -> None:
    """Close the workspace once work still running on its cursors has finished."""
    import time

    import duckdb

    for _ in range(attempts):
        try:
            ws.close()
            return
        except duckdb.Error:  # a cursor is mid-query (a streamed export...): wait a little
            time.sleep(0.1)
    log.warning("the workspace was still busy at shutdown; closing it anyway")
    ws.close()


def _security_scheme(app: FastAPI) -> None:
    """The spec names how to authenticate, and documents the events body."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        parameters_as_sent(spec)  # optional parameters are absent, never null (api/_params.py)
        comps = spec.setdefault("components", {})
        comps.setdefault("schemas", {})["EventIn"] = EventIn.model_json_schema(ref_template="#/components/schemas/{model}")
        comps["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "An API key: cxm_..."},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "session": {"type": "apiKey", "in": "cookie", "name": "cxm_session"},
        }
        public = {(f"{PREFIX}/health", "get"), (f"{PREFIX}/session", "post"), (f"{PREFIX}/session", "delete")}
        public.add((f"{PREFIX}/webhooks/{{vendor}}", "post"))  # the vendor's signature instead of a key
        for path, ops in spec.get("paths", {}).items():
            for method, op in ops.items():
                op["security"] = [] if (path, method) in public else [{"bearer": []}, {"apiKey": []}, {"session": []}]
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _docs_page(spec: dict[str, Any]) -> str:
    """A plain HTML reference of the API, from the spec: no scripts, works offline."""
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(spec['info']['title'])} API</title>",
             ("<style>body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
              "code{background:#f3f3f3;padding:0 .2em}h2{margin-top:2rem;border-top:1px solid #ddd;padding-top:1rem}"
              "td{vertical-align:top;padding:.15rem .6rem .15rem 0}.m{font-weight:bold;text-transform:uppercase}"
              "</style></head><body>"),
             f"<h1>{e(spec['info']['title'])} API {e(spec['info']['version'])}</h1>",
             f"<p>{e(spec['info'].get('description', ''))}</p>",
             (f"<p>The machine-readable spec: <a href='{PREFIX}/openapi.json'><code>{PREFIX}/openapi.json</code></a>. "
              "Errors have one shape: <code>{\"error\": {\"status\", \"code\", \"message\", \"details\"}}</code>.</p>")]
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            parts.append(f"<h2><span class='m'>{e(method)}</span> <code>{e(path)}</code></h2>")
            parts.append(f"<p>{e(op.get('summary', ''))}</p>")
            params = op.get("parameters", [])
            if params:
                parts.append("<table>")
                for p in params:
                    req = " (required)" if p.get("required") else ""
                    parts.append(f"<tr><td><code>{e(p['name'])}</code></td><td>{e(p['in'])}{req}</td>"
                                 f"<td>{e(p.get('description', '') or '')}</td></tr>")
                parts.append("</table>")
            codes = ", ".join(e(str(c)) for c in op.get("responses", {}))
            parts.append(f"<p>Responses: {codes}</p>")
    parts.append("</body></html>")
    return "".join(parts)
