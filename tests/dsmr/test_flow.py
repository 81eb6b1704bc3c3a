"""The config flow as the UI drives it, against a real pty and a real TCP bridge."""

from __future__ import annotations

from pathlib import Path

from dsmr_parser.clients.settings import SERIAL_SETTINGS_V5
import pytest

from custom_components.meterhub.const import DOMAIN
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from . import telegrams
from .helpers import add_meter, choose_port, configure, open_dsmr_form, preselected, set_options
from .standin import PtyMeter, Sender, TcpMeter, wait_for


async def test_adds_a_dsmr5_meter_on_a_serial_port(
    hass: HomeAssistant, pty_meter: PtyMeter
) -> None:
    sender = Sender(pty_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        # Two steps: the port, then the version list with the recognised version preselected.
        form = await open_dsmr_form(hass)
        assert [str(key) for key in form["data_schema"].schema] == ["port"]
        form = await choose_port(hass, pty_meter.path)
        assert [str(key) for key in form["data_schema"].schema] == ["dsmr_version"]
        assert preselected(form) == "5"
        assert form["description_placeholders"]["detected"] == "DSMR 5"
        entry = await add_meter(hass, pty_meter.path, "5")
        assert entry.unique_id == telegrams.V5_ID
        assert entry.data == {"provider": "dsmr", "port": pty_meter.path, "dsmr_version": "5"}
        assert entry.state is ConfigEntryState.LOADED
        await wait_for(lambda: hass.states.get("sensor.electricity_meter_power_consumption"))
        assert hass.states.get("sensor.electricity_meter_power_consumption").state == "0.456"
    finally:
        await sender.stop()


async def test_dsmr4_and_22_over_a_network_bridge(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    """7E1 versions over socket:// (ptys refuse 7-bit settings); each is its own meter."""
    for version, telegram, meter_id in (
        ("4", telegrams.v4(), telegrams.V4_ID),
        ("2.2", telegrams.v22(), telegrams.V22_ID),
    ):
        sender = Sender(tcp_meter.write, telegram, 0.1)
        sender.start()
        try:
            entry = await add_meter(hass, tcp_meter.url, version)
            assert entry.unique_id == meter_id
            await hass.config_entries.async_unload(entry.entry_id)
        finally:
            await sender.stop()


async def test_form_errors_then_success(
    hass: HomeAssistant, pty_meter: PtyMeter, tmp_path: Path
) -> None:
    form = await open_dsmr_form(hass)
    flow_id = form["flow_id"]

    result = await hass.config_entries.flow.async_configure(
        flow_id, {"port": str(tmp_path / "no-such-port")}
    )
    assert result["errors"] == {"base": "cannot_connect"}

    # The port opens but the meter says nothing.
    result = await hass.config_entries.flow.async_configure(flow_id, {"port": pty_meter.path})
    assert result["errors"] == {"base": "no_telegram"}

    sender = Sender(pty_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        result = await hass.config_entries.flow.async_configure(flow_id, {"port": pty_meter.path})
        assert result["step_id"] == "dsmr_details"
        # A Dutch DSMR 5 meter is neither a Belgian nor a Luxembourg one.
        for wrong in ("5B", "5L"):
            result = await hass.config_entries.flow.async_configure(
                flow_id, {"dsmr_version": wrong}
            )
            assert result["errors"] == {"base": "wrong_version"}
            assert result["description_placeholders"]["detected"] == "DSMR 5"
        # Line noise only: data, but never a telegram.
        sender.telegram = "\x00\xff garbage without any frame \xfe" * 5
        result = await hass.config_entries.flow.async_configure(flow_id, {"dsmr_version": "5"})
        assert result["errors"] == {"base": "wrong_version"}
        sender.telegram = telegrams.v5()
        result = await hass.config_entries.flow.async_configure(flow_id, {"dsmr_version": "5"})
        assert result["type"] is FlowResultType.CREATE_ENTRY
    finally:
        await sender.stop()


async def test_noise_leads_on_without_a_guess(hass: HomeAssistant, pty_meter: PtyMeter) -> None:
    """Data that is no telegram at any speed: the version step comes, nothing is preselected."""
    sender = Sender(pty_meter.write, "\x00\xff garbage without any frame \xfe" * 5, 0.1)
    sender.start()
    try:
        form = await choose_port(hass, pty_meter.path)
        assert form["description_placeholders"]["detected"] == "-"
        assert preselected(form) == "5"
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], {"dsmr_version": "5"}
        )
        assert result["errors"] == {"base": "wrong_version"}
    finally:
        await sender.stop()


async def test_wrong_version_over_tcp(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    sender = Sender(tcp_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        form = await choose_port(hass, tcp_meter.url)
        for wrong in ("2.2", "4", "5L"):
            result = await hass.config_entries.flow.async_configure(
                form["flow_id"], {"dsmr_version": wrong}
            )
            assert result["errors"] == {"base": "wrong_version"}, wrong
    finally:
        await sender.stop()


async def test_same_meter_twice_is_aborted(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    sender = Sender(tcp_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        await add_meter(hass, tcp_meter.url, "5")
        result = await configure(hass, {"port": tcp_meter.url, "dsmr_version": "5"})
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "already_configured"
    finally:
        await sender.stop()


async def test_reconfigure_moves_the_port_but_not_the_meter(
    hass: HomeAssistant, pty_meter: PtyMeter, tcp_meter: TcpMeter
) -> None:
    on_pty = Sender(pty_meter.write, telegrams.v5(), 0.1)
    on_tcp = Sender(tcp_meter.write, telegrams.v5(), 0.1)
    on_pty.start()
    on_tcp.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        result = await hass.config_entries.flow.async_init(
            DOMAIN,
            context={"source": config_entries.SOURCE_RECONFIGURE, "entry_id": entry.entry_id},
        )
        assert result["step_id"] == "reconfigure"
        # Another meter behind the bridge: refused.
        on_tcp.telegram = telegrams.v5b()
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"port": tcp_meter.url, "dsmr_version": "5B"}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "wrong_account"
        # The same meter, moved to the bridge.
        on_tcp.telegram = telegrams.v5()
        result = await hass.config_entries.flow.async_init(
            DOMAIN,
            context={"source": config_entries.SOURCE_RECONFIGURE, "entry_id": entry.entry_id},
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"port": tcp_meter.url, "dsmr_version": "5"}
        )
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        assert entry.data["port"] == tcp_meter.url
        await wait_for(lambda: tcp_meter.connections >= 3)  # two validations, then the reader
    finally:
        await on_pty.stop()
        await on_tcp.stop()


async def test_options_are_validated(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    sender = Sender(tcp_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, tcp_meter.url, "5")
        result = await set_options(hass, entry, forward_to="not a url at all")
        assert result["errors"] == {"forward_to": "invalid_forward_target"}
        result = await set_options(hass, entry, forward_to="ftp://host key")
        assert result["errors"] == {"forward_to": "invalid_forward_target"}
        result = await set_options(
            hass,
            entry,
            time_between_update=5,
            forward_to="http://127.0.0.1:7777 KEY1\n\nhttps://dsmr.example KEY2\n",
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert entry.options == {
            "time_between_update": 5,
            "forward_to": "http://127.0.0.1:7777 KEY1\n\nhttps://dsmr.example KEY2",
        }
        assert entry.state is ConfigEntryState.LOADED
        assert len(entry.runtime_data.forwarders) == 2
    finally:
        await sender.stop()


async def test_works_next_to_core_dsmr(
    hass: HomeAssistant, tcp_meter: TcpMeter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Core's dsmr (through dsmr-parser's reader) writes its port into dsmr-parser's shared
    settings dicts; our reader must not pick that up (found by the benchmark)."""
    monkeypatch.setitem(SERIAL_SETTINGS_V5, "url", "/dev/ttyUSB-of-core")
    monkeypatch.setitem(SERIAL_SETTINGS_V5, "low_latency", False)
    sender = Sender(tcp_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, tcp_meter.url, "5")
        await wait_for(lambda: entry.runtime_data.reader.stats.telegrams > 0)
    finally:
        await sender.stop()
