"""One JSON shape for every API error, and the mapping of library errors onto HTTP.

Every error response is::

    {"error": {"status": 400, "code": "unknown_name", "message": "what to fix", "details": ...}}

- `ApiError` (raised by the API itself) carries its status and code;
- FastAPI's request validation (422) and Starlette's HTTP errors (404, 405...) keep
  their status and take this shape;
- `UnknownNameError` -> 400 `unknown_name` with the name, its kind and the suggestion;
- `AnswerTooLargeError` -> 400 `answer_too_large` with the estimate and the limit (cells);
- other `UserError` -> 400 `bad_request`;
- `StoreError` -> 503 `store_unavailable` (a locked or failing engine: try again);
- anything else is a bug: logged with its traceback, answered 500 `internal` without
  the exception's text.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from cxmetrics.api._redact import redact_paths
from cxmetrics.errors import AnswerTooLargeError, StoreError, UnknownNameError, UserError

log = logging.getLogger("cxmetrics.api")

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid_request",
          429: "too_many_requests", 500: "internal", 503: "store_unavailable"}


class ApiError(Exception):
    """An error the API answers with its own status, code and message."""

    def __init__(self, status: int, message: str, *, code: str | None = None, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.details, self.headers = status, message, details, headers
        self.code = code or _CODES.get(status, "error")


class ErrorBody(BaseModel):
    status: int
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """The shape of every error response."""

    error: ErrorBody


def jsonable(value: Any) -> Any:
    """Plain JSON values: dates as ISO text, NaN and infinities as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def dumps(content: Any) -> bytes:
    """JSON bytes of `content`, with dates as ISO text and NaN as null."""
    return json.dumps(jsonable(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class Rendered(bytes):
    """JSON already rendered (a cached answer): sent as it is."""


class JSON(JSONResponse):
    """A JSON response that never fails on NaN, dates or bytes."""

    def render(self, content: Any) -> bytes:
        return bytes(content) if isinstance(content, Rendered) else dumps(content)


def error_response(status: int, message: str, code: str | None = None, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSON:
    message = redact_paths(message)  # no server folders in what callers see (api/_redact.py)
    body = {"error": {"status": status, "code": code or _CODES.get(status, "error"), "message": message,
                      "details": details}}
    return JSON(body, status_code=status, headers=headers)


def _validation_message(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors[:5]:
        loc = [str(p) for p in err.get("loc", ())]
        where = ".".join(loc[1:]) if len(loc) > 1 else ".".join(loc)
        where = f"{loc[0]} '{where}'" if loc and loc[0] in ("query", "path", "header", "body", "cookie") else where
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more + "."


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the one shape."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSON:
        return error_response(exc.status, exc.message, exc.code, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSON:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return error_response(422, _validation_message(errors), "invalid_request", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSON:
        message = exc.detail if isinstance(exc.detail, str) else _CODES.get(exc.status_code, "error")
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path} (see /api/v1/openapi.json)"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(UnknownNameError)
    async def _unknown(request: Request, exc: UnknownNameError) -> JSON:
        details = {"what": exc.what, "name": exc.name, "suggestion": exc.suggestion,
                   "choices": exc.choices[:200]}
        return error_response(400, str(exc), "unknown_name", details)

    @app.exception_handler(AnswerTooLargeError)
    async def _too_large(request: Request, exc: AnswerTooLargeError) -> JSON:
        details = {"estimate": exc.estimate, "limit": exc.limit, "setting": "max_answer_cells"}
        return error_response(400, str(exc), "answer_too_large", details)

    @app.exception_handler(UserError)
    async def _user(request: Request, exc: UserError) -> JSON:
        return error_response(400, str(exc), "bad_request")

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> JSON:
        log.warning("store error on %s %s: %s", request.method, request.url.path, exc)
        return error_response(503, f"the store could not answer: {exc}", "store_unavailable",
                              headers={"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSON:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error: this is a bug in cxmetrics; the server log has the details.",
                              "internal")


#: Error responses every authenticated endpoint may give, for the OpenAPI spec.
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "A parameter names something unknown or is malformed"},
    401: {"model": ErrorResponse, "description": "No key, or an invalid or revoked one"},
    403: {"model": ErrorResponse, "description": "The key's role may not do this"},
    422: {"model": ErrorResponse, "description": "A parameter has the wrong type or range"},
    503: {"model": ErrorResponse, "description": "The store is busy or failed; try again"},
}
