"""The backends the contract suite runs on, each giving a test its own empty database.

PostgreSQL: the server named by NEWSBOT_TEST_DATABASE_URL (default: the local one, user
postgres, trust auth). Each test gets a schema of its own (the URL's search_path), dropped
afterwards. When no server answers, PostgreSQL tests are skipped with the reason, except
under CI=true, where an unreachable server fails them: CI must exercise both backends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

BACKENDS = ["sqlite", "postgres"]
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class StoreUrls:
    backend: str
    url: str
    schema: str | None = None  # PostgreSQL: the test's own schema


def pg_server_url() -> str:
    return os.environ.get("NEWSBOT_TEST_DATABASE_URL") or DEFAULT_PG_URL


_unreachable: list[str | None] = []  # checked once per run: [] not yet, [None] reachable


async def pg_unreachable() -> str | None:
    """Why the test server cannot be used, or None when it answers."""
    if not _unreachable:
        try:
            conn = await asyncpg.connect(pg_server_url(), timeout=5)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            where = urlsplit(pg_server_url())  # host and port: the URL may hold a password
            _unreachable.append(
                f"PostgreSQL at {where.hostname}:{where.port or 5432} does not answer: {exc!r}"
            )
        else:
            await conn.close()
            _unreachable.append(None)
    return _unreachable[0]


async def require_pg() -> None:
    problem = await pg_unreachable()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem} (CI=true: PostgreSQL tests must run)")
    pytest.skip(problem)


def with_search_path(url: str, schema: str) -> str:
    """asyncpg passes unknown URL parameters to the server as settings."""
    return f"{url}{'&' if '?' in url else '?'}search_path={schema}"


@asynccontextmanager
async def pg_schema() -> AsyncIterator[StoreUrls]:
    await require_pg()
    schema = f"newsbot_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_server_url())
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        yield StoreUrls("postgres", with_search_path(pg_server_url(), schema), schema)
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


@asynccontextmanager
async def store_urls(backend: str, request: pytest.FixtureRequest) -> AsyncIterator[StoreUrls]:
    if backend == "sqlite":
        tmp: Path = request.getfixturevalue("tmp_path")
        yield StoreUrls("sqlite", f"sqlite:///{tmp / 'store.db'}")
        return
    async with pg_schema() as made:
        yield made
