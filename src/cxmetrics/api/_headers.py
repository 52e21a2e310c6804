"""Security headers on every response: pages, API answers, errors, files.

- `Content-Security-Policy`: scripts only from this server (the dashboard's own
  `dashboard.js` and `plotly.min.js`; no inline script, no eval), styles from this server
  plus inline ones (Plotly sets style attributes), nothing fetched from elsewhere, no
  plugins, forms post only here, and no framing (`frame-ancestors 'none'`).
- `X-Frame-Options: DENY` for browsers that predate `frame-ancestors` (clickjacking).
- `X-Content-Type-Options: nosniff`: a CSV or JSON answer is never run as a script.
- `Referrer-Policy: same-origin`: the dashboard's URLs (filters, ticket ids) are not sent to
  other sites. Not `no-referrer`: under it browsers send `Origin: null` on same-origin form
  posts, which the cookie's origin check must refuse.
- `Cross-Origin-Opener-Policy: same-origin`: a page opened from another site gets no handle on ours.

A header a route sets itself is kept (none does today). `install` wraps the whole
middleware stack, so the 500 answer (sent by Starlette's outermost error middleware, past
every middleware added with `add_middleware`) carries them too.
"""

from __future__ import annotations

from typing import Any

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeaders:
    """ASGI middleware that adds `HEADERS` to every HTTP response that lacks them."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((n, v) for n, v in HEADERS if n not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: Any) -> None:
    """Put `SecurityHeaders` outside everything else `app` builds, error pages included."""
    build = app.build_middleware_stack

    def build_with_headers() -> Any:
        return SecurityHeaders(build())

    app.build_middleware_stack = build_with_headers
