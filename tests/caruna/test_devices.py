"""Caruna metering points that vanish: removed only on a complete listing, history kept, and the
user may delete only a point Caruna no longer lists."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers.caruna import POINTS_INTERVAL, CarunaProvider
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from ..helpers import device_page_client, statistic_ids, user_deletes_device
from .standin import ASSET_1, ASSET_2, GSRN_1, GSRN_2, REPRESENTED, Portal
from .test_provider import NOW, add_entry, points
from .test_provider_2026 import fill_year

CONSUMPTION_2 = f"meterhub:caruna_{GSRN_2.lower()}_consumption"


def has_device(hass: HomeAssistant, gsrn: str) -> bool:
    return bool(dr.async_get(hass).async_get_devices(identifiers={(DOMAIN, f"caruna_{gsrn}")}))


async def next_listing(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(POINTS_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_a_partial_listing_removes_nothing_a_complete_one_does(
    hass: HomeAssistant,
    portal: Portal,
    provider: CarunaProvider,
    freezer: FrozenDateTimeFactory,
    hass_ws_client: WebSocketGenerator,
) -> None:
    # the client logs in before the clock is moved back to the stand-in's day
    client = await device_page_client(hass, hass_ws_client)
    freezer.move_to(NOW)
    fill_year(portal, ASSET_1)
    fill_year(portal, ASSET_2)
    entry = await add_entry(hass)
    runtime = entry.runtime_data
    await hass.async_block_till_done(wait_background_tasks=True)
    for coordinator in points(entry):
        await coordinator.async_refresh()
    assert CONSUMPTION_2 in await statistic_ids(hass, "caruna")
    assert not await user_deletes_device(hass, client, entry, f"caruna_{GSRN_2}")

    # The represented customer cannot be read this time: its point is not proven gone.
    portal.forbidden_customers = {REPRESENTED}
    listings = runtime.point_listings
    await next_listing(hass, freezer)
    assert runtime.point_listings == listings + 1
    assert has_device(hass, GSRN_2)
    assert [c.point.gsrn for c in points(entry)] == [GSRN_1, GSRN_2]

    # A complete listing without it: the device goes, its history stays.
    portal.forbidden_customers = set()
    portal.assets[REPRESENTED] = []
    await next_listing(hass, freezer)
    assert runtime.point_listings == listings + 2
    assert not has_device(hass, GSRN_2)
    assert has_device(hass, GSRN_1)
    assert CONSUMPTION_2 in await statistic_ids(hass, "caruna")
    assert not await user_deletes_device(hass, client, entry, f"caruna_{GSRN_1}")
