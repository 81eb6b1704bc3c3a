"""The P1 cable that vanished: a repair after a grace period, gone when the cable is back, and a
fix flow that moves the entry to the cable's new port.

The meter sits on a real pseudo-terminal behind a symlink (a ``/dev/serial/by-id`` stand-in);
unplugging closes the pty and removes the link, as udev does when the cable is pulled.
Time is advanced with ``async_fire_time_changed``; nothing sleeps on a clock.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
import serialx

from custom_components.meterhub.api.dsmr import compose_telegram
from custom_components.meterhub.const import DOMAIN
from custom_components.meterhub.providers.dsmr.port_watch import PORT_GRACE
from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigEntry, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from . import telegrams
from .helpers import add_meter
from .standin import PtyMeter, Sender, TcpMeter, wait_for
from .test_sensors import POWER, state


def port_issue(hass: HomeAssistant, entry: ConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"port_missing_{entry.entry_id}")


def issue_events(hass: HomeAssistant) -> list[tuple[str, str]]:
    """Every change to Meter Hub's issues, as (action, issue id), from now on."""
    seen: list[tuple[str, str]] = []

    @callback
    def record(event: Event[Any]) -> None:
        if event.data["domain"] == DOMAIN:
            seen.append((event.data["action"], event.data["issue_id"]))

    hass.bus.async_listen(ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, record)
    return seen


