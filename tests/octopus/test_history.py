"""History into the real recorder: hourly sums and costs as the energy dashboard reads them.

Expected values are computed here from the stand-in's data with plain arithmetic, independently
of the provider's pricing code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.meterhub.api import octopus as octopus_api
from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers.octopus import history
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from ..helpers import changes
from .conftest import (
    AGILE_STANDING,
    DATA_FROM,
    DATA_TO,
    EXPORT_MPAN,
    EXPORT_RATE,
    FIXED_RATE,
    FIXED_STANDING,
    GAS_RATE,
    GAS_SERIAL,
    GAS_STANDING,
    KWH_PER_M3,
    MPAN,
    MPRN,
    SERIAL,
    SWITCH,
    agile_pence,
    export_kwh,
    fill_standard,
    import_kwh,
    setup_entry,
)
from .standin import ACCOUNT, GOOD_KEY, LONDON, Failure, FakeOctopus, half_hours

pytestmark = pytest.mark.usefixtures("london")

ELEC = f"meterhub:octopus_{MPAN}_{SERIAL.lower()}"
EXPORT = f"meterhub:octopus_{EXPORT_MPAN}_{SERIAL.lower()}"
GAS = f"meterhub:octopus_{MPRN}_{GAS_SERIAL.lower()}"
HOUR = timedelta(hours=1)


def uk_days() -> list[datetime]:
    day = DATA_FROM.astimezone(LONDON).date()
    days = []
    while (start := datetime(day.year, day.month, day.day, tzinfo=LONDON)) < DATA_TO:
        days.append(start.astimezone(UTC))
        day += timedelta(days=1)
    return days


def import_rate(start: datetime) -> float:
    return FIXED_RATE if start < SWITCH else agile_pence(start)


def expected_hours(value, price, standing) -> tuple[dict[datetime, float], dict[datetime, float]]:  # type: ignore[no-untyped-def]
    quantity: dict[datetime, float] = {}
    cost: dict[datetime, float] = {}
    for start in half_hours(DATA_FROM, DATA_TO):
        hour = start.replace(minute=0)
        quantity[hour] = quantity.get(hour, 0.0) + value(start)
        cost[hour] = cost.get(hour, 0.0) + value(start) * price(start) / 100
    for day in uk_days():
        cost[day] += standing(day) / 100
    return (
        {h: round(v, 6) for h, v in quantity.items()},
        {h: round(v, 6) for h, v in cost.items()},
    )


def close(actual: dict[datetime, float], expected: dict[datetime, float]) -> None:
    assert set(actual) == set(expected)
    for hour, value in expected.items():
        assert actual[hour] == pytest.approx(value, abs=1e-5), hour


async def test_dst_week_tariff_switch_and_agile_day(
    hass: HomeAssistant, octopus: FakeOctopus
) -> None:
    fill_standard(octopus)
    entry = await setup_entry(hass)
    assert entry.state is ConfigEntryState.LOADED

    quantity, cost = expected_hours(
        import_kwh,
        import_rate,
        lambda day: FIXED_STANDING if day < SWITCH else AGILE_STANDING,
    )
    close(await changes(hass, f"{ELEC}_consumption", DATA_FROM, DATA_TO), quantity)
    close(await changes(hass, f"{ELEC}_cost", DATA_FROM, DATA_TO), cost)

    # The spring-forward day has 23 hours (46 half hours), booked in UK days by the dashboard.
    days = await changes(hass, f"{ELEC}_consumption", DATA_FROM, DATA_TO, "day")
    march_29 = datetime(2026, 3, 29, tzinfo=LONDON).astimezone(UTC)
    slots_29 = [s for s in half_hours(DATA_FROM, DATA_TO) if march_29 <= s < march_29 + 23 * HOUR]
    assert len(slots_29) == 46
    assert days[march_29] == pytest.approx(sum(import_kwh(s) for s in slots_29))
    assert len(days) == 7

    # The Agile day: every half hour its own price, one standing charge.
    april_1 = datetime(2026, 4, 1, tzinfo=LONDON).astimezone(UTC)
    agile_slots = half_hours(april_1, april_1 + 24 * HOUR)
    day_costs = await changes(hass, f"{ELEC}_cost", DATA_FROM, DATA_TO, "day")
    assert day_costs[april_1] == pytest.approx(
        sum(import_kwh(s) * agile_pence(s) for s in agile_slots) / 100 + AGILE_STANDING / 100
    )
    # The day before the switch is fixed price.
    march_30 = datetime(2026, 3, 30, tzinfo=LONDON).astimezone(UTC)
    fixed_slots = half_hours(march_30, march_30 + 24 * HOUR)
    assert day_costs[march_30] == pytest.approx(
        sum(import_kwh(s) for s in fixed_slots) * FIXED_RATE / 100 + FIXED_STANDING / 100
    )

    # Export: production and earnings, no standing charge.
    production, earnings = expected_hours(export_kwh, lambda s: EXPORT_RATE, lambda d: 0.0)
    close(await changes(hass, f"{EXPORT}_production", DATA_FROM, DATA_TO), production)
    close(await changes(hass, f"{EXPORT}_earnings", DATA_FROM, DATA_TO), earnings)

    # SMETS2 gas in m³, priced per kWh through the calorific value.
    volume, gas_cost = expected_hours(
        lambda s: 0.1, lambda s: KWH_PER_M3 * GAS_RATE, lambda d: GAS_STANDING
    )
    close(await changes(hass, f"{GAS}_volume", DATA_FROM, DATA_TO), volume)
    close(await changes(hass, f"{GAS}_cost", DATA_FROM, DATA_TO), gas_cost)

    # One consumption request per meter for the whole year of backfill.
    assert octopus.count("/consumption/") == 3

    # A second import of the same days changes nothing.
    before = {
        sid: await changes(hass, sid, DATA_FROM - 2 * HOUR, DATA_TO + HOUR)
        for sid in (f"{ELEC}_consumption", f"{ELEC}_cost", f"{GAS}_volume", f"{GAS}_cost")
    }
    requests_before = len(octopus.requests)
    await entry.runtime_data.history.async_refresh()
    assert entry.runtime_data.history.last_update_success
    after = {sid: await changes(hass, sid, DATA_FROM - 2 * HOUR, DATA_TO + HOUR) for sid in before}
    assert after == before
    # the poll re-read only the last few days: a handful of requests for three meters
    assert len(octopus.requests) - requests_before <= 12
    last_query = [q for _, path, q in octopus.requests if "/consumption/" in path][-1]
    assert last_query["period_from"] >= "2026-03-28"


async def test_gas_converted_to_kwh(hass: HomeAssistant, octopus: FakeOctopus) -> None:
    fill_standard(octopus)
    await setup_entry(hass, {"gas_to_kwh": True, "calorific_value": 39.5})
    energy, gas_cost = expected_hours(
        lambda s: 0.1 * KWH_PER_M3, lambda s: GAS_RATE, lambda d: GAS_STANDING
    )
    close(await changes(hass, f"{GAS}_consumption", DATA_FROM, DATA_TO), energy)
    close(await changes(hass, f"{GAS}_cost", DATA_FROM, DATA_TO), gas_cost)
    assert await changes(hass, f"{GAS}_volume", DATA_FROM, DATA_TO) == {}


async def test_duplicates_missing_half_hours_and_late_data(
    hass: HomeAssistant, octopus: FakeOctopus, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_standard(octopus)
    octopus.duplicate_page_edges = True
    monkeypatch.setattr(octopus_api, "CONSUMPTION_PAGE_SIZE", 45)  # pages split hours
    values = octopus.consumption[(MPAN, SERIAL)]
    missing = [DATA_TO - 5 * HOUR, DATA_TO - 5 * HOUR + timedelta(minutes=30), DATA_TO - HOUR]
    late = {start: values.pop(start) for start in missing}
    entry = await setup_entry(hass)
    assert octopus.count(f"{SERIAL}/consumption/") > 5  # really paged

    got = await changes(hass, f"{ELEC}_consumption", DATA_FROM, DATA_TO)
    quantity, _ = expected_hours(import_kwh, import_rate, lambda d: 0.0)
    assert DATA_TO - 5 * HOUR not in got  # a whole hour missing
    assert got[DATA_TO - HOUR] == pytest.approx(import_kwh(DATA_TO - HOUR + timedelta(minutes=30)))
    assert sum(got.values()) == pytest.approx(sum(quantity.values()) - sum(late.values()))

    # The missing half hours arrive late: the next poll fills them in, nothing counted twice.
    values.update(late)
    await entry.runtime_data.history.async_refresh()
    close(await changes(hass, f"{ELEC}_consumption", DATA_FROM, DATA_TO), quantity)


async def test_backfill_resumes_after_server_errors(
    hass: HomeAssistant,
    octopus: FakeOctopus,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fill_standard(octopus)
    monkeypatch.setattr(history, "CHUNK", timedelta(days=2))
    # the third chunk of the import meter fails with a 503, the fifth chunk of gas times out
    octopus.failures.append(Failure(f"{SERIAL}/consumption/", 503, nth=3))
    octopus.failures.append(Failure(f"{GAS_SERIAL}/consumption/", 0, nth=5, times=3))
    entry = await setup_entry(hass, {"backfill_days": 10})
    coordinator = entry.runtime_data.history
    assert not coordinator.last_update_success
    partial = await changes(hass, f"{ELEC}_consumption", DATA_FROM, DATA_TO)
    assert partial  # what came before the failure is stored
    assert max(partial) < DATA_TO - HOUR

    await coordinator.async_refresh()
    assert coordinator.last_update_success
    quantity, cost = expected_hours(
        import_kwh,
        import_rate,
        lambda day: FIXED_STANDING if day < SWITCH else AGILE_STANDING,
    )
    close(await changes(hass, f"{ELEC}_consumption", DATA_FROM, DATA_TO), quantity)
    close(await changes(hass, f"{ELEC}_cost", DATA_FROM, DATA_TO), cost)
    volume, _ = expected_hours(lambda s: 0.1, lambda s: 0.0, lambda d: 0.0)
    close(await changes(hass, f"{GAS}_volume", DATA_FROM, DATA_TO), volume)

    # The failures were logged, without a key, account number, MPAN, MPRN or serial number.
    ours = [r for r in caplog.records if r.name.startswith("custom_components.meterhub")]
    assert any("Octopus history" in r.getMessage() for r in ours)
    text = "\n".join(r.getMessage() + repr(r.exc_info) for r in ours)
    for secret in (GOOD_KEY, ACCOUNT, MPAN, MPRN, SERIAL, GAS_SERIAL):
        assert secret not in text
        assert secret.lower() not in text


async def test_unknown_product_and_meter_without_data(
    hass: HomeAssistant, octopus: FakeOctopus
) -> None:
    fill_standard(octopus)
    del octopus.products["AGILE-24-10-01"]
    del octopus.consumption[(MPRN, GAS_SERIAL)]
    entry = await setup_entry(hass)
    assert entry.runtime_data.history.last_update_success

    quantity, cost = expected_hours(import_kwh, import_rate, lambda day: FIXED_STANDING)
    close(await changes(hass, f"{ELEC}_consumption", DATA_FROM, DATA_TO), quantity)
    # cost only while the fixed tariff was in force; the Agile days stay without cost
    got = await changes(hass, f"{ELEC}_cost", DATA_FROM, DATA_TO)
    close(got, {h: v for h, v in cost.items() if h < SWITCH})
    assert await changes(hass, f"{GAS}_volume", DATA_FROM, DATA_TO) == {}

    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"octopus_{MPRN}_{GAS_SERIAL.lower()}"), entry.entry_id
    )
    assert device is not None  # the meter exists even without data
    state = hass.states.get("sensor.gas_meter_yesterday_s_consumption")
    assert state is not None
    assert state.state == "unavailable"
    diagnostics = entry.runtime_data.diagnostics()
    assert diagnostics["missing_tariffs"] == ["E-1R-AGILE-24-10-01-C"]


async def test_rate_limit_backs_off(hass: HomeAssistant, octopus: FakeOctopus) -> None:
    fill_standard(octopus)
    octopus.failures.append(Failure(f"{SERIAL}/consumption/", 429, headers={"Retry-After": "1800"}))
    entry = await setup_entry(hass)
    coordinator = entry.runtime_data.history
    assert not coordinator.last_update_success
    assert getattr(coordinator.last_exception, "retry_after", None) == 1800
    # the round stopped at the rate limit: no other meter was asked in the same round
    assert octopus.count("/consumption/") == 1
