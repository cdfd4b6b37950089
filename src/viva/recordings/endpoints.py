"""Signed download links of recordings (`recording_url`). The link is the credential: no key or
sign-in, valid one hour, and dead at once when the recording is erased or expires."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from viva.db import DB
from viva.recordings import service

router = APIRouter(prefix=service.MEDIA_PATH, tags=["Recordings"], include_in_schema=False)


@router.get("/{key:path}", summary="A recording, through its signed link")
async def download(
    request: Request,
    db: DB,
    key: Annotated[str, PathParam(max_length=500)],
    expires: Annotated[str, Query(max_length=20)] = "",
    signature: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    state = request.app.state
    blob = await service.open_link(db, state.blob_store, state.url_signer, key, expires, signature)
    return Response(
        blob.data,
        media_type=blob.content_type,
        headers={
            "Content-Disposition": f'inline; filename="{key.rsplit("/", 1)[-1]}"',
            # Private: the link is someone's credential; never in a shared cache.
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )
