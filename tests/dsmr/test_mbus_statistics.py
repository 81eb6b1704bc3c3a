"""Gas and water readings booked in the hour the meter took them, as the energy dashboard reads them."""

from __future__ import annotations

from datetime import UTC, datetime

from homeassistant.core import HomeAssistant

from ..helpers import statistic_rows
from . import telegrams
from .helpers import add_meter
from .standin import PtyMeter, Sender, wait_for

GAS_STAT = f"meterhub:dsmr_{telegrams.GAS_ID.lower()}_gas"
WATER_STAT = f"meterhub:dsmr_{telegrams.WATER_ID.lower()}_water"
H = [datetime(2026, 3, 1, hour, tzinfo=UTC) for hour in range(24)]


async def changes(hass: HomeAssistant, statistic_id: str) -> dict[int, float]:
    """The per-hour change the energy dashboard books (UTC hour -> m³)."""
    rows = await statistic_rows(hass, statistic_id, {"change", "state"}, start=H[0])
    return {
        datetime.fromtimestamp(row["start"], UTC).hour: round(row["change"] or 0.0, 6)
        for row in rows
    }


async def test_gas_is_booked_in_the_hour_of_the_reading(
    hass: HomeAssistant, pty_meter: PtyMeter
) -> None:
    # Winter time: the meter's local 12:00 is 11:00 UTC.
    sender = Sender(pty_meter.write, telegrams.v5(gas=1000.0, gas_at="260301115500W"), 0.05)
    sender.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")

        def imports() -> int:
            return int(entry.runtime_data.diagnostics()["mbus_channels"]["1"]["imports"])

        await wait_for(lambda: "1" in entry.runtime_data.diagnostics()["mbus_channels"])
        await wait_for(lambda: imports() == 1)
        readings = [
            ("260301120000W", 1000.1),  # closes 10:00-11:00 UTC
            ("260301120500W", 1000.25),
            ("260301121000W", 1000.3),
            ("260301130000W", 1000.5),  # closes 11:00-12:00 UTC
            ("260301130500W", 1000.6),
        ]
        for count, (at, value) in enumerate(readings, start=2):
            sender.telegram = telegrams.v5(gas=value, gas_at=at)
            await wait_for(lambda count=count: imports() == count)  # type: ignore[misc]
        assert await changes(hass, GAS_STAT) == {10: 0.1, 11: 0.4, 12: 0.1}
        # The water meter did not move: its first reading only sets where counting starts.
        assert await changes(hass, WATER_STAT) == {11: 0.0}

        # Home Assistant restarts in the middle of the hour; the meter repeats its last reading,
        # then a new one arrives. Nothing is counted twice, nothing of the hour is lost.
        assert await hass.config_entries.async_reload(entry.entry_id)
        await wait_for(lambda: "1" in entry.runtime_data.diagnostics()["mbus_channels"])
        await wait_for(lambda: imports() == 1)
        sender.telegram = telegrams.v5(gas=1000.7, gas_at="260301131000W")
        await wait_for(lambda: imports() == 2)
        assert await changes(hass, GAS_STAT) == {10: 0.1, 11: 0.4, 12: 0.2}

        # A meter replaced by one that starts from zero: no negative hour.
        sender.telegram = telegrams.v5(gas=0.05, gas_at="260301131500W")
        await wait_for(lambda: imports() == 3)
        sender.telegram = telegrams.v5(gas=0.15, gas_at="260301132000W")
        await wait_for(lambda: imports() == 4)
        booked = await changes(hass, GAS_STAT)
        assert min(booked.values()) >= 0
        assert booked[12] == 0.1
    finally:
        await sender.stop()
