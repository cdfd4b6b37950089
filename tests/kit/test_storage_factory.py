"""store_from_settings: a local directory unless a bucket is named; every S3 setting reaches the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fixtures.s3 import ACCESS_KEY_ID, SECRET_ACCESS_KEY, moto_s3_server, new_bucket, object_names
from viva.config import Settings
from viva.kit.storage import LocalDirectoryStore
from viva.kit.storage_factory import store_from_settings
from viva.kit.storage_s3 import S3Store


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3_server() as endpoint:
        yield endpoint


def settings(**values: Any) -> Settings:
    return Settings(**values)


def test_without_a_bucket_recordings_stay_in_the_storage_directory(tmp_path: Path) -> None:
    default = store_from_settings(settings())
    assert isinstance(default, LocalDirectoryStore) and default.root == Path("./var/storage")
    blank_bucket = store_from_settings(settings(storage_dir=str(tmp_path), storage_s3_bucket="  "))
    assert isinstance(blank_bucket, LocalDirectoryStore) and blank_bucket.root == tmp_path


async def test_a_bucket_means_s3_with_every_setting_applied(s3_endpoint: str) -> None:
    bucket = new_bucket(s3_endpoint)
    store = store_from_settings(
        settings(
            storage_dir="/nonexistent/never-used",
            storage_s3_bucket=bucket,
            storage_s3_prefix="viva",
            storage_s3_endpoint_url=s3_endpoint,
            storage_s3_region="eu-west-1",
            storage_s3_access_key_id=ACCESS_KEY_ID,
            storage_s3_secret_access_key=SECRET_ACCESS_KEY,
            storage_s3_addressing_style="path",
        )
    )
    assert isinstance(store, S3Store)
    await store.put("recordings/p-1/s-1.ogg", b"OggS")
    assert (await store.get("recordings/p-1/s-1.ogg")).data == b"OggS"
    assert object_names(s3_endpoint, bucket) == ["viva/recordings/p-1/s-1.ogg"]
    assert store._client.meta.region_name == "eu-west-1"
    assert store._client.meta.config.s3 == {"addressing_style": "path"}
    store.close()


def test_s3_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIVA_STORAGE_S3_BUCKET", "viva-recordings")
    monkeypatch.setenv("VIVA_STORAGE_S3_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    loaded = Settings()
    assert (loaded.storage_s3_bucket, loaded.storage_s3_addressing_style) == ("viva-recordings", "auto")
    assert SECRET_ACCESS_KEY not in repr(loaded)  # settings end up in logs and tracebacks
    store = store_from_settings(loaded)  # unset keys: boto's default chain, resolved on first use
    assert isinstance(store, S3Store) and store.bucket == "viva-recordings" and store.prefix == ""
    store.close()

    monkeypatch.setenv("VIVA_STORAGE_S3_ADDRESSING_STYLE", "sideways")
    with pytest.raises(ValidationError):
        Settings()
