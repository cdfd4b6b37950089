"""`/api/mcp` (SPEC §8): the official MCP SDK's low-level server over streamable HTTP,
stateless and answering in JSON, so any replica serves any request.

Per HTTP request: the API key or OAuth access token (`viva.mcp.oauth`) is checked (401/403/429
in the API's error shape, the 401 with the OAuth challenge, before the SDK sees anything), then
the body's JSON-RPC shape (-32600 in a sentence, not the SDK's validation dump). `tools/list`
shows the tools the caller's scopes allow. Per tool call: the tool's scopes are checked, its
arguments validated with the REST twin's model, and its work done in one transaction committed
when it returns (rolled back when it fails). API errors become MCP tool errors carrying the
API's body."""

from __future__ import annotations

import functools
import json
from typing import Any

import mcp_types as types
import pydantic_core
import structlog
from mcp.server import Server, ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from mcp_types import jsonrpc_message_adapter
from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from viva import __version__
from viva.auth import service as auth
from viva.auth.dependencies import authenticate
from viva.auth.service import Principal
from viva.errors import ApiError, Unauthorized, render, validation_error
from viva.kit.asgi import replay_body
from viva.kit.http import parse_body
from viva.mcp.oauth import www_authenticate
from viva.mcp.tools import BY_NAME, TOOLS, Call, Raw, ToolSpec
from viva.sessions.service import Deps

log = structlog.get_logger()

PATH = "/api/mcp"
INSTRUCTIONS = (
    "Viva runs AI interviews. Typical flow: create_agent_profile (or list_agent_profiles) -> "
    "create_template -> create_stage -> create_participant -> schedule_session (dry_run first) -> "
    "get_session -> get_scorecard. Every object belongs to the API key's workspace."
)


def _annotations(spec: ToolSpec) -> types.ToolAnnotations:
    return types.ToolAnnotations(
        title=spec.title,
        read_only_hint=spec.read_only,
        destructive_hint=spec.destructive,
        idempotent_hint=spec.read_only or spec.idempotent,
        open_world_hint=spec.open_world,
    )


