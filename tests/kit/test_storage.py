"""The local blob store and signed URLs: atomic writes, safe keys, erasure, expiry, tampering."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fixtures.clock import FrozenClock
from viva.errors import Forbidden, NotFound
from viva.kit.storage import (
    BlobNotFound,
    InvalidKey,
    LocalDirectoryStore,
    SignatureError,
    SignatureExpired,
    UrlSigner,
    open_signed,
)

KEY = "recordings/p-123/s-456.webm"
NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
SECRET = "app-secret-key"


@pytest.fixture
def store(tmp_path: Path) -> LocalDirectoryStore:
    return LocalDirectoryStore(tmp_path / "blobs")


async def test_put_get_replace_delete(store: LocalDirectoryStore) -> None:
    await store.put(KEY, b"first")
    await store.put(KEY, b"second take")
    blob = await store.get(KEY)
    assert (blob.data, blob.content_type) == (b"second take", "audio/webm")
    path = store.root / "recordings" / "p-123" / "s-456.webm"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["s-456.webm"]  # no temporary file left
    assert await store.delete(KEY) is True
    assert await store.delete(KEY) is False
    with pytest.raises(BlobNotFound):
        await store.get(KEY)


async def test_content_type_follows_the_extension(store: LocalDirectoryStore) -> None:
    await store.put("a/b.ogg", b"OggS")
    await store.put("a/c.bin", b"?")
    assert (await store.get("a/b.ogg")).content_type == "audio/ogg"
    assert (await store.get("a/c.bin")).content_type == "application/octet-stream"


async def test_delete_prefix_erases_one_participant_only(store: LocalDirectoryStore) -> None:
    for key in ("recordings/p-1/s-1.webm", "recordings/p-1/s-2.webm", "recordings/p-2/s-3.webm"):
        await store.put(key, b"audio")
    assert await store.delete_prefix("recordings/p-1/") == 2
    assert await store.delete_prefix("recordings/p-1") == 0
    assert (await store.get("recordings/p-2/s-3.webm")).data == b"audio"
    with pytest.raises(BlobNotFound):
        await store.get("recordings/p-1/s-1.webm")


@pytest.mark.parametrize(
    "key",
    ["", "../etc/passwd", "a/../../b", "/abs", "a//b", ".hidden", "a/.tmp-x", "a\\b", "a b", "a/" * 9 + "c"],
)
async def test_unsafe_keys_never_reach_the_file_system(store: LocalDirectoryStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        await store.put(key, b"x")
    with pytest.raises(InvalidKey):
        await store.get(key)
    assert not store.root.exists()


def test_a_signed_url_verifies_for_an_hour() -> None:
    signer = UrlSigner(SECRET)
    url = signer.url("https://viva.example/api/v1/storage", KEY, now=NOW)
    parts = urlsplit(url)
    assert parts.path == "/api/v1/storage/recordings/p-123/s-456.webm"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert int(query["expires"]) == int((NOW + timedelta(hours=1)).timestamp())
    signer.verify(KEY, query["expires"], query["signature"], now=NOW + timedelta(minutes=59, seconds=59))
    with pytest.raises(SignatureExpired):
        signer.verify(KEY, query["expires"], query["signature"], now=NOW + timedelta(hours=1))


def test_tampered_links_are_rejected() -> None:
    signer = UrlSigner(SECRET)
    expires, signature = signer.sign(KEY, now=NOW)
    later = NOW + timedelta(minutes=1)
    for key, exp, sig in [
        ("recordings/p-123/s-999.webm", expires, signature),  # another recording
        (KEY, expires + 3600, signature),  # a longer life
        (KEY, expires, signature[:-1] + ("A" if signature[-1] != "A" else "B")),
        (KEY, "soon", signature),
        ("../" + KEY, expires, signature),
    ]:
        with pytest.raises(SignatureError) as caught:
            signer.verify(key, exp, sig, now=later)
        assert not isinstance(caught.value, SignatureExpired)
    # Another secret (a rotated VIVA_SECRET_KEY) invalidates every link.
    with pytest.raises(SignatureError):
        UrlSigner("another-secret").verify(KEY, expires, signature, now=later)


async def test_open_signed_maps_to_403_and_404(store: LocalDirectoryStore, frozen: FrozenClock) -> None:
    signer = UrlSigner(SECRET)
    await store.put(KEY, b"audio")
    expires, signature = signer.sign(KEY)
    assert (await open_signed(store, signer, KEY, str(expires), signature)).data == b"audio"

    with pytest.raises(Forbidden) as bad:
        await open_signed(store, signer, KEY, str(expires), "forged")
    assert (bad.value.status, bad.value.code) == (403, "invalid_signature")

    frozen.advance(hours=1, seconds=1)
    with pytest.raises(Forbidden) as expired:
        await open_signed(store, signer, KEY, str(expires), signature)
    assert (expired.value.status, expired.value.code) == (403, "link_expired")

    frozen.advance(hours=-1)
    await store.delete_prefix("recordings/p-123")
    with pytest.raises(NotFound) as gone:
        await open_signed(store, signer, KEY, str(expires), signature)
    assert gone.value.status == 404
