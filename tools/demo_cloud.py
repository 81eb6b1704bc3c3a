"""Demo stand-ins for the cloud sources: the test stand-ins as local servers, with weeks of demo data.

    python -m tools.demo_cloud [--base-port 8700] [--weeks 5] [--state FILE]

Serves Octopus Energy, DSMR-reader, Korto, Enedis (the Conso API gateway) and Caruna Plus on
127.0.0.1, each answering as the test stand-ins do (``tests/<provider>/standin.py``: the providers'
documented APIs), filled from one made-up household (:mod:`tools.demo_data`). Every identifier is
obviously fake (account ``A-DEMO0001``, MPAN ``0000000000001``, PRM ``00000000000000``...). When all
servers listen, their addresses and credentials go to ``--state`` (JSON) for ``tools.devhass demo``,
which adds one entry per source through the config flow with the hidden ``base_url`` entry key.

Octopus' Home Mini telemetry moves: its newest reading is always "now", with the household's
current demand. The control server changes the stand-ins as a provider might:
``POST /demo/change-shape/<provider>[?shape=renamed]`` makes one answer in a changed shape (the
browser test's repair screenshot: Meter Hub's "changed its API" repair; ``?shape=`` restores
today's shape), and ``POST /demo/revoke/korto`` makes Korto refuse the token (the
re-authentication a user then sees).

Meter Hub itself has no demo mode: these are servers it talks to like any other.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import signal
import sys
from typing import Any

from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from tests.caruna.standin import Portal, local_day_hours
from tests.dsmr_reader.standin import FakeDsmrReader, _web_page
from tests.enedis.standin import FakeGateway
from tests.korto.standin import KortoStandIn, make_jwt
from tests.octopus.standin import (
    FakeOctopus,
    electricity_point,
    gas_point,
    half_hours,
    octopus_time,
    rate_row,
)

from . import demo_data as model

# -- identities: all obviously made up ------------------------------------------------------------
OCTOPUS_KEY = "sk_demo_not_a_real_key"
OCTOPUS_ACCOUNT = "A-DEMO0001"
MPAN, EXPORT_MPAN, MPRN = "0000000000001", "0000000000002", "0000000001"
SERIAL, GAS_SERIAL, HOME_MINI = "DEMO0001E", "DEMO0001G", "00-00-00-00-00-00-DEMO"
IMPORT_TARIFF = "E-1R-DEMO-FLEX-26-01-01-C"
EXPORT_TARIFF = "E-1R-DEMO-OUTGOING-26-01-01-C"
GAS_TARIFF = "G-1R-DEMO-FLEX-26-01-01-C"
DSMR_READER_KEY = "demo-dsmr-reader-key"
KORTO_APARTMENT = "DEMO-1"
KORTO_TOKEN = make_jwt(exp=4102444800, sub="demo@example.invalid")
ENEDIS_PRM, ENEDIS_TOKEN = "00000000000000", "demo-token"
CARUNA_USER, CARUNA_PASSWORD = "demo@example.invalid", "demo-password"
CARUNA_CUSTOMER, CARUNA_GSRN, CARUNA_ASSET = "0000001", "000000000000000001", "DEMO-ASSET-1"

#: Offsets from ``--base-port``: octopus, dsmr_reader, korto, enedis, caruna plus, caruna auth,
#: control.
OFFSETS = {"octopus": 1, "dsmr_reader": 2, "korto": 3, "enedis": 4, "caruna": 5, "caruna_auth": 6}
CONTROL_OFFSET = 9


def history_start(now: datetime, weeks: int) -> datetime:
    """Where the demo data begins: midnight UTC ``weeks`` weeks back."""
    return datetime.combine(now.date() - timedelta(weeks=weeks), datetime.min.time(), UTC)


# -- Octopus ---------------------------------------------------------------------------------------


class MovingTelemetry(dict[str, list[dict[str, Any]]]):
    """The Home Mini's readings, made when asked: half-hour rows of today and one row at "now"."""

    def get(self, device_id: str, default: Any = None) -> Any:  # type: ignore[override]
        if device_id != HOME_MINI:
            return default
        now = datetime.now(UTC).replace(microsecond=0)
        rows = []
        for start in half_hours(now - timedelta(hours=24), now):
            kwh = model.import_kwh(start, timedelta(minutes=30))
            rows.append(_telemetry_row(start, kwh * 1000, model.demand_w(start)))
        rows.append(_telemetry_row(now, 0.0, model.demand_w(now)))
        return rows


