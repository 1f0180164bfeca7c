"""Session-wide real services for the scale-out tests: redis-server, PostgreSQL, moto (S3)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import services


@pytest.fixture(scope="session", autouse=True)
def _require_services() -> None:
    missing = services.services_missing()
    if missing and os.environ.get("CI"):  # `make test` installs them: in CI a skip would hide a broken setup
        pytest.fail(f"scale-out services missing in CI: {missing}")
    if missing:
        pytest.skip(missing)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with services.redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with services.postgres_server(tmp_path_factory.mktemp("postgres")) as url:
        yield url


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> str:
    """A fresh empty database per test."""
    return services.create_database(postgres_admin_url, f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with services.s3_server(tmp_path_factory.mktemp("s3")) as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    name = f"b-{uuid.uuid4().hex[:12]}"
    services.create_bucket(s3_endpoint, name)
    return name


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return tmp_path
