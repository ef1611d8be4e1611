"""RFC 9457 problem details for every error the server returns.

Typed errors (``JcerpError``) keep their stable code; Litestar's own HTTP errors (validation,
not found, body too large) are converted too, so a client never sees another error shape.
Unexpected exceptions become a 500 problem without internals.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
import sqlalchemy.exc
from litestar import Request, Response
from litestar.exceptions import HTTPException

from protocol.problem import PROBLEM_JSON, Problem, problem_type
from sync.errors import JcerpError

log = logging.getLogger(__name__)

_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
           409: "Conflict", 413: "Too large", 415: "Unsupported media type", 422: "Unprocessable content",
           426: "Upgrade required", 429: "Too many requests", 500: "Internal server error"}


def problem_response(status: int, code: str, detail: str, details: dict[str, Any] | None = None,
                     headers: dict[str, str] | None = None) -> Response[bytes]:
    body = Problem(type=problem_type(code), title=_TITLES.get(status, "Error"), status=status, detail=detail,
                   code=code, details=details or {})
    return Response(msgspec.json.encode(body, enc_hook=str), status_code=status, media_type=PROBLEM_JSON,
                    headers=headers)


def jcerp_error_handler(_: Request, error: JcerpError) -> Response[bytes]:
    return problem_response(error.http_status, error.code, error.message, error.details)


def http_error_handler(_: Request, error: HTTPException) -> Response[bytes]:
    status = error.status_code
    code = {400: "http.bad_request", 401: "http.unauthorized", 404: "http.not_found", 405: "http.method_not_allowed",
            413: "http.body_too_large", 415: "http.unsupported_media_type", 429: "http.rate_limited"}.get(status, f"http.{status}")
    details: dict[str, Any] = {}
    if isinstance(error.extra, dict):
        details = error.extra
    elif isinstance(error.extra, list):
        details = {"errors": error.extra}
    return problem_response(status, code, str(error.detail), details, headers=error.headers)


def recursion_error_handler(_: Request, error: RecursionError) -> Response[bytes]:
    return problem_response(400, "http.body_too_deep", "the body is nested too deeply to read")


def database_refusal_handler(_: Request, error: sqlalchemy.exc.StatementError) -> Response[bytes]:
    """A value the database cannot take (text too long, U+0000, a time out of range, a taken
    key): the transaction rolled back, so nothing was written; say so instead of failing."""
    # SQLSTATE class 23 is an integrity violation, class 22 a data exception (PostgreSQL).
    sqlstate = str(getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None) or "")
    if isinstance(error, sqlalchemy.exc.IntegrityError) or sqlstate.startswith("23"):
        return problem_response(409, "db.conflict", "this conflicts with data that already exists (a taken id or code)")
    if (isinstance(error, sqlalchemy.exc.DataError) or sqlstate.startswith("22")
            or isinstance(error.orig, (OverflowError, ValueError))):
        return problem_response(422, "db.invalid_value",
                                "a value cannot be stored: text too long or containing U+0000, or a time out of range")
    log.exception("database error", exc_info=error)
    return problem_response(500, "server.internal_error", "the server failed; the request was not applied")


def internal_error_handler(request: Request, error: Exception) -> Response[bytes]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem_response(500, "server.internal_error", "the server failed; the request was not applied")


EXCEPTION_HANDLERS = {
    JcerpError: jcerp_error_handler,
    HTTPException: http_error_handler,
    RecursionError: recursion_error_handler,
    sqlalchemy.exc.StatementError: database_refusal_handler,
    Exception: internal_error_handler,
}
