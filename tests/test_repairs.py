"""Repair issues, end to end with the stub provider: raised once, in plain words, and gone by themselves.

A changed API (an answer the client cannot read) and history that could not be imported for more
than a day each raise one issue per entry; the next success removes it. Rejected credentials use
Home Assistant's own reauthentication repair.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json

from freezegun.api import FrozenDateTimeFactory
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.meterhub.api.errors import (
    ApiConnectionError,
    ApiSchemaError,
    shape_of,
    summary_of,
)
from custom_components.meterhub.const import DOMAIN
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .helpers import only_reauth_flow, start_flow
from .stub_provider import StubProvider

ENTITY = "sensor.stub_meter_energy"
MPAN = "1200012345678"
#: An answer in a shape the stub client does not expect, carrying an identifier as a value.
CHANGED_ANSWER = {"meterPoint": {"id": MPAN, "readings": [{"at": "2026-12-04", "kwh": 1.5}]}}


async def add_entry(hass: HomeAssistant) -> ConfigEntry:
    flow_id = (await start_flow(hass, "stub"))["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"api_key": "good-key", "meter": "meter1"}
    )
    await hass.async_block_till_done()
    return result["result"]  # type: ignore[no-any-return]


async def poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory, step: timedelta) -> None:
    """Let ``step`` pass and wait for the poll it brings, statistics reads and writes included."""
    freezer.tick(step)
    async_fire_time_changed(hass)
    # The coordinator polls in a background task; its repair work reads the recorder.
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def our_issues(hass: HomeAssistant) -> dict[str, ir.IssueEntry]:
    return {
        issue_id: issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    }


def test_shape_keeps_field_names_and_types_never_values() -> None:
    shape = shape_of(CHANGED_ANSWER)
    assert shape == {
        "meterPoint": {"id": "str", "readings": ["list of 1", {"at": "str", "kwh": "float"}]}
    }
    assert shape_of({MPAN: 1, "me@example.com": None, "rows": []}) == {
        "<value>": "null",  # keys that look like data are masked, and collapse into one
        "rows": "list of 0",
    }
    assert summary_of(shape) == "an object with fields meterPoint"
    assert summary_of(shape_of([1, 2])) == "a list of 2"
    assert summary_of(shape_of(None)) == "null"
    assert MPAN not in json.dumps(shape_of(CHANGED_ANSWER, depth=1))


async def test_changed_api_raises_one_repair_until_answers_are_right_again(
    hass: HomeAssistant,
    stub_provider: StubProvider,
    freezer: FrozenDateTimeFactory,
    hass_client: ClientSessionGenerator,
) -> None:
    entry = await add_entry(hass)
    server = stub_provider.server
    server.fail_with = ApiSchemaError("readings", "a list of half-hour rows", CHANGED_ANSWER)
    for _ in range(3):  # every poll fails the same way: still one issue
        await poll(hass, freezer, timedelta(minutes=6))
        assert hass.states.get(ENTITY).state == STATE_UNAVAILABLE
    issues = our_issues(hass)
    assert list(issues) == [f"api_changed_{entry.entry_id}"]
    issue = issues[f"api_changed_{entry.entry_id}"]
    assert issue.translation_key == "api_changed"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.learn_more_url == "https://github.com/meterhub/meterhub/issues"
    placeholders = issue.translation_placeholders or {}
    assert placeholders["source"] == "stub"
    assert placeholders["version"] == "0.1.0"
    assert placeholders["what"] == "readings"
    assert placeholders["expected"] == "a list of half-hour rows"
    assert placeholders["received"] == "an object with fields meterPoint"
    assert MPAN not in json.dumps(placeholders)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    problems = diagnostics["problems"]
    assert problems["reporting"] == {"api_changed": 1}
    assert problems["last_schema_error"]["received"] == shape_of(CHANGED_ANSWER)
    assert MPAN not in json.dumps(diagnostics)

    server.fail_with = None
    server.reading = 101.5
    await poll(hass, freezer, timedelta(minutes=6))
    assert hass.states.get(ENTITY).state == "101.5"
    assert our_issues(hass) == {}


async def test_changed_api_repair_clears_after_a_reload_in_between(
    hass: HomeAssistant, stub_provider: StubProvider, freezer: FrozenDateTimeFactory
) -> None:
    """A reload (the user's, or an options change) replaces the coordinator that reported the
    problem: the new one's first good answer still removes the issue."""
    entry = await add_entry(hass)
    server = stub_provider.server
    server.fail_with = ApiSchemaError("readings", "a list of half-hour rows", CHANGED_ANSWER)
    await poll(hass, freezer, timedelta(minutes=6))
    assert list(our_issues(hass)) == [f"api_changed_{entry.entry_id}"]

    server.fail_with = None
    server.reading = 102.5
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(ENTITY).state == "102.5"
    assert our_issues(hass) == {}


async def test_history_stalled_for_a_day_says_how_far_the_dashboard_goes(
    hass: HomeAssistant, stub_provider: StubProvider, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to("2026-12-04 10:02:00+00:00")
    server = stub_provider.server
    last_hour = datetime(2026, 12, 4, 8, tzinfo=UTC)
    server.hours = {last_hour - timedelta(hours=1): 0.4, last_hour: 0.5}
    await add_entry(hass)
    server.fail_with = ApiConnectionError("down")
    await poll(hass, freezer, timedelta(minutes=6))
    assert our_issues(hass) == {}  # one failure is not a stall
    await poll(hass, freezer, timedelta(hours=23))
    assert our_issues(hass) == {}  # nor are 23 hours
    await poll(hass, freezer, timedelta(hours=2))
    (issue,) = our_issues(hass).values()
    assert issue.translation_key == "history_stalled"
    placeholders = issue.translation_placeholders or {}
    local = dt_util.as_local
    assert placeholders["last_hour"] == local(last_hour).strftime("%Y-%m-%d %H:%M")
    assert placeholders["since"] == local(datetime(2026, 12, 4, 10, 8, tzinfo=UTC)).strftime(
        "%Y-%m-%d %H:%M"
    )
    server.fail_with = None
    await poll(hass, freezer, timedelta(minutes=6))
    assert our_issues(hass) == {}


async def test_removing_the_entry_removes_its_repairs(
    hass: HomeAssistant, stub_provider: StubProvider, freezer: FrozenDateTimeFactory
) -> None:
    entry = await add_entry(hass)
    stub_provider.server.fail_with = ApiSchemaError("readings", "a list", "<html>")
    await poll(hass, freezer, timedelta(minutes=6))
    assert our_issues(hass)
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert our_issues(hass) == {}


async def test_rejected_credentials_use_home_assistants_reauth_repair(
    hass: HomeAssistant, stub_provider: StubProvider
) -> None:
    entry = await add_entry(hass)
    stub_provider.server.keys = {"new-key"}
    await entry.runtime_data.coordinators[0].async_refresh()
    await hass.async_block_till_done()
    registry = ir.async_get(hass)
    reauth_issue = ("homeassistant", f"config_entry_reauth_{DOMAIN}_{entry.entry_id}")
    assert registry.async_get_issue(*reauth_issue) is not None
    assert our_issues(hass) == {}  # no second issue of ours beside it
    await hass.config_entries.flow.async_configure(only_reauth_flow(hass), {"api_key": "new-key"})
    await hass.async_block_till_done()
    assert registry.async_get_issue(*reauth_issue) is None
