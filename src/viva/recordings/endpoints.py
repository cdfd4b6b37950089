"""Signed download links of recordings (`recording_url`). The link is the credential: no key or
sign-in, valid one hour, and dead at once when the recording is erased or expires."""

from __future__ import annotations

import re
from typing import Annotated, Literal

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
    headers = {
        "Content-Disposition": f'inline; filename="{key.rsplit("/", 1)[-1]}"',
        # Private: the link is someone's credential; never in a shared cache.
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Accept-Ranges": "bytes",
    }
    size = len(blob.data)
    wanted = byte_range(request.headers.get("range"), size)
    if wanted is None:
        return Response(blob.data, media_type=blob.content_type, headers=headers)
    if wanted == "unsatisfiable":
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    start, end = wanted
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Response(
        blob.data[start : end + 1], status_code=206, media_type=blob.content_type, headers=headers
    )


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def byte_range(header: str | None, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """The one byte range a `Range` header asks for, inclusive (players seek with these); None to
    send the whole file (no header, or several ranges, which a player never needs)."""
    found = _RANGE.fullmatch((header or "").strip())
    if found is None or found.group(1) == found.group(2) == "":
        return None
    first, last = found.group(1), found.group(2)
    if first == "":  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(size - 1, int(last)) if last else size - 1
    if start >= size or start > end:
        return "unsatisfiable"
    return start, end