def _telemetry_row(at: datetime, delta_wh: float, demand: float) -> dict[str, Any]:
    return {
        "readAt": octopus_time(at),
        "consumption": None,
        "consumptionDelta": round(delta_wh, 1),
        "demand": round(demand),
        "export": None,
    }


def octopus(now: datetime, weeks: int) -> FakeOctopus:
    """A UK account: import with a Home Mini, solar export, gas; flexible tariffs."""
    fake = FakeOctopus(keys={OCTOPUS_KEY})
    since = history_start(now, weeks)
    fake.accounts[OCTOPUS_ACCOUNT] = {
        "properties": [
            {
                "id": 1,
                "moved_in_at": "2024-01-01T00:00:00Z",
                "moved_out_at": None,
                "electricity_meter_points": [
                    electricity_point(MPAN, [SERIAL], [(IMPORT_TARIFF, since, None)]),
                    electricity_point(
                        EXPORT_MPAN, [SERIAL], [(EXPORT_TARIFF, since, None)], export=True
                    ),
                ],
                "gas_meter_points": [gas_point(MPRN, [GAS_SERIAL], [(GAS_TARIFF, since, None)])],
            }
        ]
    }
    fake.device_ids[SERIAL] = HOME_MINI
    fake.gas_units[GAS_SERIAL] = "MQ"
    fake.telemetry = MovingTelemetry()
    fake.add_rates(IMPORT_TARIFF, "standard-unit-rates", [rate_row(24.5, since, None)])
    fake.add_rates(IMPORT_TARIFF, "standing-charges", [rate_row(53.7, since, None)])
    fake.add_rates(EXPORT_TARIFF, "standard-unit-rates", [rate_row(15.0, since, None)])
    fake.add_rates(GAS_TARIFF, "standard-unit-rates", [rate_row(6.3, since, None)], fuel="G")
    fake.add_rates(GAS_TARIFF, "standing-charges", [rate_row(31.4, since, None)], fuel="G")
    fill_octopus(fake, now, weeks)
    return fake


def fill_octopus(fake: FakeOctopus, now: datetime, weeks: int) -> None:
    """Half hours up to the last full hour (a Home Mini's meter reports about that late)."""
    slots = half_hours(history_start(now, weeks), now.replace(minute=0, second=0, microsecond=0))
    half = timedelta(minutes=30)
    fake.add_consumption(MPAN, SERIAL, {s: model.import_kwh(s, half) for s in slots})
    fake.add_consumption(EXPORT_MPAN, SERIAL, {s: model.export_kwh(s, half) for s in slots})
    fake.add_consumption(MPRN, GAS_SERIAL, {s: model.gas_m3(s, half) for s in slots})


# -- DSMR-reader -----------------------------------------------------------------------------------


def dsmr_reader(now: datetime, weeks: int) -> FakeDsmrReader:
    """A DSMR-reader server in the Netherlands: hours and days with costs."""
    fake = FakeDsmrReader(api_key=DSMR_READER_KEY)
    fill_dsmr_reader(fake, now, weeks)
    return fake


