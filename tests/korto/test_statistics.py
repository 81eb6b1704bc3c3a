"""Monthly readings become consumption in the right month, as the energy dashboard reads it.

Real recorder, real Store, the stand-in serving readings that change between polls like Korto's do
(about once a month). Every check reads the ``change`` per month the dashboard derives from the
stored sums, in Home Assistant's time zone set to Tallinn.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.meterhub.providers.korto.history import consumption_by_date
from homeassistant.components.recorder.statistics import (
    get_metadata,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance

from .conftest import korto_entry, setup_korto
from .standin import KortoStandIn

pytestmark = pytest.mark.usefixtures("korto_provider")

TALLINN = ZoneInfo("Europe/Tallinn")
COLD = "meterhub:korto_101_consumption"


def month(year: int, number: int) -> datetime:
    return datetime(year, number, 1, tzinfo=TALLINN).astimezone(UTC)


async def monthly(hass: HomeAssistant, statistic_id: str = COLD) -> dict[str, float]:
    """The dashboard's view: consumption per local month, keyed "YYYY-MM"."""
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        month(2026, 1),
        month(2027, 6),
        {statistic_id},
        "month",
        None,
        {"change"},
    )
    return {
        datetime.fromtimestamp(row["start"], TALLINN).strftime("%Y-%m"): round(
            row["change"] or 0.0, 6
        )
        for row in rows.get(statistic_id, [])
    }


async def hourly(hass: HomeAssistant, statistic_id: str = COLD) -> dict[datetime, tuple[Any, Any]]:
    """Stored rows (hour -> (sum, state)) to see where each reading was booked."""
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        month(2026, 1),
        None,
        {statistic_id},
        "hour",
        None,
        {"sum", "state"},
    )
    return {
        datetime.fromtimestamp(row["start"], UTC): (round(row["sum"] or 0, 6), row["state"])
        for row in rows.get(statistic_id, [])
    }


async def poll(hass: HomeAssistant) -> None:
    entry = hass.config_entries.async_entries("meterhub")[0]
    await entry.runtime_data.meters.async_refresh()
    await hass.async_block_till_done()


