"""The examples users copy from docs/examples.md: valid for Home Assistant, ids that exist, and
the automations doing what the text says when they run.

Each YAML block starts with ``# Automation: ...`` or ``# Card: ...``. Automations are set up with
Home Assistant's own ``automation`` integration (its config validation) and run against states and
statistics shaped as Meter Hub writes them; every entity and statistic id an example uses must be
in the public contract (``snapshots/public_contract.json``), so a renamed id breaks this test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
import json
from pathlib import Path
import re
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import async_get_persistent_notifications
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
import yaml

from custom_components.meterhub.statistics import VOLUME_M3, StatisticSeries
from homeassistant.components.automation import DOMAIN as AUTOMATION
from homeassistant.components.recorder.statistics import async_add_external_statistics
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "docs" / "examples.md"
CONTRACT = json.loads((ROOT / "tests" / "snapshots" / "public_contract.json").read_text())
_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)
#: Ids written out in full (``meterhub:dsmr_<gas meter>_gas`` in the prose is a pattern, not an id).
_IDS = re.compile(r"\b(?:sensor\.[a-z0-9_]+|meterhub:[a-z0-9_]+)(?![<\w])")
GAS_STATISTIC = "meterhub:dsmr_4730303332353631323831353836373139_gas"
BALANCE = "sensor.octopus_energy_account_balance"
GAS_YESTERDAY = "sensor.gas_meter_yesterday_s_consumption"


def blocks(kind: str) -> dict[str, Any]:
    """The examples of ``kind`` ("Automation" or "Card") by their title, parsed."""
    found: dict[str, Any] = {}
    for text in _BLOCK.findall(EXAMPLES.read_text()):
        first = text.splitlines()[0]
        if first.startswith(f"# {kind}: "):
            found[first.removeprefix(f"# {kind}: ")] = yaml.safe_load(text)
    return found


def known_ids() -> set[str]:
    return {
        identifier
        for provider in CONTRACT.values()
        for section in ("entity_ids", "statistic_ids")
        for identifier in provider.get(section, [])
    }


def test_every_example_is_there_and_uses_ids_meter_hub_provides() -> None:
    automations, cards = blocks("Automation"), blocks("Card")
    assert set(automations) == {
        "unusual gas day",
        "gas above the day before",
        "Octopus balance low",
    }
    assert set(cards) == {"yesterday's electricity cost", "yesterday's cost per meter"}
    used = set(_IDS.findall(EXAMPLES.read_text()))
    assert used, "the examples name real ids"
    assert used <= known_ids()
    statistic_card = cards["yesterday's electricity cost"]
    assert statistic_card["type"] == "statistic"
    assert statistic_card["stat_type"] == "change"
    assert statistic_card["period"] == {"calendar": {"period": "day", "offset": -1}}
    assert cards["yesterday's cost per meter"]["type"] == "entities"


@pytest.fixture(autouse=True)
async def automations_off_at_the_end(hass: HomeAssistant) -> AsyncIterator[None]:
    """Turn the example automations off after each test: their time triggers hold timers."""
    yield
    if hass.services.has_service(AUTOMATION, "turn_off"):
        await hass.services.async_call(AUTOMATION, "turn_off", {"entity_id": "all"}, blocking=True)


async def setup_examples(hass: HomeAssistant) -> None:
    """All example automations, through Home Assistant's validation; each must be loaded and on."""
    assert await async_setup_component(hass, "persistent_notification", {})
    automations = list(blocks("Automation").values())
    for number, config in enumerate(automations):
        config["id"] = f"example_{number}"
    assert await async_setup_component(hass, AUTOMATION, {AUTOMATION: automations})
    await hass.async_block_till_done()
    states = hass.states.async_all(AUTOMATION)
    assert len(states) == len(automations)
    assert {state.state for state in states} == {"on"}, [s.attributes for s in states]


def titles(hass: HomeAssistant) -> list[str]:
    return sorted(str(n["title"]) for n in async_get_persistent_notifications(hass).values())


async def test_balance_alert_fires_once_when_the_balance_drops(hass: HomeAssistant) -> None:
    await setup_examples(hass)
    hass.states.async_set(BALANCE, "24.10", {"unit_of_measurement": "GBP"})
    await hass.async_block_till_done()
    hass.states.async_set(BALANCE, "9.50", {"unit_of_measurement": "GBP"})
    await hass.async_block_till_done()
    assert titles(hass) == ["Octopus balance is low"]
    message = next(iter(async_get_persistent_notifications(hass).values()))["message"]
    assert "£9.50" in message
    hass.states.async_set(BALANCE, "8.00", {"unit_of_measurement": "GBP"})
    await hass.async_block_till_done()
    assert len(async_get_persistent_notifications(hass)) == 1  # not again while still below


@pytest.mark.parametrize(("before", "after", "alerts"), [(10.0, 16.5, True), (10.0, 14.0, False)])
async def test_gas_above_the_day_before(
    hass: HomeAssistant, before: float, after: float, *, alerts: bool
) -> None:
    await setup_examples(hass)
    hass.states.async_set(GAS_YESTERDAY, "unavailable")
    await hass.async_block_till_done()
    hass.states.async_set(GAS_YESTERDAY, str(before), {"unit_of_measurement": "m³"})
    await hass.async_block_till_done()
    hass.states.async_set(GAS_YESTERDAY, str(after), {"unit_of_measurement": "m³"})
    await hass.async_block_till_done()
    assert titles(hass) == (["Gas use went up"] if alerts else [])


async def import_gas_days(hass: HomeAssistant, per_day: list[float]) -> None:
    """Hourly gas rows as the P1 provider writes them, ``per_day`` for the days before today."""
    series = StatisticSeries(
        provider="dsmr",
        meter="4730303332353631323831353836373139",
        quantity="gas",
        name="Gas (P1, hour of reading)",
        unit=VOLUME_M3,
    )
    assert series.statistic_id == GAS_STATISTIC
    today = dt_util.start_of_local_day()
    rows = []
    total = 0.0
    for back, amount in zip(range(len(per_day), 0, -1), per_day, strict=True):
        day = today - timedelta(days=back)
        for hour in range(24):
            total += amount / 24
            rows.append(
                {
                    "start": dt_util.as_utc(day + timedelta(hours=hour)),
                    "state": 1000 + total,
                    "sum": total,
                }
            )
    async_add_external_statistics(hass, series.metadata(), rows)
    await async_wait_recording_done(hass)


@pytest.mark.parametrize(
    ("yesterday", "alerts"), [(5.0, True), (2.8, False)], ids=["unusual", "usual"]
)
async def test_unusual_gas_day_from_the_statistics(
    recorder_mock: object, hass: HomeAssistant, yesterday: float, *, alerts: bool
) -> None:
    await import_gas_days(hass, [0.0, 2.0, 2.5, 1.5, 2.0, 2.0, 2.5, 1.5, yesterday])
    await setup_examples(hass)
    await hass.services.async_call(
        AUTOMATION,
        "trigger",
        {"entity_id": "automation.gas_unusual_day", "skip_condition": False},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert titles(hass) == (["Unusual gas use"] if alerts else [])
    if alerts:
        message = next(iter(async_get_persistent_notifications(hass).values()))["message"]
        assert "5.0 m³" in message
        assert "2.0 m³ a day" in message
