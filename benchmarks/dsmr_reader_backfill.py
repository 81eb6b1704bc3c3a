"""How many requests and how long a year of DSMR-reader hours takes to read, per page size,
and how long booking a year of hours to their day rows (issue 21) takes.

Run from the repository root: ``.venv/bin/python -m benchmarks.dsmr_reader_backfill``.
It pages through 366 days of ``statistics/hour`` served by the test stand-in on 127.0.0.1 (so it
measures our client and JSON handling, not a Raspberry Pi's database), once per page size.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import time

import aiohttp

from custom_components.meterhub.api.dsmr_reader import DayStatistic, DsmrReaderClient, HourStatistic
from custom_components.meterhub.providers.dsmr_reader.whole_days import book_whole_day
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
        book_a_year(server)
    finally:
        await runner.cleanup()


def book_a_year(server: FakeDsmrReader) -> None:
    """Each day's hours scaled to a day row 4 % above them, as on the real server."""
    days: dict[str, list[HourStatistic]] = {}
    for raw in server.hours:
        row = HourStatistic.from_json(
            {**raw, "hour_start": raw["hour_start"].astimezone(AMSTERDAM).isoformat()}
        )
        assert row is not None
        days.setdefault(row.hour_start.date().isoformat(), []).append(row)
    started = time.perf_counter()
    for day, hours in days.items():
        totals = {
            name: sum(getattr(h, name) or 0.0 for h in hours) * 1.04
            for name in (
                "electricity1",
                "electricity2",
                "electricity1_returned",
                "electricity2_returned",
            )
        }
        day_row = DayStatistic.from_json({"day": day, **{k: f"{v:.3f}" for k, v in totals.items()}})
        assert day_row is not None
        book_whole_day(hours, day_row)
    elapsed = time.perf_counter() - started
    print(
        f"booked {len(days)} days ({len(server.hours)} hours) to their day rows in {elapsed:.3f} s"
    )


if __name__ == "__main__":
    asyncio.run(main())
