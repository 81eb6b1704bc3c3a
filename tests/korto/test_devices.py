"""Korto meters that appear or vanish: devices follow the apartment's list, history stays.

A meter device goes only when a complete answer no longer lists it: not on an error, not on an
answer with entries that could not be read, not on an empty list.
"""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.meterhub.const import DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from ..helpers import device_page_client, statistic_ids, user_deletes_device
from .conftest import setup_korto
from .standin import APARTMENT_ID, KortoStandIn

pytestmark = pytest.mark.usefixtures("korto_provider")

#: Past the six-hour poll and its jitter (up to a tenth longer).
POLL = timedelta(hours=7)
COLD = "meterhub:korto_101_consumption"


def device(hass: HomeAssistant, meter: str) -> dr.DeviceEntry | None:
    found = dr.async_get(hass).async_get_devices(
        identifiers={(DOMAIN, f"korto_{APARTMENT_ID}_{meter}")}
    )
    return found[0] if found else None


def reading_entity(hass: HomeAssistant, meter: str) -> str | None:
    return er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"korto_{APARTMENT_ID}_{meter}_reading"
    )


async def next_poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(POLL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


NEW_METER = {
    "id": "108",
    "type": "Külm vesi",
    "description": "Vannituba",
    "unit": "m3",
    "precision": 3,
    "reading": "1,5",
    "reading_date": "02.11.2026",
    "reading_origin": "remote",
    "consumption": "0,5",
}


async def test_a_new_meter_appears_at_the_next_poll_and_a_vanished_one_goes(
    recorder_mock: object, hass: HomeAssistant, korto: KortoStandIn, freezer: FrozenDateTimeFactory
) -> None:
    await setup_korto(hass)
    assert COLD in await statistic_ids(hass, "korto")
    assert device(hass, "108") is None

    korto.meters.append(dict(NEW_METER))
    requests = len(korto.requests)
    await next_poll(hass, freezer)
    assert len(korto.requests) > requests, korto.operations()
    assert device(hass, "108") is not None
    entity_id = reading_entity(hass, "108")
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == "1.5"

    cold_entity = reading_entity(hass, "101")
    korto.meters = [meter for meter in korto.meters if meter["id"] != "101"]
    await next_poll(hass, freezer)
    assert device(hass, "101") is None
    assert reading_entity(hass, "101") is None
    assert cold_entity is not None
    assert hass.states.get(cold_entity) is None
    assert device(hass, "102") is not None
    # the meter's history stays for the energy dashboard
    assert COLD in await statistic_ids(hass, "korto")

    # the meter comes back (listed again): its device and sensors return
    korto.meters.append(
        {**NEW_METER, "id": "101", "description": "Köök", "reading": "124,0"},
    )
    await next_poll(hass, freezer)
    assert device(hass, "101") is not None
    assert reading_entity(hass, "101") == cold_entity


async def test_errors_partial_and_empty_answers_remove_nothing(
    hass: HomeAssistant, korto: KortoStandIn, freezer: FrozenDateTimeFactory
) -> None:
    await setup_korto(hass)
    everything = list(korto.meters)

    korto.override = (500, "Internal Server Error", {})
    await next_poll(hass, freezer)
    assert device(hass, "101") is not None
    korto.override = None

    # an entry without an id: the list is partial, 101's absence proves nothing
    korto.meters = [
        {**meter, "id": None} if meter["id"] == "101" else meter for meter in everything
    ]
    await next_poll(hass, freezer)
    assert device(hass, "101") is not None
    assert reading_entity(hass, "101") is not None

    # no meters at all for an apartment that had seven: more likely a hiccup than a removal
    korto.meters = []
    await next_poll(hass, freezer)
    assert all(device(hass, meter) is not None for meter in ("101", "102", "107"))


async def test_the_user_may_delete_only_a_meter_korto_no_longer_lists(
    hass: HomeAssistant,
    korto: KortoStandIn,
    freezer: FrozenDateTimeFactory,
    hass_ws_client: WebSocketGenerator,
) -> None:
    entry = await setup_korto(hass)
    client = await device_page_client(hass, hass_ws_client)
    assert not await user_deletes_device(hass, client, entry, f"korto_{APARTMENT_ID}_101")
    assert not await user_deletes_device(hass, client, entry, f"korto_{APARTMENT_ID}")

    # Korto stops listing every meter (an empty list removes nothing by itself): now they may go.
    korto.meters = []
    await next_poll(hass, freezer)
    assert await user_deletes_device(hass, client, entry, f"korto_{APARTMENT_ID}_101")
    assert reading_entity(hass, "101") is None
    assert device(hass, "102") is not None
    assert not await user_deletes_device(hass, client, entry, f"korto_{APARTMENT_ID}")
