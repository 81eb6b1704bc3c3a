"""How many requests a year of Caruna backfill costs, and how they are spread.

Runs the real client and reader against the local portal stand-in (tests/caruna/portal.py) with a
year of hourly data for one metering point, and prints the requests per pass, the totals and the
login cost. Run: .venv/bin/python -m benchmarks.caruna_backfill
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta
import time

import aiohttp

from custom_components.meterhub.api.caruna import CarunaClient, MeteringPoint
from custom_components.meterhub.providers.caruna.reader import (
    REQUESTS_PER_REFRESH,
    PointReader,
    backfill_start,
)
from tests.caruna.portal import (
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


async def main() -> None:
    portal = Portal()
    day = TODAY - timedelta(days=400)
    hours = portal.hours.setdefault(ASSET_1, {})
    while day < TODAY:
        for hour in local_day_hours(day):
            hours[hour] = 0.75
        day += timedelta(days=1)
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
        reader.resume(backfill_start(TODAY), None)
        per_pass: list[int] = []
        hours_read = 0
        started = time.perf_counter()
        while True:
            before = reader.requests
            batch = await reader.read(TODAY)
            hours_read += len(batch.consumption)
            per_pass.append(reader.requests - before)
            if reader.caught_up:
                break
        seconds = time.perf_counter() - started
        kinds = Counter(request[1] for request in portal.energy_requests)
        print(
            f"budget per pass:        {REQUESTS_PER_REFRESH} (+1 for yesterday while backfilling)"
        )
        print(f"passes to catch up:     {len(per_pass)}")
        print(f"requests per pass:      {per_pass}")
        print(f"energy requests:        {sum(kinds.values())} ({dict(kinds)})")
        print(f"hours read:             {hours_read}")
        print(f"logins:                 {client.logins} ({client.login_requests} requests)")
        print(f"login against local:    {login_seconds * 1000:.1f} ms")
        print(f"backfill against local: {seconds:.2f} s")
        before = reader.requests
        await reader.read(TODAY)
        print(f"a steady pass:          {reader.requests - before} requests")


if __name__ == "__main__":
    asyncio.run(main())
