"""The hidden ``base_url`` entry key: a cloud provider's client talks to the address it names.

Not a form field (documented as an advanced option for a proxy or a local copy of an API, and used
by ``scripts/develop``'s demo). The provider's own default address points nowhere here, so an entry
that loads and reads data can only have used the address in its entry data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from custom_components.meterhub.providers.korto import KortoProvider
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData

from .helpers import provider_at, start_flow
from .korto.standin import APARTMENT_ID, GOOD_TOKEN, KortoStandIn, base_url, start_standin

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
    hass: HomeAssistant, proxy: KortoStandIn
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