async def let_time_pass(hass: HomeAssistant, seconds: float) -> None:
    """Fire the timers due within ``seconds`` (the grace period, the reader's back-off)."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await hass.async_block_till_done()


async def unplug_and_wait_for_the_reader(
    hass: HomeAssistant, meter: PtyMeter, entry: ConfigEntry
) -> None:
    """Pull the cable; wait until the entities are unavailable and a reconnect has failed."""
    stats = entry.runtime_data.reader.stats
    failures = stats.connect_failures
    meter.unplug()
    await wait_for(lambda: state(hass, POWER) == STATE_UNAVAILABLE)
    await wait_for(lambda: stats.connect_failures > failures)  # the device is gone
    await hass.async_block_till_done()  # the watch has looked at the device


@pytest.fixture
def grace() -> float:
    return PORT_GRACE.total_seconds()


async def test_vanished_port_raises_one_repair_after_grace_and_clears_when_back(
    hass: HomeAssistant, pty_meter: PtyMeter, grace: float
) -> None:
    sender = Sender(pty_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        await wait_for(lambda: state(hass, POWER) == "0.456")
        events = issue_events(hass)
        await unplug_and_wait_for_the_reader(hass, pty_meter, entry)
        assert port_issue(hass, entry) is None  # not at once: USB re-enumerates in seconds
        await let_time_pass(hass, grace - 10)
        assert port_issue(hass, entry) is None

        await let_time_pass(hass, grace + 1)
        issue = port_issue(hass, entry)
        assert issue is not None
        assert issue.translation_key == "port_missing"
        assert issue.is_fixable
        assert issue.severity is ir.IssueSeverity.ERROR
        assert issue.translation_placeholders == {"port": pty_meter.path}
        assert telegrams.V5_ID not in repr(issue.translation_placeholders)

        # Reconnect attempts go on (every back-off) and fail: still one issue, raised once.
        stats = entry.runtime_data.reader.stats
        for step in (2, 4):
            failures = stats.connect_failures
            await let_time_pass(hass, 60 * step)
            await wait_for(lambda: stats.connect_failures > failures)  # noqa: B023
            await hass.async_block_till_done()
        assert events == [("create", issue.issue_id)]

        sender.telegram = telegrams.v5(power=0.789)
        pty_meter.plug_in()  # back behind the same path
        await let_time_pass(hass, 600)  # the reader's back-off ends
        await wait_for(lambda: state(hass, POWER) == "0.789")
        await hass.async_block_till_done()
        assert port_issue(hass, entry) is None
        assert events == [("create", issue.issue_id), ("remove", issue.issue_id)]
    finally:
        await sender.stop()


async def test_quick_replug_within_the_grace_period_raises_nothing(
    hass: HomeAssistant, pty_meter: PtyMeter, grace: float
) -> None:
    sender = Sender(pty_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        await wait_for(lambda: state(hass, POWER) == "0.456")
        events = issue_events(hass)
        await unplug_and_wait_for_the_reader(hass, pty_meter, entry)
        pty_meter.plug_in()  # a USB re-enumeration: the device is back within seconds
        await let_time_pass(hass, grace + 1)
        await wait_for(lambda: state(hass, POWER) == "0.456")
        await let_time_pass(hass, 600)
        assert port_issue(hass, entry) is None
        assert [action for action, _ in events if action == "create"] == []
    finally:
        await sender.stop()


async def test_network_bridge_that_stops_answering_is_not_a_vanished_port(
    hass: HomeAssistant, tcp_meter: TcpMeter, grace: float
) -> None:
    sender = Sender(tcp_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, tcp_meter.url, "5")
        await wait_for(lambda: state(hass, POWER) == "0.456")
        await tcp_meter.stop()  # the bridge is gone from the network
        stats = entry.runtime_data.reader.stats
        await wait_for(lambda: state(hass, POWER) == STATE_UNAVAILABLE)
        await wait_for(lambda: stats.connect_failures >= 1)
        for _ in range(3):
            await let_time_pass(hass, grace * 4)
        assert port_issue(hass, entry) is None
        assert state(hass, POWER) == STATE_UNAVAILABLE
        assert entry.state is ConfigEntryState.LOADED  # still reconnecting
    finally:
        await sender.stop()


async def raise_the_repair(
    hass: HomeAssistant, meter: PtyMeter, entry: ConfigEntry, grace: float
) -> ir.IssueEntry:
    await unplug_and_wait_for_the_reader(hass, meter, entry)
    await let_time_pass(hass, grace + 1)
    issue = port_issue(hass, entry)
    assert issue is not None
    return issue


def second_port(tmp_path: Path) -> PtyMeter:
    """The cable plugged into another USB port: the same meter behind another path."""
    directory = tmp_path / "other-usb-port"
    directory.mkdir()
    return PtyMeter(directory)


async def test_fix_flow_moves_the_entry_to_the_new_port(
    hass: HomeAssistant,
    pty_meter: PtyMeter,
    tmp_path: Path,
    hass_client: ClientSessionGenerator,
    grace: float,
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    moved = second_port(tmp_path)
    old = Sender(pty_meter.write, telegrams.v5(), 0.1)
    new = Sender(moved.write, telegrams.v5(power=0.789), 0.1)
    old.start()
    new.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        unique_id = entry.unique_id
        await wait_for(lambda: state(hass, POWER) == "0.456")
        issue = await raise_the_repair(hass, pty_meter, entry, grace)

        client = await hass_client()
        response = await client.post(
            "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue.issue_id}
        )
        assert response.status == 200
        form = await response.json()
        assert form["type"] == "form"
        assert form["step_id"] == "choose_port"
        assert form["description_placeholders"]["port"] == pty_meter.path
        assert [field["name"] for field in form["data_schema"]] == ["port"]
        # The serial ports the system has, as the P1 form lists them; any path can be typed.
        select = form["data_schema"][0]["selector"]["select"]
        present = await hass.async_add_executor_job(serialx.list_serial_ports)
        assert set(select["options"]) == {port.device for port in present}
        assert select["custom_value"] is True
        url = f"/api/repairs/issues/fix/{form['flow_id']}"

        # A port with nothing behind it: the form says so and nothing changes.
        response = await client.post(url, json={"port": str(tmp_path / "ttyNothing")})
        form = await response.json()
        assert form["type"] == "form"
        assert form["errors"] == {"base": "cannot_connect"}
        assert entry.data["port"] == pty_meter.path

        response = await client.post(url, json={"port": moved.path})
        result = await response.json()
        assert result["type"] == "create_entry", result
        await wait_for(lambda: state(hass, POWER) == "0.789")
        assert entry.data["port"] == moved.path
        assert entry.data["dsmr_version"] == "5"
        assert entry.unique_id == unique_id
        assert port_issue(hass, entry) is None
        assert entry.state is ConfigEntryState.LOADED
    finally:
        await old.stop()
        await new.stop()
        moved.unplug()


async def test_fix_flow_refuses_another_meter(
    hass: HomeAssistant,
    pty_meter: PtyMeter,
    tmp_path: Path,
    hass_client: ClientSessionGenerator,
    grace: float,
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    elsewhere = second_port(tmp_path)
    other_id = telegrams.V5_ID[:-2] + "39"  # "E0044007131610219": the neighbour's meter
    other_meter = compose_telegram(telegrams.v5().split("!")[0].replace(telegrams.V5_ID, other_id))
    old = Sender(pty_meter.write, telegrams.v5(), 0.1)
    other = Sender(elsewhere.write, other_meter, 0.1)
    old.start()
    other.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        await wait_for(lambda: state(hass, POWER) == "0.456")
        issue = await raise_the_repair(hass, pty_meter, entry, grace)
        client = await hass_client()
        response = await client.post(
            "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue.issue_id}
        )
        flow_id = (await response.json())["flow_id"]
        response = await client.post(
            f"/api/repairs/issues/fix/{flow_id}", json={"port": elsewhere.path}
        )
        form = await response.json()
        assert form["type"] == "form"
        assert form["errors"] == {"base": "wrong_meter"}
        assert entry.data["port"] == pty_meter.path
        assert port_issue(hass, entry) is not None
    finally:
        await old.stop()
        await other.stop()
        elsewhere.unplug()


async def test_changing_or_removing_the_entry_clears_the_repair(
    hass: HomeAssistant, pty_meter: PtyMeter, tmp_path: Path, grace: float
) -> None:
    moved = second_port(tmp_path)
    old = Sender(pty_meter.write, telegrams.v5(), 0.1)
    new = Sender(moved.write, telegrams.v5(power=0.789), 0.1)
    old.start()
    new.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        await wait_for(lambda: state(hass, POWER) == "0.456")
        await raise_the_repair(hass, pty_meter, entry, grace)

        # The reconfigure step (as the entry's menu offers it) points the entry elsewhere.
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
        )
        assert result["step_id"] == "reconfigure"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"port": moved.path, "dsmr_version": "5"}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        assert port_issue(hass, entry) is None
        await wait_for(lambda: state(hass, POWER) == "0.789")

        # Gone again, then the entry is deleted: nothing is left to repair.
        await raise_the_repair(hass, moved, entry, grace)
        assert await hass.config_entries.async_remove(entry.entry_id)
        await hass.async_block_till_done()
        assert port_issue(hass, entry) is None
    finally:
        await old.stop()
        await new.stop()
        moved.unplug()
