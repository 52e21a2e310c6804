"""Saved views: a dashboard page and its filters (a query string), saved under a name,
listed in the filter bar's menu and shared by link (`/v/NAME` opens the page with them).

They live in the workspace's `views.toml`, one table per view, edited with tomlkit (which
keeps comments a person wrote) and written atomically (a temporary file renamed over the
old one), so a reader never sees half a file:

    [views."Email, this quarter"]
    path = "/trends"
    query = "period=90d&channel=email&metric=frt"
    by = "alice"
    saved_at = "2026-11-02T09:14:00+00:00"

Any signed-in key may save a view; renaming or deleting one takes its author or an admin.

>>> check_name("  Weekly email  "), check_target("/trends", "?metric=frt&channel=email")
('Weekly email', ('/trends', 'metric=frt&channel=email'))
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import tomlkit
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from cxmetrics._workspace import Workspace
from cxmetrics.api.auth import optional_principal, require_viewer, workspace_cursor
from cxmetrics.errors import UserError

VIEWS_FILE = "views.toml"
NAME_MAX = 60
#: A name: letters (any script), digits, spaces and - _ . , ( ) &, starting with a letter or digit.
_NAME = re.compile(r"[^\W_][\w .,()&-]*")
#: The pages a view may open (the dashboard's own; /v/NAME never leads off the dashboard).
PAGES = ("/", "/queue", "/trends", "/distributions", "/channels", "/topics", "/agents", "/sla", "/staffing",
         "/studies", "/surveys", "/tickets")
#: The pages of one agent, team or ticket: these prefixes and a (URL-encoded) name after them.
PAGE_PREFIXES = ("/agents/", "/teams/", "/tickets/")
_PATH_MAX = 600
_QUERY_MAX = 2000
_HEADER = ("Saved dashboard views (cxmetrics): a page and its filters, opened by /v/NAME.",
           "Edit with the dashboard's Save view and Saved views page, or by hand.")
_LOCK = threading.Lock()  # one edit at a time in this process: read, change, write

router = APIRouter(include_in_schema=False)


class ViewError(UserError, ValueError):
    """A view's name or target is not valid, or no view has that name; the message says the fix."""


class NoSuchView(ViewError):
    """No saved view has that name (a 404 where the other refusals are a 400)."""


@dataclass(frozen=True)
class View:
    name: str
    path: str
    query: str
    by: str
    saved_at: str

    @property
    def href(self) -> str:
        """The page with its filters."""
        return self.path + (f"?{self.query}" if self.query else "")

    @property
    def link(self) -> str:
        """The short link that opens it: /v/NAME."""
        return "/v/" + quote(self.name, safe="")

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "path": self.path, "query": self.query, "href": self.href, "link": self.link,
                "by": self.by, "saved_at": self.saved_at}


def check_name(name: str) -> str:
    """A view's name, trimmed; ViewError names what is wrong and what is allowed."""
    text = " ".join(name.split())
    if not text:
        raise ViewError("give the view a name, e.g. 'Email this quarter'.")
    if len(text) > NAME_MAX:
        raise ViewError(f"the view name '{text[:NAME_MAX]}…' is {len(text)} characters long: "
                        f"use at most {NAME_MAX}.")
    if not _NAME.fullmatch(text):
        raise ViewError(f"the view name '{text}' has characters a name cannot hold: use letters, digits, spaces "
                        "and - _ . , ( ) &, starting with a letter or a digit.")
    return text


