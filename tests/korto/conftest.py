"""Fixtures for the Korto tests: the local GraphQL stand-in and a provider pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers.korto import KortoProvider
from homeassistant.core import HomeAssistant

from ..helpers import provider_at
from .standin import APARTMENT_ID, GOOD_TOKEN, KortoStandIn, base_url, start_standin


@pytest.fixture
async def korto(socket_enabled: None) -> AsyncIterator[KortoStandIn]:
    """The stand-in server, running for one test on 127.0.0.1 (sockets allowed for it)."""
    standin = KortoStandIn()
    server = await start_standin(standin)
    standin.url = base_url(server)
    yield standin
    await server.close()


@pytest.fixture
def korto_provider(korto: KortoStandIn, monkeypatch: pytest.MonkeyPatch) -> KortoProvider:
    """The registered Korto provider, talking to the stand-in instead of pro.korto.ee."""
    return provider_at(monkeypatch, KortoProvider, "base_url", korto.url)


def korto_entry(token: str = GOOD_TOKEN, **options: int) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Korto apartment",
        unique_id=APARTMENT_ID,
        data={"provider": "korto", "token": token, "apartment_id": APARTMENT_ID},
        options=options,
    )


async def setup_korto(hass: HomeAssistant, entry: MockConfigEntry | None = None) -> MockConfigEntry:
    entry = entry or korto_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry
