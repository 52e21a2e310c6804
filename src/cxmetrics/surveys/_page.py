"""The survey page, `/s/TOKEN`: no key, the customer's language, no script.

- `GET /s/TOKEN[?score=N][&lang=xx][&edit=1]`: the question, the scale (N pre-selected: a
  mail's one-click link only opens the page; the answer is recorded when the customer sends
  the form, because mail scanners open every link of a mail), a comment box; once answered,
  the answer and a way to change it until the edit window closes.
- `POST /s/TOKEN` (form-encoded, at most `MAX_FORM` bytes): stores the answer and redirects
  (303) to the GET, so a reload never posts twice.
- `GET /s/e/SURVEY/TICKET?r=REQUESTER[&score=N]`: an embed's rating link (`_embed.py`).
- `GET /s/brand/logo`, `/s/brand/style.css`, `/s/static/page.css`: the branding and the style.

Every error is a page in the customer's language with the right status: 404 for a link that
is not ours (malformed, tampered, unknown send), 410 expired, 409 closed or a stale form,
422 an answer that cannot be stored, 413 too large, 429 rate limited (Retry-After), 503 busy.
Every `/s/` response carries the headers of `PAGE_HEADERS` (`SurveyHeaders`), errors included.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlencode

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cxmetrics.api._auth import workspace_cursor
from cxmetrics.api._errors import ApiError
from cxmetrics.api._limits import write_turn
from cxmetrics.errors import CxError
from cxmetrics.surveys._collect import MAX_COMMENT, AnswerError, AnswerProblem, SendView, record, view
from cxmetrics.surveys._config import SurveysConfig, SurveysConfigError, load_config
from cxmetrics.surveys._embed import EmbedError, embed_token
from cxmetrics.surveys._i18n import messages, text
from cxmetrics.surveys._ratelimit import RateLimits
from cxmetrics.surveys._tokens import MAX_TOKEN_LENGTH, TokenError, TokenProblem

log = logging.getLogger("cxmetrics.surveys")

MAX_FORM = 16 * 1024  # bytes: a score, a version and a 5,000-character comment, percent-encoded
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
PAGE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"no-referrer"),  # the token is in the URL: never send it to another site
    (b"cache-control", b"no-store"),  # an answer page is one customer's
    (b"x-robots-tag", b"noindex, nofollow"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
)
_STATUS = {TokenProblem.MALFORMED: 404, TokenProblem.TAMPERED: 404, TokenProblem.UNKNOWN: 404,
           TokenProblem.EXPIRED: 410}
_ANSWER_STATUS = {AnswerProblem.CLOSED: 409, AnswerProblem.STALE: 409, AnswerProblem.INVALID_SCORE: 422,
                  AnswerProblem.TOO_LONG: 422}

router = APIRouter(include_in_schema=False)
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("cxmetrics.surveys", "templates"),
    autoescape=True,  # every text, comment and name is escaped; nothing is marked safe
    trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
)


class SurveyHeaders:
    """ASGI middleware: the survey page's own headers on every `/s/` response (its pages,
    its errors, and the 413 or 500 answers of the layers in front of it)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not (scope["path"] == "/s" or scope["path"].startswith("/s/")):
            await self.app(scope, receive, send)
            return
        names = {n for n, _ in PAGE_HEADERS}

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                kept = [(n, v) for n, v in message.get("headers", []) if n.lower() not in names]
                message["headers"] = [*kept, *PAGE_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: Any) -> None:
    """Serve the survey page on `app`: its routes (no key), its headers and its rate limits.
    The headers wrap the whole middleware stack (as api/_headers.py's do), so the 500 answer
    of Starlette's outermost error middleware carries them too."""
    app.include_router(router)
    build = app.build_middleware_stack

    def build_with_headers() -> Any:
        return SurveyHeaders(build())

    app.build_middleware_stack = build_with_headers
    app.state.survey_limits = RateLimits()


# -- the language ---------------------------------------------------------------------------

