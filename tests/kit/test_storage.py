"""Blob stores and signed URLs.

The behaviour every `BlobStore` promises (atomic replace, safe keys, listing, erasure) runs
against both backends: a local directory, and `S3Store` speaking HTTP to moto's S3 server on
loopback. Then what is particular to each, and the signed URLs.
"""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fixtures.clock import FrozenClock
from tests.fixtures.live import free_port
from tests.fixtures.s3 import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    moto_s3_server,
    new_bucket,
    object_names,
    s3_client,
)
from viva.errors import Forbidden
from viva.kit.storage import (
    BlobNotFound,
    BlobStore,
    InvalidKey,
    LocalDirectoryStore,
    SignatureError,
    SignatureExpired,
    StorageError,
    UrlSigner,
    check_signed,
)
from viva.kit.storage_s3 import S3Store

KEY = "recordings/p-123/s-456.webm"
NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
SECRET = "app-secret-key"


@dataclass
class Backend:
    store: BlobStore
    stored: Callable[[], list[str]]
    """What the backend itself holds: file paths under the root, or object names in the bucket."""


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3_server() as endpoint:
        yield endpoint


def s3_store(endpoint: str, bucket: str, **options: Any) -> S3Store:
    return S3Store(
        bucket,
        endpoint_url=endpoint,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
        addressing_style="path",
        **options,
    )


def local_files(root: Path) -> list[str]:
    return sorted("/".join(p.relative_to(root).parts) for p in root.rglob("*") if p.is_file())


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        local = LocalDirectoryStore(tmp_path / "blobs")
        yield Backend(local, lambda: local_files(local.root))
        return
    endpoint: str = request.getfixturevalue("s3_endpoint")  # the server starts only if an S3 test runs
    bucket = new_bucket(endpoint)
    s3 = s3_store(endpoint, bucket)
    yield Backend(s3, lambda: object_names(endpoint, bucket))
    s3.close()


# The contract: both backends.


async def test_put_get_replace_delete(backend: Backend) -> None:
    store = backend.store
    await store.put(KEY, b"first")
    await store.put(KEY, b"second take")
    blob = await store.get(KEY)
    assert (blob.data, blob.content_type) == (b"second take", "audio/webm")
    assert backend.stored() == [KEY]  # one blob, no temporary copy left
    assert await store.delete(KEY) is True
    assert await store.delete(KEY) is False
    with pytest.raises(BlobNotFound):
        await store.get(KEY)
    assert backend.stored() == []


async def test_content_type_follows_the_extension(backend: Backend) -> None:
    await backend.store.put("a/b.ogg", b"OggS")
    await backend.store.put("a/c.bin", b"?")
    assert (await backend.store.get("a/b.ogg")).content_type == "audio/ogg"
    assert (await backend.store.get("a/c.bin")).content_type == "application/octet-stream"


async def test_an_empty_blob_is_a_blob(backend: Backend) -> None:
    await backend.store.put("a/empty.webm", b"")
    assert (await backend.store.get("a/empty.webm")).data == b""
    assert await backend.store.list_keys("a") == ["a/empty.webm"]


async def test_delete_prefix_erases_one_participant_only(backend: Backend) -> None:
    store = backend.store
    for key in (
        "recordings/p-1/s-1.webm",
        "recordings/p-1/s-2/parts/000-000001.webm",
        "recordings/p-10/s-9.webm",  # shares the text "p-1", not the folder
        "recordings/p-2/s-3.webm",
    ):
        await store.put(key, b"audio")
    assert await store.delete_prefix("recordings/p-1/") == 2
    assert await store.delete_prefix("recordings/p-1") == 0
    assert (await store.get("recordings/p-2/s-3.webm")).data == b"audio"
    assert (await store.get("recordings/p-10/s-9.webm")).data == b"audio"
    with pytest.raises(BlobNotFound):
        await store.get("recordings/p-1/s-1.webm")
    assert backend.stored() == ["recordings/p-10/s-9.webm", "recordings/p-2/s-3.webm"]


