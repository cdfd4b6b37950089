"""Participants: list with search and filters, add, edit, archive, erase (after a confirmation
that says what goes), CSV import with a preview, and the participant's page."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from viva.dashboard.web import (
    FormErrors,
    Viewer,
    attempt,
    flatten,
    form_items,
    needs,
    page_request,
    pager,
    parse,
    redirect,
    render,
    render_form,
    unflatten,
    uuid_or_none,
)
from viva.db import DB
from viva.errors import ApiError, validation_error
from viva.kit.http import allow_private_urls
from viva.kit.pagination import PageRequest
from viva.participants import service
from viva.participants.schemas import MAX_BULK, ParticipantCreate, ParticipantUpdate
from viva.sessions import service as sessions
from viva.templates import service as templates

router = APIRouter(prefix="/{slug}/participants")
Reader = needs("candidates.read")
Writer = needs("candidates.write")
Deleter = needs("candidates.delete")
LISTS = ("tags", "background.skills", "background.languages")
# Blank on the edit form means "clear it": null, since PATCH merges profile and background key by key.
NULLABLE = (
    "external_id",
    "phone",
    "resume_url",
    "evaluation_template_id",
    "profile.title",
    "profile.organization",
    "profile.experienceLevel",
    "profile.location",
    "background.education",
)
CSV_COLUMNS = (
    "name",
    "email",
    "external_id",
    "phone",
    "tags",
    "title",
    "organization",
    "location",
    "resume_url",
)


async def template_options(db: DB, viewer: Viewer) -> list[tuple[str, str]]:
    page = await templates.list_templates(
        db, viewer.workspace_id, PageRequest(page=1, page_size=100, sort="template_name")
    )
    return [(str(t.id), t.template_name) for t in page.items]


async def _form(
    db: DB,
    request: Request,
    viewer: Viewer,
    v: dict[str, Any],
    errors: FormErrors | None = None,
    participant: Any = None,
) -> HTMLResponse:
    return render_form(
        request,
        viewer,
        "participants/form.html",
        v,
        errors,
        {
            "title": f"Edit {participant.name}" if participant else "Add a participant",
            "section": "participants",
            "participant": participant,
            "template_options": await template_options(db, viewer),
        },
    )


@router.get("")
async def list_participants(db: DB, request: Request, viewer: Viewer = Reader) -> Response:
    query = request.query_params
    status = query.get("status") if query.get("status") in ("active", "archived") else None
    q = query.get("q", "").strip()[:200] or None
    template_id = uuid_or_none(query.get("template"))
    tag = query.get("tag", "").strip()[:100] or None
    page = await service.list_participants(
        db, viewer.workspace_id, page_request(request), template_id=template_id, status=status, q=q, tag=tag
    )
    options = await template_options(db, viewer)
    return render(
        request,
        viewer,
        "participants/list.html",
        {
            "title": "Participants",
            "section": "participants",
            "page": page,
            "pager": pager(request, page),
            "f": {"q": q or "", "status": status or "", "template": str(template_id or ""), "tag": tag or ""},
            "template_options": options,
            "template_names": dict(options),
            "filtered": bool(q or status or template_id or tag),
        },
    )


@router.get("/new")
async def new_participant(db: DB, request: Request, viewer: Viewer = Writer) -> Response:
    return await _form(
        db, request, viewer, {"evaluation_template_id": request.query_params.get("template", "")}
    )


@router.post("/new")
async def create_participant(db: DB, request: Request, viewer: Viewer = Writer) -> Response:
    items = await form_items(request)

    async def create() -> Any:
        body = parse(ParticipantCreate, unflatten(items, lists=LISTS))
        return await service.create(db, viewer.workspace_id, body, allow_private=allow_private_urls(request))

    participant, errors = await attempt(db, create)
    if errors:
        return await _form(db, request, viewer, dict(items), errors)
    return redirect(viewer.url("participants", participant.id), f"{participant.name} added")


# ------------------------------------------------------------------ CSV import


def _rows(text: str, template_id: str | None) -> list[dict[str, Any]]:
    """CSV rows as the bulk API's participant objects (tags separated by semicolons)."""
    reader = csv.DictReader(io.StringIO(text))
    rows: list[dict[str, Any]] = []
    for raw in reader:
        cells = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        row: dict[str, Any] = {
            k: cells[k] for k in ("name", "email", "external_id", "phone", "resume_url") if cells.get(k)
        }
        if cells.get("tags"):
            row["tags"] = [t.strip() for t in cells["tags"].split(";") if t.strip()]
        profile = {k: cells[k.lower()] for k in ("title", "organization", "location") if cells.get(k)}
        if profile:
            row["profile"] = profile
        if template_id:
            row["evaluation_template_id"] = template_id
        rows.append(row)
    return rows