@pytest.fixture(autouse=True)
async def tallinn(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Home Assistant in Tallinn, in January 2027: every reading below is in the past."""
    freezer.move_to("2027-01-15 12:00:00+00:00")
    await hass.config.async_set_time_zone("Europe/Tallinn")


async def test_each_reading_lands_in_its_month(hass: HomeAssistant, korto: KortoStandIn) -> None:
    korto.set_reading("101", "100,0", "25.09.2026")
    await setup_korto(hass)
    # The first reading only sets the baseline, at local midnight of its date.
    assert await hourly(hass) == {datetime(2026, 9, 24, 21, tzinfo=UTC): (0.0, 100.0)}

    korto.set_reading("101", "110,5", "25.10.2026")  # midnight still summer time (+03:00)
    await poll(hass)
    korto.set_reading("101", 118, "24.11.2026")  # winter time (+02:00)
    await poll(hass)
    assert await monthly(hass) == {"2026-09": 0.0, "2026-10": 10.5, "2026-11": 7.5}
    stored = await hourly(hass)
    assert stored[datetime(2026, 10, 24, 21, tzinfo=UTC)] == (10.5, 110.5)
    assert stored[datetime(2026, 11, 23, 22, tzinfo=UTC)] == (18.0, 118.0)

    # Polling again with nothing new changes nothing: nothing counted twice.
    await poll(hass)
    await poll(hass)
    assert await hourly(hass) == stored

    # The meter is replaced: the new one starts from zero. December is +3, never negative.
    korto.set_reading("101", "3,0", "02.12.2026")
    await poll(hass)
    assert await monthly(hass) == {
        "2026-09": 0.0,
        "2026-10": 10.5,
        "2026-11": 7.5,
        "2026-12": 3.0,
    }

    metadata = await get_instance(hass).async_add_executor_job(
        lambda: get_metadata(hass, statistic_ids={COLD, "meterhub:korto_105_consumption"})
    )
    assert metadata[COLD][1]["unit_of_measurement"] == "m³"
    assert metadata[COLD][1]["unit_class"] == "volume"
    assert metadata[COLD][1]["name"] == "Korto Külm vesi (Köök)"
    heat = metadata["meterhub:korto_105_consumption"][1]
    assert (heat["unit_of_measurement"], heat["unit_class"]) == ("MWh", "energy")


async def test_a_corrected_reading_moves_the_months_around_it(
    hass: HomeAssistant, korto: KortoStandIn
) -> None:
    korto.set_reading("101", 100, "25.09.2026")
    await setup_korto(hass)
    korto.set_reading("101", 110.5, "25.10.2026")
    await poll(hass)
    korto.set_reading("101", 118, "24.11.2026")
    await poll(hass)
    # Korto corrects the October reading after November's came in (history keeps both).
    korto.set_reading("101", 111, "25.10.2026")
    await poll(hass)
    assert await monthly(hass) == {"2026-09": 0.0, "2026-10": 11.0, "2026-11": 7.0}


async def test_history_survives_a_restart(
    hass: HomeAssistant, korto: KortoStandIn, hass_storage: dict[str, Any]
) -> None:
    korto.set_reading("101", 100, "25.09.2026")
    entry = await setup_korto(hass)
    korto.set_reading("101", 110.5, "25.10.2026")
    await poll(hass)
    stored = hass_storage[f"meterhub.korto.{entry.entry_id}"]["data"]["meters"]["101"]
    assert stored == {"2026-09-25": 100.0, "2026-10-25": 110.5}

    # Home Assistant restarts (the entry unloads and loads again); meanwhile a new reading.
    assert await hass.config_entries.async_unload(entry.entry_id)
    korto.set_reading("101", 120, "24.11.2026")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert await monthly(hass) == {"2026-09": 0.0, "2026-10": 10.5, "2026-11": 9.5}


async def test_history_from_an_earlier_run_gives_the_first_delta(
    hass: HomeAssistant, korto: KortoStandIn, hass_storage: dict[str, Any]
) -> None:
    entry = korto_entry()
    hass_storage[f"meterhub.korto.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"meterhub.korto.{entry.entry_id}",
        "data": {"meters": {"101": {"2026-09-25": 100.0, "bad": "x"}, "x": "not a dict"}},
    }
    korto.set_reading("101", "104,25", "25.10.2026")
    await setup_korto(hass, entry)
    assert await monthly(hass) == {"2026-09": 0.0, "2026-10": 4.25}


async def test_meters_without_reading_or_date_import_nothing(
    hass: HomeAssistant, korto: KortoStandIn
) -> None:
    korto.set_reading("101", 100, None)
    korto.meter("103")["unit"] = None
    # A typo in the year: shown on the sensor, but never booked (nor kept in the history).
    korto.set_reading("104", 5200, "24.10.2062")
    await setup_korto(hass)
    assert await hourly(hass) == {}
    assert await hourly(hass, "meterhub:korto_106_consumption") == {}
    assert await hourly(hass, "meterhub:korto_104_consumption") == {}
    # No unit: the sensor shows the number, but the dashboard could not use a statistic.
    assert await hourly(hass, "meterhub:korto_103_consumption") == {}
    reading = er.async_get(hass).async_get_entity_id(
        "sensor", "meterhub", "korto_12345_103_reading"
    )
    assert reading is not None
    state = hass.states.get(reading)
    assert state is not None
    assert state.state == "10234.0"
    assert "unit_of_measurement" not in state.attributes
    # The unknown kind with an unknown unit still gets its statistic, in its own unit.
    assert await hourly(hass, "meterhub:korto_107_consumption") == {
        datetime(2026, 9, 30, 21, tzinfo=UTC): (0.0, 7.0)
    }


def test_consumption_by_date_never_goes_negative() -> None:
    d = [datetime(2026, m, 1).date() for m in range(1, 8)]
    readings = {d[0]: 10.0, d[1]: 15.0, d[2]: 14.5, d[3]: 18.0, d[4]: 2.0, d[5]: 2.0, d[6]: 3.5}
    assert consumption_by_date(dict(reversed(readings.items()))) == {
        d[0]: 0.0,
        d[1]: 5.0,
        d[2]: 0.0,  # a small dip is a misread put right: nothing, 15 stays the baseline
        d[3]: 3.0,  # so the rise to 18 counts from 15, not from 14.5
        d[4]: 2.0,  # far below: a new meter, counted from zero
        d[5]: 0.0,
        d[6]: 1.5,
    }
    # Over the whole run the totals agree with the meters: 18 - 10 on the old one, 3.5 on the new.
    assert sum(consumption_by_date(readings).values()) == 8.0 + 3.5
    assert consumption_by_date({}) == {}