async def test_list_keys_is_recursive_sorted_and_bounded_by_the_folder(backend: Backend) -> None:
    store = backend.store
    keys = [
        "recordings/p-1/s-2.ogg",
        "recordings/p-1/s-1/parts/000-000002.webm",
        "recordings/p-1/s-1.ogg",
        "recordings/p-1/s-1/parts/000-000001.webm",
        "recordings/p-1/s-1/parts/001-000000.webm",
        "recordings/p-10/s-1.ogg",
        "recordings/p-2/s-3.ogg",
    ]
    await asyncio.gather(*(store.put(key, b"x") for key in keys))
    # Plain string order: "s-1.ogg" sorts before the folder "s-1/" ('.' < '/').
    assert await store.list_keys("recordings/p-1") == [
        "recordings/p-1/s-1.ogg",
        "recordings/p-1/s-1/parts/000-000001.webm",
        "recordings/p-1/s-1/parts/000-000002.webm",
        "recordings/p-1/s-1/parts/001-000000.webm",
        "recordings/p-1/s-2.ogg",
    ]
    assert await store.list_keys("recordings/p-1/s-1/parts/") == [
        "recordings/p-1/s-1/parts/000-000001.webm",
        "recordings/p-1/s-1/parts/000-000002.webm",
        "recordings/p-1/s-1/parts/001-000000.webm",
    ]
    assert await store.list_keys("recordings") == sorted(keys)
    assert await store.list_keys("recordings/p-3") == []
    assert await store.list_keys("recordings/p-1/s-2.ogg") == []  # a blob is not a folder


UNSAFE_KEYS = [
    "", "../etc/passwd", "a/../../b", "/abs", "a//b", ".hidden", "a/.tmp-x", "a\\b", "a b", "a/" * 9 + "c",
]


async def test_unsafe_keys_never_reach_the_store(backend: Backend) -> None:
    store = backend.store
    for key in UNSAFE_KEYS:
        with pytest.raises(InvalidKey):
            await store.put(key, b"x")
        with pytest.raises(InvalidKey):
            await store.get(key)
        with pytest.raises(InvalidKey):
            await store.delete(key)
        with pytest.raises(InvalidKey):
            await store.delete_prefix(key)
        with pytest.raises(InvalidKey):
            await store.list_keys(key)
    assert backend.stored() == []
    if isinstance(store, LocalDirectoryStore):
        assert not store.root.exists()  # not even a folder was made


def test_check_signed_answers_403_naming_why(frozen: FrozenClock) -> None:
    signer = UrlSigner(SECRET)
    expires, signature = signer.sign(KEY)
    check_signed(signer, KEY, str(expires), signature)  # a good link passes quietly

    with pytest.raises(Forbidden) as bad:
        check_signed(signer, KEY, str(expires), "forged")
    assert (bad.value.status, bad.value.code) == (403, "invalid_signature")
    with pytest.raises(Forbidden) as other:
        check_signed(signer, "recordings/p-123/s-999.webm", str(expires), signature)
    assert other.value.code == "invalid_signature"

    frozen.advance(hours=1, seconds=1)
    with pytest.raises(Forbidden) as expired:
        check_signed(signer, KEY, str(expires), signature)
    assert (expired.value.status, expired.value.code) == (403, "link_expired")


# The local directory.


async def test_local_files_are_private(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path / "blobs")
    await store.put(KEY, b"audio")
    path = store.root / "recordings" / "p-123" / "s-456.webm"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_local_writes_in_flight_are_not_blobs(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path / "blobs")
    await store.put("recordings/p-1/s-1.ogg", b"audio")
    # What a put leaves while it writes (or when the process dies mid-write).
    (store.root / "recordings" / "p-1" / ".tmp-k2j4x9").write_bytes(b"half")
    assert await store.list_keys("recordings") == ["recordings/p-1/s-1.ogg"]
    assert await store.delete_prefix("recordings/p-1") == 1
    assert not (store.root / "recordings" / "p-1").exists()


async def test_local_failures_are_storage_errors(tmp_path: Path) -> None:
    root = tmp_path / "not-a-directory"
    root.write_bytes(b"")
    store = LocalDirectoryStore(root)
    with pytest.raises(StorageError, match="cannot write 'recordings/p-1/s-1.ogg'"):
        await store.put("recordings/p-1/s-1.ogg", b"audio")


# S3.


async def test_s3_erases_and_lists_more_than_one_page(s3_endpoint: str) -> None:
    bucket = new_bucket(s3_endpoint)
    store = s3_store(s3_endpoint, bucket)
    batches: list[int] = []

    def record_batch(params: dict[str, Any], **_: Any) -> None:
        batches.append(len(params["Delete"]["Objects"]))

    store._client.meta.events.register("before-parameter-build.s3.DeleteObjects", record_batch)
    keys = [f"recordings/p-1/s-1/parts/000-{i:06d}.webm" for i in range(1005)]
    await asyncio.gather(*(store.put(key, b"") for key in keys))
    await store.put("recordings/p-2/s-1.ogg", b"audio")

    assert await store.list_keys("recordings/p-1") == keys  # two pages of ListObjectsV2
    assert await store.delete_prefix("recordings/p-1") == 1005
    assert sorted(batches) == [5, 1000]  # S3 takes at most 1000 keys per DeleteObjects
    assert object_names(s3_endpoint, bucket) == ["recordings/p-2/s-1.ogg"]
    store.close()


async def test_s3_prefixes_keep_stores_apart_in_one_bucket(s3_endpoint: str) -> None:
    bucket = new_bucket(s3_endpoint)
    a = s3_store(s3_endpoint, bucket, prefix="viva-a")
    b = s3_store(s3_endpoint, bucket, prefix="/viva-b/")
    await a.put(KEY, b"from a")
    await b.put(KEY, b"from b")
    await b.put("recordings/p-9/s-1.ogg", b"only b")

    assert (await a.get(KEY)).data == b"from a"
    assert (await b.get(KEY)).data == b"from b"
    assert await a.list_keys("recordings") == [KEY]
    with pytest.raises(BlobNotFound):
        await a.get("recordings/p-9/s-1.ogg")
    assert await a.delete_prefix("recordings") == 1
    assert (await b.get(KEY)).data == b"from b"
    assert object_names(s3_endpoint, bucket) == [
        "viva-b/recordings/p-123/s-456.webm",
        "viva-b/recordings/p-9/s-1.ogg",
    ]
    head = s3_client(s3_endpoint).head_object(Bucket=bucket, Key="viva-b/" + KEY)
    assert head["ContentType"] == "audio/webm"  # served right even straight from the bucket
    a.close()
    b.close()


async def test_s3_lists_only_what_could_be_a_key(s3_endpoint: str) -> None:
    bucket = new_bucket(s3_endpoint)
    store = s3_store(s3_endpoint, bucket)
    # A folder marker, as S3 consoles create them, and a name this store would never write.
    s3_client(s3_endpoint).put_object(Bucket=bucket, Key="recordings/p-1/", Body=b"")
    s3_client(s3_endpoint).put_object(Bucket=bucket, Key="recordings/p-1/.DS_Store", Body=b"")
    await store.put("recordings/p-1/s-1.ogg", b"audio")
    assert await store.list_keys("recordings/p-1") == ["recordings/p-1/s-1.ogg"]
    # Erasure takes everything under the folder, whoever wrote it.
    assert await store.delete_prefix("recordings/p-1") == 3
    assert object_names(s3_endpoint, bucket) == []
    store.close()


def assert_no_credentials(error: BaseException) -> None:
    for text in (str(error), repr(error), str(error.__cause__), repr(error.__cause__)):
        assert SECRET_ACCESS_KEY not in text
        assert ACCESS_KEY_ID not in text


async def test_s3_a_missing_bucket_is_a_storage_error(s3_endpoint: str) -> None:
    store = s3_store(s3_endpoint, "viva-test-no-such-bucket")
    calls: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("put", lambda: store.put(KEY, b"audio")),
        ("get", lambda: store.get(KEY)),  # not BlobNotFound: the bucket, not the recording, is missing
        ("delete", lambda: store.delete(KEY)),  # not False, although HEAD's answer is a bare 404
        ("delete", lambda: store.delete_prefix("recordings")),
        ("list", lambda: store.list_keys("recordings")),
    ]
    for operation, call in calls:
        with pytest.raises(StorageError) as caught:
            await call()
        message = str(caught.value)
        assert f"S3 {operation} in bucket 'viva-test-no-such-bucket' failed: NoSuchBucket" in message
        assert_no_credentials(caught.value)
    store.close()


async def test_s3_an_unreachable_endpoint_is_a_storage_error() -> None:
    store = s3_store(f"http://127.0.0.1:{free_port()}", "viva-recordings")  # nothing listens there
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: store.put(KEY, b"audio"),
        lambda: store.get(KEY),
        lambda: store.list_keys("recordings"),
    ]
    for call in calls:
        with pytest.raises(StorageError, match="Could not connect") as caught:
            await call()
        assert_no_credentials(caught.value)
    store.close()


def test_s3_settings_are_checked_when_the_store_is_made() -> None:
    with pytest.raises(InvalidKey):
        S3Store("viva-recordings", prefix="../elsewhere")
    with pytest.raises(ValueError, match="addressing style"):
        S3Store("viva-recordings", addressing_style="sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bucket"):
        S3Store("")
    with pytest.raises(StorageError, match="cannot create the client"):
        S3Store("viva-recordings", endpoint_url="not a url", secret_access_key=SECRET_ACCESS_KEY)


# Signed URLs.


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
