"""What every dashboard page shares: the signed-in viewer, role checks, CSRF, forms that
speak the API's schemas, and HTML error pages.

Forms name their inputs by the API's issue paths joined with dots (`interaction.tone`,
`evaluationDimensions.0.weight`), so a 400 from the same pydantic schema or service the API
uses lands next to the input it is about, with the API's own message."""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args
from urllib.parse import quote, unquote, urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException

from viva.auth import service as auth_service
from viva.auth.dependencies import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE
from viva.auth.service import Principal
from viva.db import DB
from viva.errors import ApiError, Forbidden, NotFound, Unauthorized, validation_error
from viva.kit.pagination import MAX_PAGE_SIZE, Page, PageRequest
from viva.kit.schemas import FORM
from viva.workspaces import service as workspaces

PREFIX = "/dashboard"
pages = Jinja2Templates(directory=Path(__file__).parent / "templates")
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def _when(value: datetime | None) -> str:
    return value.strftime("%-d %b %Y, %H:%M UTC") if value else "—"


pages.env.filters["when"] = _when
pages.env.filters["urlquote"] = lambda v: quote(str(v), safe="")


class SignInRequired(Unauthorized):
    """No (or an expired) dashboard session: the page answers with a redirect to sign in."""


@dataclass(frozen=True)
class Person:
    email: str
    name: str


@dataclass(frozen=True)
class Place:
    slug: str
    name: str


@dataclass
class Viewer:
    """The signed-in person looking at one workspace's pages. Plain values, not rows: a page
    re-rendered after a rolled-back form must not reload anything."""

    principal: Principal
    user: Person
    workspace: Place
    workspaces: list[tuple[str, str, str]]  # (slug, name, role) of every membership
    csrf: str

    @property
    def role(self) -> str:
        return self.principal.role or "reviewer"

    @property
    def workspace_id(self) -> uuid.UUID:
        return self.principal.workspace_id

    def can(self, scope: str) -> bool:
        return scope in self.principal.scopes

    @property
    def admin(self) -> bool:
        return self.role in ("owner", "admin")

    @property
    def may_review(self) -> bool:
        # The same rule as POST /sessions/{id}/review for cookie sessions.
        return self.role == "reviewer" or self.can("interviews.write")

    def url(self, *parts: object, **query: object) -> str:
        path = "/".join([PREFIX, self.workspace.slug, *(str(p) for p in parts)])
        params = {k: v for k, v in query.items() if v not in (None, "")}
        return path + ("?" + urlencode(params) if params else "")


