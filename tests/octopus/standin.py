"""A local stand-in for the Octopus REST and GraphQL APIs, built from the documented shapes.

It serves accounts, consumption (filters, ordering, page size, ``next`` links), tariff rates and
the two GraphQL operations we use, and lets a test inject failures: an HTTP status or a dropped
connection on the n-th matching request, GraphQL error codes, duplicated rows at page edges.
Timestamps are written the way Octopus writes them: UK local time, ``Z`` in winter, ``+01:00`` in
summer.

It also runs on its own, outside pytest, as a small local server for a demo: a Home Mini whose
readings move with the clock (:func:`moving_telemetry` half-hourly, :func:`minute_telemetry` by
the minute), a few weeks of history, flat tariffs::

    python -m tests.octopus.standin --port 8021

prints the base URL, key and account number to configure; :func:`demo_app` gives the same
``aiohttp`` application to run in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
import math
import time
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

LONDON = ZoneInfo("Europe/London")
HALF_HOUR = timedelta(minutes=30)
GOOD_KEY = "sk_live_good"
ACCOUNT = "A-1234ABCD"


def octopus_time(moment: datetime) -> str:
    """UK local time as Octopus writes it."""
    text = moment.astimezone(LONDON).isoformat()
    return text.replace("+00:00", "Z")


def half_hours(start: datetime, end: datetime) -> list[datetime]:
    found = []
    moment = start
    while moment < end:
        found.append(moment)
        moment += HALF_HOUR
    return found


def telemetry_rows(start: datetime, end: datetime, demand: float) -> list[dict[str, Any]]:
    """Home Mini half-hour rows in [start, end): 100 Wh each at a steady ``demand`` (W)."""
    return [
        {
            "readAt": moment.isoformat(),
            "consumption": 1_000_000 + 100 * index,
            "consumptionDelta": 100,
            "demand": demand,
            "export": 0,
        }
        for index, moment in enumerate(half_hours(start, end))
    ]


def consumption_rows(values: dict[datetime, float]) -> list[dict[str, Any]]:
    return [
        {
            "consumption": value,
            "interval_start": octopus_time(start),
            "interval_end": octopus_time(start + HALF_HOUR),
        }
        for start, value in sorted(values.items())
    ]


def rate_row(
    pence: float, valid_from: datetime | None, valid_to: datetime | None, method: str | None = None
) -> dict[str, Any]:
    return {
        "value_exc_vat": round(pence / 1.05, 4),
        "value_inc_vat": pence,
        "valid_from": None if valid_from is None else octopus_time(valid_from),
        "valid_to": None if valid_to is None else octopus_time(valid_to),
        "payment_method": method,
    }


def fake_jwt(exp: float) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'exp': exp})}.sig"


def parse_query_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def row_time(row: dict[str, Any], key: str) -> datetime | None:
    value = row.get(key)
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC)


@dataclass
class Failure:
    """Fail the ``nth`` (1-based) request whose path contains ``path`` with ``status``.

    ``status`` 0 drops the connection; ``times`` failures in a row. ``body``
    replaces the default text (a server's own words, an HTML page, broken JSON), sent as
    ``content_type``.
    """

    path: str
    status: int
    nth: int = 1
    times: int = 1
    seen: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    content_type: str = "text/plain"


@dataclass
class FakeOctopus:
    keys: set[str] = field(default_factory=lambda: {GOOD_KEY})
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    consumption: dict[tuple[str, str], dict[datetime, float]] = field(default_factory=dict)
    # product code -> tariff code -> endpoint -> rows
    products: dict[str, dict[str, dict[str, list[dict[str, Any]]]]] = field(default_factory=dict)
    balance_pence: float = 1234.0
    token_lifetime: float = 3600.0
    graphql_errors: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    duplicate_page_edges: bool = False
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)
    tokens_issued: int = 0
    #: Set by :func:`start_standin`: the REST base the provider is pointed at.
    base_url: str = ""
    # -- GraphQL account and telemetry -------------------------------------------------
    #: serials REST still lists but GraphQL (``includeInactive: false``) leaves out
    inactive_serials: set[str] = field(default_factory=set)
    #: gas serial -> ``consumptionUnits`` (default ``MQ``, SMETS2)
    gas_units: dict[str, str] = field(default_factory=dict)
    #: serial -> smart device id
    device_ids: dict[str, str] = field(default_factory=dict)
    #: tariff code -> ``productCode`` (default: cut from an ``E-1R-...-C`` code)
    product_codes: dict[str, str] = field(default_factory=dict)
    #: error codes answered (one each) to the account query only
    account_errors: list[str] = field(default_factory=list)
    #: device id -> telemetry rows as Kraken answers them (to every grouping, unless the device
    #: has ``telemetry_minutes`` too)
    telemetry: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: device id -> the rows answered to ``grouping: ONE_MINUTE``
    telemetry_minutes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: the ``grouping`` of every telemetry query, in order
    telemetry_groupings: list[str] = field(default_factory=list)
    #: error codes answered (one each) to telemetry queries only
    telemetry_errors: list[str] = field(default_factory=list)
    #: devices that answer :func:`moving_telemetry` at the current time (a Home Mini that works)
    live_telemetry: set[str] = field(default_factory=set)
    #: whether the consumption endpoint adds a half hour before and after the window
    overreach: bool = False
    #: Consumption rows in a changed shape, as a changed API would send them: ``"renamed"``
    #: (``consumption`` under another name) or ``"text"`` (kWh as text). None: today's shape.
    changed_shape: str | None = None
    #: The GraphQL account in a changed shape: ``"units_renamed"`` (a gas meter's
    #: ``consumptionUnits`` under another name) or ``"unknown_unit"`` (a unit we cannot convert).
    #: None: today's shape.
    graphql_changed_shape: str | None = None

    # -- building data ---------------------------------------------------------------------

    def add_consumption(self, point: str, serial: str, values: dict[datetime, float]) -> None:
        self.consumption.setdefault((point, serial), {}).update(values)

    def add_rates(
        self,
        tariff_code: str,
        endpoint: str,
        rows: Iterable[dict[str, Any]],
        *,
        fuel: str = "E",
        product: str | None = None,
    ) -> None:
        product = product or self.product_of(tariff_code)
        if product != "-".join(tariff_code.split("-")[2:-1]):
            self.product_codes[tariff_code] = product
        self.products.setdefault(product, {}).setdefault(tariff_code, {}).setdefault(
            endpoint, []
        ).extend(rows)

    def product_of(self, tariff_code: str) -> str:
        return self.product_codes.get(tariff_code) or "-".join(tariff_code.split("-")[2:-1])

    def graphql_account(self, number: str) -> dict[str, Any]:
        """The account as GraphQL answers it: active meters, units, device ids, product codes."""
        account = self.accounts[number]

        def agreements(point: dict[str, Any]) -> list[dict[str, Any]]:
            return [
                {
                    "validFrom": a["valid_from"],
                    "validTo": a["valid_to"],
                    "tariff": {
                        "tariffCode": a["tariff_code"],
                        "productCode": self.product_of(a["tariff_code"]),
                    },
                }
                for a in point["agreements"]
            ]

        def device(serial: str) -> dict[str, str] | None:
            found = self.device_ids.get(serial)
            return None if found is None else {"deviceId": found}

        now = datetime.now(UTC)

        def active(point: dict[str, Any]) -> bool:  # ``electricityAgreements(active: true)``
            return any(
                a["valid_to"] is None or datetime.fromisoformat(a["valid_to"]) > now
                for a in point["agreements"]
            )

        electricity, gas = [], []
        for prop in account["properties"]:
            moved_out = prop.get("moved_out_at")
            if moved_out and datetime.fromisoformat(moved_out) <= now:
                continue
            for point in prop.get("electricity_meter_points", []):
                if not active(point):
                    continue
                serials = [
                    m["serial_number"]
                    for m in point["meters"]
                    if m["serial_number"] not in self.inactive_serials
                ]
                export = point.get("is_export")
                meters = [
                    {
                        "serialNumber": s,
                        "smartImportElectricityMeter": None if export else device(s),
                        "smartExportElectricityMeter": device(s) if export else None,
                    }
                    for s in serials
                ]
                electricity.append(
                    {
                        "meterPoint": {
                            "mpan": point["mpan"],
                            "direction": "EXPORT" if export else "IMPORT",
                            "meters": meters,
                            "agreements": agreements(point),
                        }
                    }
                )
            for point in prop.get("gas_meter_points", []):
                if not active(point):
                    continue
                meters = [
                    {
                        "serialNumber": m["serial_number"],
                        "consumptionUnits": self.gas_units.get(m["serial_number"], "MQ"),
                        "smartGasMeter": device(m["serial_number"]),
                    }
                    for m in point["meters"]
                    if m["serial_number"] not in self.inactive_serials
                ]
                if self.graphql_changed_shape == "units_renamed":
                    for meter in meters:
                        meter["unitOfMeasurement"] = meter.pop("consumptionUnits")
                elif self.graphql_changed_shape == "unknown_unit":
                    for meter in meters:
                        meter["consumptionUnits"] = "HCF"  # hundred cubic feet
                gas.append(
                    {
                        "meterPoint": {
                            "mprn": point["mprn"],
                            "meters": meters,
                            "agreements": agreements(point),
                        }
                    }
                )
        return {
            "balance": self.balance_pence,
            "electricityAgreements": electricity,
            "gasAgreements": gas,
        }

    def count(self, fragment: str) -> int:
        return sum(1 for _, path, _ in self.requests if fragment in path)

    # -- the server ------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/v1/accounts/{account}/", self._account)
        app.router.add_get(
            "/v1/electricity-meter-points/{point}/meters/{serial}/consumption/", self._consumption
        )
        app.router.add_get(
            "/v1/gas-meter-points/{point}/meters/{serial}/consumption/", self._consumption
        )
        app.router.add_get(
            "/v1/products/{product}/{fuel}-tariffs/{tariff}/{endpoint}/", self._rates
        )
        app.router.add_post("/v1/graphql/", self._graphql)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path, dict(request.query)))
        for failure in self.failures:
            if failure.path in request.path:
                failure.seen += 1
                if failure.nth <= failure.seen < failure.nth + failure.times:
                    if failure.status == 0:
                        assert request.transport is not None
                        request.transport.close()
                        await asyncio.sleep(0)
                        raise web.HTTPInternalServerError
                    if failure.status == 200 and failure.body is None:
                        return web.Response(
                            text="<html>maintenance</html>", content_type="text/html"
                        )
                    return web.Response(
                        status=failure.status,
                        text="error" if failure.body is None else failure.body,
                        content_type=failure.content_type,
                        headers=failure.headers,
                    )
        if request.path != "/v1/graphql/":
            auth = request.headers.get("Authorization", "")
            if not auth.startswith("Basic "):
                return web.json_response({"detail": "no credentials"}, status=401)
            user = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            if user not in self.keys:
                return web.json_response({"detail": "Invalid API key"}, status=401)
        result: web.StreamResponse = await handler(request)
        return result

    async def _account(self, request: web.Request) -> web.Response:
        account = self.accounts.get(request.match_info["account"])
        if account is None:
            return web.json_response({"detail": "Not found."}, status=404)
        return web.json_response({"number": request.match_info["account"], **account})

    def _page(
        self, request: web.Request, rows: list[dict[str, Any]], max_size: int
    ) -> web.Response:
        size = min(int(request.query.get("page_size", 100)), max_size)
        page = int(request.query.get("page", 1))
        start = (page - 1) * size
        if self.duplicate_page_edges and page > 1:
            start -= 1
        chunk = rows[start : page * size]
        has_next = page * size < len(rows)
        return web.json_response(
            {
                "count": len(rows),
                "next": str(request.url.update_query(page=page + 1)) if has_next else None,
                "previous": None,
                "results": chunk,
            }
        )

    async def _consumption(self, request: web.Request) -> web.Response:
        values = self.consumption.get(
            (request.match_info["point"], request.match_info["serial"]), {}
        )
        period_from = parse_query_time(request.query.get("period_from"))
        period_to = parse_query_time(request.query.get("period_to"))
        low = period_from - HALF_HOUR if self.overreach and period_from else period_from
        high = period_to + HALF_HOUR if self.overreach and period_to else period_to
        chosen = {
            start: value
            for start, value in values.items()
            if (low is None or start >= low) and (high is None or start < high)
        }
        rows = consumption_rows(chosen)
        if self.changed_shape == "renamed":
            rows = [
                {("consumption_kwh" if key == "consumption" else key): value}
                | {k: v for k, v in row.items() if k != "consumption"}
                for row in rows
                for key, value in row.items()
                if key == "consumption"
            ]
        elif self.changed_shape == "text":
            rows = [{**row, "consumption": f"{row['consumption']} kWh"} for row in rows]
        if request.query.get("order_by", "-period") == "-period":
            rows.reverse()
        return self._page(request, rows, 25000)

    async def _rates(self, request: web.Request) -> web.Response:
        product = self.products.get(request.match_info["product"])
        tariff = None if product is None else product.get(request.match_info["tariff"])
        if tariff is None:
            return web.json_response({"detail": "Not found."}, status=404)
        rows = tariff.get(request.match_info["endpoint"], [])
        period_from = parse_query_time(request.query.get("period_from"))
        period_to = parse_query_time(request.query.get("period_to"))

        def overlaps(row: dict[str, Any]) -> bool:
            start, end = row_time(row, "valid_from"), row_time(row, "valid_to")
            if period_to is not None and start is not None and start >= period_to:
                return False
            return not (period_from is not None and end is not None and end <= period_from)

        chosen = sorted(
            (r for r in rows if overlaps(r)),
            key=lambda r: row_time(r, "valid_from") or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )
        return self._page(request, chosen, 1500)

    async def _graphql(self, request: web.Request) -> web.Response:
        body = await request.json()
        query: str = body["query"]
        variables: dict[str, Any] = body.get("variables", {})
        if self.graphql_errors:
            code = self.graphql_errors.pop(0)
            return web.json_response(
                {"data": None, "errors": [{"message": code, "extensions": {"errorCode": code}}]}
            )
        if "obtainKrakenToken" in query:
            token_input = variables["input"]
            if "APIKey" in token_input and token_input["APIKey"] not in self.keys:
                return web.json_response(
                    {
                        "data": {"obtainKrakenToken": None},
                        "errors": [
                            {"message": "Invalid key", "extensions": {"errorCode": "KT-CT-1139"}}
                        ],
                    }
                )
            self.tokens_issued += 1
            expires = time.time() + self.token_lifetime
            token = fake_jwt(expires).replace(".sig", f".sig{self.tokens_issued}")
            self.tokens[token] = expires
            return web.json_response(
                {
                    "data": {
                        "obtainKrakenToken": {
                            "token": token,
                            "refreshToken": f"refresh{self.tokens_issued}",
                            "refreshExpiresIn": int(time.time() + 7 * 86400),
                        }
                    }
                }
            )
        token = request.headers.get("Authorization", "")
        if self.tokens.get(token, 0) < time.time():
            return web.json_response(
                {
                    "data": None,
                    "errors": [{"message": "expired", "extensions": {"errorCode": "KT-CT-1124"}}],
                }
            )
        if "smartMeterTelemetry" in query:
            grouping = variables.get("grouping") or "HALF_HOURLY"
            self.telemetry_groupings.append(grouping)
            if self.telemetry_errors:
                code = self.telemetry_errors.pop(0)
                return web.json_response(
                    {"data": None, "errors": [{"message": code, "extensions": {"errorCode": code}}]}
                )
            device = variables["deviceId"]
            rows = self.telemetry.get(device)
            if grouping == "ONE_MINUTE" and device in self.telemetry_minutes:
                rows = self.telemetry_minutes[device]
            if device in self.live_telemetry:
                now = datetime.now(UTC)
                if grouping == "ONE_MINUTE":
                    rows = minute_telemetry(now - timedelta(hours=2), now)
                else:
                    rows = moving_telemetry(now - timedelta(days=2), now)
            start = parse_query_time(variables.get("start"))
            end = parse_query_time(variables.get("end"))
            chosen = None
            if rows is not None:
                chosen = [
                    r
                    for r in rows
                    if (start is None or parse_query_time(r["readAt"]) >= start)  # type: ignore[operator]
                    and (end is None or parse_query_time(r["readAt"]) < end)  # type: ignore[operator]
                ]
            return web.json_response({"data": {"smartMeterTelemetry": chosen}})
        if variables.get("account") not in self.accounts:
            return web.json_response(
                {
                    "data": None,
                    "errors": [{"message": "no", "extensions": {"errorCode": "KT-CT-4123"}}],
                }
            )
        if "electricityAgreements" in query:
            if self.account_errors:
                code = self.account_errors.pop(0)
                return web.json_response(
                    {"data": None, "errors": [{"message": code, "extensions": {"errorCode": code}}]}
                )
            return web.json_response(
                {"data": {"account": self.graphql_account(variables["account"])}}
            )
        return web.json_response({"data": {"account": {"balance": self.balance_pence}}})


def electricity_point(
    mpan: str,
    serials: Iterable[str],
    agreements: Iterable[tuple[str, datetime | None, datetime | None]],
    *,
    export: bool = False,
) -> dict[str, Any]:
    return {
        "mpan": mpan,
        "profile_class": 1,
        "consumption_standard": 2900,
        "is_export": export,
        "meters": [{"serial_number": s, "registers": []} for s in serials],
        "agreements": [
            {
                "tariff_code": code,
                "valid_from": None if start is None else octopus_time(start),
                "valid_to": None if end is None else octopus_time(end),
            }
            for code, start, end in agreements
        ],
    }


def gas_point(
    mprn: str,
    serials: Iterable[str],
    agreements: Iterable[tuple[str, datetime | None, datetime | None]],
) -> dict[str, Any]:
    point = electricity_point(mprn, serials, agreements)
    return {"mprn": mprn, "meters": point["meters"], "agreements": point["agreements"]}


async def start_standin(fake: FakeOctopus) -> web.AppRunner:
    """Serve ``fake`` on a free port of 127.0.0.1; its REST base is ``fake.base_url``."""
    runner = web.AppRunner(fake.app(), shutdown_timeout=0.1, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    fake.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}/v1/"
    return runner


def moving_demand(moment: datetime) -> float:
    """A household's demand in W at ``moment``: an evening peak, and a wobble by the minute."""
    hours = moment.astimezone(LONDON).hour + moment.minute / 60
    evening = 900 * math.exp(-(((hours - 18.5) / 2.5) ** 2))
    morning = 400 * math.exp(-(((hours - 7.5) / 1.5) ** 2))
    wobble = 30 * ((moment.minute * 7) % 11)
    return round(180 + evening + morning + wobble, 1)


def moving_telemetry(start: datetime, now: datetime) -> list[dict[str, Any]]:
    """Half-hourly Home Mini rows from ``start`` through the half hour in progress at ``now``.

    Each row's ``demand`` is the demand at ``now`` for the newest row (so it moves every minute)
    and at the half hour's end for the others; ``consumptionDelta`` is what that demand uses in
    a half hour (Wh), and ``consumption`` the running total.
    """
    first = start.replace(minute=start.minute // 30 * 30, second=0, microsecond=0)
    rows: list[dict[str, Any]] = []
    total = 5_000_000.0
    for moment in half_hours(first, now):
        demand = moving_demand(min(moment + HALF_HOUR, now))
        delta = round(demand / 2, 1)
        total += delta
        rows.append(
            {
                "readAt": octopus_time(moment),
                "consumption": round(total, 1),
                "consumptionDelta": delta,
                "demand": demand,
                "export": 0.0,
            }
        )
    return rows


def minute_telemetry(start: datetime, now: datetime) -> list[dict[str, Any]]:
    """``ONE_MINUTE`` Home Mini rows from ``start`` through the minute in progress at ``now``.

    Each row's ``demand`` is :func:`moving_demand` at its minute (the newest row's is now's),
    ``consumptionDelta`` what that demand uses in a minute (Wh), ``consumption`` the running
    total. Kraken answers one-minute rows with the same fields as half-hourly ones.
    """
    moment = start.astimezone(UTC).replace(second=0, microsecond=0)
    rows: list[dict[str, Any]] = []
    total = 5_000_000.0
    while moment <= now:
        demand = moving_demand(moment)
        delta = round(demand / 60, 2)
        total += delta
        rows.append(
            {
                "readAt": octopus_time(moment),
                "consumption": round(total, 2),
                "consumptionDelta": delta,
                "demand": demand,
                "export": 0.0,
            }
        )
        moment += timedelta(minutes=1)
    return rows


DEMO_MPAN = "1900000000009"
DEMO_MPRN = "9000000009"
DEMO_SERIAL = "23J0000009"
DEMO_GAS_SERIAL = "E6S0000009"
DEMO_DEVICE = "00-0D-E0-00-00-00-00-09"
DEMO_TARIFF = "E-1R-VAR-22-11-01-C"
DEMO_GAS_TARIFF = "G-1R-VAR-22-11-01-C"


def demo_octopus(now: datetime | None = None, *, days: int = 30) -> FakeOctopus:
    """An account for a demo: electricity with a Home Mini that keeps reporting, and m³ gas.

    History covers ``days`` days up to the last UK midnight (Octopus publishes a day late);
    the Home Mini answers :func:`moving_telemetry` (``HALF_HOURLY``) and :func:`minute_telemetry`
    (``ONE_MINUTE``) at the time it is asked.
    """
    now = now or datetime.now(UTC)
    today = datetime.combine(now.astimezone(LONDON).date(), datetime.min.time(), LONDON)
    end = today.astimezone(UTC)
    start = (today - timedelta(days=days)).astimezone(UTC)
    since = start - timedelta(days=365)
    fake = FakeOctopus()
    fake.accounts[ACCOUNT] = {
        "properties": [
            {
                "id": 1,
                "moved_in_at": octopus_time(since),
                "moved_out_at": None,
                "electricity_meter_points": [
                    electricity_point(DEMO_MPAN, [DEMO_SERIAL], [(DEMO_TARIFF, since, None)])
                ],
                "gas_meter_points": [
                    gas_point(DEMO_MPRN, [DEMO_GAS_SERIAL], [(DEMO_GAS_TARIFF, since, None)])
                ],
            }
        ]
    }
    slots = half_hours(start, end)
    fake.add_consumption(
        DEMO_MPAN, DEMO_SERIAL, {s: round(moving_demand(s + HALF_HOUR) / 2000, 3) for s in slots}
    )
    fake.add_consumption(
        DEMO_MPRN, DEMO_GAS_SERIAL, {s: 0.15 if 6 <= s.hour < 22 else 0.02 for s in slots}
    )
    for code, unit, standing in ((DEMO_TARIFF, 24.5, 60.12), (DEMO_GAS_TARIFF, 6.5, 30.0)):
        fake.add_rates(code, "standard-unit-rates", [rate_row(unit, since, None, "DIRECT_DEBIT")])
        fake.add_rates(code, "standing-charges", [rate_row(standing, since, None)])
    fake.device_ids[DEMO_SERIAL] = DEMO_DEVICE
    fake.live_telemetry.add(DEMO_DEVICE)
    return fake


def demo_app(now: datetime | None = None) -> web.Application:
    """The demo account's server as an ``aiohttp`` application (see :func:`demo_octopus`)."""
    return demo_octopus(now).app()


def main(argv: list[str] | None = None) -> None:
    """Serve the demo account until interrupted."""
    parser = argparse.ArgumentParser(description="A local Octopus Energy stand-in for demos.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8021)
    args = parser.parse_args(argv)
    print(  # what to type into the config flow
        f"Octopus stand-in: base URL http://{args.host}:{args.port}/v1/ "
        f"API key {GOOD_KEY} account {ACCOUNT}",
        flush=True,
    )
    web.run_app(demo_app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
