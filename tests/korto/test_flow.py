"""The Korto config flow as the UI drives it, against the local GraphQL stand-in."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers import REGISTRY
from custom_components.meterhub.providers.base import FormError
from custom_components.meterhub.providers.korto import KortoProvider
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from ..helpers import assert_aborted, start_flow
from .conftest import korto_entry, setup_korto
from .standin import (
    APARTMENT_ID,
    GOOD_TOKEN,
    OTHER_TOKEN,
    KortoStandIn,
    load_fixture,
    make_jwt,
)


@pytest.fixture(autouse=True)
def provider_on_standin(request: pytest.FixtureRequest) -> None:
    """Every test but the real-URL one talks to the stand-in."""
    if "aioclient_mock" not in request.fixturenames:
        request.getfixturevalue("korto_provider")


async def open_form(hass: HomeAssistant) -> str:
    form = await start_flow(hass, "korto")
    assert set(form["data_schema"].schema) == {"token", "apartment_id"}
    return form["flow_id"]


async def submit(hass: HomeAssistant, flow_id: str, token: str, apartment: str) -> dict[str, Any]:
    return await hass.config_entries.flow.async_configure(  # type: ignore[return-value]
        flow_id, {"token": token, "apartment_id": apartment}
    )


async def test_flow_creates_entry_from_a_pasted_cookie(
    hass: HomeAssistant, korto: KortoStandIn
) -> None:
    flow_id = await open_form(hass)
    # Users copy the cookie as "auth_token=<JWT>" with stray spaces; the bare JWT is kept.
    result = await submit(hass, flow_id, f"  auth_token={GOOD_TOKEN}; ", f" {APARTMENT_ID} ")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == APARTMENT_ID
    assert entry.title == "Korto apartment"
    assert APARTMENT_ID not in entry.title
    assert entry.data == {"provider": "korto", "token": GOOD_TOKEN, "apartment_id": APARTMENT_ID}
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    # The validation sent the meters query with the token as a cookie and the id as a variable.
    first = korto.requests[0]
    assert first["operationName"] == "GetMetersData"
    assert first["variables"] == {"id": APARTMENT_ID}
    assert first["token"] == GOOD_TOKEN


async def test_form_errors_then_success(hass: HomeAssistant, korto: KortoStandIn) -> None:
    flow_id = await open_form(hass)
    cases = [
        # Rejected by the server (a GraphQL error in a 200 answer).
        ("not-a-valid-token", APARTMENT_ID, {"base": "invalid_auth"}),
        # Expired JWT: refused without asking the server.
        (make_jwt(exp=1_600_000_000), APARTMENT_ID, {"base": "invalid_auth"}),
        # A good token, an apartment it cannot see.
        (GOOD_TOKEN, "99999", {"apartment_id": "unknown_apartment"}),
        # Not an id at all: refused without a request.
        (GOOD_TOKEN, "pro.korto.ee/apartment 1", {"apartment_id": "unknown_apartment"}),
        ("   ", APARTMENT_ID, {"token": "invalid_auth"}),
    ]
    for token, apartment, errors in cases:
        result = await submit(hass, flow_id, token, apartment)
        assert result["type"] is FlowResultType.FORM, (token, apartment)
        assert result["errors"] == errors, (token, apartment)
    # Only the server-checked cases made a request: the expired JWT and the malformed id did not.
    assert [r["token"] == GOOD_TOKEN for r in korto.requests] == [False, True]

    korto.override = (502, "<html>Bad gateway</html>", {"Content-Type": "text/html"})
    result = await submit(hass, flow_id, GOOD_TOKEN, APARTMENT_ID)
    assert result["errors"] == {"base": "cannot_connect"}
    korto.override = (200, "<html>maintenance</html>", {"Content-Type": "text/html"})
    result = await submit(hass, flow_id, GOOD_TOKEN, APARTMENT_ID)
    assert result["errors"] == {"base": "unexpected_response"}
    korto.override = None

    result = await submit(hass, flow_id, GOOD_TOKEN, APARTMENT_ID)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_same_apartment_twice_is_aborted(hass: HomeAssistant, korto: KortoStandIn) -> None:
    await setup_korto(hass)
    flow_id = await open_form(hass)
    assert_aborted(await submit(hass, flow_id, GOOD_TOKEN, APARTMENT_ID), "already_configured")


async def test_second_apartment_gets_a_numbered_title(
    hass: HomeAssistant, korto: KortoStandIn
) -> None:
    await setup_korto(hass)
    korto.apartments.add("777")
    flow_id = await open_form(hass)
    result = await submit(hass, flow_id, GOOD_TOKEN, "777")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Korto apartment 2"


async def test_expired_token_starts_reauth_and_a_new_token_resumes(
    hass: HomeAssistant, korto: KortoStandIn
) -> None:
    entry = await setup_korto(hass)
    meters = entry.runtime_data.meters
    # The token expires on the server side: the next poll is refused in a 200 answer.
    korto.tokens = {OTHER_TOKEN}
    await meters.async_refresh()
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    flow_id = flows[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert set(result["data_schema"].schema) == {"token"}

    result = await hass.config_entries.flow.async_configure(flow_id, {"token": GOOD_TOKEN})
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"token": f"auth_token={OTHER_TOKEN}"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data["token"] == OTHER_TOKEN
    assert entry.data["apartment_id"] == APARTMENT_ID
    assert entry.state is ConfigEntryState.LOADED
    assert korto.requests[-1]["token"] == OTHER_TOKEN


async def test_setup_with_rejected_token_asks_for_reauth(
    hass: HomeAssistant, korto: KortoStandIn
) -> None:
    entry = korto_entry(token=OTHER_TOKEN)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_options_set_the_poll_interval(
    hass: HomeAssistant, korto: KortoStandIn, korto_provider: KortoProvider
) -> None:
    entry = await setup_korto(hass)
    # Default: every 6 hours (with up to 10 % jitter).
    interval = entry.runtime_data.meters.update_interval
    assert 6 * 3600 <= interval.total_seconds() <= 6.6 * 3600

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "korto"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"update_interval_hours": 12}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {"update_interval_hours": 12}
    interval = entry.runtime_data.meters.update_interval
    assert 12 * 3600 <= interval.total_seconds() <= 13.2 * 3600
    assert entry.runtime_data.balance.update_interval.total_seconds() >= 12 * 3600

    with pytest.raises(FormError):
        korto_provider.validate_options({"update_interval_hours": 0})
    with pytest.raises(FormError):
        korto_provider.validate_options({"update_interval_hours": "often"})
    assert korto_provider.validate_options({"update_interval_hours": 3.0}) == {
        "update_interval_hours": 3
    }


async def test_reconfigure_keeps_to_the_same_apartment(
    hass: HomeAssistant, korto: KortoStandIn
) -> None:
    entry = await setup_korto(hass)
    korto.apartments.add("777")
    korto.tokens.add(OTHER_TOKEN)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"token": GOOD_TOKEN, "apartment_id": "777"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"token": OTHER_TOKEN, "apartment_id": APARTMENT_ID}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data["token"] == OTHER_TOKEN


async def test_real_endpoint_through_the_shared_session(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Without the stand-in: the provider posts to pro.korto.ee with HA's shared session."""
    aioclient_mock.post("https://pro.korto.ee/api/", json=load_fixture("meters.json"))
    provider = REGISTRY.get("korto")
    assert isinstance(provider, KortoProvider)
    validated = await provider.async_validate(
        hass, {"token": GOOD_TOKEN, "apartment_id": APARTMENT_ID}
    )
    assert validated.unique_id == APARTMENT_ID
    assert aioclient_mock.call_count == 1
    _method, url, body, headers = aioclient_mock.mock_calls[0]
    assert str(url) == "https://pro.korto.ee/api/"
    assert body["operationName"] == "GetMetersData"
    assert body["variables"] == {"id": APARTMENT_ID}
    assert headers["Cookie"] == f"auth_token={GOOD_TOKEN}"