async def _csrf_value(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    form = await request.form()  # Starlette caches it, so the page reads the same form again
    value = form.get("csrf_token")
    return value if isinstance(value, str) else None


async def current_viewer(request: Request, db: DB, slug: str) -> Viewer:
    """The signed-in member of workspace `slug`, with the CSRF token checked on every write.
    Not signed in: a redirect to sign in. Not a member: 404, as for anything of another workspace."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired("Sign in to continue")
    unsafe = request.method not in SAFE_METHODS
    csrf = await _csrf_value(request) if unsafe else None
    try:
        principal = await auth_service.authenticate_cookie(db, token, slug, csrf, unsafe_method=unsafe)
    except Unauthorized:
        raise SignInRequired("Your sign-in has expired; sign in again") from None
    except Forbidden as error:
        if error.code == "wrong_account":
            raise NotFound("Workspace") from None
        raise
    session = await auth_service.session_for_cookie(db, token)
    assert session is not None  # authenticate_cookie just found it
    user = await auth_service.user_of(db, session)
    rows = await workspaces.memberships(db, user.id)
    workspace = next(w for _, w in rows if w.id == principal.workspace_id)
    return Viewer(
        principal=principal,
        user=Person(email=user.email, name=user.name),
        workspace=Place(slug=workspace.slug, name=workspace.name),
        workspaces=[(w.slug, w.name, m.role) for m, w in rows],
        csrf=session.csrf_token,
    )


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


class _Needs:
    """A page or action that needs a scope of the viewer's role (or one of `roles`)."""

    def __init__(self, scope: str | None = None, roles: tuple[str, ...] = ()) -> None:
        self.scope, self.roles = scope, roles

    async def __call__(self, viewer: ViewerDep) -> Viewer:
        if self.scope and not viewer.can(self.scope):
            raise Forbidden(f"Your role ({viewer.role}) can't do this: it needs '{self.scope}'")
        if self.roles and viewer.role not in self.roles:
            raise Forbidden(f"Only {' and '.join(self.roles)}s can open this page")
        return viewer


def needs(scope: str | None = None, *, roles: tuple[str, ...] = ()) -> Any:
    """Dependency: the viewer, if their role holds `scope` (and is one of `roles`), else a 403 page."""
    return Depends(_Needs(scope, roles))


# ------------------------------------------------------------------ rendering


# The one-line notice after a POST ("Changes saved") rides in a cookie, not the URL: a link
# can't make our page say something we didn't, and a reload doesn't say it twice.
NOTICE_COOKIE = "viva_notice"
# Our own scripts and styles only, and never inside another site's frame (clickjacking).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def render(
    request: Request,
    viewer: Viewer | None,
    template: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    fragment = template.rsplit("/", 1)[-1].startswith("_")
    notice = None if fragment else request.cookies.get(NOTICE_COOKIE)
    response = pages.TemplateResponse(
        request,
        template,
        {"viewer": viewer, "flash": unquote(notice)[:500] if notice else None, **(context or {})},
        status_code=status_code,
    )
    if notice:
        response.delete_cookie(NOTICE_COOKIE, path=PREFIX)
    response.headers.update(SECURITY_HEADERS)
    return response


def render_form(
    request: Request,
    viewer: Viewer,
    template: str,
    v: Mapping[str, Any],
    errors: FormErrors | None,
    context: Mapping[str, Any] | None = None,
) -> HTMLResponse:
    """A page with a form: its values `v`, and the API's errors (`e`, per field) at their status."""
    form = {"v": v, "e": errors.fields if errors else {}, "errors": errors}
    return render(request, viewer, template, {**form, **(context or {})}, errors.status if errors else 200)


def redirect(url: str, message: str | None = None) -> RedirectResponse:
    """After a POST: back to a page (303, so a reload doesn't post again), saying `message` there."""
    response = RedirectResponse(url, status_code=303)
    if message:
        response.set_cookie(
            NOTICE_COOKIE, quote(message[:500]), max_age=60, httponly=True, samesite="lax", path=PREFIX
        )
    return response


# ------------------------------------------------------------------ forms


async def form_items(request: Request) -> list[tuple[str, str]]:
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


def unflatten(
    items: Iterable[tuple[str, str]],
    lists: Iterable[str] = (),
    nullable: Iterable[str] = (),
) -> dict[str, Any]:
    """Form fields named by path (`a.b`, `rows.0.c`) to the nested JSON the API takes.

    The last value of a name wins (a hidden "false" before a checkbox makes an unticked box
    false). Blank inputs are absent, so the schema says "Required" exactly as the API does,
    except `nullable` ones, which become null (clearing them). `lists` are comma- or
    line-separated text inputs holding string arrays. Numbered rows are renumbered in order,
    so a removed row leaves no gap."""
    last: dict[str, str] = {}
    for key, text in items:
        if key == "csrf_token" or key.startswith("_"):
            continue
        last[key] = text
    lists, nullable = set(lists), set(nullable)
    root: dict[str, Any] = {}
    for key, raw in last.items():
        value: Any = raw.strip()  # a str, a list of them, or None
        if key in lists:
            value = [p.strip() for p in value.replace("\n", ",").split(",") if p.strip()]
        elif value == "":
            if key not in nullable:
                continue
            value = None
        node: Any = root
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    nested: dict[str, Any] = _rows_to_lists(root)
    return nested


def _rows_to_lists(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(isinstance(k, str) and k.isdigit() for k in node):
            return [_rows_to_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _rows_to_lists(v) for k, v in node.items()}
    return node


def flatten(value: Any, lists: Iterable[str] = (), prefix: str = "") -> dict[str, Any]:
    """The inverse of `unflatten`, to fill a form from an object the API would return."""
    lists = set(lists)
    out: dict[str, Any] = {}
    if prefix and prefix in lists and isinstance(value, list):
        out[prefix] = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        for k, v in value.items():
            out.update(flatten(v, lists, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.update(flatten(v, lists, f"{prefix}.{i}"))
    else:
        out[prefix] = "" if value is None else value
    return out


def parse(model: type[M], payload: Any) -> M:
    """Validate a form's payload with the API's schema, raising the API's 400."""
    try:
        return model.model_validate(payload, context=FORM)
    except ValidationError as exc:
        raise validation_error(exc) from None


@dataclass
class FormErrors:
    """An ApiError as a form shows it: messages by field, and one for the whole form."""

    fields: dict[str, str] = field(default_factory=dict)
    general: str | None = None
    status: int = 400

    @property
    def text(self) -> str:
        """Everything in one line, for an action that answers with a notice, not a form."""
        if self.fields:
            return "; ".join(self.fields.values())
        return self.general or "Something went wrong"

    @classmethod
    def of(cls, error: ApiError) -> FormErrors:
        found = cls(status=error.status)
        for issue in error.extra.get("issues") or []:
            key = ".".join(str(p) for p in issue["path"])
            found.fields.setdefault(key or "_form", issue["message"])
        param = error.extra.get("param")
        if isinstance(param, str):
            found.fields.setdefault(param, error.message)
        if error.code == "duplicate_participant":
            found.fields.setdefault("email", error.message)
        if not found.fields or "_form" in found.fields:
            found.general = found.fields.pop("_form", None) or error.message
        elif error.extra.get("issues"):
            n = len(found.fields)
            found.general = f"Please correct the {n} field{'s' if n > 1 else ''} marked below."
        else:
            found.general = error.message
        return found


async def attempt(db: AsyncSession, action: Callable[[], Awaitable[Any]]) -> tuple[Any, FormErrors | None]:
    """Run a service call for a form inside a savepoint. On an API error whatever it changed is
    rolled back and the error is returned for the form to show; the request still commits
    (nothing), so rows read before stay usable for the page."""
    try:
        async with db.begin_nested():
            result = await action()
        return result, None
    except NotFound as error:
        if "param" not in error.extra:
            raise  # the page's own object is gone (or another workspace's): a 404 page
        return None, FormErrors.of(error)
    except ApiError as error:
        return None, FormErrors.of(error)
    except ValidationError as exc:
        return None, FormErrors.of(validation_error(exc))


# ------------------------------------------------------------------ lists


def page_request(request: Request, sort: str = "-created_at", page_size: int = 20) -> PageRequest:
    """page / pageSize from the query, clamped the way the API bounds them."""

    def number(name: str, default: int, top: int) -> int:
        raw = request.query_params.get(name, "")
        return min(max(int(raw), 1), top) if raw.isdigit() else default

    return PageRequest(
        page=number("page", 1, 1_000_000), page_size=number("pageSize", page_size, MAX_PAGE_SIZE), sort=sort
    )


def page_of(request: Request, items: Sequence[T], page_size: int = 20) -> Page[T]:
    """One page of a short list a service returns whole (API keys, members)."""
    req = page_request(request, page_size=page_size)
    return Page(items=list(items[req.offset : req.offset + req.page_size]), total=len(items), request=req)


def pager(request: Request, page: Page[Any]) -> dict[str, Any]:
    """Links for the list's pagination control, keeping the list's filters."""
    pages_ = math.ceil(page.total / page.request.page_size) if page.total else 0
    query = dict(request.query_params)

    def link(n: int) -> str:
        return str(request.url.path) + "?" + urlencode({**query, "page": n})

    current = page.request.page
    return {
        "page": current,
        "pages": pages_,
        "total": page.total,
        "prev": link(current - 1) if current > 1 else None,
        "next": link(current + 1) if current < pages_ else None,
        "first": page.request.offset + 1 if page.total else 0,
        "last": min(page.request.offset + page.request.page_size, page.total),
    }


def choices(literal: Any) -> list[str]:
    """The allowed values of a Literal type from the API's schemas, for a <select>."""
    return [str(v) for v in get_args(literal)]


def uuid_or_none(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


# ------------------------------------------------------------------ error pages


def _is_dashboard(request: Request) -> bool:
    return request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/")


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, None, "error.html", {"title": title, "message": message, "status": status}, status)


async def _call(handler: Any, request: Request, exc: Exception) -> Response:
    response: Response = await handler(request, exc)
    return response


def install_error_pages(app: FastAPI) -> None:
    """Dashboard paths answer errors with pages (or a redirect to sign in); the API keeps its
    JSON bodies. Wraps the handlers `viva.errors.install_handlers` set."""
    api_error = app.exception_handlers[ApiError]
    http_error = app.exception_handlers[StarletteHTTPException]
    request_error = app.exception_handlers[RequestValidationError]

    async def on_api_error(request: Request, exc: Exception) -> Response:
        if not _is_dashboard(request) or not isinstance(exc, ApiError):
            return await _call(api_error, request, exc)
        if isinstance(exc, SignInRequired):
            target = f"{PREFIX}/sign-in?" + urlencode({"next": request.url.path})
            if request.headers.get("hx-request"):
                return Response(status_code=204, headers={"HX-Redirect": target})
            return RedirectResponse(target, status_code=303)
        titles = {403: "Not allowed", 404: "Not found", 429: "Slow down"}
        return _error_page(request, exc.status, titles.get(exc.status, "Something went wrong"), exc.message)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        if not _is_dashboard(request) or not isinstance(exc, StarletteHTTPException):
            return await _call(http_error, request, exc)
        if exc.status_code == 404:
            return _error_page(request, 404, "Not found", "There is no such page here.")
        return _error_page(request, exc.status_code, "Something went wrong", str(exc.detail))

    async def on_request_error(request: Request, exc: Exception) -> Response:
        if not _is_dashboard(request):
            return await _call(request_error, request, exc)
        # A malformed id in a dashboard URL names nothing that exists.
        return _error_page(request, 404, "Not found", "There is no such page here.")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_request_error)
