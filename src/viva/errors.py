"""Typed API errors, raised next to the code that detects them and rendered here only.

Every error body is `{"error": <message>, ...}`; validation adds zod-style `issues`.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

log = structlog.get_logger()

Path = list[str | int]


class ApiError(Exception):
    status: int = 400
    message: str = "Bad request"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.message = message or self.message
        self.code = code
        self.headers = headers or {}
        self.extra = extra
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message}
        if self.code:
            body["code"] = self.code
        body.update(self.extra)
        return body


class Issue(dict[str, Any]):
    """One zod-style issue: {"path": [...], "message": "..."}."""

    def __init__(self, path: Sequence[str | int], message: str) -> None:
        super().__init__(path=list(path), message=message)


class ValidationFailed(ApiError):
    status = 400

    def __init__(self, issues: Iterable[Issue], message: str = "Validation error") -> None:
        super().__init__(message, issues=list(issues))

    @classmethod
    def at(cls, path: Sequence[str | int], message: str) -> ValidationFailed:
        return cls([Issue(path, message)])


class MalformedJson(ApiError):
    status = 400
    message = "Malformed JSON"


class Unauthorized(ApiError):
    status = 401
    message = "Missing or invalid API key"


class PaymentRequired(ApiError):
    status = 402
    message = "No active plan or no session credits left"


class Forbidden(ApiError):
    status = 403
    message = "Forbidden"


class NotFound(ApiError):
    status = 404
    message = "Not found"

    def __init__(self, what: str = "Resource", **kw: Any) -> None:
        super().__init__(f"{what} not found", code=kw.pop("code", "not_found"), **kw)


class Conflict(ApiError):
    status = 409
    message = "Conflict"


class PayloadTooLarge(ApiError):
    status = 413
    message = "Request body too large"


class UnsupportedMediaType(ApiError):
    status = 415

    def __init__(self, received: str | None) -> None:
        got = f"it was sent as Content-Type: {received}" if received else "it had no Content-Type header"
        super().__init__(
            f"Send the request body as JSON with the header Content-Type: application/json; {got}",
            code="unsupported_media_type",
        )


class Unprocessable(ApiError):
    status = 422
    message = "Unprocessable request"


class TooManyRequests(ApiError):
    status = 429
    message = "Too many requests"


_JSON_TYPE = {
    type(None): "null",
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def _received(value: Any) -> str:
    return _JSON_TYPE.get(type(value), type(value).__name__)


def _issue_message(err: dict[str, Any]) -> str:
    """A readable message for one pydantic error, in the spirit of zod's."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return "Required"
    if kind == "extra_forbidden":
        return f"Unrecognized field '{err['loc'][-1]}'"
    if kind in ("literal_error", "enum"):
        expected = ctx.get("expected", "")
        return f"Invalid enum value. Expected {expected}, received {value!r}"
    if kind in (
        "string_type",
        "int_type",
        "float_type",
        "bool_type",
        "list_type",
        "dict_type",
        "model_type",
        "uuid_type",
        "int_parsing",
        "float_parsing",
        "bool_parsing",
        "model_attributes_type",
    ):
        wanted = {
            "string_type": "string",
            "int_type": "integer",
            "float_type": "number",
            "bool_type": "boolean",
            "list_type": "array",
            "dict_type": "object",
            "model_type": "object",
            "model_attributes_type": "object",
            "uuid_type": "uuid",
            "int_parsing": "integer",
            "float_parsing": "number",
            "bool_parsing": "boolean",
        }[kind]
        return f"Expected {wanted}, received {_received(value)}"
    if kind == "int_from_float":
        return "Expected integer, received a number with a fraction"
    if kind.startswith("uuid"):
        return "Invalid uuid"
    if kind == "value_error":
        msg = str(err.get("msg", ""))
        return msg.removeprefix("Value error, ")
    if kind == "assertion_error":
        return str(err.get("msg", "")).removeprefix("Assertion failed, ")
    msg = str(err.get("msg", "Invalid value"))
    return msg[:1].upper() + msg[1:]


def issues_from_pydantic(errors: Sequence[Any], strip_location: bool = True) -> list[Issue]:
    issues: list[Issue] = []
    for err in errors:
        loc = list(err.get("loc", ()))
        if strip_location and loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]
        # Pydantic adds the union member / validator name to the location; drop it.
        loc = [p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
        issues.append(Issue(loc, _issue_message(err)))
    return issues


def validation_error(exc: ValidationError | RequestValidationError) -> ApiError:
    errors = exc.errors()
    for err in errors:
        if err.get("type") == "json_invalid":
            detail = (err.get("ctx") or {}).get("error", "invalid JSON")
            return MalformedJson(f"Malformed JSON: {detail}")
    return ValidationFailed(issues_from_pydantic(errors))


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


_Table = list[tuple[re.Pattern[str], int, frozenset[str]]]
_tables: weakref.WeakKeyDictionary[Any, _Table] = weakref.WeakKeyDictionary()


async def refuse_method(request: Request) -> None:
    """Endpoint for the other methods of a literal path that a templated sibling would
    otherwise take (PATCH /participants/bulk is a 405, not "bulk is not a valid id")."""
    raise StarletteHTTPException(405)


def allowed_methods(request: Request) -> str:
    """A 405's `Allow`: every method a route serves at this path. FastAPI makes one route per
    method, and Starlette's 405 names only the methods of the first route that matched. A
    literal segment beats a parameter (/participants/bulk is not /participants/{id})."""
    table = _tables.get(request.app)
    if table is None:  # built at the first 405, when every route is registered
        table = _tables[request.app] = [
            (compile_path(route.path)[0], route.path.count("{"), frozenset(route.methods))
            for route in iter_route_contexts(request.app.routes)
            if route.path and route.methods and route.endpoint is not refuse_method
        ]
    path = request.scope["path"]
    matches = [(params, methods) for pattern, params, methods in table if pattern.match(path)]
    fewest = min((params for params, _ in matches), default=0)
    allowed = {m for params, methods in matches if params == fewest for m in methods}
    order = {m: i for i, m in enumerate(_METHOD_ORDER)}
    return ", ".join(sorted(allowed, key=lambda m: (order.get(m, len(order)), m)))


def render(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return render(exc)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI hands a JSON route the raw bytes when the body was not declared JSON; say what
        # is wrong with the request rather than "Expected object, received bytes".
        raw = any(err.get("loc") == ("body",) and isinstance(err.get("input"), bytes) for err in exc.errors())
        if raw:
            return render(UnsupportedMediaType(request.headers.get("content-type")))
        return render(validation_error(exc))

    @app.exception_handler(ValidationError)
    async def _validation(_: Request, exc: ValidationError) -> JSONResponse:
        return render(validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {
            404: "Not found",
            405: "Method not allowed",
            413: "Request body too large",
            415: "Send the body as application/json",
        }
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        error = ApiError(messages.get(exc.status_code, str(exc.detail)), headers=headers)
        error.status = exc.status_code
        return render(error)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_error", path=request.url.path, exc_info=exc)
        return JSONResponse({"error": "Internal server error; it is safe to retry"}, status_code=500)