def fill_dsmr_reader(fake: FakeDsmrReader, now: datetime, weeks: int) -> None:
    hour = timedelta(hours=1)
    start = history_start(now, weeks)
    end = now.replace(minute=0, second=0, microsecond=0)
    hours: list[dict[str, Any]] = []
    moment = start
    while moment < end:
        night = model.night_tariff(moment)
        used, returned = model.import_kwh(moment, hour), model.export_kwh(moment, hour)
        hours.append(
            {
                "id": len(hours) + 1,
                "hour_start": moment,
                "electricity1": f"{used if night else 0:.3f}",
                "electricity2": f"{0 if night else used:.3f}",
                "electricity1_returned": f"{returned if night else 0:.3f}",
                "electricity2_returned": f"{0 if night else returned:.3f}",
                "gas": f"{model.gas_m3(moment, hour):.3f}",
            }
        )
        moment += hour
    fake.hours = hours
    days: dict[str, dict[str, float]] = {}
    for row in hours:
        day = model.local_day(row["hour_start"], model.AMSTERDAM).isoformat()
        totals = days.setdefault(day, {})
        for name in ("electricity1", "electricity2", "electricity1_returned"):
            totals[name] = totals.get(name, 0.0) + float(row[name])
        totals["electricity2_returned"] = totals.get("electricity2_returned", 0.0) + float(
            row["electricity2_returned"]
        )
        totals["gas"] = totals.get("gas", 0.0) + float(row["gas"])
    fake.days = [_dsmr_day(index, day, totals) for index, (day, totals) in enumerate(days.items())]


def _dsmr_day(index: int, day: str, totals: dict[str, float]) -> dict[str, Any]:
    e1 = totals["electricity1"] * 0.24 - totals["electricity1_returned"] * 0.24
    e2 = totals["electricity2"] * 0.27 - totals["electricity2_returned"] * 0.27
    gas, fixed = totals["gas"] * 1.35, 1.10
    return {
        "id": index + 1,
        "day": day,
        **{name: f"{value:.3f}" for name, value in totals.items()},
        "electricity1_cost": f"{e1:.2f}",
        "electricity2_cost": f"{e2:.2f}",
        "gas_cost": f"{gas:.2f}",
        "fixed_cost": f"{fixed:.2f}",
        "total_cost": f"{e1 + e2 + gas + fixed:.2f}",
        "lowest_temperature": None,
        "highest_temperature": None,
        "average_temperature": None,
    }


# -- Korto -----------------------------------------------------------------------------------------


class PlayedKorto(KortoStandIn):
    """Korto, whose readings move on: each meters query after the first shows the next reading.

    Korto shows a meter's latest reading only, so an apartment's history builds up one reading at
    a time (monthly in real life). The demo plays weekly readings instead: reloading the entry (as
    its menu's Reload does) books another week of water. The newest reading stays once reached.
    """

    plan: list[tuple[str, float, float]]
    played: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        answer = await super().handle(request)
        last = self.requests[-1] if self.requests else {}
        if last.get("operationName") == "GetMetersData" and self.played < len(self.plan) - 1:
            self.played += 1
            self._show(self.played)
        return answer

    def _show(self, index: int) -> None:
        read, cold, hot = self.plan[index]
        for meter, value in zip(self.meters, (cold, hot), strict=True):
            meter["reading"] = f"{value:.3f}".replace(".", ",")
            meter["reading_date"] = read


#: Days back of the demo's weekly water readings; the first is what the config flow's check sees.
KORTO_READINGS = (28, 21, 14, 7, 2)


def korto(now: datetime) -> PlayedKorto:
    """An Estonian apartment: cold and hot water, read weekly (see :class:`PlayedKorto`)."""
    fake = PlayedKorto(tokens={KORTO_TOKEN}, apartments={KORTO_APARTMENT})
    fake.meters = [
        _korto_meter("9001", "Külm vesi", "Köök (demo)"),
        _korto_meter("9002", "Soe vesi", "Köök (demo)"),
    ]
    fake.plan = []
    for number, days in enumerate(KORTO_READINGS):
        read = (now - timedelta(days=days)).astimezone(model.TALLINN).strftime("%d.%m.%Y")
        fake.plan.append((read, 110.0 + number * 1.9 + (number % 2) * 0.3, 40.0 + number * 0.8))
    fake._show(0)
    return fake


def _korto_meter(meter_id: str, kind: str, where: str) -> dict[str, Any]:
    return {
        "id": meter_id,
        "type": kind,
        "description": where,
        "unit": "m3",
        "step": "0,001",
        "precision": 3,
        "reading": None,
        "reading_date": None,
        "reading_origin": "remote",
        "consumption": None,
        "__typename": "Meter",
    }


