"""The P1 simulator speaks real DSMR: dsmr-parser (what core and we use) accepts what it sends."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
import os

from dsmr_parser import obis_references as obis, telegram_specifications as specs
from dsmr_parser.exceptions import InvalidChecksumError
from dsmr_parser.parsers import TelegramParser
import pytest

from tools.meterhub_sim.__main__ import Simulator, parse_args
from tools.meterhub_sim.household import Household
from tools.meterhub_sim.telegram import compose, crc16

SPECS = {"2.2": specs.V2_2, "4": specs.V4, "5": specs.V5, "5B": specs.BELGIUM_FLUVIUS}
START = datetime(2026, 1, 12, 6, 0, tzinfo=UTC)


def test_crc16_matches_the_reference_check_value() -> None:
    assert crc16(b"123456789") == 0xBB3D  # CRC-16/ARC check value


@pytest.mark.parametrize("version", ["2.2", "4", "5", "5B"])
def test_every_version_parses_with_valid_checksum(version: str) -> None:
    house = Household(version=version, start=START)
    reading = house.advance(START + timedelta(minutes=10))
    telegram = compose(reading, version).decode()
    parsed = TelegramParser(SPECS[version]).parse(telegram)
    assert parsed[obis.ELECTRICITY_USED_TARIFF_1].value == Decimal(f"{reading.used[0]:.3f}")
    assert parsed[obis.ELECTRICITY_USED_TARIFF_2].value == Decimal(f"{reading.used[1]:.3f}")
    assert parsed[obis.CURRENT_ELECTRICITY_USAGE].value == Decimal(
        f"{reading.power_used:.3f}"
    ).quantize(parsed[obis.CURRENT_ELECTRICITY_USAGE].value)
    if version != "2.2":
        assert telegram.rstrip().endswith(
            f"{crc16(telegram[: telegram.index('!') + 1].encode()):04X}"
        )


@pytest.mark.parametrize("version", ["4", "5", "5B"])
def test_corrupted_crc_is_rejected(version: str) -> None:
    reading = Household(version=version, start=START).advance(START)
    with pytest.raises(InvalidChecksumError):
        TelegramParser(SPECS[version]).parse(compose(reading, version, corrupt_crc=True).decode())


def test_gas_every_five_minutes_with_its_own_timestamp() -> None:
    house = Household(version="5", start=START)
    times = set()
    for second in range(0, 20 * 60, 10):
        reading = house.advance(START + timedelta(seconds=second))
        times.add(reading.gas_time)
    assert len(times) == 4  # 06:00, 06:05, 06:10, 06:15 in the meter's own clock
    parsed = TelegramParser(specs.V5).parse(compose(reading, "5").decode())
    gas = parsed.get_mbus_device_by_channel(1).MBUS_METER_READING
    assert gas.value == Decimal(f"{reading.gas:.3f}")
    assert gas.datetime == datetime(2026, 1, 12, 6, 15, tzinfo=UTC)


def test_tariffs_and_solar_follow_the_clock() -> None:
    house = Household(version="5", start=datetime(2026, 6, 15, 0, 0, tzinfo=UTC), solar=True)
    night = house.advance(datetime(2026, 6, 15, 1, 0, tzinfo=UTC))
    noon = house.advance(datetime(2026, 6, 15, 11, 0, tzinfo=UTC))  # 13:00 in Amsterdam, a Monday
    assert night.tariff == 1
    assert noon.tariff == 2
    assert noon.power_delivered > 0
    assert noon.delivered[1] > 310.25  # exported energy counted on the normal tariff
    belgian = Household(version="5B", start=START)
    assert belgian.tariff(datetime(2026, 1, 12, 10, tzinfo=UTC)) == 1  # day tariff in Belgium


async def test_tcp_stream_and_pty_carry_the_same_telegrams(socket_enabled: None) -> None:
    args = parse_args(["--port", "0", "--interval", "0.01", "--count", "5", "--bad-crc-every", "2"])
    sim = Simulator(args)
    pty_path = sim.open_pty()
    server = await asyncio.start_server(sim.handle_client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    async with asyncio.timeout(5):
        while not sim.clients:  # noqa: ASYNC110 - wait until the server has accepted us
            await asyncio.sleep(0.01)
    slave = os.open(pty_path, os.O_RDONLY | os.O_NONBLOCK)
    for _ in range(3):
        now = sim.household.now + timedelta(seconds=1)
        for chunk in sim.next_chunks(now):
            sim.broadcast(chunk)
    data = b""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(5):
            # Three whole telegrams: the last one's CRC line may come in a later segment.
            while not (data.count(b"!") >= 3 and data.endswith(b"\r\n")):
                data += await reader.read(65536)
    # The kernel hands what was written to the master over to the slave in its own time (a
    # worker thread, late on a busy machine): read until the same bytes have arrived.
    from_pty = b""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(5):
            while len(from_pty) < len(data):
                try:
                    from_pty += os.read(slave, 65536)
                except BlockingIOError:
                    await asyncio.sleep(0.01)
    os.close(slave)
    writer.close()
    await writer.wait_closed()
    server.close()
    server.close_clients()
    await server.wait_closed()
    assert data.count(b"/ISK5") == 3
    assert from_pty == data
    parser = TelegramParser(specs.V5)
    telegrams = [b"/" + part for part in data.split(b"/")[1:]]
    good = 0
    for telegram in telegrams:
        with contextlib.suppress(InvalidChecksumError):
            parser.parse(telegram.decode())
            good += 1
    assert good == 2  # the second of three had its CRC corrupted on purpose
