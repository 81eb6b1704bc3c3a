"""Faults on the line: bad telegrams, a vanishing device, a closing bridge, a silent port.

Each test checks what users see (states, availability) and what maintainers see (diagnostics).
"""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.meterhub.providers.dsmr import runtime as dsmr_runtime
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant

from . import telegrams
from .helpers import add_meter, set_options
from .standin import PtyMeter, Sender, TcpMeter, wait_for
from .test_sensors import POWER, state


async def test_bad_telegrams_are_dropped_counted_and_never_shown(
    hass: HomeAssistant, pty_meter: PtyMeter, hass_client: ClientSessionGenerator
) -> None:
    sender = Sender(pty_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        await set_options(hass, entry, time_between_update=0)
        runtime = entry.runtime_data
        await wait_for(lambda: state(hass, POWER) == "0.456")
        await sender.stop()

        good = telegrams.v5(power=0.5)
        bad_crc = telegrams.v5(power=9.999).replace("09.999*kW", "09.998*kW")
        garbled = telegrams.v5(power=8.888).replace("230.1*V", "23\xe9.1*V")
        cut = telegrams.v5(power=7.777)[:400]
        # Noise between telegrams, a cut telegram, a CRC error, a garbled one, all in one burst.
        pty_meter.write("\x00\xfe\xff line noise \r\n" + cut + bad_crc + garbled + "zz" + good)
        await wait_for(lambda: state(hass, POWER) == "0.5")
        stats = runtime.reader.stats
        assert (stats.crc_errors, stats.garbled, stats.truncated) == (1, 1, 1)
        assert stats.noise_bytes > 0

        # Byte by byte: slow, but whole.
        for byte in telegrams.v5(power=0.6).encode():
            pty_meter.write(bytes([byte]))
        await wait_for(lambda: state(hass, POWER) == "0.6")
        # Nothing of the bad telegrams ever showed.
        assert state(hass, POWER) not in ("9.999", "9.998", "8.888", "7.777")

        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
        reader = diagnostics["provider"]["reader"]
        assert reader["dropped"] == 3
        assert reader["crc_errors"] == 1
        assert reader["connects"] == 1
        text = repr(diagnostics)
        for identifier in (telegrams.V5_ID, telegrams.GAS_ID, telegrams.WATER_ID):
            assert identifier not in text
        assert diagnostics["entry"]["unique_id"] == "**REDACTED**"
    finally:
        await sender.stop()


async def test_device_unplugged_and_plugged_back(hass: HomeAssistant, pty_meter: PtyMeter) -> None:
    sender = Sender(pty_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        await wait_for(lambda: state(hass, POWER) == "0.456")
        pty_meter.unplug()
        await wait_for(lambda: state(hass, POWER) == STATE_UNAVAILABLE)
        stats = entry.runtime_data.reader.stats
        await wait_for(lambda: stats.connect_failures >= 1)  # the device is gone: retries fail
        sender.telegram = telegrams.v5(power=0.789)
        pty_meter.plug_in()  # the same /dev/serial/by-id-like path, a new device behind it
        await wait_for(lambda: state(hass, POWER) == "0.789", within=20)
        assert stats.connects == 2
        assert stats.disconnects == 1
    finally:
        await sender.stop()


async def test_network_bridge_closing_the_connection(
    hass: HomeAssistant, tcp_meter: TcpMeter
) -> None:
    sender = Sender(tcp_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, tcp_meter.url, "5")
        await wait_for(lambda: state(hass, POWER) == "0.456")
        connections = tcp_meter.connections
        await tcp_meter.drop_clients()
        await wait_for(lambda: state(hass, POWER) == STATE_UNAVAILABLE)
        await wait_for(lambda: tcp_meter.connections > connections, within=20)
        await wait_for(lambda: state(hass, POWER) == "0.456")
        assert entry.runtime_data.reader.stats.disconnects == 1
    finally:
        await sender.stop()


async def test_silent_port_is_reconnected(
    hass: HomeAssistant, tcp_meter: TcpMeter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dsmr_runtime, "SILENT_TIMEOUT", 0.5)
    sender = Sender(tcp_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, tcp_meter.url, "5")
        await wait_for(lambda: state(hass, POWER) == "0.456")
        await sender.stop()  # the bridge stays connected but the meter falls silent
        stats = entry.runtime_data.reader.stats
        await wait_for(lambda: stats.silent_timeouts >= 1)
        assert state(hass, POWER) == STATE_UNAVAILABLE
        sender.start()
        await wait_for(lambda: state(hass, POWER) == "0.456", within=20)
        assert stats.connects >= 2
    finally:
        await sender.stop()


async def test_unload_and_stop_close_the_port(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    sender = Sender(tcp_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, tcp_meter.url, "5")
        await wait_for(lambda: state(hass, POWER) == "0.456")
        assert len(tcp_meter.clients) == 1  # the reader; the flow's test connection is closed
        assert await hass.config_entries.async_unload(entry.entry_id)
        await wait_for(lambda: not tcp_meter.clients)

        assert await hass.config_entries.async_setup(entry.entry_id)
        await wait_for(lambda: len(tcp_meter.clients) == 1)
        hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
        await wait_for(lambda: not tcp_meter.clients)
    finally:
        await sender.stop()