def _row_problem(row: dict[str, Any]) -> str | None:
    try:
        ParticipantCreate.model_validate(row)
    except ValidationError as exc:
        issues = validation_error(exc).extra.get("issues") or []
        return "; ".join(f"{'.'.join(str(p) for p in i['path']) or 'row'}: {i['message']}" for i in issues)
    except ApiError as exc:
        return exc.message
    return None


@router.get("/import")
async def import_page(db: DB, request: Request, viewer: Viewer = Writer) -> Response:
    return render(
        request,
        viewer,
        "participants/import.html",
        {
            "title": "Import participants",
            "section": "participants",
            "template_options": await template_options(db, viewer),
            "columns": CSV_COLUMNS,
            "v": {},
            "e": {},
        },
    )


# The path ends in /bulk so the bulk body limit (5 MiB) applies, as for POST /participants/bulk.
@router.post("/bulk")
async def import_csv(db: DB, request: Request, viewer: Viewer = Writer) -> Response:
    form = await request.form()
    step = form.get("_step")
    template_id = form.get("evaluation_template_id")
    template_id = template_id if isinstance(template_id, str) and template_id else None
    context: dict[str, Any] = {
        "title": "Import participants",
        "section": "participants",
        "template_options": await template_options(db, viewer),
        "columns": CSV_COLUMNS,
        "v": {"evaluation_template_id": template_id or ""},
        "e": {},
    }
    if step == "create":
        raw = form.get("rows")
        rows = json.loads(raw) if isinstance(raw, str) and raw else []
        rows = rows[:MAX_BULK] if isinstance(rows, list) else []
        if not request.headers.get("hx-request"):  # without script: every row in one request
            result = await service.create_many(
                db, viewer.workspace_id, rows, allow_private=allow_private_urls(request)
            )
            progress = _progress(
                rows, len(rows), len(result.created), [x.model_dump() for x in result.skipped]
            )
            return render(
                request, viewer, "participants/import.html", {**context, **progress, "result": True}
            )
        return await _import_chunk(request, viewer, db, rows, form)
    upload = form.get("file")
    text = ""
    if isinstance(upload, UploadFile):
        text = (await upload.read()).decode("utf-8-sig", errors="replace")
    pasted = form.get("csv")
    if not text.strip() and isinstance(pasted, str):
        text = pasted
    rows = _rows(text, template_id) if text.strip() else []
    if not rows:
        context["e"] = {
            "file": "Choose a CSV file (or paste CSV) with a header row and at least one participant"
        }
        return render(request, viewer, "participants/import.html", context, 400)
    if len(rows) > MAX_BULK:
        context["e"] = {"file": f"{len(rows)} rows; at most {MAX_BULK} can be imported at once"}
        return render(request, viewer, "participants/import.html", context, 400)
    preview = [{"row": r, "problem": _row_problem(r)} for r in rows]
    return render(
        request,
        viewer,
        "participants/import.html",
        {
            **context,
            "preview": preview,
            "valid": sum(1 for p in preview if not p["problem"]),
            "rows_json": json.dumps(rows),
        },
    )


IMPORT_CHUNK = 50


async def _import_chunk(request: Request, viewer: Viewer, db: DB, rows: list[Any], form: Any) -> Response:
    """With htmx the import runs IMPORT_CHUNK rows per request, each committed on its own, and
    the page shows the progress; the next chunk is asked for by the fragment it returns."""

    def number(name: str) -> int:
        raw = form.get(name)
        return int(raw) if isinstance(raw, str) and raw.isdigit() else 0

    offset, created = number("offset"), number("created")
    raw_skipped = form.get("skipped")
    skipped = json.loads(raw_skipped) if isinstance(raw_skipped, str) and raw_skipped else []
    result = await service.create_many(
        db,
        viewer.workspace_id,
        rows[offset : offset + IMPORT_CHUNK],
        allow_private=allow_private_urls(request),
    )
    created += len(result.created)
    skipped += [{**s.model_dump(), "index": s.index + offset} for s in result.skipped]
    done = min(offset + IMPORT_CHUNK, len(rows))
    return render(
        request, viewer, "participants/_import_progress.html", _progress(rows, done, created, skipped)
    )


