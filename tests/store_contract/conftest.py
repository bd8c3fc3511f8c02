"""`store`: an opened Store per backend, each test on its own empty database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.ports import Store
from bot.store import open_store
from tests.store_contract.backends import BACKENDS, StoreUrls, store_urls


@pytest.fixture(params=BACKENDS)
async def urls(request: pytest.FixtureRequest) -> AsyncIterator[StoreUrls]:
    """A fresh, empty database of the backend under test (its URL)."""
    async with store_urls(request.param, request) as made:
        yield made


@pytest.fixture
async def store(urls: StoreUrls) -> AsyncIterator[Store]:
    opened = await open_store(urls.url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def other(urls: StoreUrls, store: Store) -> AsyncIterator[Store]:
    """A second store on the same database (another process's connection), opened after
    `store` so the migrations are there already."""
    opened = await open_store(urls.url)
    try:
        yield opened
    finally:
        await opened.close()
