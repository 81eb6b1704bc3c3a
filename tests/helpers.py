"""Helpers every provider's tests share: the flow as the UI drives it, statistics as the energy
dashboard reads them, and the public contract (ids and keys) an entry exposes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from pytest_homeassistant_custom_component.typing import MockHAClientWebSocket, WebSocketGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.diagnostics import async_get_config_entry_diagnostics
from custom_components.meterhub.providers import REGISTRY
from custom_components.meterhub.providers.base import Provider
from homeassistant import config_entries
from homeassistant.components.recorder.statistics import (
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.recorder import get_instance
from homeassistant.setup import async_setup_component

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


async def start_flow(hass: HomeAssistant, provider: str) -> dict[str, Any]:
    """Open the menu and pick ``provider``: the provider's form, as the UI shows it."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert provider in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": provider}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == provider
    return result  # type: ignore[return-value]


def provider_at[ProviderT: Provider[Any]](
    monkeypatch: pytest.MonkeyPatch, kind: type[ProviderT], attribute: str, url: str
) -> ProviderT:
    """The registered provider of class ``kind``, talking to a stand-in at ``url``: its
    ``attribute`` (the service's address) is set for one test."""
    provider = REGISTRY.get(kind.key)
    assert isinstance(provider, kind)
    monkeypatch.setattr(provider, attribute, url)
    return provider


def assert_aborted(result: Mapping[str, Any], reason: str) -> None:
    """The flow ended without an entry, for ``reason`` (``already_configured``, ...)."""
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


def only_reauth_flow(hass: HomeAssistant) -> str:
    """The id of the one flow in progress, which must be a reauthentication."""
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    return flows[0]["flow_id"]


async def answer_reauth(
    hass: HomeAssistant, entry: ConfigEntry[Any], field: str, wrong: str, right: str
) -> None:
    """Answer the one reauth flow as a user would: ``wrong`` is a form error on a form that asks
    for ``field`` only; ``right`` finishes the flow, is kept, and the entry loads again."""
    flow_id = only_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {field: wrong})
    assert result["errors"] == {"base": "invalid_auth"}
    assert list(result["data_schema"].schema) == [field]
    result = await hass.config_entries.flow.async_configure(flow_id, {field: right})
    assert_aborted(result, "reauth_successful")
    await hass.async_block_till_done()
    assert entry.data[field] == right
    assert entry.state is ConfigEntryState.LOADED


async def statistic_rows(
    hass: HomeAssistant,
    statistic_id: str,
    types: set[str],
    *,
    start: datetime = EPOCH,
    end: datetime | None = None,
    period: str = "hour",
) -> list[dict[str, Any]]:
    """Stored rows of one statistic, read the way the energy dashboard reads them."""
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, start, end, {statistic_id}, period, None, types
    )
    return list(rows.get(statistic_id, []))


async def changes(
    hass: HomeAssistant,
    statistic_id: str,
    start: datetime = EPOCH,
    end: datetime | None = None,
    period: str = "hour",
) -> dict[datetime, float]:
    """What the energy dashboard books: the change of the sum per period, by UTC period start."""
    rows = await statistic_rows(hass, statistic_id, {"change"}, start=start, end=end, period=period)
    return {
        datetime.fromtimestamp(row["start"], UTC): round(row["change"] or 0.0, 6) for row in rows
    }


async def statistic_ids(hass: HomeAssistant, provider: str) -> set[str]:
    """Every external statistic Meter Hub stored for ``provider``."""
    await async_wait_recording_done(hass)
    found = await get_instance(hass).async_add_executor_job(list_statistic_ids, hass)
    prefix = f"{DOMAIN}:{provider}_"
    return {row["statistic_id"] for row in found if row["statistic_id"].startswith(prefix)}


async def public_contract(
    hass: HomeAssistant, provider: str, entries: Iterable[ConfigEntry[Any]]
) -> dict[str, list[str]]:
    """What users and automations depend on: statistic ids, unique ids, entity ids, device ids and
    translation keys of the entries' entities (disabled ones included)."""
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    unique_ids: set[str] = set()
    entity_ids: set[str] = set()
    translation_keys: set[str] = set()
    device_ids: set[str] = set()
    for entry in entries:
        for entity in er.async_entries_for_config_entry(entities, entry.entry_id):
            unique_ids.add(entity.unique_id)
            entity_ids.add(entity.entity_id)
            if entity.translation_key:
                translation_keys.add(f"{entity.domain}.{entity.translation_key}")
        for device in dr.async_entries_for_config_entry(devices, entry.entry_id):
            device_ids.update(ident for domain, ident in device.identifiers if domain == DOMAIN)
    return {
        "statistic_ids": sorted(await statistic_ids(hass, provider)),
        "unique_ids": sorted(unique_ids),
        "entity_ids": sorted(entity_ids),
        "device_ids": sorted(device_ids),
        "translation_keys": sorted(translation_keys),
    }