def _progress(rows: list[Any], done: int, created: int, skipped: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "done": done,
        "total": len(rows),
        "created": created,
        "skipped": skipped,
        "skipped_json": json.dumps(skipped),
        "rows_json": json.dumps(rows),
        "finished": done >= len(rows),
    }


# ------------------------------------------------------------------ one participant


@router.get("/{participant_id}")
async def show_participant(
    db: DB, request: Request, participant_id: uuid.UUID, viewer: Viewer = Reader
) -> Response:
    participant = service.to_read(await service.get(db, viewer.workspace_id, participant_id))
    page = await sessions.list_sessions(
        db,
        viewer.workspace_id,
        PageRequest(page=1, page_size=100, sort="created_at"),
        candidate_id=participant_id,
    )
    template = None
    if participant.evaluation_template_id:
        found = await templates.get_template(db, viewer.workspace_id, participant.evaluation_template_id)
        template = await templates.template_detail(db, found)
    return render(
        request,
        viewer,
        "participants/show.html",
        {
            "title": participant.name,
            "section": "participants",
            "p": participant,
            "sessions": [s for s, _ in page.items],
            "template": template,
        },
    )


@router.get("/{participant_id}/edit")
async def edit_participant(
    db: DB, request: Request, participant_id: uuid.UUID, viewer: Viewer = Writer
) -> Response:
    participant = service.to_read(await service.get(db, viewer.workspace_id, participant_id))
    v = flatten(participant.model_dump(mode="json", exclude={"metadata"}), lists=LISTS)
    return await _form(db, request, viewer, v, participant=participant)


@router.post("/{participant_id}/edit")
async def update_participant(
    db: DB, request: Request, participant_id: uuid.UUID, viewer: Viewer = Writer
) -> Response:
    participant = service.to_read(await service.get(db, viewer.workspace_id, participant_id))
    items = await form_items(request)

    async def update() -> Any:
        payload = unflatten(items, lists=LISTS, nullable=NULLABLE)
        parse(ParticipantCreate, payload)  # a cleared name or email says "Required", as on create
        return await service.update(
            db,
            viewer.workspace_id,
            participant_id,
            parse(ParticipantUpdate, payload),
            allow_private=allow_private_urls(request),
        )

    _, errors = await attempt(db, update)
    if errors:
        return await _form(db, request, viewer, dict(items), errors, participant)
    return redirect(viewer.url("participants", participant_id), "Changes saved")


@router.post("/{participant_id}/status")
async def set_status(
    db: DB, request: Request, participant_id: uuid.UUID, viewer: Viewer = Writer
) -> Response:
    await service.get(db, viewer.workspace_id, participant_id)
    status = dict(await form_items(request)).get("status")

    async def change() -> Any:
        return await service.update(
            db, viewer.workspace_id, participant_id, parse(ParticipantUpdate, {"status": status})
        )

    found, errors = await attempt(db, change)
    return redirect(
        viewer.url("participants", participant_id),
        errors.text if errors else f"Participant {found.status}",
    )


@router.get("/{participant_id}/erase")
async def confirm_erase(
    db: DB, request: Request, participant_id: uuid.UUID, viewer: Viewer = Deleter
) -> Response:
    participant = service.to_read(await service.get(db, viewer.workspace_id, participant_id))
    page = await sessions.list_sessions(
        db, viewer.workspace_id, PageRequest(page=1, page_size=1), candidate_id=participant_id
    )
    return render(
        request,
        viewer,
        "participants/erase.html",
        {
            "title": f"Erase {participant.name}",
            "section": "participants",
            "p": participant,
            "count": page.total,
        },
    )


@router.post("/{participant_id}/erase")
async def erase(db: DB, request: Request, participant_id: uuid.UUID, viewer: Viewer = Deleter) -> Response:
    participant = await service.get(db, viewer.workspace_id, participant_id)
    name = participant.name
    await service.erase(db, viewer.workspace_id, participant_id)
    return redirect(viewer.url("participants"), f"{name} and everything about them was erased")
