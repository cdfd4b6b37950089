"""Developer pages: API keys (created with scopes, shown once, revoked), apps connected by
OAuth (MCP clients; revoked), webhook endpoints
(events, secret reveal and rotation, test ping, delivery log with request and response,
retry) and the local email outbox."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from viva.auth import oauth
from viva.auth import service as auth
from viva.auth.scopes import ALL_SCOPES
from viva.dashboard.web import (
    FormErrors,
    Viewer,
    attempt,
    flatten,
    form_items,
    needs,
    page_of,
    page_request,
    pager,
    parse,
    redirect,
    render,
    render_form,
    unflatten,
)
from viva.db import DB
from viva.email import service as email
from viva.errors import NotFound, ValidationFailed
from viva.kit.http import allow_private_urls
from viva.webhooks import service as webhooks
from viva.webhooks.schemas import EVENT_TYPES, EndpointCreate, EndpointUpdate
from viva.workspaces import service as workspaces

router = APIRouter(prefix="/{slug}/developer")
Admin = needs(roles=("owner", "admin"))
HookReader = needs("webhooks.read")
HookWriter = needs("webhooks.write")
# A page showing a secret must not be kept by the browser or a proxy.
NO_STORE = {"Cache-Control": "no-store"}


# ------------------------------------------------------------------ API keys


async def _keys_page(
    db: DB,
    request: Request,
    viewer: Viewer,
    created: tuple[Any, str] | None = None,
    errors: FormErrors | None = None,
    v: dict[str, Any] | None = None,
) -> HTMLResponse:
    everything = await auth.list_api_keys(db, viewer.workspace_id)
    page = page_of(request, sorted(everything, key=lambda k: k.created_at, reverse=True))
    response = render_form(
        request,
        viewer,
        "developer/keys.html",
        v or {},
        errors,
        {
            "title": "API keys",
            "section": "keys",
            "keys": page.items,
            "pager": pager(request, page),
            "scopes": ALL_SCOPES,
            "created": created,
        },
    )
    response.headers.update(NO_STORE)
    return response


@router.get("/api-keys")
async def api_keys(db: DB, request: Request, viewer: Viewer = Admin) -> Response:
    return await _keys_page(db, request, viewer)


@router.post("/api-keys")
async def create_api_key(db: DB, request: Request, viewer: Viewer = Admin) -> Response:
    items = await form_items(request)
    name = dict(items).get("name", "").strip()[:200]
    scopes = [v for k, v in items if k == "scopes"]

    async def create() -> Any:
        if not scopes:
            raise ValidationFailed.at(["scopes"], "Choose at least one scope")
        workspace = await workspaces.get_workspace_by_id(db, viewer.workspace_id)
        return await auth.create_api_key(db, workspace, name, scopes)

    created, errors = await attempt(db, create)
    if errors:
        return await _keys_page(db, request, viewer, errors=errors, v={"name": name})
    return await _keys_page(db, request, viewer, created=created)


@router.post("/api-keys/{key_id}/revoke")
async def revoke_api_key(db: DB, key_id: uuid.UUID, viewer: Viewer = Admin) -> Response:
    key = await auth.revoke_api_key(db, str(key_id), viewer.workspace_id)
    return redirect(viewer.url("developer", "api-keys"), f"Key {key.prefix}… revoked")


# ------------------------------------------------------------------ connected apps (OAuth for MCP)


@router.get("/connected-apps")
async def connected_apps(db: DB, request: Request, viewer: Viewer = Admin) -> Response:
    page = page_of(request, await oauth.connected_apps(db, viewer.workspace_id))
    return render(
        request,
        viewer,
        "developer/apps.html",
        {
            "title": "Connected apps",
            "section": "apps",
            "apps": page.items,
            "pager": pager(request, page),
            "scopes": ALL_SCOPES,
        },
    )


@router.post("/connected-apps/{client_id}/revoke")
async def revoke_connected_app(db: DB, client_id: uuid.UUID, viewer: Viewer = Admin) -> Response:
    name = await oauth.revoke_client(db, viewer.workspace_id, client_id)
    return redirect(
        viewer.url("developer", "connected-apps"), f"{name} disconnected: its tokens no longer work"
    )


# ------------------------------------------------------------------ webhooks


@router.get("/webhooks")
async def list_webhooks(db: DB, request: Request, viewer: Viewer = HookReader) -> Response:
    page = await webhooks.list_endpoints(db, viewer.workspace_id, page_request(request))
    return render(
        request,
        viewer,
        "developer/webhooks.html",
        {"title": "Webhooks", "section": "webhooks", "page": page, "pager": pager(request, page)},
    )


def _hook_form(
    request: Request,
    viewer: Viewer,
    v: dict[str, Any],
    errors: FormErrors | None = None,
    endpoint: Any = None,
) -> HTMLResponse:
    return render_form(
        request,
        viewer,
        "developer/webhook_form.html",
        v,
        errors,
        {
            "title": "Edit endpoint" if endpoint else "Add a webhook endpoint",
            "section": "webhooks",
            "events": EVENT_TYPES,
            "endpoint": endpoint,
        },
    )


def _hook_payload(items: list[tuple[str, str]]) -> dict[str, Any]:
    payload = unflatten([(k, v) for k, v in items if k != "events"], nullable=("description",))
    events = [v for k, v in items if k == "events"]
    payload["events"] = events or ["*"]
    return payload


@router.get("/webhooks/new")
async def new_webhook(request: Request, viewer: Viewer = HookWriter) -> Response:
    return _hook_form(request, viewer, {"enabled": True, "events": ["*"]})


@router.post("/webhooks/new")
async def create_webhook(db: DB, request: Request, viewer: Viewer = HookWriter) -> Response:
    items = await form_items(request)
    box = request.app.state.secrets

    async def create() -> Any:
        body = parse(EndpointCreate, _hook_payload(items))
        return await webhooks.create(db, viewer.workspace_id, body, box, allow_private_urls(request))

    endpoint, errors = await attempt(db, create)
    if errors:
        v = {**dict(items), "events": [x for k, x in items if k == "events"]}
        return _hook_form(request, viewer, v, errors)
    return await _hook_page(
        db,
        request,
        viewer,
        endpoint.id,
        secret=webhooks.with_secret(endpoint, box).secret,
        notice="Endpoint added. Copy its signing secret now.",
    )


async def _hook_page(
    db: DB,
    request: Request,
    viewer: Viewer,
    endpoint_id: uuid.UUID,
    secret: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    endpoint = webhooks.to_read(await webhooks.get(db, viewer.workspace_id, endpoint_id))
    page, attempts = await webhooks.deliveries(
        db, viewer.workspace_id, endpoint_id, page_request(request, sort="-created_at")
    )
    response = render(
        request,
        viewer,
        "developer/webhook.html",
        {
            "title": endpoint.url,
            "section": "webhooks",
            "h": endpoint,
            "deliveries": [webhooks.delivery_to_read(d, attempts[d.id]) for d in page.items],
            "pager": pager(request, page),
            "secret": secret,
            "notice": notice,
        },
    )
    response.headers.update(NO_STORE)
    return response


@router.get("/webhooks/{endpoint_id}")
async def show_webhook(
    db: DB, request: Request, endpoint_id: uuid.UUID, viewer: Viewer = HookReader
) -> Response:
    return await _hook_page(db, request, viewer, endpoint_id)


@router.get("/webhooks/{endpoint_id}/edit")
async def edit_webhook(
    db: DB, request: Request, endpoint_id: uuid.UUID, viewer: Viewer = HookWriter
) -> Response:
    endpoint = webhooks.to_read(await webhooks.get(db, viewer.workspace_id, endpoint_id))
    v = {**flatten(endpoint.model_dump(mode="json", exclude={"events"})), "events": endpoint.events}
    return _hook_form(request, viewer, v, endpoint=endpoint)


@router.post("/webhooks/{endpoint_id}/edit")
async def update_webhook(
    db: DB, request: Request, endpoint_id: uuid.UUID, viewer: Viewer = HookWriter
) -> Response:
    endpoint = webhooks.to_read(await webhooks.get(db, viewer.workspace_id, endpoint_id))
    items = await form_items(request)

    async def update() -> Any:
        body = parse(EndpointUpdate, _hook_payload(items))
        return await webhooks.update(db, viewer.workspace_id, endpoint_id, body, allow_private_urls(request))

    _, errors = await attempt(db, update)
    if errors:
        v = {**dict(items), "events": [x for k, x in items if k == "events"]}
        return _hook_form(request, viewer, v, errors, endpoint)
    return redirect(viewer.url("developer", "webhooks", endpoint_id), "Endpoint saved")


@router.post("/webhooks/{endpoint_id}/secret")
async def reveal_secret(
    db: DB, request: Request, endpoint_id: uuid.UUID, viewer: Viewer = HookWriter
) -> Response:
    """The secret on explicit request (a POST, so it never sits in history or logs as a URL)."""
    endpoint = await webhooks.get(db, viewer.workspace_id, endpoint_id)
    secret = webhooks.with_secret(endpoint, request.app.state.secrets).secret
    return await _hook_page(db, request, viewer, endpoint_id, secret=secret)


@router.post("/webhooks/{endpoint_id}/rotate")
async def rotate_secret(
    db: DB, request: Request, endpoint_id: uuid.UUID, viewer: Viewer = HookWriter
) -> Response:
    box = request.app.state.secrets
    endpoint = await webhooks.rotate_secret(db, viewer.workspace_id, endpoint_id, box)
    return await _hook_page(
        db,
        request,
        viewer,
        endpoint_id,
        secret=webhooks.with_secret(endpoint, box).secret,
        notice="New secret made. The old one keeps working (both signatures are sent) for 24 hours.",
    )


@router.post("/webhooks/{endpoint_id}/test")
async def test_webhook(db: DB, endpoint_id: uuid.UUID, viewer: Viewer = HookWriter) -> Response:
    await webhooks.get(db, viewer.workspace_id, endpoint_id)

    async def ping() -> Any:
        return await webhooks.send_test(db, viewer.workspace_id, endpoint_id)

    _, errors = await attempt(db, ping)
    return redirect(
        viewer.url("developer", "webhooks", endpoint_id),
        errors.text if errors else "Test event queued; its delivery appears below",
    )


@router.post("/webhooks/{endpoint_id}/delete")
async def delete_webhook(db: DB, endpoint_id: uuid.UUID, viewer: Viewer = HookWriter) -> Response:
    await webhooks.delete(db, viewer.workspace_id, endpoint_id)
    return redirect(viewer.url("developer", "webhooks"), "Endpoint deleted")


@router.post("/webhooks/deliveries/{delivery_id}/retry")
async def retry_delivery(db: DB, delivery_id: uuid.UUID, viewer: Viewer = HookWriter) -> Response:
    delivery, _ = await webhooks.get_delivery(db, viewer.workspace_id, delivery_id)
    endpoint_id = delivery.endpoint_id

    async def again() -> Any:
        return await webhooks.retry(db, viewer.workspace_id, delivery_id)

    _, errors = await attempt(db, again)
    return redirect(
        viewer.url("developer", "webhooks", endpoint_id),
        errors.text if errors else "Delivery queued again",
    )


# ------------------------------------------------------------------ email outbox


@router.get("/outbox")
async def outbox(db: DB, request: Request, viewer: Viewer = Admin) -> Response:
    page = await email.outbox(db, viewer.workspace_id, page_request(request, sort="-created_at"), None)
    return render(
        request,
        viewer,
        "developer/outbox.html",
        {
            "title": "Email outbox",
            "section": "outbox",
            "page": page,
            "pager": pager(request, page),
            "smtp": bool(request.app.state.settings.smtp_url),
        },
    )


@router.get("/outbox/{message_id}")
async def outbox_message(db: DB, request: Request, message_id: uuid.UUID, viewer: Viewer = Admin) -> Response:
    message = await email.message_of(db, viewer.workspace_id, message_id)
    if message is None:
        raise NotFound("Email")
    return render(
        request,
        viewer,
        "developer/message.html",
        {"title": message.subject, "section": "outbox", "msg": message},
    )
