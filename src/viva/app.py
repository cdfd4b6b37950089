"""create_app(): middleware, routers, error handlers, OpenAPI and docs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic.json_schema import models_json_schema
from sqlalchemy import text
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from viva import __version__, logs, schema
from viva.agent_profiles.endpoints import router as agent_profiles_router
from viva.agent_profiles.schemas import AgentProfileCreate, AgentProfileFork
from viva.auth.endpoints import router as auth_router
from viva.auth.ratelimit import RateLimiter
from viva.auth.throttle import SignInThrottle
from viva.code_execution.endpoints import router as code_execution_router
from viva.config import Settings, get_settings
from viva.dashboard.router import router as dashboard_router
from viva.dashboard.web import install_error_pages
from viva.db import make_engine, make_sessionmaker
from viva.errors import install_handlers
from viva.events.endpoints import router as events_router
from viva.interview.room import ROOM_REQUESTS_PER_MINUTE
from viva.interview.room import router as room_router
from viva.interview.runner import Interviewer, interviewer_model
from viva.jobs.context import JobContext
from viva.jobs.worker import Worker
from viva.kit.asgi import replay_body
from viva.kit.net import guarded_client
from viva.kit.secretbox import SecretBox, load_or_create_key
from viva.kit.storage_factory import store_from_settings
from viva.mcp import oauth as mcp_oauth
from viva.mcp.server import PATH as MCP_PATH
from viva.mcp.server import McpEndpoint
from viva.participants.endpoints import router as participants_router
from viva.recordings.endpoints import router as recordings_router
from viva.recordings.service import signer as recording_signer
from viva.sandbox.process import Host, SandboxUnavailable
from viva.sandbox.runner import Runner
from viva.sessions.endpoints import outbox_router
from viva.sessions.endpoints import router as sessions_router
from viva.speech.base import Speech, SpeechError
from viva.speech.factory import speech_from_settings
from viva.templates.endpoints import stages_router, templates_router
from viva.webhooks.endpoints import deliveries_router as webhook_deliveries_router
from viva.webhooks.endpoints import router as webhooks_router

API_PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).parent / "static"
# Request bodies that the router can't declare (they depend on a query parameter).
EXTRA_BODY_MODELS = (AgentProfileCreate, AgentProfileFork)


class BodyLimit:
    """413 for bodies over the limit, counted as they stream in (Content-Length can lie).
    FastAPI's own max_body_size answers in plain text, not in the API's error shape."""

    def __init__(self, app: ASGIApp, limit: int, bulk_limit: int, voice_limit: int) -> None:
        self.app, self.limit, self.bulk_limit, self.voice_limit = app, limit, bulk_limit, voice_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = (
            self.bulk_limit
            if path.endswith("/bulk")
            else self.voice_limit
            if path.startswith("/join/") and path.endswith("/voice")
            else self.limit
        )
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(scope, receive, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._reject(scope, receive, send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, replay_body(b"".join(chunks), receive), send)

    @staticmethod
    async def _reject(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = JSONResponse(
            {"error": f"Request body too large; the limit here is {limit} bytes"}, status_code=413
        )
        await response(scope, receive, send)


class ResponseHeaders:
    """Copies per-request headers (rate limits) onto the response, error or not."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra: dict[str, str] = scope.get("state", {}).get("rate_limit_headers") or {}
                if extra:
                    present = {k.lower() for k, _ in message.get("headers", [])}
                    headers = list(message.get("headers", []))
                    for name, value in extra.items():
                        if name.lower().encode() not in present:
                            headers.append((name.lower().encode(), value.encode()))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, wrapped)


