"""How many requests and how long a year of DSMR-reader hours takes to read, per page size.

Run from the repository root: ``.venv/bin/python -m benchmarks.dsmr_reader_backfill``.
It pages through 366 days of ``statistics/hour`` served by the test stand-in on 127.0.0.1 (so it
measures our client and JSON handling, not a Raspberry Pi's database), once per page size.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import time

import aiohttp

from custom_components.meterhub.api.dsmr_reader import DsmrReaderClient
from tests.dsmr_reader.standin import AMSTERDAM, API_KEY, FakeDsmrReader, make_hours, start_standin

HOURS = 366 * 24


async def main() -> None:
    server = FakeDsmrReader()
    first = datetime(2025, 11, 1, tzinfo=UTC)
    server.hours = make_hours(first, HOURS)
    runner = await start_standin(server)
    try:
        async with aiohttp.ClientSession() as session:
            print(f"{HOURS} hourly rows")
            print(f"{'page size':>10} {'requests':>9} {'seconds':>8} {'rows/s':>8}")
            for page_size in (25, 100, 500, 1000):
                client = DsmrReaderClient(session, server.url, API_KEY, request_timeout=120)
                started = time.perf_counter()
                rows = 0
                async for page in client.hour_statistics(
                    first - timedelta(hours=1), AMSTERDAM, page_size=page_size
                ):
                    rows += len(page)
                elapsed = time.perf_counter() - started
                assert rows == HOURS
                print(
                    f"{page_size:>10} {client.requests:>9} {elapsed:>8.2f} {rows / elapsed:>8.0f}"
                )
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
