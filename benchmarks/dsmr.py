"""Per-telegram cost in Home Assistant's event loop: Meter Hub's DSMR reader against core ``dsmr``.

Both integrations run in the same Home Assistant (with a real recorder), one after the other, reading
the same telegram stream from the same local TCP "P1 bridge" (``socket://``), as a network P1 dongle
would deliver it. The bridge runs in its own thread, so its work is not counted. What is counted is
the CPU time of the event-loop thread (``time.thread_time``) while the telegrams are handled: framing,
CRC, parsing, dispatch and state writes. An idle period of the same length is measured and subtracted.

Two scenarios: the default minimum of 30 s between state updates (what users run) and 0 s (every
telegram shown). The power value changes in every telegram, the gas reading every 300.

Run: ``.venv/bin/python benchmarks/dsmr.py [telegrams]``
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from pathlib import Path
import socket
import sys
import tempfile
import threading
import time
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from homeassistant import loader
from homeassistant.core import HomeAssistant
from homeassistant.helpers import recorder as recorder_helper
from homeassistant.setup import async_setup_component
from tests.dsmr import telegrams

PACE = 0.0005  # seconds between telegrams: one read per telegram, as on a real line


class Bridge(threading.Thread):
    """A TCP P1 bridge in its own thread: sends ``count`` telegrams to the connected client."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.client: socket.socket | None = None
        self.connected = threading.Event()

    def run(self) -> None:
        while True:
            client, _ = self.listener.accept()
            self.client = client
            self.connected.set()
            threading.Thread(target=self._until_closed, args=(client,), daemon=True).start()

    def _until_closed(self, client: socket.socket) -> None:
        """Close our side when the integration closes its side (as a real bridge does)."""
        with contextlib.suppress(OSError):
            while client.recv(1024):
                pass
        client.close()

    def send(self, stream: list[bytes]) -> None:
        assert self.client is not None
        for telegram in stream:
            self.client.sendall(telegram)
            time.sleep(PACE)


def start_bridge() -> Bridge:
    """A running bridge on a free port."""
    bridge = Bridge()
    bridge.start()
    return bridge


def stream(count: int, start: int = 0) -> list[bytes]:
    """``count`` telegrams with a new power value each and a new gas reading every 300."""
    result = []
    for i in range(start, start + count):
        gas_step = i // 300
        minute = 5 * (gas_step % 12)
        hour = 12 + gas_step // 12
        result.append(
            telegrams.v5(
                power=(i % 997) / 100,
                gas=1000 + gas_step * 0.01,
                gas_at=f"260301{hour:02d}{minute:02d}00W",
            ).encode()
        )
    return result


async def wait_connected(bridge: Bridge) -> None:
    """Wait for the integration to connect (polling: executor threads are needed to connect)."""
    async with asyncio.timeout(30):
        while not bridge.connected.is_set():  # noqa: ASYNC110 - set by another thread
            await asyncio.sleep(0.01)


async def measure(
    hass: HomeAssistant, bridge: Bridge, data: list[bytes], received: Callable[[], int]
) -> float:
    """Loop-thread CPU seconds spent while ``data`` is delivered and handled."""
    before = received()
    started = time.thread_time()
    wall = time.perf_counter()
    # The bridge's CPU time is another thread's.
    sender = asyncio.get_running_loop().run_in_executor(None, bridge.send, data)
    async with asyncio.timeout(60 + len(data) * 0.01):
        while received() < before + len(data):  # noqa: ASYNC110 - a counter, not an event
            await asyncio.sleep(0.01)
    await sender
    await hass.async_block_till_done()
    used = time.thread_time() - started
    elapsed = time.perf_counter() - wall
    # The idle cost of a running Home Assistant loop over the same time.
    idle_start = time.thread_time()
    await asyncio.sleep(elapsed)
    idle = time.thread_time() - idle_start
    return max(used - idle, 0.0)


