"""The hidden ``base_url`` entry key: a cloud provider's client talks to the address it names.

Not a form field (documented as an advanced option for a proxy or a local copy of an API, and used
by ``scripts/develop``'s demo). The provider's own default address points nowhere here, so an entry
that loads and reads data can only have used the address in its entry data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
import re

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers import octopus as octopus_provider
from custom_components.meterhub.providers.caruna import CarunaProvider
from custom_components.meterhub.providers.korto import KortoProvider
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData

from .caruna.standin import (
    OWN as CARUNA_CUSTOMER,
    PASSWORD as CARUNA_PASSWORD,
    USERNAME as CARUNA_USER,
    running_portal,
)
from .enedis.conftest import advance
from .enedis.standin import PRM as ENEDIS_PRM, TOKEN as ENEDIS_TOKEN, FakeGateway
from .helpers import provider_at, start_flow
from .korto.standin import APARTMENT_ID, GOOD_TOKEN, KortoStandIn, base_url, start_standin
from .octopus.conftest import fill_standard
from .octopus.standin import (
    ACCOUNT as OCTOPUS_ACCOUNT,
    GOOD_KEY as OCTOPUS_KEY,
    FakeOctopus,
    start_standin as start_octopus,
)

NOWHERE = "http://127.0.0.1:9/api/"


@pytest.fixture
async def proxy(socket_enabled: None) -> AsyncIterator[KortoStandIn]:
    """Korto's API at a local address, standing in for a proxy the user runs."""
    standin = KortoStandIn()
    server = await start_standin(standin)
    standin.url = base_url(server)
    yield standin
    await server.close()


@pytest.fixture(autouse=True)
def service_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Korto's default address is a closed port: only ``base_url`` can reach the data."""
    provider_at(monkeypatch, KortoProvider, "base_url", NOWHERE)


async def test_an_entry_with_base_url_talks_to_that_url(
    hass: HomeAssistant, proxy: KortoStandIn, hass_client: ClientSessionGenerator
) -> None:
    form = await start_flow(hass, "korto")
    assert "base_url" not in {str(key) for key in form["data_schema"].schema}
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"],
        {"token": GOOD_TOKEN, "apartment_id": APARTMENT_ID, "base_url": proxy.url},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.data["base_url"] == proxy.url
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    # One read proves the form; the loaded entry's runtime polls the same address after it.
    assert len(proxy.requests) > 1
    meters = hass.states.async_all("sensor")
    assert meters
    assert any(state.state not in ("unknown", "unavailable") for state in meters)
    # A proxy's address may carry credentials: diagnostics leave it out.
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert proxy.url not in repr(diagnostics)


async def test_without_base_url_the_default_address_is_used(
    hass: HomeAssistant, proxy: KortoStandIn
) -> None:
    form = await start_flow(hass, "korto")
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {"token": GOOD_TOKEN, "apartment_id": APARTMENT_ID}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    assert proxy.requests == []


@pytest.mark.parametrize("address", ["ftp://127.0.0.1/api/", "not an address"])
async def test_a_base_url_that_is_no_web_address_is_refused(
    hass: HomeAssistant, proxy: KortoStandIn, address: str
) -> None:
    form = await start_flow(hass, "korto")
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {"token": GOOD_TOKEN, "apartment_id": APARTMENT_ID, "base_url": address}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    assert proxy.requests == []


async def test_a_local_source_ignores_base_url(hass: HomeAssistant) -> None:
    """DSMR-reader has its address in the form; a stray ``base_url`` never reaches its data."""
    form = await start_flow(hass, "dsmr_reader")
    with pytest.raises(InvalidData, match="base_url"):
        await hass.config_entries.flow.async_configure(
            form["flow_id"], {"url": "http://127.0.0.1:9", "api_key": "k", "base_url": NOWHERE}
        )


async def _load(hass: HomeAssistant, provider: str, unique_id: str, data: dict[str, str]) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, title=provider, unique_id=unique_id, data={"provider": provider, **data}
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED


async def test_an_octopus_entry_with_base_url_talks_to_that_url(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, socket_enabled: None
) -> None:
    fake = FakeOctopus()
    fill_standard(fake)
    runner = await start_octopus(fake)
    monkeypatch.setattr(octopus_provider, "API_BASE_URL", NOWHERE)
    try:
        await _load(
            hass,
            "octopus",
            OCTOPUS_ACCOUNT,
            {"api_key": OCTOPUS_KEY, "account_number": OCTOPUS_ACCOUNT, "base_url": fake.base_url},
        )
        assert fake.count(f"/accounts/{OCTOPUS_ACCOUNT}/") >= 1 or fake.count("graphql") >= 1
    finally:
        await runner.cleanup()


async def test_a_caruna_entry_with_base_url_talks_to_that_url(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, socket_enabled: None
) -> None:
    provider_at(monkeypatch, CarunaProvider, "plus_url", NOWHERE)
    async with running_portal() as portal:
        await _load(
            hass,
            "caruna",
            CARUNA_CUSTOMER,
            {"username": CARUNA_USER, "password": CARUNA_PASSWORD, "base_url": portal.plus_url},
        )
        assert portal.calls["energy"] >= 1


async def test_an_enedis_entry_with_base_url_talks_to_that_url(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, freezer: FrozenDateTimeFactory
) -> None:
    """The gateway answers only at the proxy's address here, not at conso.boris.sh."""
    await hass.config.async_set_time_zone("Europe/Paris")
    freezer.move_to(datetime(2026, 6, 10, 7, 0, tzinfo=UTC))
    gateway = FakeGateway(aioclient_mock, curve_from=date(2026, 6, 3))
    aioclient_mock.get(re.compile(r"^https://proxy\.example/api/"), side_effect=gateway.handle)
    await _load(
        hass,
        "enedis",
        ENEDIS_PRM,
        {"token": ENEDIS_TOKEN, "prm": ENEDIS_PRM, "base_url": "https://proxy.example/api"},
    )
    await advance(hass, freezer, timedelta(hours=1))
    assert gateway.requests
    assert all(
        str(call[1]).startswith("https://proxy.example/api/") for call in aioclient_mock.mock_calls
    )
