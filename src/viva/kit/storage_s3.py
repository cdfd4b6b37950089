"""A `BlobStore` in an S3-compatible bucket: AWS S3, MinIO, Cloudflare R2, Backblaze B2, moto.

boto3's client is synchronous, so each call runs in a worker thread (`asyncio.to_thread`); one
client serves the store's whole life, since botocore clients are thread-safe and keep a
connection pool. The module is imported only when a bucket is configured, so a deployment on
local storage never loads boto3.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Literal, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from viva.kit.storage import Blob, BlobNotFound, InvalidKey, StorageError, check_key, content_type_of

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

AddressingStyle = Literal["auto", "path", "virtual"]
ADDRESSING_STYLES: tuple[AddressingStyle, ...] = ("auto", "path", "virtual")
# DeleteObjects takes at most 1000 keys a request (the S3 API's limit, shared by its clones).
DELETE_BATCH = 1000

T = TypeVar("T")


class S3Store:
    """Blobs as objects in `bucket`, each named `{prefix}/{key}` (or `key` without a prefix).

    Same behaviour as `LocalDirectoryStore`: a PUT replaces an object atomically, a missing key
    is `BlobNotFound`, and any failure of the service (unreachable, timed out, access denied,
    no such bucket) is a `StorageError` whose message names the operation, never a credential.
    Unset credentials fall back to boto's default chain (environment, shared files, instance
    or task role).
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        addressing_style: AddressingStyle = "auto",
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 3,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 bucket name is required")
        if addressing_style not in ADDRESSING_STYLES:
            raise ValueError(f"addressing style must be one of {', '.join(ADDRESSING_STYLES)}")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            check_key(self.prefix)  # the same safe segments as keys, so names stay predictable
        # Since botocore 1.36 the client adds CRC checksums to every upload and asks for them on
        # every download; several S3 clones reject those headers or fail the signature. Against
        # a custom endpoint only what the API requires is sent; AWS itself keeps the default.
        checksums: Literal["when_supported", "when_required"] = (
            "when_required" if endpoint_url else "when_supported"
        )
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # "standard" retries throttling, 5xx and connection errors with jittered backoff.
            retries={"mode": "standard", "max_attempts": max_attempts},
            s3={"addressing_style": addressing_style},
            request_checksum_calculation=checksums,
            response_checksum_validation=checksums,
        )
        try:
            # A session of its own: boto3's default session is module-global and not thread-safe.
            session = boto3.session.Session(
                aws_access_key_id=access_key_id or None,
                aws_secret_access_key=secret_access_key or None,
                region_name=region,
            )
            self._client: S3Client = session.client("s3", endpoint_url=endpoint_url or None, config=config)
        except (BotoCoreError, ValueError) as exc:
            # e.g. a malformed endpoint URL, or an AWS_PROFILE naming no profile.
            raise StorageError(f"S3 storage: cannot create the client: {type(exc).__name__}: {exc}") from None

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _folder(self, prefix: str) -> str:
        return self._name(prefix.rstrip("/")) + "/"

    async def _call(self, operation: str, fn: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(fn)
        except ClientError as exc:
            raise self._error(operation, exc) from exc
        except BotoCoreError as exc:
            raise self._error(operation, exc) from exc

    def _error(self, operation: str, exc: ClientError | BotoCoreError) -> StorageError:
        # Built from the error's code, status and the service's own message: the secret key is
        # never sent over the wire (SigV4 only signs with it), and nothing here formats it.
        where = f"S3 {operation} in bucket {self.bucket!r}"
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            detail = f"{error.get('Code', 'error')} (HTTP {status})"
            if message := error.get("Message"):
                detail += f": {message[:200]}"
            return StorageError(f"{where} failed: {detail}")
        return StorageError(f"{where} failed: {type(exc).__name__}: {exc}")

    async def put(self, key: str, data: bytes) -> None:
        name = self._name(key)
        await self._call(
            "put",
            lambda: self._client.put_object(
                Bucket=self.bucket, Key=name, Body=data, ContentType=content_type_of(key)
            ),
        )

    def _get(self, name: str) -> bytes | None:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchKey":
                return None
            raise
        body = response["Body"]
        try:
            return body.read()
        finally:
            body.close()

    async def get(self, key: str) -> Blob:
        name = self._name(key)
        data = await self._call("get", lambda: self._get(name))
        if data is None:
            raise BlobNotFound(key)
        return Blob(data=data, content_type=content_type_of(key))

    def _delete(self, name: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=name)
            existed = True
        except ClientError as exc:
            # A HEAD answer has no body, so a missing key and a missing bucket are both a bare
            # 404; the DELETE below (a no-op for a missing key) tells them apart.
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
                raise
            existed = False
        self._client.delete_object(Bucket=self.bucket, Key=name)
        return existed

    async def delete(self, key: str) -> bool:
        name = self._name(key)
        return await self._call("delete", lambda: self._delete(name))

    def _names(self, folder: str) -> Iterator[str]:
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=folder):
            for item in page.get("Contents", []):
                if "Key" in item:
                    yield item["Key"]

    def _delete_all(self, folder: str) -> int:
        # Listed in full before deleting, so the count is exact and no page is skipped however
        # a service's continuation tokens react to deletions under them.
        names = list(self._names(folder))
        deleted = 0
        for start in range(0, len(names), DELETE_BATCH):
            batch = names[start : start + DELETE_BATCH]
            response = self._client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": n} for n in batch], "Quiet": True}
            )
            errors = response.get("Errors", [])
            deleted += len(batch) - len(errors)
            if errors:
                codes = sorted({e.get("Code", "error") for e in errors})
                raise StorageError(
                    f"S3 delete in bucket {self.bucket!r} failed: {len(errors)} of {len(batch)} objects "
                    f"not deleted ({', '.join(codes)}); {deleted} deleted"
                )
        return deleted

    async def delete_prefix(self, prefix: str) -> int:
        folder = self._folder(prefix)
        return await self._call("delete", lambda: self._delete_all(folder))

    def _keys(self, folder: str) -> list[str]:
        skip = len(self.prefix) + 1 if self.prefix else 0
        keys = []
        for name in self._names(folder):
            key = name[skip:]
            # Objects this store did not write (e.g. a console's "folder/" marker) are not keys.
            try:
                check_key(key)
            except InvalidKey:
                continue
            keys.append(key)
        # S3 lists in UTF-8 byte order, which for these ASCII keys is str order; sorting anyway
        # keeps the promise on clones that do not.
        return sorted(keys)

    async def list_keys(self, prefix: str) -> list[str]:
        folder = self._folder(prefix)
        return await self._call("list", lambda: self._keys(folder))

    def close(self) -> None:
        """Close the client's pooled connections."""
        self._client.close()