async def run_core(hass: HomeAssistant, bridge: Bridge, data: list[bytes], throttle: int) -> float:
    """Core ``dsmr`` on the bridge; counts telegrams through its own parse callback."""
    from dsmr_parser.clients import protocol as dsmr_protocol

    handled = 0
    original = dsmr_protocol.DSMRProtocol.handle_telegram

    def counting(self: Any, telegram: str) -> None:
        nonlocal handled
        original(self, telegram)
        handled += 1

    dsmr_protocol.DSMRProtocol.handle_telegram = counting  # type: ignore[method-assign]
    try:
        bridge.connected.clear()
        entry = MockConfigEntry(
            domain="dsmr",
            data={
                "port": f"socket://127.0.0.1:{bridge.port}",
                "dsmr_version": "5",
                "protocol": "dsmr_protocol",
                "serial_id": telegrams.V5_ID,
                "serial_id_gas": telegrams.GAS_ID,
            },
            options={"time_between_update": throttle},
            unique_id=telegrams.V5_ID,
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await wait_connected(bridge)
        await measure(hass, bridge, stream(20, 10_000), lambda: handled)  # warm up, add entities
        cost = await measure(hass, bridge, data, lambda: handled)
        await hass.config_entries.async_remove(entry.entry_id)
        return cost
    finally:
        dsmr_protocol.DSMRProtocol.handle_telegram = original  # type: ignore[method-assign]


async def run_ours(
    hass: HomeAssistant, bridge: Bridge, data: list[bytes], throttle: int
) -> tuple[float, dict[str, Any]]:
    """Meter Hub's DSMR provider on the bridge; counts telegrams through its reader's counter."""
    bridge.connected.clear()
    entry = MockConfigEntry(
        domain="meterhub",
        data={
            "provider": "dsmr",
            "port": f"socket://127.0.0.1:{bridge.port}",
            "dsmr_version": "5",
        },
        options={"time_between_update": throttle, "forward_to": ""},
        unique_id=telegrams.V5_ID,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_connected(bridge)
    stats = entry.runtime_data.reader.stats
    await measure(hass, bridge, stream(20, 10_000), lambda: stats.telegrams)
    cost = await measure(hass, bridge, data, lambda: stats.telegrams)
    diagnostics = entry.runtime_data.diagnostics()
    await hass.config_entries.async_remove(entry.entry_id)
    return cost, diagnostics


async def run_scenario(count: int, data: list[bytes], throttle: int) -> None:
    """One scenario in a fresh Home Assistant: ours, then core, on fresh bridges."""
    with tempfile.TemporaryDirectory() as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            recorder_helper.async_initialize_recorder(hass)
            # Core dsmr depends on usb for its config flow's port picker only; usb needs a library
            # (aiousbwatcher) this venv does not have, and reading telegrams does not use it.
            hass.config.components.add("usb")
            assert await async_setup_component(
                hass, "recorder", {"recorder": {"db_url": f"sqlite:///{config_dir}/bench.db"}}
            )
            # A fresh bridge per run, so no connection outlives the integration that made it.
            ours, diagnostics = await run_ours(hass, start_bridge(), data, throttle)
            core = await run_core(hass, start_bridge(), data, throttle)
            print(
                f"min {throttle:>2} s between updates: core dsmr {core / count * 1e6:8.1f} µs"
                f" | meterhub {ours / count * 1e6:8.1f} µs per telegram"
                f" | ratio {ours / core:.2f}"
                f" (meterhub dropped {diagnostics['reader']['dropped']},"
                f" shown {diagnostics['telegrams_shown']})"
            )
            await hass.async_stop(force=True)


def main(count: int) -> None:
    """Both scenarios, each in its own event loop (Home Assistant's stop shuts its executor)."""
    data = stream(count)
    print(f"{count} DSMR 5 telegrams of {len(data[0])} bytes, event-loop thread CPU time")
    for throttle in (30, 0):
        asyncio.run(run_scenario(count, data, throttle))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