def accepted_language(header: str | None, offered: tuple[str, ...]) -> str | None:
    """The best of `offered` for an Accept-Language header, by its q values.

    >>> accepted_language("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7", ("en", "de", "fr"))
    'fr'
    >>> accepted_language("pl, *;q=0.1", ("en", "de")) is None
    True
    """
    best: tuple[float, int, str] | None = None
    for i, part in enumerate((header or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if lang in offered and q > 0 and (best is None or (q, -i) > (best[0], best[1])):
            best = (q, -i, lang)
    return None if best is None else best[2]


def language(request: Request, cfg: SurveysConfig, send_language: str | None = None) -> str:
    """`?lang=` when offered, else the send's language, else Accept-Language, else the default."""
    asked = request.query_params.get("lang")
    if asked in cfg.languages:
        return str(asked)
    if send_language in cfg.languages:
        return str(send_language)
    return accepted_language(request.headers.get("accept-language"), cfg.languages) or cfg.default_language


# -- rendering ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Point:
    value: int
    label: str
    aria: str


def _date(value: datetime | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


def _config(ws: Any) -> SurveysConfig:
    try:
        return load_config(ws.path)
    except SurveysConfigError:  # a broken file must not take answers down: the defaults then
        log.exception("surveys.toml is not valid; the survey page uses the defaults")
        return SurveysConfig()


def _survey_texts(cfg: SurveysConfig, v: SendView, lang: str) -> tuple[str, str]:
    """The question and the comment prompt: the definition's own in `lang`, else the shipped
    wording in `lang` (as the mail does: never a question in another language than the page)."""
    brand = cfg.branding.name
    own_q: dict[str, str] = {}
    own_c: dict[str, str] = {}
    for s in cfg.surveys:
        if s.name == v.survey:
            own_q, own_c = s.question, s.comment_prompt
    question = own_q[lang].replace("{brand}", brand) if lang in own_q else \
        text(lang, f"kinds.{v.kind}.question", brand=brand)
    prompt = own_c.get(lang) or text(lang, "page.comment_label")
    return question, prompt


def points(v: SendView, lang: str) -> list[Point]:
    """The scale's choices with their visible labels and what a screen reader says."""
    if v.scale == "good/bad":
        good, bad = text(lang, "scale.good"), text(lang, "scale.bad")
        return [Point(1, good, good), Point(0, bad, bad)]
    lo, hi = v.scale_range
    out = []
    for n in range(lo, hi + 1):
        anchor = text(lang, f"kinds.{v.kind}.low") if n == lo else text(lang, f"kinds.{v.kind}.high") if n == hi \
            else None
        aria = text(lang, "scale.point_anchor", score=n, max=hi, anchor=anchor) if anchor else \
            text(lang, "scale.point", score=n, max=hi)
        out.append(Point(n, str(n), aria))
    return out


def _score_label(v: SendView, lang: str) -> str:
    if v.score is None:
        return ""
    if v.scale == "good/bad":
        return text(lang, "scale.good") if v.score >= 1 else text(lang, "scale.bad")
    return text(lang, "scale.point", score=int(v.score), max=v.scale_range[1])


def _base(request: Request, cfg: SurveysConfig, lang: str, token: str | None) -> dict[str, Any]:
    t = messages(lang)
    logo = False
    try:
        logo = cfg.logo_path(request.app.state.workspace.path) is not None
    except SurveysConfigError:
        logo = False
    # switching language keeps what the link pre-selected (and an edit in progress)
    keep = {k: request.query_params[k] for k in ("score", "edit") if request.query_params.get(k)}
    langs = [(code, text(code, "language_name"), f"/s/{token}?" + urlencode({**keep, "lang": code}))
             for code in cfg.languages]
    return {"lang": lang, "t": t, "brand": cfg.branding.name, "logo": logo, "token": token,
            "languages": langs if token else [], "max_comment": MAX_COMMENT,
            "comment_hint": text(lang, "page.comment_hint", max=MAX_COMMENT),
            "lang_query": ("?" + urlencode({"lang": lang})) if request.query_params.get("lang") else ""}


def _page(name: str, status: int, headers: dict[str, str] | None = None, **ctx: Any) -> HTMLResponse:
    return HTMLResponse(_TEMPLATES.get_template(name).render(**ctx), status_code=status, headers=headers)


def error_page(request: Request, cfg: SurveysConfig, status: int, title_key: str, message: str, *,
               lang: str | None = None, v: SendView | None = None, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A clear page for what went wrong, in the customer's language."""
    lang = lang or language(request, cfg, v.language if v else None)
    ctx = _base(request, cfg, lang, None)
    answer = None
    if v is not None and v.answered:
        answer = {"score": _score_label(v, lang), "comment": v.comment}
    return _page("page.html", status, headers, state="error", title=text(lang, title_key), message=message,
                 answer=answer, **ctx)


def token_error(request: Request, cfg: SurveysConfig, exc: TokenError) -> HTMLResponse:
    lang = language(request, cfg)
    date = ""
    if exc.problem is TokenProblem.EXPIRED:
        date = str(exc).rsplit(" ", 1)[-1].rstrip(".")
    message = text(lang, f"errors.{exc.problem.value}", date=date)
    return error_page(request, cfg, _STATUS[exc.problem], "errors.title", message, lang=lang)


def form_page(request: Request, cfg: SurveysConfig, v: SendView, lang: str, *, selected: int | None,
              comment: str | None, preselected: bool, error: str | None = None, status: int = 200) -> HTMLResponse:
    question, prompt = _survey_texts(cfg, v, lang)
    pts = points(v, lang)
    lo, hi = pts[0], pts[-1]
    if v.scale == "good/bad":
        low, high = text(lang, "scale.bad"), text(lang, "scale.good")
    else:
        low = f"{lo.value} ({text(lang, f'kinds.{v.kind}.low')})"
        high = f"{hi.value} ({text(lang, f'kinds.{v.kind}.high')})"
    ctx = _base(request, cfg, lang, request.path_params["token"])
    return _page("page.html", status, state="form", title=question, question=question, prompt=prompt, points=pts,
                 selected=selected, comment=comment or "", version=v.version, preselected=preselected,
                 error=error, scale_hint=text(lang, "page.scale_hint", low=low, high=high),
                 anchors=(text(lang, f"kinds.{v.kind}.low"), text(lang, f"kinds.{v.kind}.high"))
                 if v.scale != "good/bad" else None, n_points=len(pts), answered=v.answered, **ctx)


def thanks_page(request: Request, cfg: SurveysConfig, v: SendView, lang: str) -> HTMLResponse:
    ctx = _base(request, cfg, lang, request.path_params["token"])
    editable = not v.closed
    edit_query = urlencode({"edit": 1, **({"lang": lang} if request.query_params.get("lang") else {})})
    return _page("page.html", 200, state="thanks", title=text(lang, "page.thanks_title"),
                 answer={"score": _score_label(v, lang), "comment": v.comment}, editable=editable,
                 until=text(lang, "page.editable_until", date=_date(v.editable_until)),
                 edit_href=f"/s/{request.path_params['token']}?{edit_query}", **ctx)


def limited(request: Request, cfg: SurveysConfig, method: str, token: str | None) -> HTMLResponse | None:
    """The 429 page when the client or the token is over its rate limit, else None."""
    limits: RateLimits | None = getattr(request.app.state, "survey_limits", None)
    if limits is None:
        return None
    ip = request.client.host if request.client else "unknown"
    wait = limits.check(method, ip, token)
    if not wait:
        return None
    lang = language(request, cfg)
    return error_page(request, cfg, 429, "errors.rate_limited_title",
                      text(lang, "errors.rate_limited", seconds=wait), lang=lang, headers={"Retry-After": str(wait)})


# -- the routes -----------------------------------------------------------------------------

@router.get("/s/static/page.css")
def page_css() -> Response:
    css = resources.files("cxmetrics.surveys").joinpath("static", "page.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css")


@router.get("/s/brand/style.css")
def brand_css(ws: Any = Depends(workspace_cursor)) -> Response:
    """The brand colour as CSS variables (the page's CSP allows no inline style)."""
    colour = _config(ws).branding.colour
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    # text on the colour: black or white, whichever contrasts more (WCAG relative luminance)
    lum = sum(w * ((c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4)
              for w, c in ((0.2126, r), (0.7152, g), (0.0722, b)))
    ink = "#111111" if (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) else "#ffffff"
    return Response(f":root {{ --brand: {colour}; --brand-ink: {ink}; }}\n", media_type="text/css")


@router.get("/s/brand/logo")
def brand_logo(request: Request, ws: Any = Depends(workspace_cursor)) -> Response:
    cfg = _config(ws)
    try:
        path = cfg.logo_path(ws.path)
    except SurveysConfigError:
        path = None
    if path is None:
        return error_page(request, cfg, 404, "errors.title", text(language(request, cfg), "errors.not_found"))
    data = path.read_bytes()
    media = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg" if data.startswith(b"\xff\xd8") else \
        "image/gif"
    return Response(data, media_type=media)


@router.get("/s/e/{survey}/{ticket_id}")
def embed_entry(request: Request, survey: str, ticket_id: str, ws: Any = Depends(workspace_cursor)) -> Response:
    """An embed's rating link: check it, find or make the send, and open its signed page."""
    cfg = _config(ws)
    refused = limited(request, cfg, "GET", f"e/{survey[:64]}/{ticket_id[:200]}")
    if refused is not None:
        return refused
    lang = language(request, cfg)
    refresher = getattr(request.app.state, "refresher", None)
    try:
        with _writing(refresher):
            with write_turn(ws):
                token, created = embed_token(ws, survey[:64], ticket_id[:200],
                                             request.query_params.get("r", "")[:320], now=datetime.now(UTC), config=cfg)
            if created and refresher is not None:
                refresher.wrote(["survey_sends"])  # the response rate's denominator moved
    except EmbedError as exc:
        return error_page(request, cfg, 404, "errors.embed_title", text(lang, f"errors.embed_{exc.reason}"), lang=lang)
    except ApiError as exc:  # the write turn did not come in time
        return error_page(request, cfg, exc.status, "errors.title", text(lang, "errors.busy"), lang=lang,
                          headers=exc.headers)
    except CxError as exc:  # the send could not be made (the ticket changed meanwhile...)
        log.warning("embed link %s/%s: %s", survey[:64], ticket_id[:200], exc)
        return error_page(request, cfg, 404, "errors.embed_title", text(lang, "errors.embed_ticket"), lang=lang)
    score = request.query_params.get("score", "")
    query = {k: v for k, v in (("score", score), ("lang", request.query_params.get("lang", "")))
             if v and len(v) <= 5 and v.isalnum()}
    return RedirectResponse(f"/s/{token}" + (f"?{urlencode(query)}" if query else ""), status_code=303)


@router.get("/s/{token}")
def survey_page(request: Request, token: str, ws: Any = Depends(workspace_cursor)) -> Response:
    cfg = _config(ws)
    refused = limited(request, cfg, "GET", token[:MAX_TOKEN_LENGTH])
    if refused is not None:
        return refused
    try:
        v = view(ws, token, config=cfg)
    except TokenError as exc:
        return token_error(request, cfg, exc)
    lang = language(request, cfg, v.language)
    asked = v.parse_score(request.query_params.get("score"))
    editing = request.query_params.get("edit") == "1" or asked is not None
    if v.answered and (v.closed or not editing):
        return thanks_page(request, cfg, v, lang)
    current = None if v.score is None else int(v.score)
    return form_page(request, cfg, v, lang, selected=asked if asked is not None else current,
                     comment=v.comment, preselected=asked is not None)


@router.post("/s/{token}")
async def survey_answer(request: Request, token: str) -> Response:
    ws = request.app.state.workspace.cursor(auto_refresh=False)
    try:
        cfg = _config(ws)
        refused = limited(request, cfg, "POST", token[:MAX_TOKEN_LENGTH])
        if refused is not None:
            return refused
        form = await _read_form(request)
        if form is None:
            lang = language(request, cfg)
            return error_page(request, cfg, 413, "errors.title", text(lang, "errors.too_large"), lang=lang)
        return await run_in_threadpool(_answer, request, ws, cfg, token, form)
    finally:
        ws.close()


async def _read_form(request: Request) -> dict[str, str] | None:
    """The posted fields (the first of each), or None when the body is over MAX_FORM."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_FORM:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            return None
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=20)
    return {k: v[0] for k, v in fields.items() if v}


def _writing(refresher: Any) -> AbstractContextManager[Any]:
    """Around an answer's write and its `wrote`, as around POST /events: a text part under way
    is stopped rather than waited for (`api._refresher.Refresher.writing`); nothing without a
    refresher."""
    return refresher.writing() if refresher is not None else nullcontext()


def _answer(request: Request, ws: Any, cfg: SurveysConfig, token: str, form: dict[str, str]) -> Response:
    # only the token names the send: ids posted in other fields (ticket, send) are never read
    refresher = getattr(request.app.state, "refresher", None)
    try:
        with _writing(refresher):  # a text part under way makes way for the answer
            with write_turn(ws):
                v = record(ws, token, score=form.get("score"), comment=form.get("comment"),
                           version=form.get("version", ""), config=cfg)
            if refresher is not None:
                refresher.wrote(["surveys"])  # dashboards update without a reload
    except TokenError as exc:
        return token_error(request, cfg, exc)
    except AnswerError as exc:
        lang = language(request, cfg, exc.view.language)
        status = _ANSWER_STATUS[exc.reason]
        if exc.reason is AnswerProblem.CLOSED:
            return error_page(request, cfg, status, "errors.closed_title",
                              text(lang, "errors.closed", date=_date(exc.view.editable_until)), lang=lang, v=exc.view)
        if exc.reason is AnswerProblem.STALE:
            return error_page(request, cfg, status, "errors.stale_title", text(lang, "errors.stale"), lang=lang,
                              v=exc.view)
        message = text(lang, f"errors.{exc.reason.value}", max=MAX_COMMENT)
        # the form again, with what they wrote kept (nothing is lost on a refused answer)
        return form_page(request, cfg, exc.view, lang, selected=exc.view.parse_score(form.get("score")),
                         comment=form.get("comment"), preselected=False, error=message, status=status)
    except ApiError as exc:  # the write turn did not come in time
        lang = language(request, cfg)
        return error_page(request, cfg, exc.status, "errors.title", text(lang, "errors.busy"), lang=lang,
                          headers=exc.headers)
    except CxError:
        log.exception("an answer could not be stored")
        lang = language(request, cfg)
        return error_page(request, cfg, 503, "errors.title", text(lang, "errors.busy"), lang=lang,
                          headers={"Retry-After": "5"})
    query = f"?{urlencode({'lang': request.query_params['lang']})}" if request.query_params.get("lang") else ""
    return RedirectResponse(f"/s/{token}{query}", status_code=303)
