"""Benchmark: backfill two years of half-hourly data (electricity and gas, with cost) into the recorder.

Run it with ``.venv/bin/python benchmarks/backfill.py``. It starts a real Home Assistant with the real
recorder (through pytest-homeassistant-custom-component's fixtures), serves two years of half hours
for one electricity meter (a fixed tariff, then Agile with a price every half hour) and one SMETS2
gas meter from the local Octopus stand-in on 127.0.0.1, sets the entry up and waits until the
backfill is stored. It prints the wall time and the number of HTTP requests by kind.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging
import os
from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if __name__ == "__main__":
    # Run through pytest before anything imports Home Assistant: its test plugin must come first.
    import pytest

    sys.exit(pytest.main([__file__, "-q", "-s", "-p", "no:cacheprovider", "--timeout=900"]))

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers import octopus as octopus_provider
from custom_components.meterhub.providers.octopus.tariffs import async_price_book, hourly_amounts
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from tests.octopus.standin import (
    ACCOUNT,
    GOOD_KEY,
    LONDON,
    FakeOctopus,
    electricity_point,
    gas_point,
    half_hours,
    rate_row,
    start_standin,
)

NOW = datetime(2026, 4, 2, 11, 0, tzinfo=UTC)
START = datetime(2024, 4, 2, tzinfo=LONDON).astimezone(UTC)
SWITCH = datetime(2025, 4, 2, tzinfo=LONDON).astimezone(UTC)
MPAN, SERIAL, MPRN, GAS_SERIAL = "1200000000001", "21L0000001", "3000000001", "G4P0000001"
FIXED, AGILE, GAS = "E-1R-VAR-22-11-01-C", "E-1R-AGILE-24-10-01-C", "G-1R-VAR-22-11-01-C"


def build(fake: FakeOctopus) -> int:
    fake.accounts[ACCOUNT] = {
        "properties": [
            {
                "moved_out_at": None,
                "electricity_meter_points": [
                    electricity_point(
                        MPAN, [SERIAL], [(FIXED, START, SWITCH), (AGILE, SWITCH, None)]
                    )
                ],
                "gas_meter_points": [gas_point(MPRN, [GAS_SERIAL], [(GAS, START, None)])],
            }
        ]
    }
    slots = half_hours(START, datetime(2026, 4, 2, tzinfo=LONDON).astimezone(UTC))
    fake.add_consumption(MPAN, SERIAL, {s: 0.1 + (s.hour % 5) * 0.07 for s in slots})
    fake.add_consumption(MPRN, GAS_SERIAL, {s: 0.05 + (s.hour % 3) * 0.02 for s in slots})
    fake.add_rates(FIXED, "standard-unit-rates", [rate_row(24.5, START, None)])
    fake.add_rates(FIXED, "standing-charges", [rate_row(60.1, START, None)])
    agile = half_hours(SWITCH, NOW + timedelta(days=1))
    fake.add_rates(
        AGILE,
        "standard-unit-rates",
        [rate_row(10 + (s.hour * 2) % 30, s, s + timedelta(minutes=30)) for s in agile],
    )
    fake.add_rates(AGILE, "standing-charges", [rate_row(47.5, SWITCH, None)])
    fake.add_rates(GAS, "standard-unit-rates", [rate_row(6.5, START, None)])
    fake.add_rates(GAS, "standing-charges", [rate_row(30.0, START, None)])
    return len(slots)


@pytest.mark.usefixtures("recorder_mock", "enable_custom_integrations", "socket_enabled")
async def test_backfill_two_years(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test plugin logs every SQL statement; a real installation does not.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    freezer.move_to(NOW)
    await hass.config.async_update(time_zone="Europe/London")
    fake = FakeOctopus()
    slots = build(fake)
    runner = await start_standin(fake)
    monkeypatch.setattr(octopus_provider, "API_BASE_URL", fake.base_url)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=ACCOUNT,
        data={"provider": "octopus", "api_key": GOOD_KEY, "account_number": ACCOUNT},
        options={"backfill_days": 730},
    )
    entry.add_to_hass(hass)

    began = os.times().elapsed
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    elapsed = os.times().elapsed - began

    assert entry.runtime_data.history.last_update_success
    ids = {
        f"meterhub:octopus_{MPAN}_{SERIAL.lower()}_consumption",
        f"meterhub:octopus_{MPAN}_{SERIAL.lower()}_cost",
        f"meterhub:octopus_{MPRN}_{GAS_SERIAL.lower()}_volume",
        f"meterhub:octopus_{MPRN}_{GAS_SERIAL.lower()}_cost",
    }
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, START, None, ids, "hour", None, {"sum"}
    )
    stored = {sid: len(rows.get(sid, [])) for sid in ids}
    assert all(count >= slots // 2 - 2 for count in stored.values()), stored

    total_requests = len(fake.requests)
    kinds: dict[str, int] = {}
    for _, path, _ in fake.requests:
        kind = (
            "consumption"
            if "/consumption/" in path
            else "rates"
            if "/products/" in path
            else "graphql"
            if "graphql" in path
            else "account"
        )
        kinds[kind] = kinds.get(kind, 0) + 1
    consumption_requests = kinds.get("consumption", 0)

    # The same two years fetched and priced again without the recorder: our share of the time.
    runtime = entry.runtime_data
    began = os.times().elapsed
    for meter in runtime.meters.values():
        intervals = await runtime.client.async_get_consumption(
            meter.point, meter.serial_number, START, NOW
        )
        book = await async_price_book(runtime.client, meter.point, START, NOW)
        quantity_factor, kwh_factor = meter.factors(runtime.gas)
        hourly_amounts(intervals, book, quantity_factor=quantity_factor, kwh_factor=kwh_factor)
    fetch_elapsed = os.times().elapsed - began
    print()
    print(f"backfill of {slots} half hours x 2 meters (2 years), with cost, into the recorder")
    print(f"time: {elapsed:.1f} s (wall clock, setup to last row committed)")
    print(
        f"  of which fetching and pricing: {fetch_elapsed:.1f} s; the rest is the recorder "
        "writing 4 x 17,520 hourly rows"
    )
    print(f"HTTP requests: {total_requests} in all {dict(sorted(kinds.items()))}")
    print(f"consumption requests per meter and year: {consumption_requests / 2 / 2:.1f}")
    print(f"hourly rows stored per statistic: {sorted(stored.values())}")
    await hass.config_entries.async_unload(entry.entry_id)
    await runner.cleanup()
