"""Which blob store the settings ask for: an S3-compatible bucket when one is named, else a directory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from viva.kit.storage import BlobStore, LocalDirectoryStore

if TYPE_CHECKING:
    from viva.kit.storage_s3 import AddressingStyle


class StorageSettings(Protocol):
    """The storage part of `viva.config.Settings`, named here so kit does not depend on config."""

    @property
    def storage_dir(self) -> str: ...
    @property
    def storage_s3_bucket(self) -> str | None: ...
    @property
    def storage_s3_prefix(self) -> str: ...
    @property
    def storage_s3_endpoint_url(self) -> str | None: ...
    @property
    def storage_s3_region(self) -> str: ...
    @property
    def storage_s3_access_key_id(self) -> str | None: ...
    @property
    def storage_s3_secret_access_key(self) -> str | None: ...
    @property
    def storage_s3_addressing_style(self) -> AddressingStyle: ...


def store_from_settings(settings: StorageSettings) -> BlobStore:
    """An `S3Store` when `storage_s3_bucket` is set (not blank), else a `LocalDirectoryStore`
    at `storage_dir`.

    Nothing is contacted or created here (no folder, no request), so building the store never
    blocks startup on the network; a missing bucket or bad credentials surface as a
    `StorageError` naming the bucket on first use. A malformed endpoint URL is a `StorageError`
    here already.
    """
    bucket = (settings.storage_s3_bucket or "").strip()
    if not bucket:
        return LocalDirectoryStore(settings.storage_dir)
    # Imported here so deployments on local storage never load boto3.
    from viva.kit.storage_s3 import S3Store

    return S3Store(
        bucket,
        prefix=settings.storage_s3_prefix,
        endpoint_url=(settings.storage_s3_endpoint_url or "").strip() or None,
        region=settings.storage_s3_region,
        access_key_id=settings.storage_s3_access_key_id or None,
        secret_access_key=settings.storage_s3_secret_access_key or None,
        addressing_style=settings.storage_s3_addressing_style,
    )
