"""DSMR P1: with every logger at DEBUG and every error path driven, nothing planted leaks (issue 23).

Planted: the electricity and gas meters' equipment identifiers (hex-encoded as telegrams carry them,
and decoded), a Luxembourg meter's identifier, its decryption and authentication keys and the key
that replaces them, and a DSMR-reader API key. They must not appear in any log record (tracebacks
included), state, name, title, repair or diagnostics file. The telegrams travel a real pty and a
real ``socket://`` bridge; they arrive corrupt, cut short, with lines dsmr-parser cannot read, under
a wrong key; the meter is unplugged and plugged back; forwarding meets a DSMR-reader that answers
401 and 500. Unique ids and the device's serial number are where the identifiers belong.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
from typing import Any

from aiohttp import web
import pytest

from custom_components.meterhub.api.dsmr import compose_telegram
from custom_components.meterhub.diagnostics import async_get_config_entry_diagnostics
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from ..privacy import NOT_OURS, assert_nothing_leaks, leak_watch, surfaces
from . import telegrams, variants
from .helpers import choose_port, configure, set_options
from .standin import PtyMeter, Sender, TcpMeter, wait_for

ELECTRICITY = "E0099887766554433"
GAS = "G0077665544332211"
LUXEMBOURG = "SAG9988776655443"
KEY = "7A1B2C3D4E5F60718293A4B5C6D7E8F9"
AUTH_KEY = "C0FFEE00112233445566778899AABBCC"
NEW_KEY = "F9E8D7C6B5A4938271605F4E3D2C1B0A"
API_KEY = "planted-dsmr-reader-api-key-8841"
#: serialx logs every byte it reads or writes at DEBUG ("Received b'/ISK5...'"): the transport's
#: own trace, which "enable debug logging" on our page does not turn on (test_packaging holds the
#: manifest to that). Someone who sets ``serialx: debug`` by hand asks for the raw bytes.
IGNORED = (*NOT_OURS, "serialx")


def hex_of(identifier: str) -> str:
    return identifier.encode("ascii").hex().upper()


PLANTED = {
    "electricity id": ELECTRICITY,
    "electricity id (hex)": hex_of(ELECTRICITY),
    "gas id": GAS,
    "gas id (hex)": hex_of(GAS),
    "Luxembourg id": LUXEMBOURG,
    "Luxembourg id (hex)": hex_of(LUXEMBOURG),
    "decryption key": KEY,
    "decryption key (lower case)": KEY.lower(),
    "authentication key": AUTH_KEY,
    "authentication key (lower case)": AUTH_KEY.lower(),
    "new decryption key": NEW_KEY,
    "DSMR-reader API key": API_KEY,
}


def recomposed(telegram: str) -> str:
    """The telegram with a fresh CRC (after its lines were changed)."""
    return compose_telegram(telegram[: telegram.rindex("!")])


def planted(**changes: Any) -> str:
    """A DSMR 5 telegram carrying the planted electricity and gas identifiers."""
    text = telegrams.v5(**changes)
    text = text.replace(telegrams.V5_ID, hex_of(ELECTRICITY)).replace(telegrams.GAS_ID, hex_of(GAS))
    return recomposed(text)


def unreadable_lines() -> str:
    """Both identifier lines in a shape dsmr-parser cannot read (the library would log them)."""
    text = planted()
    for identifier in (ELECTRICITY, GAS):
        text = text.replace(f"({hex_of(identifier)})", f"({hex_of(identifier)}#)")
    return recomposed(text)


def unparsable() -> str:
    """A telegram the parser gives up on entirely (a reading that is no number)."""
    return recomposed(planted().replace("1-0:1.8.1(", "1-0:1.8.1(X"))


def wrong_crc() -> str:
    text = planted()
    end = text.rindex("!") + 1
    return text[:end] + ("0000" if text[end:].strip() != "0000" else "1111") + "\r\n"


class DsmrReaderStandIn:
    """A DSMR-reader answering the datalogger endpoint with one status: 401 or 500."""

    def __init__(self) -> None:
        self.status = 401
        self.posts = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _post(self, request: web.Request) -> web.Response:
        self.posts += 1
        await request.post()
        return web.json_response(
            {"detail": f"meter {ELECTRICITY} key {API_KEY} refused"}, status=self.status
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/v1/datalogger/dsmrreading", self._post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def dsmr_reader(socket_enabled: None) -> AsyncIterator[DsmrReaderStandIn]:
    server = DsmrReaderStandIn()
    await server.start()
    yield server
    await server.stop()


async def diagnostics_text(hass: HomeAssistant, entry: ConfigEntry[Any]) -> tuple[str, str]:
    return "diagnostics", json.dumps(await async_get_config_entry_diagnostics(hass, entry))


async def test_plain_meter_leaks_no_identifier(
    hass: HomeAssistant,
    pty_meter: PtyMeter,
    tcp_meter: TcpMeter,
    dsmr_reader: DsmrReaderStandIn,
) -> None:
    on_pty = Sender(pty_meter.write, planted(), 0.05)
    on_tcp = Sender(tcp_meter.write, planted(), 0.05)
    on_pty.start()
    on_tcp.start()
    try:
        with leak_watch() as watch:
            # The form over socket://: errors first (a wrong version, data that is no telegram).
            form = await choose_port(hass, tcp_meter.url)
            result = await hass.config_entries.flow.async_configure(
                form["flow_id"], {"dsmr_version": "5B"}
            )
            assert result["errors"] == {"base": "wrong_version"}
            on_tcp.telegram = "\x00\xff noise \xfe" * 20
            result = await hass.config_entries.flow.async_configure(
                form["flow_id"], {"dsmr_version": "5"}
            )
            assert result["errors"] == {"base": "wrong_version"}
            await on_tcp.stop()

            # Set up on the pty, every telegram shown, forwarding to a DSMR-reader that says 401.
            result = await configure(hass, {"port": pty_meter.path, "dsmr_version": "5"})
            assert result["type"] is FlowResultType.CREATE_ENTRY
            entry = result["result"]
            runtime = entry.runtime_data
            await set_options(
                hass, entry, time_between_update=0, forward_to=f"{dsmr_reader.url} {API_KEY}"
            )
            runtime = entry.runtime_data
            stats = runtime.reader.stats
            await wait_for(lambda: runtime.shown >= 1 and dsmr_reader.posts >= 1)
            dsmr_reader.status = 500
            posts = dsmr_reader.posts
            await wait_for(lambda: dsmr_reader.posts > posts + 1)

            # Corrupt, garbled and cut-short telegrams; lines the parser cannot read; a
            # telegram it gives up on.
            on_pty.telegram = wrong_crc()
            await wait_for(lambda: stats.crc_errors >= 2)
            on_pty.telegram = planted().replace("1-0:1.8.2", "1-0:1.8.\xe9")
            await wait_for(lambda: stats.garbled >= 2)
            on_pty.telegram = planted()[:200] + planted()
            await wait_for(lambda: stats.truncated >= 2)
            on_pty.telegram = unreadable_lines()
            await wait_for(lambda: runtime.unparsed_lines >= 4)
            on_pty.telegram = unparsable()
            await wait_for(lambda: runtime.parse_errors >= 2)

            # Unplugged and plugged back in.
            shown = runtime.shown
            pty_meter.unplug()
            await wait_for(lambda: stats.connect_failures >= 1)
            on_pty.telegram = planted(power=0.789)
            pty_meter.plug_in()
            await wait_for(lambda: runtime.shown > shown, within=30)

            diagnostics = await diagnostics_text(hass, entry)
            assert diagnostics[1].count('"unparsed_lines": ') == 1
            await hass.async_block_till_done()
        said = "\n".join(text for _, text in watch.texts(IGNORED))
        assert "line 5 of OBIS 0-0:96.1.1 did not parse" in said
        assert "line 36 of OBIS 0-1:96.1.0 did not parse" in said
        assert_nothing_leaks(PLANTED, watch.texts(IGNORED), surfaces(hass), [diagnostics])
    finally:
        await on_pty.stop()
        await on_tcp.stop()


async def test_encrypted_meter_leaks_no_identifier_nor_key(
    hass: HomeAssistant, tcp_meter: TcpMeter
) -> None:
    plain = variants.luxembourg_plain().replace(variants.LUX_ID, hex_of(LUXEMBOURG))
    plain = recomposed(plain)
    sender = Sender(tcp_meter.write, variants.encrypt(plain, key=KEY, auth_key=AUTH_KEY), 0.05)
    sender.start()
    try:
        with leak_watch() as watch:
            form = await choose_port(hass, tcp_meter.url)
            flow_id = form["flow_id"]
            result = await hass.config_entries.flow.async_configure(flow_id, {"dsmr_version": "5"})
            assert result["errors"] == {"base": "key_required"}
            for wrong in (
                {"encryption_key": NEW_KEY, "authentication_key": AUTH_KEY},
                {"encryption_key": KEY, "authentication_key": NEW_KEY},
                {"encryption_key": f"{KEY}00"},
            ):
                result = await hass.config_entries.flow.async_configure(
                    flow_id, {"dsmr_version": "MSn", **wrong}
                )
                assert set(result["errors"].values()) == {"invalid_key"}
            result = await hass.config_entries.flow.async_configure(
                flow_id,
                {"dsmr_version": "MSn", "encryption_key": KEY, "authentication_key": AUTH_KEY},
            )
            assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
            entry = result["result"]
            await wait_for(lambda: entry.runtime_data.shown >= 1)

            # The operator changes the key: frames stop opening, reauth asks for the new one.
            sender.telegram = variants.encrypt(plain, key=NEW_KEY, auth_key=AUTH_KEY)  # type: ignore[assignment]
            await wait_for(
                lambda: any(
                    flow.get("step_id") == "reauth_confirm"
                    for flow in entry.async_get_active_flows(hass, {"reauth"})
                )
            )
            (flow,) = entry.async_get_active_flows(hass, {"reauth"})
            result = await hass.config_entries.flow.async_configure(
                flow["flow_id"], {"encryption_key": KEY, "authentication_key": AUTH_KEY}
            )
            assert result["errors"] == {"base": "invalid_key"}
            result = await hass.config_entries.flow.async_configure(
                flow["flow_id"], {"encryption_key": NEW_KEY, "authentication_key": AUTH_KEY}
            )
            assert result["reason"] == "reauth_successful"
            await hass.async_block_till_done()
            await wait_for(lambda: entry.runtime_data.shown >= 1)

            # The bridge drops the connection; the reader comes back.
            connects = entry.runtime_data.reader.stats.connects
            await tcp_meter.drop_clients()
            await wait_for(lambda: entry.runtime_data.reader.stats.connects > connects)
            diagnostics = await diagnostics_text(hass, entry)
            await hass.async_block_till_done()
        assert_nothing_leaks(PLANTED, watch.texts(IGNORED), surfaces(hass), [diagnostics])
    finally:
        await sender.stop()
