"""How much one Korto poll costs: requests, bytes and CPU for parsing and the consumption deltas.

Runs the Korto client against a local stand-in of the GraphQL endpoint (no Home Assistant) for an
apartment of 7 meters and a large one of 60, and computes the per-reading consumption over ten
years of monthly readings per meter, as the statistics import does after each poll.

    .venv/bin/python -m benchmarks.korto_poll
"""

from __future__ import annotations

import asyncio
from datetime import date
import json
import time

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from custom_components.meterhub.api.korto import KortoClient
from custom_components.meterhub.providers.korto.history import consumption_by_date
from custom_components.meterhub.providers.korto.kinds import profile

TYPES = ("Külm vesi", "Soe vesi", "Elekter (päev)", "Elekter (öö)", "Soojus", "Gaas", "Muu")
UNITS = ("m3", "m3", "kWh", "kWh", "MWh", "m3", "tk")


def answer(meters: int) -> dict[str, object]:
    return {
        "data": {
            "viewer": {
                "id": "1",
                "apartment": {
                    "id": "1",
                    "meters": [
                        {
                            "id": str(100 + n),
                            "type": TYPES[n % 7],
                            "description": f"Ruum {n}",
                            "unit": UNITS[n % 7],
                            "step": "0,001",
                            "precision": 3,
                            "reading": f"{1000 + n},{n:03d}",
                            "reading_date": "25.10.2026",
                            "reading_origin": "remote",
                            "consumption": "3,5",
                        }
                        for n in range(meters)
                    ],
                    "readings_allowed": True,
                    "readings_start": "20",
                    "readings_end": "31",
                },
            }
        }
    }


async def measure(meters: int, polls: int = 200) -> None:
    body = json.dumps(answer(meters))
    received = 0

    async def handle(request: web.Request) -> web.Response:
        nonlocal received
        received += 1
        await request.read()
        return web.Response(text=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/api/", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            client = KortoClient(session, "a.b.c", base_url=str(server.make_url("/api/")))
            start = time.perf_counter()
            for _ in range(polls):
                result = await client.async_meters("1")
                for meter in result.meters:
                    profile(meter.type, meter.unit)
            elapsed = (time.perf_counter() - start) / polls
    finally:
        await server.close()
    print(
        f"{meters:3d} meters: {received // polls} request per meters poll, "
        f"{len(body):6d} bytes, {elapsed * 1000:.2f} ms per poll (HTTP on localhost + parsing)"
    )


def deltas() -> None:
    history = {date(2016 + m // 12, m % 12 + 1, 25): 100.0 + m * 1.5 for m in range(120)}
    start = time.perf_counter()
    rounds = 2000
    for _ in range(rounds):
        consumption_by_date(history)
    elapsed = (time.perf_counter() - start) / rounds
    print(f"120 monthly readings (10 years): {elapsed * 1e6:.0f} µs to compute the deltas")


async def main() -> None:
    for meters in (7, 60):
        await measure(meters)
    deltas()


if __name__ == "__main__":
    asyncio.run(main())
