"""Blob storage for recordings (a local directory, or S3 in `storage_s3`) and signed download URLs.

Keys are relative paths of safe segments, e.g. `recordings/<participant id>/<session id>.webm`,
so everything of one participant can be erased with `delete_prefix`. The content type follows
from the key's extension, so every backend serves the same type without keeping metadata.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlencode

from viva.kit import clock
from viva.kit.crypto import constant_time_equals

CONTENT_TYPES = {
    ".webm": "audio/webm",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".wav": "audio/wav",
    ".json": "application/json",
}
SIGNED_URL_TTL = timedelta(hours=1)
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_MAX_SEGMENTS = 8


class InvalidKey(ValueError):
    """A key with an empty, dot-leading or unsafe segment (never reaches the file system)."""


class BlobNotFound(LookupError):
    pass


class StorageError(Exception):
    """The store failed: unreachable, refused (permissions, missing bucket), disk full.

    Its message names the backend and what failed, never a credential, so it can be logged.
    """


@dataclass(frozen=True, slots=True)
class Blob:
    data: bytes
    content_type: str


def content_type_of(key: str) -> str:
    return CONTENT_TYPES.get(Path(key).suffix.lower(), "application/octet-stream")


def check_key(key: str) -> list[str]:
    """The key's segments; `InvalidKey` unless each is a safe name (no `..`, no hidden files)."""
    segments = key.split("/")
    if not 0 < len(segments) <= _MAX_SEGMENTS or not all(_SEGMENT.fullmatch(s) for s in segments):
        raise InvalidKey(f"invalid storage key {key!r}")
    return segments


class BlobStore(Protocol):
    """Where recordings live. Every method raises `InvalidKey` for an unsafe key."""

    async def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing what was there; readers see old or new, never half."""
        ...

    async def get(self, key: str) -> Blob:
        """The blob, or `BlobNotFound`."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove one blob; False when there was none."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every blob under the folder `prefix` (e.g. one participant's); how many went."""
        ...

    async def list_keys(self, prefix: str) -> list[str]:
        """Every key under the folder `prefix`, at any depth, sorted; empty when there is none."""
        ...


_TMP_PREFIX = ".tmp-"


class LocalDirectoryStore:
    """Blobs as files under `root` (mode 600, folders 700), written atomically by rename.

    Operating-system failures other than a missing file (permissions, a full disk) are raised
    as `StorageError`, as the S3 store does, so callers handle one error whatever the backend.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key))

    def _put(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            await asyncio.to_thread(self._put, path, data)
        except OSError as exc:
            raise _os_error("write", key, exc) from exc

    async def get(self, key: str) -> Blob:
        path = self._path(key)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise BlobNotFound(key) from None
        except OSError as exc:
            raise _os_error("read", key, exc) from exc
        return Blob(data=data, content_type=content_type_of(key))

    async def delete(self, key: str) -> bool:
        path = self._path(key)
        try:
            await asyncio.to_thread(path.unlink)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return False
        except OSError as exc:
            raise _os_error("delete", key, exc) from exc
        return True

    def _files(self, folder: Path) -> list[Path]:
        # A temporary file is a write still in flight (or one killed mid-way): not a blob yet.
        if not folder.is_dir():
            return []
        return [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(_TMP_PREFIX)]

    def _delete_tree(self, folder: Path) -> int:
        count = len(self._files(folder))
        if folder.is_dir():
            shutil.rmtree(folder)
        return count

    async def delete_prefix(self, prefix: str) -> int:
        folder = self._path(prefix.rstrip("/"))
        try:
            return await asyncio.to_thread(self._delete_tree, folder)
        except OSError as exc:
            raise _os_error("delete", prefix, exc) from exc

    def _keys(self, folder: Path) -> list[str]:
        return sorted("/".join(p.relative_to(self.root).parts) for p in self._files(folder))

    async def list_keys(self, prefix: str) -> list[str]:
        folder = self._path(prefix.rstrip("/"))
        try:
            return await asyncio.to_thread(self._keys, folder)
        except OSError as exc:
            raise _os_error("list", prefix, exc) from exc


def _os_error(action: str, key: str, exc: OSError) -> StorageError:
    return StorageError(f"local storage: cannot {action} {key!r}: {exc.strerror or type(exc).__name__}")


class SignatureError(Exception):
    """A signed URL that does not verify: tampered, for another key, or expired."""


class SignatureExpired(SignatureError):
    pass


class UrlSigner:
    """HMAC-SHA256 signatures over (key, expiry) for download links that need no sign-in.

    Built from the app's secret key with a purpose label, so the link key is never the
    encryption key itself and rotating VIVA_SECRET_KEY invalidates every outstanding link.
    """

    def __init__(self, app_secret: str, *, ttl: timedelta = SIGNED_URL_TTL) -> None:
        self._key = hmac.new(app_secret.encode(), b"viva signed storage urls v1", hashlib.sha256).digest()
        self.ttl = ttl

    def _signature(self, key: str, expires: int) -> str:
        mac = hmac.new(self._key, f"{key}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def sign(self, key: str, *, now: datetime | None = None) -> tuple[int, str]:
        """(expires as Unix seconds, signature) for `key`, valid for `ttl` from now."""
        check_key(key)
        expires = int(((now or clock.now()) + self.ttl).timestamp())
        return expires, self._signature(key, expires)

    def url(self, base_url: str, key: str, *, now: datetime | None = None) -> str:
        """`{base_url}/{key}?expires=...&signature=...`."""
        expires, signature = self.sign(key, now=now)
        query = urlencode({"expires": expires, "signature": signature})
        return f"{base_url.rstrip('/')}/{quote(key)}?{query}"

    def verify(self, key: str, expires: str | int, signature: str, *, now: datetime | None = None) -> None:
        """Return quietly for a valid, unexpired link; else `SignatureExpired` / `SignatureError`."""
        try:
            check_key(key)
            expires_at = int(expires)
        except (InvalidKey, ValueError):
            raise SignatureError("malformed signed URL") from None
        # Compared before the expiry so a forged link learns nothing from the error it gets.
        if not constant_time_equals(self._signature(key, expires_at), signature):
            raise SignatureError("bad signature")
        if (now or clock.now()).timestamp() >= expires_at:
            raise SignatureExpired("link expired")


def check_signed(signer: UrlSigner, key: str, expires: str, signature: str) -> None:
    """The API's 403 (`link_expired`, `invalid_signature`) unless the link verifies."""
    from viva.errors import Forbidden

    try:
        signer.verify(key, expires, signature)
    except SignatureExpired:
        raise Forbidden("This link has expired", code="link_expired") from None
    except SignatureError:
        raise Forbidden("Invalid link", code="invalid_signature") from None
