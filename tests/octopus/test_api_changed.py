"""Octopus answers in a changed shape: one repair, nothing wrong imported, cleared once right again.

Consumption (REST) in a changed shape: nothing imported, history sensors unavailable, the gap
filled in afterwards. The account in GraphQL in a changed shape: REST's account keeps data flowing
(the spine never sees that error), so the account coordinator raises the repair itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from custom_components.meterhub.api.octopus import GasUnit
from custom_components.meterhub.diagnostics import async_get_config_entry_diagnostics
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant

from ..api_changed import assert_api_changed_shown, issue_creations, our_issues
from ..helpers import changes, statistic_ids
from .conftest import (
    AGILE_STANDING,
    DATA_FROM,
    DATA_TO,
    EXPORT_MPAN,
    EXPORT_RATE,
    FIXED_STANDING,
    GAS_RATE,
    GAS_SERIAL,
    GAS_STANDING,
    KWH_PER_M3,
    MPAN,
    MPRN,
    SERIAL,
    SWITCH,
    export_kwh,
    fill_standard,
    import_kwh,
    setup_entry,
)
from .standin import ACCOUNT, GOOD_KEY, FakeOctopus, half_hours
from .test_history import close, expected_hours, import_rate

pytestmark = pytest.mark.usefixtures("london")

ELEC = f"meterhub:octopus_{MPAN}_{SERIAL.lower()}"
YESTERDAY = "sensor.electricity_meter_yesterday_s_consumption"


@pytest.mark.parametrize("change", ["renamed", "text"])
async def test_changed_consumption_raises_one_repair_and_is_backfilled_after(
    hass: HomeAssistant, octopus: FakeOctopus, change: str
) -> None:
    fill_standard(octopus)
    octopus.changed_shape = change
    with issue_creations(hass) as created:
        entry = await setup_entry(hass, {"backfill_days": 10})
        history = entry.runtime_data.history
        await history.async_refresh()  # a second failing round
        await hass.async_block_till_done(wait_background_tasks=True)
    assert created == [f"api_changed_{entry.entry_id}"]  # once, not per round
    placeholders = await assert_api_changed_shown(
        hass, entry, secrets=(GOOD_KEY, ACCOUNT, MPAN, MPRN, SERIAL, GAS_SERIAL)
    )
    assert placeholders["what"] == "consumption (results[0].consumption)"
    assert hass.states.get(YESTERDAY).state == STATE_UNAVAILABLE
    assert await changes(hass, f"{ELEC}_consumption") == {}  # nothing half-read imported
    assert await changes(hass, f"{ELEC}_cost") == {}

    octopus.changed_shape = None
    await history.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert our_issues(hass) == {}
    assert hass.states.get(YESTERDAY).state != STATE_UNAVAILABLE
    got = await changes(hass, f"{ELEC}_consumption", DATA_FROM, DATA_TO)
    want: dict[datetime, float] = {}
    for start in half_hours(DATA_FROM, DATA_TO):
        hour = start.replace(minute=0)
        want[hour] = want.get(hour, 0.0) + import_kwh(start)
    assert got.keys() == want.keys()  # the whole gap, from where the statistics stop
    for hour, value in want.items():
        assert got[hour] == pytest.approx(value, abs=1e-5)


GAS = f"meterhub:octopus_{MPRN}_{GAS_SERIAL.lower()}"
EXPORT = f"meterhub:octopus_{EXPORT_MPAN}_{SERIAL.lower()}"
GAS_KEY = f"{MPRN}_{GAS_SERIAL.lower()}"
UNITS_MISFIT = "account (gasAgreements[0].meterPoint.meters[0].consumptionUnits)"


async def _expected_electricity(hass: HomeAssistant) -> None:
    """Import and export as REST gives them, hour by hour, priced as before."""
    quantity, cost = expected_hours(
        import_kwh,
        import_rate,
        lambda day: FIXED_STANDING if day < SWITCH else AGILE_STANDING,
    )
    close(await changes(hass, f"{ELEC}_consumption", DATA_FROM, DATA_TO), quantity)
    close(await changes(hass, f"{ELEC}_cost", DATA_FROM, DATA_TO), cost)
    production, earnings = expected_hours(export_kwh, lambda s: EXPORT_RATE, lambda d: 0.0)
    close(await changes(hass, f"{EXPORT}_production", DATA_FROM, DATA_TO), production)
    close(await changes(hass, f"{EXPORT}_earnings", DATA_FROM, DATA_TO), earnings)


async def _expected_gas(hass: HomeAssistant) -> None:
    """SMETS2 gas in m³ (the unit GraphQL said), priced per kWh through the calorific value."""
    volume, cost = expected_hours(
        lambda s: 0.1, lambda s: KWH_PER_M3 * GAS_RATE, lambda d: GAS_STANDING
    )
    close(await changes(hass, f"{GAS}_volume", DATA_FROM, DATA_TO), volume)
    close(await changes(hass, f"{GAS}_cost", DATA_FROM, DATA_TO), cost)


@pytest.mark.parametrize("change", ["units_renamed", "unknown_unit"])
async def test_changed_graphql_account_from_the_start_keeps_rest_and_waits_for_the_gas_unit(
    hass: HomeAssistant, octopus: FakeOctopus, change: str
) -> None:
    """GraphQL's account changed before we ever read it: REST's account keeps electricity
    flowing, one repair says GraphQL changed, and the gas meter (whose unit only GraphQL says)
    books nothing rather than a guess. GraphQL right again: repair gone, gas filled in."""
    fill_standard(octopus)
    octopus.graphql_changed_shape = change
    with issue_creations(hass) as created:
        entry = await setup_entry(hass, {"backfill_days": 10})
        runtime = entry.runtime_data
        await runtime.account.async_refresh()  # the hourly retry: still changed
        await runtime.history.async_refresh()
        await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert created == [f"api_changed_{entry.entry_id}"]  # once, not per poll
    placeholders = await assert_api_changed_shown(
        hass, entry, secrets=(GOOD_KEY, ACCOUNT, MPAN, MPRN, SERIAL, GAS_SERIAL, EXPORT_MPAN)
    )
    assert placeholders["what"] == UNITS_MISFIT
    assert runtime.account.last_update_success
    assert not runtime.account.data.from_graphql

    await _expected_electricity(hass)
    assert runtime.meters[GAS_KEY].gas_unit is None
    assert await changes(hass, f"{GAS}_volume") == {}  # no kWh-or-m³ guess
    assert await changes(hass, f"{GAS}_consumption") == {}
    assert await changes(hass, f"{GAS}_cost") == {}
    assert octopus.count(f"/gas-meter-points/{MPRN}/") == 0
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["provider"]["gas"]["unit_unknown"] == 1
    assert diagnostics["provider"]["account_source"] == "rest"
    sample = diagnostics["problems"]["last_schema_error"]
    assert sample["expected"].startswith("an account with its electricity and gas agreements")
    assert "gasAgreements" in sample["received"]

    octopus.graphql_changed_shape = None
    await runtime.account.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert our_issues(hass) == {}
    assert runtime.account.data.from_graphql
    assert runtime.meters[GAS_KEY].gas_unit is GasUnit.CUBIC_METERS
    await _expected_gas(hass)
    await _expected_electricity(hass)  # nothing counted twice


async def test_changed_graphql_account_later_keeps_the_last_good_gas_unit(
    hass: HomeAssistant, octopus: FakeOctopus
) -> None:
    """GraphQL's account changes after a good answer: the gas meter keeps the unit it said
    then, history goes on for every meter, one repair; a good answer again clears it."""
    fill_standard(octopus)
    entry = await setup_entry(hass, {"backfill_days": 10})
    runtime = entry.runtime_data
    assert our_issues(hass) == {}
    await _expected_gas(hass)

    octopus.graphql_changed_shape = "units_renamed"
    octopus.add_consumption(MPRN, GAS_SERIAL, {DATA_TO: 0.1})  # a new half hour (1 April 23:00)
    with issue_creations(hass) as created:
        await runtime.account.async_refresh()
        await runtime.account.async_refresh()
        await runtime.history.async_refresh()
        await hass.async_block_till_done(wait_background_tasks=True)
    assert created == [f"api_changed_{entry.entry_id}"]
    placeholders = await assert_api_changed_shown(
        hass, entry, secrets=(GOOD_KEY, ACCOUNT, MPAN, MPRN, SERIAL, GAS_SERIAL, EXPORT_MPAN)
    )
    assert placeholders["what"] == UNITS_MISFIT
    assert not runtime.account.data.from_graphql
    assert runtime.meters[GAS_KEY].gas_unit is GasUnit.CUBIC_METERS
    assert runtime.history.last_update_success
    await _expected_gas(hass)
    await _expected_electricity(hass)
    newest = await changes(hass, f"{GAS}_volume", DATA_TO, DATA_TO + timedelta(hours=1))
    assert newest == {DATA_TO: pytest.approx(0.1)}  # still booked in m³, not as kWh
    assert f"{GAS}_consumption" not in await statistic_ids(hass, "octopus")

    octopus.graphql_changed_shape = None
    await runtime.account.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert our_issues(hass) == {}
    assert runtime.account.data.from_graphql