# -- Enedis (served from the aioclient_mock stand-in) -------------------------------------------


class _Calls:
    """What :class:`FakeGateway` reads from the test mocker: the headers of the latest call."""

    def __init__(self) -> None:
        self.mock_calls: list[tuple[str, URL, Any, dict[str, str]]] = []

    def get(self, *args: Any, **kwargs: Any) -> None:
        """``install`` registers a route on the mocker; the server below routes instead."""


def enedis(now: datetime, weeks: int) -> FakeGateway:
    """A Linky meter in France with rooftop solar."""
    fake = FakeGateway(mocker=_Calls(), prm=ENEDIS_PRM, tokens={ENEDIS_TOKEN})  # type: ignore[arg-type]
    fake.watts = lambda start: model.demand_w(start) * 0.8
    fake.production_watts = model.solar_w
    fake.daily_from = history_start(now, weeks).date()
    fake.curve_from = fake.daily_from
    return fake


def enedis_app(fake: FakeGateway) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        url = URL("https://conso.boris.sh").with_path(request.path).with_query(request.query)
        fake.mocker.mock_calls.append(("GET", url, None, dict(request.headers)))
        answer = await fake.handle("GET", url, None)
        body = answer._response
        return web.Response(status=answer.status, body=body, headers=CIMultiDict(answer._headers))

    app = web.Application()
    app.router.add_get("/api/{kind}", handle)
    return app


# -- Caruna ----------------------------------------------------------------------------------------


def caruna(now: datetime, weeks: int) -> Portal:
    """A Finnish house on Caruna's network: hourly energy with fees, up to yesterday."""
    portal = Portal(
        username=CARUNA_USER,
        password=CARUNA_PASSWORD,
        own=[CARUNA_CUSTOMER],
        represented=[],
        assets={
            CARUNA_CUSTOMER: [
                {
                    "type": "meteringPoint",
                    "assetId": CARUNA_ASSET,
                    "gsrn": CARUNA_GSRN,
                    "fuseSize": "3x25",
                    "contractProductDesc": "Yleissiirto (demo)",
                    "address": {"streetName": "Demotie", "houseNumber": "1"},
                }
            ]
        },
    )
    hour = timedelta(hours=1)
    first = history_start(now, weeks).date()
    yesterday = model.local_day(now, model.HELSINKI) - timedelta(days=1)
    hours: dict[datetime, float | None] = {}
    day = first
    while day <= yesterday:
        for start in local_day_hours(day):
            hours[start] = round(model.import_kwh(start, hour) * 1.6, 3)
        day += timedelta(days=1)
    portal.hours[CARUNA_ASSET] = hours
    return portal


# -- serving ---------------------------------------------------------------------------------------


