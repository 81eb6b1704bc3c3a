"""Forwarding to DSMR-reader servers: a local server speaking the v1 datalogger API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web
import pytest

from custom_components.meterhub.providers.dsmr import forwarding
from homeassistant.core import HomeAssistant

from . import telegrams
from .helpers import add_meter, set_options
from .standin import PtyMeter, Sender, wait_for
from .test_sensors import POWER, state


class DsmrReaderServer:
    """``POST /api/v1/datalogger/dsmrreading`` with ``X-AUTHKEY``, form field ``telegram``: 201."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.received: list[str] = []
        self.refused = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _post(self, request: web.Request) -> web.Response:
        if request.headers.get("X-AUTHKEY") != self.key:
            self.refused += 1
            return web.json_response({"detail": "Invalid API key"}, status=403)
        await self.gate.wait()
        form = await request.post()
        self.received.append(str(form["telegram"]))
        return web.Response(status=201)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/v1/datalogger/dsmrreading", self._post)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        self.gate.set()
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def dsmr_reader(socket_enabled: None) -> AsyncIterator[DsmrReaderServer]:
    server = DsmrReaderServer("SECRET-KEY")
    await server.start()
    yield server
    await server.stop()


async def test_telegrams_reach_the_server_and_a_wrong_key_is_counted(
    hass: HomeAssistant, pty_meter: PtyMeter, dsmr_reader: DsmrReaderServer
) -> None:
    sender = Sender(pty_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        result = await set_options(
            hass,
            entry,
            forward_to=f"{dsmr_reader.url} SECRET-KEY\n{dsmr_reader.url} WRONG-KEY",
        )
        assert not result.get("errors")
        await wait_for(lambda: len(dsmr_reader.received) >= 3)
        # The raw telegram, byte for byte (CRLF and CRC included), as DSMR-reader parses it itself.
        assert dsmr_reader.received[-1] == telegrams.v5()
        await wait_for(lambda: dsmr_reader.refused >= 1)
        runtime = entry.runtime_data
        await wait_for(lambda: runtime.diagnostics()["forwarding"][0]["sent"] >= 3)
        good, wrong = runtime.diagnostics()["forwarding"]
        assert good["sent"] >= 3
        assert good["rejected"] == 0
        assert wrong["rejected"] >= 1
        assert wrong["sent"] == 0
    finally:
        await sender.stop()


async def test_a_stuck_server_never_blocks_reading_nor_grows_memory(
    hass: HomeAssistant,
    pty_meter: PtyMeter,
    dsmr_reader: DsmrReaderServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(forwarding, "QUEUE_SIZE", 5)
    sender = Sender(pty_meter.write, telegrams.v5(), 0.02)
    sender.start()
    try:
        entry = await add_meter(hass, pty_meter.path, "5")
        dsmr_reader.gate.clear()  # the server accepts connections but never answers
        await set_options(
            hass, entry, time_between_update=0, forward_to=f"{dsmr_reader.url} SECRET-KEY"
        )
        runtime = entry.runtime_data
        forwarder = runtime.forwarders[0]
        for power in (0.5, 0.6, 0.7):
            sender.telegram = telegrams.v5(power=power)
            await wait_for(lambda power=power: state(hass, POWER) == str(power))  # type: ignore[misc]
        await wait_for(lambda: forwarder.dropped > 10)
        assert len(forwarder.queue) <= 5
        assert dsmr_reader.received == []

        # The server recovers: the newest telegrams arrive, the dropped ones stay counted.
        dsmr_reader.gate.set()
        await wait_for(lambda: telegrams.v5(power=0.7) in dsmr_reader.received)
        await wait_for(lambda: not forwarder.queue)
        await wait_for(lambda: forwarder.sent == len(dsmr_reader.received))
        assert runtime.diagnostics()["forwarding"][0]["dropped"] > 10
    finally:
        await sender.stop()