def check_target(path: str, query: str) -> tuple[str, str]:
    """The page and query string a view opens: a dashboard page, and its parameters
    re-encoded (so a view cannot carry a fragment or a second URL)."""
    own = any(path.startswith(p) and path[len(p):].strip("/") for p in PAGE_PREFIXES) and len(path) <= _PATH_MAX \
        and not any(c in path for c in "\\?#") and "//" not in path and path.isprintable()
    if path not in PAGES and not own:
        raise ViewError(f"'{path[:_PATH_MAX]}' is not a dashboard page: a view opens one of {', '.join(PAGES)}, "
                        f"or the page of an agent, team or ticket ({', '.join(p + '...' for p in PAGE_PREFIXES)}).")
    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=False)
    text = urlencode([(k, v) for k, v in pairs if k != "page"])  # a view is its filters, not a page of a list
    if len(text) > _QUERY_MAX:
        raise ViewError(f"the view's filters are {len(text)} characters long: at most {_QUERY_MAX} are kept; "
                        "clear a few values.")
    return path, text


def _file(root: Path) -> Path:
    return root / VIEWS_FILE


def _read(path: Path) -> tomlkit.TOMLDocument:
    if not path.is_file():
        doc = tomlkit.document()
        for line in _HEADER:
            doc.add(tomlkit.comment(line))
        doc.add(tomlkit.nl())
        return doc
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except tomlkit.exceptions.ParseError as exc:
        raise ViewError(f"{path.name} is not valid TOML: {exc}; fix it by hand or delete it.") from None


def _write(path: Path, doc: tomlkit.TOMLDocument) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _table(doc: tomlkit.TOMLDocument) -> Any:
    if "views" not in doc:
        doc["views"] = tomlkit.table(is_super_table=True)
    return doc["views"]


def load(root: Path) -> list[View]:
    """The saved views of the workspace at `root`, by name (case-blind); a view whose
    target is no longer valid is left out."""
    data = _read(_file(root)).unwrap().get("views", {})
    out = []
    for name, v in data.items():
        if not isinstance(v, dict):
            continue
        try:
            path, query = check_target(str(v.get("path", "")), str(v.get("query", "")))
        except ViewError:
            continue
        out.append(View(str(name), path, query, str(v.get("by", "")), str(v.get("saved_at", ""))))
    return sorted(out, key=lambda view: view.name.lower())


def menu(root: Path) -> list[View]:
    """The views for the filter bar's menu: none when views.toml cannot be read (the
    Saved views page says why)."""
    try:
        return load(root)
    except ViewError:
        return []


def find(root: Path, name: str) -> View:
    for view in load(root):
        if view.name.lower() == " ".join(name.split()).lower():
            return view
    known = ", ".join(v.name for v in load(root)) or "none yet"
    raise NoSuchView(f"no saved view is named '{name}' (saved views: {known}).")


def _key(doc: tomlkit.TOMLDocument, name: str) -> str | None:
    """The key a name is stored under (names compare case-blind)."""
    return next((k for k in _table(doc) if str(k).lower() == name.lower()), None)


def save(root: Path, name: str, path: str, query: str, *, by: str, replace: bool = True) -> View:
    """Save (or, with `replace`, overwrite) a view; returns it."""
    name = check_name(name)
    path, query = check_target(path, query)
    with _LOCK:
        doc = _read(_file(root))
        views = _table(doc)
        old = _key(doc, name)
        if old is not None:
            if not replace:
                raise ViewError(f"a view named '{old}' exists: choose another name or delete it first.")
            del views[old]
        saved_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        entry = tomlkit.table()
        entry.update({"path": path, "query": query, "by": by, "saved_at": saved_at})
        views[name] = entry
        _write(_file(root), doc)
    return View(name, path, query, by, saved_at)


def rename(root: Path, name: str, new_name: str) -> View:
    new_name = check_name(new_name)
    view = find(root, name)
    with _LOCK:
        doc = _read(_file(root))
        clash = _key(doc, new_name)
        if clash is not None and clash.lower() != view.name.lower():
            raise ViewError(f"a view named '{clash}' exists: choose another name.")
        views = _table(doc)
        entry = views[_key(doc, view.name)]
        del views[_key(doc, view.name)]
        views[new_name] = entry
        _write(_file(root), doc)
    return View(new_name, view.path, view.query, view.by, view.saved_at)


