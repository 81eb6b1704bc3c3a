"""Enedis' entities and diagnostics as a user and a maintainer see them, against stored snapshots.

Time is frozen, and the snapshot is taken while the load-curve backfill is still under way: its
steps come every 30 minutes, so the plan in the diagnostics holds no random minute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from syrupy.assertion import SnapshotAssertion

from homeassistant.core import HomeAssistant

from ..helpers import assert_matches_snapshot
from .conftest import add_entry, advance
from .standin import FakeGateway


async def test_entities_and_diagnostics(
    hass: HomeAssistant,
    gateway: FakeGateway,
    freezer: FrozenDateTimeFactory,
    snapshot: SnapshotAssertion,
) -> None:
    await hass.config.async_set_time_zone("Europe/Paris")
    freezer.move_to(datetime(2026, 6, 10, 7, 0, tzinfo=UTC))  # 09:00 Paris: June 9 is out
    gateway.curve_from = datetime(2026, 5, 1).date()
    gateway.production_watts = lambda start: 400.0 if 8 <= start.hour < 16 else 0.0
    entry = await add_entry(
        hass,
        {
            "fetch_production": True,
            "offpeak_hours": "01:00-07:00",
            "price_peak_kwh": 0.25,
            "price_offpeak_kwh": 0.18,
            "subscription_per_month": 15.0,
        },
    )
    await advance(hass, freezer, timedelta(hours=1))
    plan = entry.runtime_data.coordinator.plan
    assert plan.curve_todo  # still backfilling: the next step is 30 minutes after the last
    await assert_matches_snapshot(hass, snapshot, entry)
