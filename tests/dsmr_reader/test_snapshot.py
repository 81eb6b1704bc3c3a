"""DSMR-reader's entities and diagnostics as a user and a maintainer see them, against snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from syrupy.assertion import SnapshotAssertion

from homeassistant.core import HomeAssistant

from ..helpers import assert_matches_snapshot
from .conftest import add_entry
from .standin import FakeDsmrReader, make_days, make_hours

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


async def test_entities_and_diagnostics(
    hass: HomeAssistant,
    dsmr_server: FakeDsmrReader,
    freezer: FrozenDateTimeFactory,
    snapshot: SnapshotAssertion,
) -> None:
    freezer.move_to(NOW)
    last = NOW.replace(minute=0) - timedelta(hours=1)
    dsmr_server.hours = make_hours(last - timedelta(hours=47), 48)
    dsmr_server.days = make_days(NOW.date() - timedelta(days=3), 3, hours=dsmr_server.hours)
    entry = await add_entry(hass, dsmr_server)
    port = dsmr_server.url.rsplit(":", 1)[1]
    await assert_matches_snapshot(
        hass, snapshot, entry, placeholders={f"_{port}_": "_PORT_", f":{port}": ":PORT"}
    )