async def _serve(app: web.Application, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, int(runner.addresses[0][1])


def _dsmr_reader_app(fake: FakeDsmrReader) -> web.Application:
    app = web.Application()
    app.router.add_get("/api/v2/{tail:.*}", fake.handle)
    app.router.add_get("/{tail:.*}", _web_page)
    return app


def _port(base: int, name: str) -> int:
    return 0 if base == 0 else base + OFFSETS[name]


async def serve(base_port: int, weeks: int, state: Path | None) -> None:
    """Start every stand-in, write the state file, refresh the data hourly until stopped."""
    now = datetime.now(UTC)
    octo, reader, apartment = octopus(now, weeks), dsmr_reader(now, weeks), korto(now)
    linky, portal = enedis(now, weeks), caruna(now, weeks)
    runners: list[web.AppRunner] = []

    async def start(app: web.Application, name: str) -> int:
        runner, port = await _serve(app, _port(base_port, name))
        runners.append(runner)
        return port

    ports = {
        "octopus": await start(octo.app(), "octopus"),
        "dsmr_reader": await start(_dsmr_reader_app(reader), "dsmr_reader"),
        "enedis": await start(enedis_app(linky), "enedis"),
    }
    korto_app = web.Application()
    korto_app.router.add_post("/api/", apartment.handle)
    ports["korto"] = await start(korto_app, "korto")
    ports["caruna"] = await start(portal.plus_app(), "caruna")
    ports["caruna_auth"] = await start(portal.auth_app(), "caruna_auth")
    portal.plus_url = f"http://127.0.0.1:{ports['caruna']}"
    portal.auth_url = f"http://127.0.0.1:{ports['caruna_auth']}"

    async def revoke_korto(request: web.Request) -> web.Response:
        apartment.tokens.clear()
        return web.json_response({"korto": "token revoked"})

    #: The stand-ins that can answer in a changed shape (each knows at least ``renamed``).
    changeable: dict[str, Any] = {
        "octopus": octo,
        "dsmr_reader": reader,
        "korto": apartment,
        "enedis": linky,
        "caruna": portal,
    }

    async def change_shape(request: web.Request) -> web.Response:
        provider = request.match_info["provider"]
        if provider not in changeable:
            return web.json_response({"error": f"no stand-in {provider!r}"}, status=404)
        shape = request.query.get("shape", "renamed") or None
        changeable[provider].changed_shape = shape
        return web.json_response({provider: f"answers in shape {shape or 'of today'}"})

    control = web.Application()
    control.router.add_post("/demo/revoke/korto", revoke_korto)
    control.router.add_post("/demo/change-shape/{provider}", change_shape)
    control_port = await start(control, "control") if base_port == 0 else None
    if control_port is None:
        runner, control_port = await _serve(control, base_port + CONTROL_OFFSET)
        runners.append(runner)

    entries = demo_entries(ports)
    info = {"control": f"http://127.0.0.1:{control_port}", "entries": entries}
    if state is not None:
        await asyncio.to_thread(state.write_text, json.dumps(info, indent=1))
    print(f"Demo cloud stand-ins ready: {', '.join(sorted(ports))}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set():
        try:
            async with asyncio.timeout(600):
                await stop.wait()
        except TimeoutError:
            now = datetime.now(UTC)
            fill_octopus(octo, now, weeks)
            fill_dsmr_reader(reader, now, weeks)
    for runner in runners:
        await runner.cleanup()


def demo_entries(ports: dict[str, int]) -> list[dict[str, Any]]:
    """The config-flow answers for one entry per source (``base_url`` is the hidden entry key)."""
    local = "http://127.0.0.1"
    return [
        {
            "step": "octopus",
            "data": {
                "api_key": OCTOPUS_KEY,
                "account_number": OCTOPUS_ACCOUNT,
                "base_url": f"{local}:{ports['octopus']}/v1/",
            },
        },
        {
            "step": "dsmr_reader",
            "data": {"url": f"{local}:{ports['dsmr_reader']}", "api_key": DSMR_READER_KEY},
        },
        {
            "step": "korto",
            "data": {
                "token": KORTO_TOKEN,
                "apartment_id": KORTO_APARTMENT,
                "base_url": f"{local}:{ports['korto']}/api/",
            },
            # The first refresh sets the baseline; each reload books the next weekly reading.
            "reloads": len(KORTO_READINGS) - 2,
        },
        {
            "step": "enedis",
            "data": {
                "token": ENEDIS_TOKEN,
                "prm": ENEDIS_PRM,
                "base_url": f"{local}:{ports['enedis']}/api",
            },
        },
        {
            "step": "caruna",
            "data": {
                "username": CARUNA_USER,
                "password": CARUNA_PASSWORD,
                "base_url": f"{local}:{ports['caruna']}",
            },
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="demo_cloud")
    parser.add_argument("--base-port", type=int, default=8700, help="0: any free ports")
    parser.add_argument("--weeks", type=int, default=5)
    parser.add_argument("--state", type=Path, default=None)
    args = parser.parse_args()
    asyncio.run(serve(args.base_port, args.weeks, args.state))


if __name__ == "__main__":
    sys.exit(main())
