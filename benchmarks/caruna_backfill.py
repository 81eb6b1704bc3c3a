"""How many requests a year of Caruna backfill costs, how they are spread, and how soon the first
week is in.

Runs the real client and reader against the local portal stand-in (tests/caruna/standin.py, which
answers as the live portal does in 2026) with 400 days of hourly data for one metering point, and
follows the coordinator's schedule: the setup read (the recent window), the first backfill pass
``FIRST_LOOK_DELAY`` later, then a pass every ``BACKFILL_INTERVAL``. It prints the requests per
pass and in total, the login cost, when the last seven full days are all read (on the schedule,
plus the measured request time against the local stand-in), and how many stored hours the importer
has to rewrite (it rewrites the running total of every hour after the oldest hour it is given).
Run: .venv/bin/python -m benchmarks.caruna_backfill
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left, insort
from collections import Counter
from datetime import date, datetime, timedelta
import time

import aiohttp

from custom_components.meterhub.api.caruna import CarunaClient, MeteringPoint
from custom_components.meterhub.providers.caruna.coordinator import (
    BACKFILL_INTERVAL,
    FIRST_LOOK_DELAY,
)
from custom_components.meterhub.providers.caruna.reader import (
    REQUESTS_PER_REFRESH,
    PointReader,
)
from tests.caruna.standin import (
    ASSET_1,
    GSRN_1,
    OWN,
    PASSWORD,
    USERNAME,
    Portal,
    local_day_hours,
    running_portal,
)

TODAY = date(2026, 11, 20)
WEEK = [TODAY - timedelta(days=i) for i in range(1, 8)]


def rewritten(stored: list[datetime], batch: dict[datetime, float]) -> int:
    """Rows the importer writes for ``batch``: every stored or new hour from the batch's oldest on."""
    if not batch:
        return 0
    for hour in batch:
        index = bisect_left(stored, hour)
        if index == len(stored) or stored[index] != hour:
            insort(stored, hour)
    return len(stored) - bisect_left(stored, min(batch))


async def main() -> None:
    portal = Portal()
    day = TODAY - timedelta(days=400)
    hours = portal.hours.setdefault(ASSET_1, {})
    while day < TODAY:
        for hour in local_day_hours(day):
            hours[hour] = 0.75
        day += timedelta(days=1)
    week_hours = {hour for day in WEEK for hour in local_day_hours(day)}
    async with (
        running_portal(portal),
        aiohttp.ClientSession() as api,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as login,
    ):
        client = CarunaClient(api, login, USERNAME, PASSWORD, plus_url=portal.plus_url)
        started = time.perf_counter()
        await client.async_ensure_login()
        login_seconds = time.perf_counter() - started
        point = MeteringPoint(
            customer=OWN, asset_id=ASSET_1, gsrn=GSRN_1, fuse_size=None, product=None, address=None
        )
        reader = PointReader(client, point, transfer_price=None)
        reader.resume(TODAY, last_stored=None, pending=None)
        per_pass: list[int] = []
        stored: list[datetime] = []
        rows_written = 0
        read: set[datetime] = set()
        schedule = timedelta(0)
        week_at: tuple[timedelta, float, int] | None = None
        request_seconds = 0.0
        started = time.perf_counter()
        first = True
        while first or not reader.caught_up:
            before = reader.requests
            pass_started = time.perf_counter()
            batch = await reader.read(TODAY, backfill=not first)
            request_seconds += time.perf_counter() - pass_started
            per_pass.append(reader.requests - before)
            rows_written += rewritten(stored, batch.consumption)
            read |= set(batch.consumption)
            if week_at is None and week_hours <= read:
                week_at = (schedule, request_seconds, reader.requests)
            schedule += FIRST_LOOK_DELAY if first else BACKFILL_INTERVAL
            first = False
        seconds = time.perf_counter() - started
        kinds = Counter(request[1] for request in portal.energy_requests)
        year_hours = len(stored)
        print(f"budget per pass:          {REQUESTS_PER_REFRESH} (the recent days included)")
        print(f"passes (setup + backfill): {len(per_pass)}")
        print(f"requests per pass:        {per_pass}")
        print(f"energy requests:          {sum(kinds.values())} ({dict(kinds)})")
        print(f"hours read:               {year_hours}")
        print(f"logins:                   {client.logins} ({client.login_requests} requests)")
        print(f"login against local:      {login_seconds * 1000:.1f} ms")
        print(f"backfill against local:   {seconds:.2f} s of requests")
        print(f"whole year in after:      {schedule - BACKFILL_INTERVAL} on the schedule")
        if week_at is not None:
            at, spent, requests = week_at
            print(
                f"last full week read:      {at} after setup on the schedule "
                f"(+{spent:.2f} s of requests locally), after {requests} requests"
            )
        print(f"importer rows written:    {rows_written} for {year_hours} hours")
        # Had the history been read newest first, each pass would rewrite everything stored.
        blocks = per_pass[1:]
        newest_first = sum(sum(blocks[: k + 1]) * 24 for k in range(len(blocks))) + per_pass[0] * 24
        print(f"  (newest first instead:  about {newest_first})")
        before = reader.requests
        await reader.read(TODAY)
        print(f"a steady pass:            {reader.requests - before} requests")


if __name__ == "__main__":
    asyncio.run(main())
