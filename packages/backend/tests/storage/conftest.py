"""An S3 service for the blob and stem store tests: moto in server mode, a separate process."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from riffroom.config import Settings
from riffroom.storage.blobs import BlobStore, open_blob_store

from tests import services


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with services.s3_server(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture
def s3_store(moto_endpoint: str, tmp_path: Path) -> Callable[[], BlobStore]:
    """Opens blob stores on one fresh bucket, the way a server does: from its settings."""
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    services.create_bucket(moto_endpoint, bucket)
    settings = Settings(
        data_dir=tmp_path / "data",
        blob_url=f"s3://{bucket}/riffroom",
        s3_endpoint_url=moto_endpoint,
        s3_region="us-east-1",
        s3_access_key_id=services.S3_KEY,
        s3_secret_access_key=services.S3_SECRET,
    )
    return lambda: open_blob_store(settings.resolved_blob_url, settings)