def _tool(spec: ToolSpec) -> types.Tool:
    return types.Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=spec.args.model_json_schema(),
        annotations=_annotations(spec),
    )


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def rest_json(spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    """The REST twin's response body: validated and dumped through its response model
    with the same options FastAPI uses, so both show an object identically."""
    if spec.response is None or isinstance(body, Raw):
        return body
    adapter = _ADAPTERS.setdefault(spec.response, TypeAdapter(spec.response))
    dumped: dict[str, Any] = adapter.dump_python(
        adapter.validate_python(body), mode="json", by_alias=True, exclude_unset=spec.exclude_unset
    )
    return dumped


def success(body: dict[str, Any]) -> types.CallToolResult:
    # One object: its `data`, as REST shows it. A list: the whole envelope, since structured
    # content must be a JSON object (and `meta` says how many more pages there are).
    structured = body["data"] if "meta" not in body else body
    return types.CallToolResult(
        content=[types.TextContent(text=json.dumps(structured, ensure_ascii=False))],
        structured_content=structured,
    )


def failure(error: ApiError) -> types.CallToolResult:
    """An MCP tool error carrying the API's error body (and its HTTP status)."""
    body = {"status": error.status, **error.body()}
    lines = [error.message]
    for issue in body.get("issues", []):
        where = ".".join(str(p) for p in issue["path"]) or "(arguments)"
        lines.append(f"- {where}: {issue['message']}")
    details = {k: v for k, v in body.items() if k not in ("error", "issues")}
    lines.append(json.dumps(details, ensure_ascii=False, default=str))
    return types.CallToolResult(
        content=[types.TextContent(text="\n".join(lines))], structured_content=body, is_error=True
    )


def _request(ctx: ServerRequestContext[Any, Any]) -> Request:
    request = ctx.request
    if not isinstance(request, Request):  # only HTTP reaches this server
        raise MCPError(types.INTERNAL_ERROR, "No HTTP request behind this call")
    return request


@functools.cache
def catalogue() -> tuple[types.Tool, ...]:
    return tuple(_tool(spec) for spec in TOOLS)


async def list_tools(
    ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    # Only what the caller may run: a model offered a tool it can't use tries it and fails.
    # A hidden tool called anyway still gets the 403 naming its scope (run_tool).
    held = _request(ctx).state.principal.scopes
    return types.ListToolsResult(
        tools=[tool for spec, tool in zip(TOOLS, catalogue(), strict=True) if set(spec.scopes) <= held]
    )


def invalid_request(message: Any) -> str | None:
    """Why a parsed body is not a JSON-RPC message MCP takes, in a sentence (None: it is one).
    Stricter than the SDK's validator on one point: a request whose `id` is not a string or an
    integer (true, null, 1.5) is refused, where the SDK would take it for a notification."""
    if isinstance(message, list):
        return "send one JSON-RPC message per request; batches are not supported"
    if not isinstance(message, dict):
        return "the body must be a JSON-RPC object"
    if message.get("jsonrpc") != "2.0":
        return 'the "jsonrpc" member must be "2.0"'
    if "id" in message and not _valid_id(message["id"]):
        return 'the "id" member must be a string or an integer'
    if "method" not in message and not ({"result", "error"} & set(message)):
        return 'the "method" member is required'
    if "method" in message and not isinstance(message["method"], str):
        return 'the "method" member must be a string'
    if "params" in message and not isinstance(message["params"], dict):
        return 'the "params" member must be an object'
    try:
        jsonrpc_message_adapter.validate_python(message, by_name=False)
    except ValidationError:
        return "not a valid JSON-RPC request, notification or response"
    return None


def _valid_id(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def _invalid_request_response(message: Any, reason: str) -> JSONResponse:
    request_id = message.get("id") if isinstance(message, dict) else None
    return JSONResponse(
        {
            "jsonrpc": "2.0",
            "id": request_id if _valid_id(request_id) else None,
            "error": {"code": types.INVALID_REQUEST, "message": f"Invalid Request: {reason}"},
        },
        status_code=400,
    )


async def run_tool(spec: ToolSpec, request: Request, principal: Principal, arguments: Any) -> dict[str, Any]:
    """One tool call: scopes, arguments, then the work in one transaction."""
    for scope in spec.scopes:
        auth.require_scope(principal, scope)
    args = parse_body(spec.args, arguments)
    state = request.app.state
    deps = Deps(settings=state.settings, secrets=state.secrets)
    async with state.sessionmaker() as db:
        try:
            try:
                body = await spec.run(Call(db=db, principal=principal, deps=deps, state=state), args)
            except ValidationError as exc:  # a model a service validates: a 400, as in REST
                raise validation_error(exc) from None
            result = rest_json(spec, body)  # failing here would be our bug: a 500
            await db.commit()
        except BaseException:
            await db.rollback()
            raise
    return result


async def call_tool(
    ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
) -> types.CallToolResult:
    spec = BY_NAME.get(params.name)
    if spec is None:
        raise MCPError(types.INVALID_PARAMS, f"Unknown tool '{params.name}'. Call tools/list for the tools")
    request = _request(ctx)
    principal: Principal = request.state.principal
    try:
        return success(await run_tool(spec, request, principal, params.arguments or {}))
    except ApiError as error:
        return failure(error)
    except Exception:
        log.exception("mcp_tool_failed", tool=spec.name)
        crash = ApiError("Internal server error; it is safe to retry")
        crash.status = 500
        return failure(crash)


def build_server() -> Server[Any]:
    return Server(
        "viva",
        version=__version__,
        title="Viva",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


class McpEndpoint:
    """The ASGI app at /api/mcp: authenticates, then hands the request to the SDK."""

    def __init__(self) -> None:
        self.server = build_server()
        # Stateless + JSON: no session ids, no server-sent streams, nothing held between
        # requests, so it works behind a load balancer without sticky sessions.
        # The SDK's Host/Origin (DNS rebinding) checks stay off: Viva runs under any host name, and
        # a rebound page gains nothing here, as only an API key header authenticates (no cookies).
        self.manager = StreamableHTTPSessionManager(app=self.server, json_response=True, stateless=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            async with request.app.state.sessionmaker() as db:
                # Its own transaction, so last_used_at is kept whatever the tools then do.
                principal = await authenticate(
                    request, db, request.headers.get("x-api-key"), allow_cookie=False, allow_oauth=True
                )
                await db.commit()
        except ApiError as error:
            if isinstance(error, Unauthorized):
                sent = bool(request.headers.get("x-api-key") or request.headers.get("authorization"))
                error.headers["WWW-Authenticate"] = www_authenticate(request.app.state.settings, sent)
            await render(error)(scope, receive, send)
            return
        request.state.principal = principal
        body = await request.body()
        try:
            message = pydantic_core.from_json(body)
        except ValueError:
            pass  # not JSON: the SDK answers its -32700 parse error
        else:
            reason = invalid_request(message)
            if reason is not None:
                await _invalid_request_response(message, reason)(scope, receive, send)
                return
        await self.manager.handle_request(scope, replay_body(body, receive), send)
