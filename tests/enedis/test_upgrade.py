"""An entry set up before the v2 move (legacy API) keeps its statistic ids and sums: the switch
neither restarts nor doubles any history, and sends no backfill request.

The store and the statistics are written here as the legacy version left them: the store in its
version-1 layout (plan without the v2 fields), statistics with Home Assistant's own API.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.meterhub.const import DOMAIN
from homeassistant.components.recorder.models import StatisticMeanType, StatisticMetaData
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    list_statistic_ids,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util.unit_conversion import EnergyConverter

from ..helpers import changes
from .conftest import follow_plan, stat_id, sums
from .standin import CURVE, DAILY, MAX_POWER, PRM, TOKEN, FakeGateway, local_midnight

ENTRY_ID = "legacy-enedis-entry"
NOW = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)  # 09:00 Paris, June 9 already imported
OLD_DAYS = [date(2026, 5, 27) + timedelta(days=n) for n in range(14)]  # May 27 - June 9
OLD_SUM = 5000.0  # what the statistic had summed before these days (older history)
OLD_COST_SUM = 900.0
OPTIONS = {"price_base_kwh": 0.2}


@pytest.fixture(autouse=True)
async def paris(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone("Europe/Paris")


def legacy_store() -> dict[str, Any]:
    """The store the legacy version wrote: 14 days of half hours (1000 W), backfill done."""
    ledger = {  # no DST day in these weeks: 48 half hours each
        day.isoformat(): {"d": 24000.0, "c": [[offset, 30, 500.0] for offset in range(0, 1440, 30)]}
        for day in OLD_DAYS
    }
    return {
        "version": 1,
        "minor_version": 1,
        "key": f"meterhub.enedis.{ENTRY_ID}",
        "data": {
            "plan": {
                "next_run": "2026-06-11T06:17:00+00:00",
                "daily_depth": 0,
                "curve_todo": [],
                "backfill_planned": True,
                "newest_week_done": True,
                "production_planned": False,
                "production_daily_due": False,
                "production_todo": [],
                "attempt_day": "2026-06-09",
                "attempts": 1,
                "last_attempt": "2026-06-10T06:17:00+00:00",
                "failures": 0,
            },
            "consumption": ledger,
            "production": {},
            "max_power": {"2026-06-09": [6120.0, "2026-06-09T17:12:40+00:00"]},
            "sent": ["2026-06-10T06:17:00+00:00", "2026-06-10T06:17:00+00:00"],
            "fingerprint": json.dumps([1, "", 0.2, 0.2, False]),
            "deferred_consumption": [],
            "deferred_production": [],
        },
    }


async def write_legacy_statistics(hass: HomeAssistant) -> None:
    """Consumption (1 kWh an hour) and cost (0.20 EUR an hour), as the legacy version imported."""
    for quantity, name, unit, unit_class, per_hour, base in (
        ("consumption", "Linky consumption", "kWh", EnergyConverter.UNIT_CLASS, 1.0, OLD_SUM),
        ("cost", "Linky cost", "EUR", None, 0.2, OLD_COST_SUM),
    ):
        metadata = StatisticMetaData(
            mean_type=StatisticMeanType.NONE,
            has_sum=True,
            name=name,
            source=DOMAIN,
            statistic_id=stat_id(quantity),
            unit_class=unit_class,
            unit_of_measurement=unit,
        )
        rows = []
        total = base
        hour = local_midnight(OLD_DAYS[0])
        while hour < local_midnight(OLD_DAYS[-1] + timedelta(days=1)):
            total += per_hour
            rows.append({"start": hour, "state": per_hour, "sum": total})
            hour += timedelta(hours=1)
        async_add_external_statistics(hass, metadata, rows)
    await async_wait_recording_done(hass)


async def test_entry_from_before_v2_keeps_ids_and_sums_without_restart_or_double(
    hass: HomeAssistant,
    gateway: FakeGateway,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to(NOW)
    gateway.curve_from = date(2026, 1, 1)
    gateway.daily_from = date(2025, 6, 1)
    await write_legacy_statistics(hass)
    before = await sums(hass, "consumption")
    assert len(before) == 14 * 24
    last_old_sum = before[max(before)]
    cost_before = await sums(hass, "cost")
    assert last_old_sum == OLD_SUM + 14 * 24
    hass_storage[f"meterhub.enedis.{ENTRY_ID}"] = legacy_store()
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=ENTRY_ID,
        unique_id=PRM,
        title="Linky …1234",
        data={"provider": "enedis", "token": TOKEN, "prm": PRM},
        options=OPTIONS,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert gateway.requests == []  # the stored plan waits for tomorrow morning

    await follow_plan(hass, freezer, entry, timedelta(days=3))
    # Only the daily steady state, in v2: no year of history asked again, no legacy type.
    assert {r.kind for r in gateway.requests} <= {*DAILY, *CURVE, MAX_POWER}
    assert not [r for r in gateway.requests if r.start < date(2026, 6, 3)]
    assert len(gateway.requests) <= 3 * 3

    after = await sums(hass, "consumption")
    assert {hour: after[hour] for hour in before} == before  # history untouched
    new_hours = sorted(hour for hour in after if hour not in before)
    assert new_hours[0] == local_midnight(date(2026, 6, 10))
    # The running sum continues from the legacy one: not restarted at 0, nothing doubled.
    assert after[new_hours[0]] == last_old_sum + 1.0
    new = await changes(
        hass,
        stat_id("consumption"),
        local_midnight(date(2026, 6, 10)),
        local_midnight(date(2026, 6, 13)),
    )
    assert list(new.values()) == [1.0] * 72
    cost_before_last = OLD_COST_SUM + 14 * 24 * 0.2
    cost = await sums(hass, "cost")
    assert {hour: cost[hour] for hour in cost_before} == cost_before
    assert round(cost[new_hours[0]], 6) == round(cost_before_last + 0.2, 6)
    new_cost = await changes(
        hass, stat_id("cost"), local_midnight(date(2026, 6, 10)), local_midnight(date(2026, 6, 13))
    )
    assert {round(value, 6) for value in new_cost.values()} == {0.2}
    # Still exactly the statistic ids the legacy version made.
    ids = await get_instance(hass).async_add_executor_job(list_statistic_ids, hass)
    assert sorted(item["statistic_id"] for item in ids if item["source"] == DOMAIN) == [
        stat_id("consumption"),
        stat_id("cost"),
    ]
    assert entry.runtime_data.coordinator.plan.history_start is None
