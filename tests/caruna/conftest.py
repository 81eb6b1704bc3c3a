"""Fixtures for the Caruna tests: the local portal stand-in and the provider pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from custom_components.meterhub.providers.caruna import CarunaProvider

from ..helpers import provider_at
from .standin import Portal, start_standin


@pytest.fixture
async def portal(socket_enabled: None) -> AsyncIterator[Portal]:
    """Caruna Plus and its login portal on 127.0.0.1 (listening needs sockets enabled)."""
    standin = Portal()
    runners = await start_standin(standin)
    yield standin
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def sessions() -> AsyncIterator[tuple[aiohttp.ClientSession, aiohttp.ClientSession]]:
    """An API session and a private login session, as the provider builds them."""
    async with (
        aiohttp.ClientSession() as api,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as login,
    ):
        yield api, login


@pytest.fixture
def provider(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> CarunaProvider:
    """The registered Caruna provider, talking to the stand-in."""
    return provider_at(monkeypatch, CarunaProvider, "plus_url", portal.plus_url)
