"""The Octopus step of the config flow, as the UI drives it, against the local stand-in."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.meterhub.const import DOMAIN
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from ..helpers import only_reauth_flow
from .conftest import fill_standard, setup_entry
from .standin import ACCOUNT, GOOD_KEY, Failure, FakeOctopus

pytestmark = pytest.mark.usefixtures("london")


async def start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert "octopus" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "octopus"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "octopus"
    assert list(result["data_schema"].schema) == ["api_key", "account_number"]
    return result["flow_id"]


async def test_flow_creates_entry(hass: HomeAssistant, octopus: FakeOctopus) -> None:
    fill_standard(octopus)
    flow_id = await start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"api_key": f" {GOOD_KEY} ", "account_number": ACCOUNT.lower()}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == ACCOUNT
    assert entry.data == {"provider": "octopus", "api_key": GOOD_KEY, "account_number": ACCOUNT}
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED

    # the same account again is refused
    flow_id = await start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"api_key": GOOD_KEY, "account_number": ACCOUNT}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("data", "failure", "errors"),
    [
        ({"api_key": "sk_live_wrong", "account_number": ACCOUNT}, None, {"base": "invalid_auth"}),
        ({"api_key": GOOD_KEY, "account_number": "A-0000FFFF"}, None, {"base": "invalid_account"}),
        (
            {"api_key": GOOD_KEY, "account_number": "12345"},
            None,
            {"account_number": "invalid_account"},
        ),
        ({"api_key": GOOD_KEY, "account_number": ACCOUNT}, 403, {"base": "invalid_auth"}),
        ({"api_key": GOOD_KEY, "account_number": ACCOUNT}, 503, {"base": "cannot_connect"}),
        ({"api_key": GOOD_KEY, "account_number": ACCOUNT}, 0, {"base": "cannot_connect"}),
        ({"api_key": GOOD_KEY, "account_number": ACCOUNT}, 429, {"base": "rate_limited"}),
        ({"api_key": GOOD_KEY, "account_number": ACCOUNT}, 200, {"base": "unexpected_response"}),
    ],
)
async def test_form_errors_then_recovery(
    hass: HomeAssistant,
    octopus: FakeOctopus,
    data: dict[str, Any],
    failure: int | None,
    errors: dict[str, str],
) -> None:
    fill_standard(octopus)
    if failure is not None:
        # aiohttp retries a request once on a dropped keep-alive connection
        octopus.failures.append(Failure("/accounts/", failure, times=3 if failure == 0 else 1))
    flow_id = await start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, data)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"api_key": GOOD_KEY, "account_number": ACCOUNT}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_rotated_key_starts_reauth(hass: HomeAssistant, octopus: FakeOctopus) -> None:
    fill_standard(octopus)
    entry = await setup_entry(hass)
    octopus.keys = {"sk_live_new"}
    await entry.runtime_data.account.async_refresh()
    await hass.async_block_till_done()
    flow_id = only_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {"api_key": "sk_live_old"})
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(flow_id, {"api_key": "sk_live_new"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.data["api_key"] == "sk_live_new"
    assert entry.state is ConfigEntryState.LOADED


async def test_options(hass: HomeAssistant, octopus: FakeOctopus) -> None:
    fill_standard(octopus)
    entry = await setup_entry(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    # the gas unit is each meter's own (GraphQL consumptionUnits): the form no longer asks
    assert "gas_reports_kwh" not in result["data_schema"].schema
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"backfill_days": 30, "gas_to_kwh": True, "calorific_value": 39.0},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options["gas_to_kwh"] is True
    assert entry.state is ConfigEntryState.LOADED