def _custom_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(
            title="Viva API",
            version=__version__,
            openapi_version="3.1.0",
            description="Self-hostable AI interviews. Wire-compatible with the intervyo.ai v1 API.",
            routes=app.routes,
        )
        components = spec.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        _, extra = models_json_schema(
            [(m, "validation") for m in EXTRA_BODY_MODELS], ref_template="#/components/schemas/{model}"
        )
        schemas.update(extra.get("$defs", {}))
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        schemas["Error"] = {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}, "code": {"type": "string"}},
            "additionalProperties": True,
        }
        schemas["ValidationErrorBody"] = {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "issues": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["path", "message"],
                        "properties": {
                            "path": {"type": "array", "items": {"type": ["string", "integer"]}},
                            "message": {"type": "string"},
                        },
                    },
                },
            },
            "additionalProperties": True,
        }

        def ref(name: str, description: str) -> dict[str, Any]:
            return {
                "description": description,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
            }

        for path, ops in spec.get("paths", {}).items():
            for method, op in ops.items():
                op.pop("x-body-models", None)
                responses = op.setdefault("responses", {})
                # FastAPI's own 422 never happens (validation is a 400 here); a 422 a route
                # declares itself (SPEC's semantic errors) stays.
                if "HTTPValidationError" in str(responses.get("422", {}).get("content", "")):
                    del responses["422"]
                for status, response in responses.items():
                    if status[0] in "45" and not response.get("content", {}).get("application/json", {}).get(
                        "schema"
                    ):
                        response["content"] = ref("Error", "")["content"]
                responses.setdefault("400", ref("ValidationErrorBody", "Invalid request"))
                if path.startswith(API_PREFIX) and not path.startswith(API_PREFIX + "/auth"):
                    responses.setdefault("401", ref("Error", "Missing, invalid or revoked API key"))
                    responses.setdefault(
                        "403", ref("Error", "Missing scope, CSRF failure or another workspace")
                    )
                    responses.setdefault("429", ref("Error", "Rate limited; see Retry-After"))
                    responses.setdefault("404", ref("Error", "Not found in this workspace"))
                if method in ("post", "patch", "put", "delete"):
                    responses.setdefault("409", ref("Error", "Conflict; `code` says which"))
                if method in ("post", "patch", "put"):
                    responses.setdefault("413", ref("Error", "Body too large"))
                if "application/json" in op.get("requestBody", {}).get("content", {}):
                    responses.setdefault(
                        "415", ref("Error", "The body was not sent with Content-Type: application/json")
                    )
                if path.startswith(API_PREFIX + "/auth"):
                    responses.setdefault("401", ref("Error", "Wrong email or password / not signed in"))
                    responses.setdefault("403", ref("Error", "CSRF failure"))
                    responses.setdefault("429", ref("Error", "Too many attempts"))
        app.openapi_schema = spec
        return spec

    return build


def make_worker(app: FastAPI, **overrides: Any) -> Worker:
    """A job worker sharing the app's database, settings and secrets."""
    settings: Settings = app.state.settings
    context = JobContext(
        settings=settings,
        sessionmaker=app.state.sessionmaker,
        secrets=app.state.secrets,
        http=guarded_client(settings.allow_private_urls),
        store=app.state.blob_store,
    )
    options = {
        "concurrency": settings.worker_concurrency,
        "lease_seconds": settings.job_lease_seconds,
        "poll_seconds": settings.worker_poll_seconds,
        **overrides,
    }
    return Worker(context, **options)


def make_code_runner(settings: Settings) -> tuple[Runner | None, str | None]:
    """The sandbox runner, or None and the reason (code execution then answers 502)."""
    if not settings.sandbox_enabled:
        return None, "code execution is disabled (VIVA_SANDBOX_ENABLED=false)"
    try:
        host = Host.detect(
            uid_base=settings.sandbox_uid_base,
            use_cgroups=settings.sandbox_cgroups,
            lock_dir=Path(settings.sandbox_runtime_dir) / "uids",
        )
    except SandboxUnavailable as exc:
        return None, str(exc)
    runner = Runner(
        host,
        Path(settings.sandbox_runtime_dir),
        pool_size=settings.sandbox_pool_size,
        concurrency=settings.sandbox_concurrency,
    )
    return runner, None