def delete(root: Path, name: str) -> View:
    view = find(root, name)
    with _LOCK:
        doc = _read(_file(root))
        key = _key(doc, view.name)
        if key is not None:
            del _table(doc)[key]
            _write(_file(root), doc)
    return view


# -- routes ----------------------------------------------------------------------------


def _may_change(principal: Any, view: View) -> bool:
    return principal.can("admin") or principal.name == view.by


def _redirect(target: str) -> Response:
    return RedirectResponse(target, status_code=303)


def _signed_in(request: Request) -> Any:
    """The signed-in caller of a form post, or None. A post with the session cookie must
    come from this server's own pages (Origin), as every dashboard form's (api/_auth.py)."""
    return optional_principal(request)


def _fail(request: Request, ws: Workspace, message: str, code: int) -> Response:
    from cxmetrics.web import _pages

    return _pages.views_page(request, ws, notice=(code, message))


@router.get("/v/{name}")
def open_view(name: str, request: Request, ws: Workspace = Depends(workspace_cursor)) -> Response:
    """A saved view's link: the page with its filters (a sign-in first when needed)."""
    from cxmetrics.web import _pages

    if optional_principal(request) is None:
        return _pages._login_redirect(request)
    try:
        return _redirect(find(ws.path, name).href)
    except ViewError as exc:
        return _fail(request, ws, str(exc), 404)


@router.get("/views")
def list_views(request: Request, ws: Workspace = Depends(workspace_cursor)) -> Response:
    from cxmetrics.web import _pages

    return _pages.views_page(request, ws)


@router.post("/views")
def save_view(request: Request, ws: Workspace = Depends(workspace_cursor), name: str = Form(""),
              path: str = Form("/"), query: str = Form("")) -> Response:
    from cxmetrics.web import _pages

    principal = _signed_in(request)
    if principal is None:
        return _pages._login_redirect(request)
    try:
        existing = {v.name.lower(): v for v in load(ws.path)}
        old = existing.get(" ".join(name.split()).lower())
        if old is not None and not _may_change(principal, old):
            raise ViewError(f"the view '{old.name}' is {old.by}'s: choose another name (only its author or an "
                            "admin may replace it).")
        view = save(ws.path, name, path, query, by=principal.name)
    except ViewError as exc:
        return _fail(request, ws, str(exc), 400)
    return _redirect(view.href)


def _change(request: Request, ws: Workspace, name: str, verb: str, act: Callable[[], object]) -> Response:
    """Rename or delete (`verb`, done by `act`) the view `name`: its author or an admin only."""
    from cxmetrics.web import _pages

    principal = _signed_in(request)
    if principal is None:
        return _pages._login_redirect(request)
    try:
        view = find(ws.path, name)
        if not _may_change(principal, view):
            return _fail(request, ws, f"the view '{view.name}' is {view.by}'s: only its author or an admin may "
                                      f"{verb} it.", 403)
        act()
    except ViewError as exc:
        return _fail(request, ws, str(exc), 404 if isinstance(exc, NoSuchView) else 400)
    return _redirect("/views")


@router.post("/views/{name}/rename")
def rename_view(name: str, request: Request, ws: Workspace = Depends(workspace_cursor),
                new_name: str = Form("")) -> Response:
    return _change(request, ws, name, "rename", lambda: rename(ws.path, name, new_name))


@router.post("/views/{name}/delete")
def delete_view(name: str, request: Request, ws: Workspace = Depends(workspace_cursor)) -> Response:
    return _change(request, ws, name, "delete", lambda: delete(ws.path, name))


@router.get("/api/v1/views", dependencies=[Depends(require_viewer)])
def api_views(ws: Workspace = Depends(workspace_cursor)) -> dict[str, Any]:
    """The workspace's saved dashboard views: name, page, filters and link."""
    return {"views": [v.as_dict() for v in load(ws.path)]}


__all__ = ["VIEWS_FILE", "NoSuchView", "View", "ViewError", "check_name", "check_target", "delete", "find", "load",
           "menu", "rename", "router", "save"]
