"""The shared spine end to end with the test-only stub provider.

Flow (menu -> provider form -> entry) -> setup -> coordinator -> entities and statistics -> reauth,
reconfigure, options -> diagnostics -> unload, all through a real Home Assistant core.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.meterhub.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitError,
    ApiResponseError,
    jwt_expiry,
    retry_after_seconds,
)
from custom_components.meterhub.const import DOMAIN
from homeassistant import config_entries
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.recorder import get_instance

from .helpers import answer_reauth, device_page_client, start_flow, user_deletes_device
from .stub_provider import StubProvider

ENTITY = "sensor.stub_meter_energy"


async def add_entry(hass: HomeAssistant) -> config_entries.ConfigEntry:
    flow_id = (await start_flow(hass, "stub"))["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"api_key": "good-key", "meter": "meter1"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    return result["result"]


async def reconfigure(hass: HomeAssistant, entry: config_entries.ConfigEntry) -> dict[str, Any]:
    return await hass.config_entries.flow.async_init(  # type: ignore[return-value]
        DOMAIN,
        context={"source": config_entries.SOURCE_RECONFIGURE, "entry_id": entry.entry_id},
    )


async def test_menu_lists_built_in_providers_in_contract_order(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    contract = ["dsmr", "dsmr_reader", "octopus", "enedis", "caruna", "korto"]
    offered = [key for key in contract if key in result["menu_options"]]
    assert offered == [key for key in result["menu_options"] if key in contract]


async def test_flow_creates_entry_and_sets_everything_up(
    recorder_mock: object, hass: HomeAssistant, stub_provider: StubProvider
) -> None:
    stub_provider.server.hours = {datetime(2026, 3, 1, h, tzinfo=UTC): 0.5 for h in range(4)}
    entry = await add_entry(hass)
    assert entry.unique_id == "meter1"
    assert entry.title == "Stub meter1"
    assert entry.data == {"provider": "stub", "api_key": "good-key", "meter": "meter1"}
    assert entry.state is ConfigEntryState.LOADED

    state = hass.states.get(ENTITY)
    assert state is not None
    assert state.state == "100.0"
    assert state.attributes["unit_of_measurement"] == "kWh"
    entity = er.async_get(hass).async_get(ENTITY)
    assert entity is not None
    assert entity.unique_id == "stub_meter1_energy"
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, "stub_meter1"), entry.entry_id
    )
    assert device is not None
    assert device.name == "Stub meter"

    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime(2026, 3, 1, tzinfo=UTC),
        None,
        {"meterhub:stub_meter1_consumption"},
        "hour",
        None,
        {"sum"},
    )
    assert [r["sum"] for r in rows["meterhub:stub_meter1_consumption"]] == [0.5, 1.0, 1.5, 2.0]

    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(ENTITY).state == STATE_UNAVAILABLE


async def test_duplicate_is_aborted(hass: HomeAssistant, stub_provider: StubProvider) -> None:
    await add_entry(hass)
    flow_id = (await start_flow(hass, "stub"))["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"api_key": "good-key", "meter": "meter1"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_probe_fields_make_the_form_two_steps(
    hass: HomeAssistant, stub_provider: StubProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider with probe_fields: those first, the rest as ``<key>_details``; errors on each."""
    monkeypatch.setattr(stub_provider, "probe_fields", ("api_key",))
    form = await start_flow(hass, "stub")
    assert [str(key) for key in form["data_schema"].schema] == ["api_key"]
    result = await hass.config_entries.flow.async_configure(form["flow_id"], {"api_key": "k"})
    assert result["step_id"] == "stub_details"
    assert [str(key) for key in result["data_schema"].schema] == ["meter"]
    result = await hass.config_entries.flow.async_configure(form["flow_id"], {"meter": "no!"})
    assert result["step_id"] == "stub_details"
    assert result["errors"] == {"meter": "invalid_meter"}
    result = await hass.config_entries.flow.async_configure(form["flow_id"], {"meter": "meter1"})
    assert result["errors"] == {"base": "invalid_auth"}  # the first step's answer is kept
    stub_provider.server.keys.add("k")
    result = await hass.config_entries.flow.async_configure(form["flow_id"], {"meter": "meter1"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {"provider": "stub", "api_key": "k", "meter": "meter1"}


async def test_form_errors_then_recovery(hass: HomeAssistant, stub_provider: StubProvider) -> None:
    flow_id = (await start_flow(hass, "stub"))["flow_id"]
    cases = [
        ({"api_key": "wrong", "meter": "meter1"}, None, {"base": "invalid_auth"}),
        ({"api_key": "good-key", "meter": "bad meter!"}, None, {"meter": "invalid_meter"}),
        (
            {"api_key": "good-key", "meter": "m"},
            ApiConnectionError("x"),
            {"base": "cannot_connect"},
        ),
        (
            {"api_key": "good-key", "meter": "m"},
            ApiResponseError("x"),
            {"base": "unexpected_response"},
        ),
        ({"api_key": "good-key", "meter": "m"}, RuntimeError("boom"), {"base": "unknown"}),
    ]
    for data, failure, errors in cases:
        stub_provider.server.fail_with = failure  # type: ignore[assignment]
        result = await hass.config_entries.flow.async_configure(flow_id, data)
        assert result["type"] is FlowResultType.FORM, data
        assert result["errors"] == errors
    stub_provider.server.fail_with = None
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"api_key": "good-key", "meter": "meter1"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_source_down_makes_entities_unavailable_until_back(
    hass: HomeAssistant,
    stub_provider: StubProvider,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await add_entry(hass)
    server = stub_provider.server
    for failure in (ApiConnectionError("down"), ApiConnectionError("still down")):
        server.fail_with = failure
        freezer.tick(timedelta(minutes=6))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert hass.states.get(ENTITY).state == STATE_UNAVAILABLE
    server.fail_with = None
    server.reading = 101.5
    freezer.tick(timedelta(minutes=6))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(ENTITY).state == "101.5"
    text = caplog.text
    assert text.count("Error fetching stub data") == 1  # logged once when it went down
    assert text.count("Fetching stub data recovered") == 1


async def test_rate_limit_honours_retry_after(
    hass: HomeAssistant, stub_provider: StubProvider, freezer: FrozenDateTimeFactory
) -> None:
    entry = await add_entry(hass)
    coordinator = entry.runtime_data.coordinators[0]
    stub_provider.server.fail_with = ApiRateLimitError(retry_after=3600)
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    calls = stub_provider.server.calls
    stub_provider.server.fail_with = None
    freezer.tick(timedelta(minutes=30))  # past the normal interval, inside Retry-After
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert stub_provider.server.calls == calls
    freezer.tick(timedelta(minutes=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert stub_provider.server.calls == calls + 1


async def test_setup_not_ready_when_source_down(
    hass: HomeAssistant, stub_provider: StubProvider
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="meter1",
        data={"provider": "stub", "api_key": "good-key", "meter": "meter1"},
    )
    entry.add_to_hass(hass)
    stub_provider.server.fail_with = ApiConnectionError("down")
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


def stub_entry(hass: HomeAssistant) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="meter1",
        title="Stub meter1",
        data={"provider": "stub", "api_key": "good-key", "meter": "meter1"},
    )
    entry.add_to_hass(hass)
    return entry


@pytest.mark.parametrize(
    ("failure", "state", "reason_key"),
    [
        (ApiConnectionError("down"), ConfigEntryState.SETUP_RETRY, "cannot_connect"),
        (ApiResponseError("changed"), ConfigEntryState.SETUP_RETRY, "unexpected_response"),
        (ApiAuthError("rejected"), ConfigEntryState.SETUP_ERROR, "auth_failed"),
    ],
)
async def test_failed_start_is_cleaned_up_and_translated_once_by_the_spine(
    hass: HomeAssistant,
    stub_provider: StubProvider,
    failure: Exception,
    state: ConfigEntryState,
    reason_key: str,
) -> None:
    """A client error raised by the runtime's start itself (not by a coordinator) is translated,
    and the runtime is shut down before Home Assistant retries or asks for reauthentication."""
    entry = stub_entry(hass)
    stub_provider.server.fail_on_start = failure  # type: ignore[assignment]
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is state
    assert entry.error_reason_translation_key == reason_key
    assert stub_provider.server.shutdowns == 1
    reauth = [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"]["source"] == "reauth"
    ]
    assert bool(reauth) is isinstance(failure, ApiAuthError)


async def test_failed_first_refresh_shuts_the_runtime_down(
    hass: HomeAssistant, stub_provider: StubProvider
) -> None:
    entry = stub_entry(hass)
    stub_provider.server.fail_with = ApiConnectionError("down")
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert stub_provider.server.shutdowns == 1
    stub_provider.server.fail_with = None
    await hass.config_entries.async_reload(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)
    assert stub_provider.server.shutdowns == 2


def test_retry_after_and_jwt_expiry_read_what_clients_receive() -> None:
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds(" 2.5 ") == 2.5
    assert retry_after_seconds("-5") == 0
    for unreadable in (None, "", "soon", "inf", "nan", "Wed, 21 Oct 2026 07:28:00 GMT"):
        assert retry_after_seconds(unreadable) is None, unreadable
    token = "e30.eyJleHAiOjE5MjQ5OTIwMDB9.sig"  # {"exp": 1924992000}
    assert jwt_expiry(token) == datetime(2031, 1, 1, tzinfo=UTC)
    for opaque in ("", "abc", "a.b.c", "e30.eyJleHAiOnRydWV9.sig", "e30.WzFd.sig"):
        assert jwt_expiry(opaque) is None, opaque


async def test_unknown_provider_is_a_clear_setup_error(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={"provider": "gone"})
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert (
        entry.reason
        == "This entry was made for a source this version of Meter Hub does not know (gone). Update Meter Hub or remove the entry"
    )


async def test_rejected_key_starts_reauth_and_reauth_recovers(
    hass: HomeAssistant, stub_provider: StubProvider
) -> None:
    entry = await add_entry(hass)
    stub_provider.server.keys = {"new-key"}
    await entry.runtime_data.coordinators[0].async_refresh()
    await hass.async_block_till_done()
    await answer_reauth(hass, entry, "api_key", "still-wrong", "new-key")


async def test_reconfigure_keeps_the_same_meter(
    hass: HomeAssistant, stub_provider: StubProvider
) -> None:
    entry = await add_entry(hass)
    stub_provider.server.keys.add("other-key")
    result = await reconfigure(hass, entry)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": "good-key", "meter": "meter2"}
    )
    assert result["reason"] == "wrong_account"
    result = await reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": "other-key", "meter": "meter1"}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["api_key"] == "other-key"


async def test_options_validated_and_reload(
    hass: HomeAssistant, stub_provider: StubProvider
) -> None:
    entry = await add_entry(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"interval": 0})
    assert result["errors"] == {"interval": "interval_too_short"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"interval": 15})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {"interval": 15}
    assert entry.state is ConfigEntryState.LOADED


async def test_diagnostics_redact_secrets_and_identifiers(
    hass: HomeAssistant, stub_provider: StubProvider, hass_client: ClientSessionGenerator
) -> None:
    entry = await add_entry(hass)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = repr(diagnostics)
    for secret in ("good-key", "meter1", "SERIAL123"):
        assert secret not in text
    assert diagnostics["entry"]["data"]["api_key"] == "**REDACTED**"
    assert diagnostics["provider"]["calls"] >= 1
    assert diagnostics["coordinators"][0]["last_update_success"] is True


async def test_sensor_before_any_data_is_unknown_not_an_error(hass: HomeAssistant) -> None:
    """A push source (the P1 port) may add its entities before the first telegram arrives."""
    from custom_components.meterhub.const import LOGGER
    from custom_components.meterhub.entity import meter_device
    from custom_components.meterhub.sensor import MeterHubSensor
    from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

    from .stub_provider import STUB_SENSOR

    coordinator: DataUpdateCoordinator[float] = DataUpdateCoordinator(
        hass, LOGGER, config_entry=None, name="push"
    )
    sensor = MeterHubSensor(coordinator, meter_device("m", name="M"), STUB_SENSOR)
    assert sensor.unique_id == "m_energy"
    assert coordinator.data is None
    assert sensor.native_value is None  # unknown until the first data, no exception
    assert sensor.extra_state_attributes is None
    coordinator.async_set_updated_data(12.5)
    assert sensor.available is True
    assert sensor.native_value == 12.5


async def test_a_device_is_deletable_only_when_its_source_says_it_is_gone(
    hass: HomeAssistant, stub_provider: StubProvider, hass_ws_client: WebSocketGenerator
) -> None:
    """A runtime that cannot tell which meters exist keeps its devices; unloaded, nothing is known."""
    entry = await add_entry(hass)
    client = await device_page_client(hass, hass_ws_client)
    assert not await user_deletes_device(hass, client, entry, "stub_meter1")
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await user_deletes_device(hass, client, entry, "stub_meter1")