async def _warm_speech(speech: Speech) -> None:
    # In the background: the server answers at once; the first spoken answer need not load models.
    try:
        await speech.warm()
    except SpeechError as exc:
        structlog.get_logger().warning("speech_warm_up_failed", engine=exc.engine, error=str(exc))


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application. Tests pass their own Settings; `viva serve` uses the env."""
    settings = settings or get_settings()
    logs.configure(settings.log_level)
    engine = make_engine(settings.database_url)
    mcp = McpEndpoint()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = make_worker(app) if settings.run_worker else None
        running = asyncio.create_task(worker.run()) if worker else None
        if app.state.code_runner is not None:
            await app.state.code_runner.warm()
        warming = asyncio.create_task(_warm_speech(app.state.speech)) if app.state.speech else None
        try:
            async with mcp.manager.run():  # the SDK's task group that serves /api/mcp
                yield
        finally:
            if app.state.code_runner is not None:
                await app.state.code_runner.close()
            await app.state.interviewer.drain()  # turns whose candidate disconnected still get stored
            if worker and running:
                worker.stop()  # running jobs finish; nothing new is claimed
                await running
                await worker.context.http.aclose()
            if app.state.interviewer.chat_model is not None:
                await app.state.interviewer.chat_model.aclose()
            if warming is not None:
                warming.cancel()
            if app.state.speech is not None:
                await app.state.speech.aclose()
            await engine.dispose()

    app = FastAPI(
        title="Viva API",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.secrets = SecretBox(load_or_create_key(settings.secret_key, settings.secret_key_file))
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute, settings.redis_url)
    app.state.sign_in_throttle = SignInThrottle(app.state.secrets, settings.redis_url)
    app.state.oauth_register_limiter = RateLimiter(20, settings.redis_url, name="oauth-register")
    app.state.room_limiter = RateLimiter(ROOM_REQUESTS_PER_MINUTE, settings.redis_url, name="room")
    app.state.interviewer = Interviewer(
        settings=settings,
        secrets=app.state.secrets,
        sessionmaker=app.state.sessionmaker,
        chat_model=interviewer_model(settings),  # raises LLMConfigError on half-done LLM settings
    )
    app.state.code_runner, app.state.code_runner_error = make_code_runner(settings)
    app.state.speech = speech_from_settings(settings)  # None: voice is not offered, text as always
    app.state.blob_store = store_from_settings(settings)
    app.state.url_signer = recording_signer(app.state.secrets)
    install_handlers(app)
    install_error_pages(app)  # HTML error pages under /dashboard; JSON everywhere else

    api = APIRouter(prefix=API_PREFIX)
    for router in (
        agent_profiles_router,
        templates_router,
        stages_router,
        participants_router,
        sessions_router,
        webhooks_router,
        webhook_deliveries_router,
        events_router,
        outbox_router,
        code_execution_router,
        auth_router,
    ):
        api.include_router(router)
    app.include_router(api)
    app.include_router(room_router)
    app.include_router(recordings_router)
    app.include_router(dashboard_router)
    # A plain route, not a Mount: a Mount would answer POST /api/mcp with a redirect to /api/mcp/.
    # POST only: stateless with JSON answers, there is no stream to GET and no session to DELETE
    # (a GET would otherwise hold an empty event stream open forever); the others are a 405.
    app.router.routes.append(Route(MCP_PATH, endpoint=mcp, methods=["POST"]))
    # OAuth for MCP clients that only speak OAuth (docs/mcp.md): public by nature, not /api/v1.
    app.router.routes.extend(mcp_oauth.routes(settings, app.state.secrets))

    @app.get("/healthz", tags=["Health"], summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    head = schema.head_revision()

    @app.get(
        "/readyz",
        tags=["Health"],
        summary="Database reachable and migrated to head",
        responses={503: {"description": "Not ready"}},
    )
    async def readyz() -> JSONResponse:
        try:
            async with app.state.sessionmaker() as db:
                current = await db.scalar(text("SELECT version_num FROM alembic_version"))
        except Exception as exc:  # any failure to reach the database means not ready
            return JSONResponse({"status": "unavailable", "error": type(exc).__name__}, status_code=503)
        if current != head:
            return JSONResponse(
                {"status": "migrating", "error": f"database at {current}, code expects {head}"},
                status_code=503,
            )
        return JSONResponse({"status": "ready", "revision": current})

    @app.get(f"{API_PREFIX}/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "",
            title="Viva API",
            swagger_js_url="/static/build/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/build/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
            swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from the internet
        )

    STATIC_DIR.mkdir(exist_ok=True)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.openapi = _custom_openapi(app)  # type: ignore[method-assign]

    app.add_middleware(ResponseHeaders)
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        bulk_limit=settings.max_bulk_body_bytes,
        voice_limit=settings.max_voice_body_bytes,
    )
    return app


__all__ = ["create_app", "Awaitable"]
