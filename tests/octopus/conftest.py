"""Fixtures: the local Octopus stand-in on 127.0.0.1, a standard account, and entry helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers import octopus as octopus_provider
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .standin import (
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

# A week across the spring DST change (Sunday 29 March 2026 has 46 half hours).
NOW = datetime(2026, 4, 2, 11, 0, tzinfo=UTC)
MPAN = "1200000000001"
EXPORT_MPAN = "1300000000002"
MPRN = "3000000001"
SERIAL = "21L0000001"
GAS_SERIAL = "G4P0000001"
FIXED = "E-1R-VAR-22-11-01-C"
AGILE = "E-1R-AGILE-24-10-01-C"
OUTGOING = "E-1R-OUTGOING-FIX-12M-19-05-13-C"
GAS_TARIFF = "G-1R-VAR-22-11-01-C"
SWITCH = datetime(2026, 3, 31, tzinfo=LONDON).astimezone(UTC)  # 30 March 23:00 UTC
DATA_FROM = datetime(2026, 3, 26, tzinfo=LONDON).astimezone(UTC)
DATA_TO = datetime(2026, 4, 2, tzinfo=LONDON).astimezone(UTC)  # data through 1 April

FIXED_RATE = 24.5
FIXED_STANDING = 60.12
AGILE_STANDING = 47.5
EXPORT_RATE = 15.0
GAS_RATE = 6.5
GAS_STANDING = 30.0
KWH_PER_M3 = 1.02264 * 39.5 / 3.6


def import_kwh(start: datetime) -> float:
    """A recognisable pattern: depends on the half hour of the UTC day."""
    index = start.hour * 2 + start.minute // 30
    return round(0.1 + (index % 4) * 0.05, 3)


def agile_pence(start: datetime) -> float:
    index = start.hour * 2 + start.minute // 30
    return round(10 + index * 0.5, 2)


def export_kwh(start: datetime) -> float:
    return 0.2 if 10 <= start.hour < 16 else 0.0


def standard_account() -> dict[str, Any]:
    return {
        "properties": [
            {
                "id": 1,
                "moved_in_at": "2020-01-01T00:00:00Z",
                "moved_out_at": None,
                "electricity_meter_points": [
                    electricity_point(
                        MPAN,
                        [SERIAL],
                        [
                            (FIXED, datetime(2025, 1, 1, tzinfo=UTC), SWITCH),
                            (AGILE, SWITCH, None),
                        ],
                    ),
                    electricity_point(
                        EXPORT_MPAN,
                        [SERIAL],
                        [(OUTGOING, datetime(2025, 1, 1, tzinfo=UTC), None)],
                        export=True,
                    ),
                ],
                "gas_meter_points": [
                    gas_point(
                        MPRN,
                        [GAS_SERIAL],
                        [(GAS_TARIFF, datetime(2025, 1, 1, tzinfo=UTC), None)],
                    )
                ],
            }
        ]
    }


def fill_standard(fake: FakeOctopus, start: datetime = DATA_FROM, end: datetime = DATA_TO) -> None:
    fake.accounts[ACCOUNT] = standard_account()
    slots = half_hours(start, end)
    fake.add_consumption(MPAN, SERIAL, {s: import_kwh(s) for s in slots})
    fake.add_consumption(EXPORT_MPAN, SERIAL, {s: export_kwh(s) for s in slots})
    fake.add_consumption(MPRN, GAS_SERIAL, dict.fromkeys(slots, 0.1))
    fake.add_rates(
        FIXED,
        "standard-unit-rates",
        [
            rate_row(FIXED_RATE, datetime(2025, 1, 1, tzinfo=UTC), None, "DIRECT_DEBIT"),
            rate_row(FIXED_RATE + 2, datetime(2025, 1, 1, tzinfo=UTC), None, "NON_DIRECT_DEBIT"),
        ],
    )
    fake.add_rates(
        FIXED,
        "standing-charges",
        [rate_row(FIXED_STANDING, datetime(2025, 1, 1, tzinfo=UTC), None)],
    )
    agile_slots = half_hours(SWITCH, NOW + timedelta(days=1, hours=13))
    fake.add_rates(
        AGILE,
        "standard-unit-rates",
        [rate_row(agile_pence(s), s, s + timedelta(minutes=30)) for s in agile_slots],
    )
    fake.add_rates(AGILE, "standing-charges", [rate_row(AGILE_STANDING, SWITCH, None)])
    fake.add_rates(
        OUTGOING,
        "standard-unit-rates",
        [rate_row(EXPORT_RATE, datetime(2025, 1, 1, tzinfo=UTC), None)],
    )
    fake.add_rates(
        GAS_TARIFF,
        "standard-unit-rates",
        [rate_row(GAS_RATE, datetime(2025, 1, 1, tzinfo=UTC), None)],
    )
    fake.add_rates(
        GAS_TARIFF,
        "standing-charges",
        [rate_row(GAS_STANDING, datetime(2025, 1, 1, tzinfo=UTC), None)],
    )


@pytest.fixture
async def octopus(
    monkeypatch: pytest.MonkeyPatch, socket_enabled: None
) -> AsyncIterator[FakeOctopus]:
    """The stand-in server, with the provider pointed at it."""
    fake = FakeOctopus()
    runner = await start_standin(fake)
    monkeypatch.setattr(octopus_provider, "API_BASE_URL", fake.base_url)
    yield fake
    await runner.cleanup()


@pytest.fixture
async def london(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Home Assistant in the UK, at NOW."""
    freezer.move_to(NOW)
    await hass.config.async_update(time_zone="Europe/London")


async def setup_entry(
    hass: HomeAssistant, options: dict[str, Any] | None = None, key: str = GOOD_KEY
) -> ConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=ACCOUNT,
        title=f"Octopus Energy {ACCOUNT}",
        data={"provider": "octopus", "api_key": key, "account_number": ACCOUNT},
        options=options or {},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry
