"""The Enedis steps of the config flow as the UI drives them, reauth, and diagnostics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.diagnostics import async_get_config_entry_diagnostics
from custom_components.meterhub.providers.enedis.coordinator import BUDGET
from custom_components.meterhub.providers.enedis.planner import BUDGET_PER_12H
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er

from ..helpers import only_reauth_flow, start_flow
from .conftest import add_entry, advance
from .standin import PRM, TOKEN, FakeGateway

NOW = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)


async def open_form(hass: HomeAssistant) -> str:
    result = await start_flow(hass, "enedis")
    assert result["description_placeholders"] == {"gateway_url": "https://conso.boris.sh"}
    return result["flow_id"]


async def test_form_validates_prm_locally_then_creates_the_entry(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    flow_id = await open_form(hass)
    for bad in ("1234", "1234567890123x", "123456789012345"):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"token": TOKEN, "prm": bad}
        )
        assert result["errors"] == {"prm": "invalid_prm"}
    assert gateway.requests == []  # checked locally, nothing sent

    result = await hass.config_entries.flow.async_configure(
        flow_id, {"token": f" {TOKEN} ", "prm": "123 456 789 012 34"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == PRM
    assert entry.title == "Linky …1234"
    assert entry.data == {"provider": "enedis", "token": TOKEN, "prm": PRM}
    request = gateway.requests[0]
    assert request.kind == "courbe_de_charge_consommation"
    assert (request.start, request.end) == (date(2026, 6, 3), date(2026, 6, 10))
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"enedis_{PRM}"), entry.entry_id
    )
    assert device is not None
    assert (device.manufacturer, device.model) == ("Enedis", "Linky")

    # The same meter again is refused.
    flow_id = await open_form(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {"token": TOKEN, "prm": PRM})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        (lambda g: g.tokens.clear(), "invalid_auth"),
        (lambda g: setattr(g, "curve_from", date(2030, 1, 1)), "no_data"),
        (lambda g: setattr(g, "answer_for_prm", "99999999999999"), "wrong_prm"),
        (
            lambda g: g.fail.update({"courbe_de_charge_consommation": (500, "technical_error")}),
            "cannot_connect",
        ),
        (
            lambda g: g.fail.update({"courbe_de_charge_consommation": (429, "too many requests")}),
            "rate_limited",
        ),
    ],
)
async def test_form_errors_then_recovery(
    hass: HomeAssistant,
    gateway: FakeGateway,
    freezer: FrozenDateTimeFactory,
    setup: object,
    error: str,
) -> None:
    freezer.move_to(NOW)
    flow_id = await open_form(hass)
    setup(gateway)  # type: ignore[operator]
    result = await hass.config_entries.flow.async_configure(flow_id, {"token": TOKEN, "prm": PRM})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    fresh = FakeGateway(gateway.mocker)
    gateway.mocker.clear_requests()
    fresh.install()
    result = await hass.config_entries.flow.async_configure(flow_id, {"token": TOKEN, "prm": PRM})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_reauth_asks_for_the_token_only(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    gateway.curve_from = date(2026, 6, 3)
    entry = await add_entry(hass)
    gateway.tokens = {"renewed-token"}
    await advance(hass, freezer, timedelta(minutes=5))
    flow_id = only_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {"token": "still-old"})
    assert result["errors"] == {"base": "invalid_auth"}
    assert list(result["data_schema"].schema) == ["token"]
    result = await hass.config_entries.flow.async_configure(flow_id, {"token": "renewed-token"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data["token"] == "renewed-token"
    assert entry.state is ConfigEntryState.LOADED


async def test_diagnostics_hide_token_and_prm(
    hass: HomeAssistant,
    gateway: FakeGateway,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    freezer.move_to(NOW)
    gateway.curve_from = date(2026, 6, 3)
    gateway.fail = {"consommation_quotidienne": (500, "technical_error")}
    entry = await add_entry(hass)
    await advance(hass, freezer, timedelta(minutes=5))
    gateway.fail = {
        "puissance_conso_max_quotidienne": (500, "technical_error")
    }  # only the sensor misses it: the step goes on
    await advance(hass, freezer, timedelta(hours=1, minutes=35))
    # Called directly: the HTTP view's access token does not accept a frozen clock in 2026-06.
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    text = str(diagnostics)
    assert TOKEN not in text
    assert PRM not in text
    assert diagnostics["entry"]["data"]["prm"] == "**REDACTED**"
    provider = diagnostics["provider"]
    assert provider["days_with_load_curve"] == 7
    assert provider["requests_last_12h_this_entry"] == 4  # a failed one, then 3
    ours = [
        record.getMessage() + str(record.exc_info)
        for record in caplog.records
        if record.name.startswith(("custom_components.meterhub", "homeassistant.config_entries"))
    ]
    assert ours  # the failed step was logged...
    assert not [line for line in ours if PRM in line or TOKEN in line]  # ...without identifiers


async def test_form_refuses_to_send_past_the_budget(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    flow_id = await open_form(hass)
    for _ in range(3):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"token": "wrong", "prm": PRM}
        )
        assert result["errors"] == {"base": "invalid_auth"}
    hass.data[BUDGET].record(NOW, BUDGET_PER_12H - 3)
    result = await hass.config_entries.flow.async_configure(flow_id, {"token": TOKEN, "prm": PRM})
    assert result["errors"] == {"base": "rate_limited"}
    assert len(gateway.requests) == 3


async def test_form_shows_what_enedis_said_without_the_prm(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    flow_id = await open_form(hass)
    description = "Le point {prm} n'est pas ouvert aux services de mesure"
    gateway.fail = {"courbe_de_charge_consommation": (400, description)}
    result = await hass.config_entries.flow.async_configure(flow_id, {"token": TOKEN, "prm": PRM})
    assert result["errors"] == {"base": "request_refused"}
    assert result["description_placeholders"] == {
        "gateway_url": "https://conso.boris.sh",
        "gateway_error": "Le point <prm> n'est pas ouvert aux services de mesure",
    }
    assert PRM not in str(result)
    assert TOKEN not in str(result)


async def test_meter_activated_this_week_is_accepted(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory
) -> None:
    """The week asked for starts before the activation: Enedis knows the meter, so it is fine."""
    freezer.move_to(NOW)
    gateway.activation = date(2026, 6, 7)
    flow_id = await open_form(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {"token": TOKEN, "prm": PRM})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    await advance(hass, freezer, timedelta(hours=6), step=timedelta(minutes=30))
    plan = entry.runtime_data.coordinator.plan
    assert plan.history_start == date(2026, 6, 7)
    yesterday = hass.states.get(
        er.async_get(hass).async_get_entity_id(
            "sensor", DOMAIN, f"enedis_{PRM}_yesterday_consumption"
        )
    )
    assert yesterday is not None
    assert yesterday.state == "24.0"
