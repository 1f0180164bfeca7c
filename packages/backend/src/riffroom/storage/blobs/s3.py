"""Blob store on any S3-compatible service (AWS, MinIO, Ceph, moto): `s3://bucket/prefix`.

A PUT is atomic in S3 (readers see the old object, or all of the new one), so `put_file` needs
no temporary key. `local_path` downloads to a temporary file for the duration of the context.

    store = S3BlobStore.from_url("s3://riffroom/prod", endpoint_url="http://minio:9000")
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import urlparse

from riffroom.storage.blobs.base import check_key

_MULTIPART_THRESHOLD = 64 * 1024**2


class S3BlobStore:
    remote = True  # the blobs are not on this host's filesystem

    def __init__(self, bucket: str, prefix: str, client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> S3BlobStore:
        import boto3
        from botocore.config import Config

        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"expected s3://bucket/prefix, got {url!r}")
        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}, max_pool_connections=32),
        )
        return cls(parsed.netloc, parsed.path, client)

    def _key(self, key: str) -> str:
        key = check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_file(self, key: str, src: Path) -> None:
        self.upload(key, src)
        src.unlink(missing_ok=True)

    def upload(self, key: str, src: Path) -> None:
        """Copy `src` in under `key` (the local file stays)."""
        from boto3.s3.transfer import TransferConfig

        self.client.upload_file(
            str(src), self.bucket, self._key(key), Config=TransferConfig(multipart_threshold=_MULTIPART_THRESHOLD)
        )

    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return cast(dict[str, Any], self.client.head_object(Bucket=self.bucket, Key=self._key(key)))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise FileNotFoundError(f"blob {key!r} is missing")
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def open(self, key: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise FileNotFoundError(f"blob {key!r} is missing") from None
            raise
        return cast(BinaryIO, body)

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        tmp = Path(tempfile.mkdtemp(prefix="riffroom-blob-"))
        try:
            path = tmp / "blob"
            self.download(key, path)
            yield path
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def download(self, key: str, dst: Path) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.download_file(self.bucket, self._key(key), str(dst))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise FileNotFoundError(f"blob {key!r} is missing") from None
            raise