async def unload_all(hass: HomeAssistant) -> None:
    """Unload every loaded entry while the recorder still exists (imports under way finish)."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def assert_matches_snapshot(
    hass: HomeAssistant,
    snapshot: SnapshotAssertion,
    entry: ConfigEntry[Any],
    *,
    volatile: Iterable[str] = (),
    placeholders: Mapping[str, str] | None = None,
) -> None:
    """Every entity of ``entry`` (registry entry and state, disabled ones included) and its
    diagnostics match the stored snapshots.

    ``volatile`` names diagnostics keys whose values depend on timing rather than on behaviour
    (counters of a real-time reader); the polling interval carries random jitter and is always
    left out. ``placeholders`` replaces text that differs between runs (a stand-in's free port)
    in every string. Diagnostics are read from the platform itself: time is frozen in these tests, and
    an access token for the HTTP view would not be valid yet.
    """
    # Home Assistant's serialiser: registry ids, timestamps and contexts become ANY.
    swaps = dict(placeholders or {})

    def stable(data: Any, path: Any) -> Any:
        if isinstance(data, str):
            for text, placeholder in swaps.items():
                data = data.replace(text, placeholder)
        return data

    snapshot = snapshot.use_extension(HomeAssistantSnapshotExtension).with_defaults(matcher=stable)
    registry = er.async_get(hass)
    entities = sorted(
        er.async_entries_for_config_entry(registry, entry.entry_id), key=lambda e: e.entity_id
    )
    assert entities
    for entity in entities:
        assert entity == snapshot(name=f"{entity.entity_id}-entry")
        assert hass.states.get(entity.entity_id) == snapshot(name=f"{entity.entity_id}-state")
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics == snapshot(name="diagnostics", exclude=props("update_interval", *volatile))


async def assert_remove_deletes_store(
    hass: HomeAssistant, hass_storage: dict[str, Any], entry: ConfigEntry[Any], key: str
) -> None:
    """Unloading keeps the entry's ``Store`` (``meterhub.<key>.<entry id>``); removing deletes it."""
    await hass.config_entries.async_unload(entry.entry_id)  # unload writes the store
    await hass.async_block_till_done(wait_background_tasks=True)
    store = f"{DOMAIN}.{key}.{entry.entry_id}"
    assert store in hass_storage
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert store not in hass_storage


async def user_deletes_device(
    hass: HomeAssistant, client: MockHAClientWebSocket, entry: ConfigEntry, identifier: str
) -> bool:
    """The user presses "Delete" on a device page; True when Home Assistant removed the device.

    ``client`` comes from ``hass_ws_client`` after the ``config`` component is set up.
    """
    found = dr.async_get(hass).async_get_devices(
        identifiers={(DOMAIN, identifier)}, config_entry_id=entry.entry_id
    )
    assert len(found) == 1, identifier
    device = found[0]
    await client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": entry.entry_id,
            "device_id": device.id,
        }
    )
    answer = await client.receive_json()
    await hass.async_block_till_done()
    removed = dr.async_get(hass).async_get(device.id) is None
    assert removed is bool(answer["success"])
    return removed


async def device_page_client(
    hass: HomeAssistant, ws_client: WebSocketGenerator
) -> MockHAClientWebSocket:
    """A websocket client as the device page uses it (the ``config`` component loaded)."""
    assert await async_setup_component(hass, "config", {})
    return await ws_client(hass)


def seed_legacy_device(
    hass: HomeAssistant, entry: ConfigEntry, identifier: str, name: str, sensors: Mapping[str, str]
) -> None:
    """A device and its sensors as an older version registered them (``sensors``: key -> name).

    Home Assistant makes the entity ids from the device's ``name`` and each sensor's name, as it
    did for the entries that version set up.
    """
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, identifier)}, name=name
    )
    for key, sensor_name in sensors.items():
        er.async_get(hass).async_get_or_create(
            "sensor",
            DOMAIN,
            f"{identifier}_{key}",
            config_entry=entry,
            device_id=device.id,
            has_entity_name=True,
            object_id_base=sensor_name,
            original_name=sensor_name,
            translation_key=key,
        )
