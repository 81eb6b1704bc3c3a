"""A stand-in DSMR-reader server: the REST API v2 as a real DSMR-reader 5.11 answers it, on 127.0.0.1.

Its answers follow the exchanges recorded from a real server (``tests/fixtures/dsmr_reader/recorded``,
see its README): 403 ``{"detail": "Invalid auth key"}`` for a wrong or missing key, 403
``{"detail": "API is disabled"}`` whatever the key when the API is off (405 ``text/html`` on v1),
a 404 HTML page for unknown paths and trailing slashes, lists paged with ``limit``/``offset``
(default 25) as ``{count, next, previous, results}``. Time filters are read like Django reads them:
ISO 8601 with an offset or ``Z`` is exact, a naive time is local (Europe/Amsterdam) and answers 400
when it is ambiguous or does not exist; ``day`` filters take dates only. Decimals go out as
strings, datetimes with their offset. Tests steer it: data, failures, HTML answers, delays, and a
hook that runs before each answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
import json
from pathlib import Path
import ssl
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

FIXTURES = Path(__file__).parent.parent / "fixtures" / "dsmr_reader"
RECORDED = FIXTURES / "recorded"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
API_KEY = "0123456789abcdefTESTKEY"
HOUR_FIELDS = ("electricity1", "electricity2", "electricity1_returned", "electricity2_returned")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def recorded(name: str) -> dict[str, Any]:
    """One exchange recorded from the real server: ``{request, status, content_type, body}``."""
    exchange: dict[str, Any] = json.loads((RECORDED / name).read_text())
    return exchange


def recorded_body(name: str) -> Any:
    return recorded(name)["body"]


def recorded_hours(*names: str) -> list[dict[str, Any]]:
    """Hour rows of recorded listings as the stand-in keeps them (``hour_start`` a UTC datetime)."""
    rows: dict[datetime, dict[str, Any]] = {}
    for name in names:
        for row in recorded_body(name)["results"]:
            start = datetime.fromisoformat(row["hour_start"]).astimezone(UTC)
            rows[start] = {**row, "hour_start": start}
    return [rows[start] for start in sorted(rows)]


def recorded_days(*names: str) -> list[dict[str, Any]]:
    rows = {row["day"]: row for name in names for row in recorded_body(name)["results"]}
    return [rows[day] for day in sorted(rows)]


NOT_FOUND_HTML = recorded_body("unknown_endpoint.json")


def hour_value(index: int, field_no: int) -> str:
    """A deterministic decimal string per hour and field (three decimals, like DSMR-reader)."""
    return f"{((index * 7 + field_no * 3) % 11) * 0.037 + field_no * 0.01:.3f}"


def make_hours(
    first: datetime, count: int, *, gas: bool = True, only: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """``count`` hourly rows from ``first`` (UTC hour), as the server stores them.

    ``only`` keeps those fields and sets the others to null (a meter without return or gas).
    """
    rows = []
    for index in range(count):
        row: dict[str, Any] = {
            "id": 10_000 + index,
            "hour_start": first + timedelta(hours=index),
        }
        for number, name in enumerate(HOUR_FIELDS):
            row[name] = hour_value(index, number)
        row["gas"] = hour_value(index, 5) if gas else None
        if only is not None:
            row.update({name: None for name in (*HOUR_FIELDS, "gas") if name not in only})
        rows.append(row)
    return rows


def make_days(
    first: date, count: int, *, hours: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """``count`` day rows from ``first``; with ``hours``, each day's quantities are its hours' sum.

    (A real server's electricity day is a little more than its hours: ``recorded_days`` has those.)
    """
    by_day: dict[str, list[dict[str, Any]]] = {}
    for hour in hours or []:
        by_day.setdefault(hour["hour_start"].astimezone(AMSTERDAM).date().isoformat(), []).append(
            hour
        )
    rows = []
    for index in range(count):
        electricity1 = Decimal(f"{1 + (index % 5) * 0.25:.2f}")
        electricity2 = Decimal(f"{2 + (index % 3) * 0.5:.2f}")
        gas = Decimal(f"{0.5 + (index % 4) * 0.1:.2f}")
        fixed = Decimal("1.23")
        rows.append(
            {
                "id": 500 + index,
                "day": (first + timedelta(days=index)).isoformat(),
                "electricity1": "5.000",
                "electricity2": "3.000",
                "electricity1_returned": "0.000",
                "electricity2_returned": "0.000",
                "gas": "1.500",
                "electricity1_cost": str(electricity1),
                "electricity2_cost": str(electricity2),
                "gas_cost": str(gas),
                "fixed_cost": str(fixed),
                "total_cost": str(electricity1 + electricity2 + gas + fixed),
                "lowest_temperature": None,
                "highest_temperature": None,
                "average_temperature": None,
            }
        )
        if day_hours := by_day.get(rows[-1]["day"]):
            for name in (*HOUR_FIELDS, "gas"):
                values = [Decimal(h[name]) for h in day_hours if h[name] is not None]
                rows[-1][name] = f"{sum(values, Decimal(0)):.3f}" if values else None
    return rows


def total(rows: list[dict[str, Any]], name: str) -> Decimal:
    return sum((Decimal(row[name]) for row in rows if row[name] is not None), Decimal(0))


@dataclass
class FakeDsmrReader:
    """The server's state; change it between requests to play out a scenario."""

    api_key: str = API_KEY
    api: str = "enabled"  # or "disabled_403", "disabled_405"
    readings: list[dict[str, Any]] = field(default_factory=lambda: [fixture("reading.json")])
    today: Any = field(default_factory=lambda: fixture("today.json"))
    hours: list[dict[str, Any]] = field(default_factory=list)
    days: list[dict[str, Any]] = field(default_factory=list)
    prices: list[dict[str, Any]] | None = field(default_factory=lambda: fixture("prices.json"))
    #: ``datalogger/meter-statistics``; None: an older server without the endpoint (404).
    meter: dict[str, Any] | None = field(
        default_factory=lambda: recorded_body("meter_statistics.json")
    )
    version: str = "5.11.0"
    fail_status: int | None = None
    html: bool = False
    delay: float = 0.0
    #: After this many ``statistics/hour`` answers, every further one fails with 503.
    hour_requests_left: int | None = None
    #: Pages from this offset on come back with no results although ``count`` says more.
    empty_from_offset: int | None = None
    #: Answer every authorised request with this JSON instead (a foreign shape).
    raw_answer: Any = None
    before_answer: Callable[[FakeDsmrReader, str, dict[str, str]], None] | None = None
    #: Answer every request with this raw ``(status, body, headers)`` instead, before the key is
    #: checked (a proxy or a broken server in front of DSMR-reader).
    override: tuple[int, str, dict[str, str]] | None = None
    #: ``statistics/hour`` rows in a changed shape, as a changed API would send them:
    #: ``"renamed"`` (``electricity1`` under another name) or ``"object"`` (a quantity that became
    #: an object). None: today's shape.
    changed_shape: str | None = None
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def requests_to(self, path: str) -> list[dict[str, str]]:
        return [params for seen, params in self.requests if seen == path]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        path = tail.strip("/")
        params = dict(request.query)
        self.requests.append((path, params))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.override is not None:
            status, body, headers = self.override
            return web.Response(status=status, text=body, headers=headers)
        if self.html:
            return web.Response(
                text="<!DOCTYPE html><html><body>Router login</body></html>",
                content_type="text/html",
            )
        if self.fail_status is not None:
            return web.Response(
                status=self.fail_status, text="Bad gateway", content_type="text/html"
            )
        if self.api == "disabled_405":  # what v1 answers (and very old servers did on v2)
            return web.Response(status=405, text="API is disabled", content_type="text/html")
        if self.api == "disabled_403":
            return web.json_response({"detail": "API is disabled"}, status=403)
        key = request.headers.get("X-AUTHKEY") or request.headers.get(
            "Authorization", ""
        ).removeprefix("Token ")
        if key != self.api_key:
            return web.json_response({"detail": "Invalid auth key"}, status=403)
        if tail.endswith("/"):
            return _not_found()
        if self.before_answer is not None:
            self.before_answer(self, path, params)
        if self.raw_answer is not None:
            return web.json_response(self.raw_answer)
        try:
            return self._route(request, path, params)
        except FilterError as err:
            return web.json_response({err.name: [err.message]}, status=400)

    def _route(self, request: web.Request, path: str, params: dict[str, str]) -> web.Response:
        if path == "datalogger/dsmrreading":
            rows = sorted(
                self.readings,
                key=lambda r: r["timestamp"],
                reverse=params.get("ordering") == "-timestamp",
            )
            return self._page(request, rows, params)
        if path == "consumption/today":
            return web.json_response(self.today)
        if path == "application/version":
            return web.json_response({"version": self.version})
        if path == "datalogger/meter-statistics" and self.meter is not None:
            return web.json_response(self.meter)
        if path == "consumption/energy-supplier-prices" and self.prices is not None:
            rows = list(self.prices)
            if "start__lte" in params:
                rows = [r for r in rows if r["start"] <= _day(params, "start__lte")]
            if "end__gte" in params:
                rows = [r for r in rows if r["end"] is None or r["end"] >= _day(params, "end__gte")]
            rows.sort(key=lambda r: r["start"], reverse=params.get("ordering") == "-start")
            return self._page(request, rows, params)
        if path == "statistics/hour":
            if self.hour_requests_left is not None:
                if self.hour_requests_left <= 0:
                    return web.Response(status=503, text="Service Unavailable")
                self.hour_requests_left -= 1
            low = _moment(params, "hour_start__gte")
            high = _moment(params, "hour_start__lte")
            rows = [
                r
                for r in self.hours
                if (low is None or r["hour_start"] >= low)
                and (high is None or r["hour_start"] <= high)
            ]
            rows.sort(
                key=lambda r: r["hour_start"], reverse=params.get("ordering") == "-hour_start"
            )
            return self._page(request, rows, params, self._changed_hour_json)
        if path == "statistics/day":
            first = _day(params, "day__gte") if "day__gte" in params else "0000"
            last = _day(params, "day__lte") if "day__lte" in params else "9999"
            rows = [r for r in self.days if first <= r["day"] <= last]
            rows.sort(key=lambda r: r["day"], reverse=params.get("ordering") == "-day")
            return self._page(request, rows, params)
        return _not_found()

    def _changed_hour_json(self, row: dict[str, Any]) -> dict[str, Any]:
        answer = self._hour_json(row)
        if self.changed_shape == "renamed":
            answer["electricity1_kwh"] = answer.pop("electricity1")
        elif self.changed_shape == "object":
            answer["electricity1"] = {"value": answer["electricity1"], "unit": "kWh"}
        return answer

    @staticmethod
    def _hour_json(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "hour_start": row["hour_start"].astimezone(AMSTERDAM).isoformat()}

    def _page(
        self,
        request: web.Request,
        rows: list[dict[str, Any]],
        params: dict[str, str],
        render: Callable[[dict[str, Any]], dict[str, Any]] = dict,
    ) -> web.Response:
        """One page; filters are naive local times (``Y-m-d H:M:S``) read in the server's zone."""
        limit = int(params.get("limit", 25))
        offset = int(params.get("offset", 0))
        count = len(rows)
        if self.empty_from_offset is not None and offset >= self.empty_from_offset:
            rows = []

        def link(at: int) -> str:
            return str(request.url.update_query({"limit": limit, "offset": at}))

        return web.json_response(
            {
                "count": count,
                "next": link(offset + limit) if offset + limit < count else None,
                "previous": link(max(0, offset - limit)) if offset > 0 else None,
                "results": [render(row) for row in rows[offset : offset + limit]],
            }
        )


class FilterError(Exception):
    """A filter value the real server answers 400 to, with its message."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def _not_found() -> web.Response:
    return web.Response(status=404, text=NOT_FOUND_HTML, content_type="text/html")


def _moment(params: dict[str, str], name: str) -> datetime | None:
    """A datetime filter as Django reads it (``hour_filter_*.json``)."""
    if name not in params:
        return None
    text = params[name].strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(name, "Enter a valid date/time.") from None
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    early = moment.replace(tzinfo=AMSTERDAM, fold=0)
    late = moment.replace(tzinfo=AMSTERDAM, fold=1)
    exists = early.astimezone(UTC).astimezone(AMSTERDAM).replace(tzinfo=None) == moment
    if early.utcoffset() != late.utcoffset() or not exists:
        raise FilterError(
            name,
            f"{moment:%Y-%m-%d %H:%M:%S} couldn\u2019t be interpreted in time zone Europe/Amsterdam; "
            "it may be ambiguous or it may not exist.",
        )
    return early.astimezone(UTC)


def _day(params: dict[str, str], name: str) -> str:
    """A date filter: a datetime there is a 400 (``day_bad_filter.json``)."""
    try:
        return date.fromisoformat(params[name]).isoformat()
    except ValueError:
        raise FilterError(name, "Enter a valid date.") from None


async def start_standin(
    server: FakeDsmrReader, *, ssl_context: ssl.SSLContext | None = None
) -> web.AppRunner:
    """Serve ``server`` on a free port (HTTPS with ``ssl_context``, as behind a TLS proxy)."""
    app = web.Application()
    app.router.add_get("/api/v2/{tail:.*}", server.handle)
    app.router.add_get("/{tail:.*}", _web_page)
    # No access log: it is the stand-in's (a server's), not Home Assistant's, and it would print
    # the request lines that the privacy test plants identifiers in.
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1]
    scheme = "https" if ssl_context is not None else "http"
    server.url = f"{scheme}://127.0.0.1:{port}"
    return runner


async def _web_page(request: web.Request) -> web.Response:
    """DSMR-reader's web interface: HTML, as a URL with a path would reach."""
    return web.Response(text="<html>DSMR-reader</html>", content_type="text/html")


def hours_short_of_days(
    days: list[dict[str, Any]], known: list[dict[str, Any]], *, shortfall: Decimal
) -> list[dict[str, Any]]:
    """Every hour of ``days`` as a real server stores them: the recorded (``known``) hours kept,
    the others filled in so that each day's electricity hours come ``shortfall`` (a fraction)
    short of the day row, as measured on DSMR-reader 5.11, and its gas hours match it exactly.
    """
    by_start = {row["hour_start"]: row for row in known}
    rows: list[dict[str, Any]] = []
    for day in days:
        first = datetime.fromisoformat(day["day"]).replace(tzinfo=AMSTERDAM).astimezone(UTC)
        following = (date.fromisoformat(day["day"]) + timedelta(days=1)).isoformat()
        end = datetime.fromisoformat(following).replace(tzinfo=AMSTERDAM).astimezone(UTC)
        hours = int((end - first).total_seconds() // 3600)  # 23, 24 or 25
        starts = [first + timedelta(hours=h) for h in range(hours)]
        day_rows = [by_start.get(start, {"id": 0, "hour_start": start}) for start in starts]
        for name in (*HOUR_FIELDS, "gas"):
            target = Decimal(day[name]) * (1 if name == "gas" else 1 - shortfall)
            target = target.quantize(Decimal("0.001"))
            missing = [row for row in day_rows if name not in row]
            have = sum((Decimal(row[name]) for row in day_rows if name in row), Decimal(0))
            left = max(target - have, Decimal(0))
            share = (left / len(missing)).quantize(Decimal("0.001")) if missing else Decimal(0)
            for index, row in enumerate(missing):
                last = index == len(missing) - 1
                value = left - share * (len(missing) - 1) if last else share
                row[name] = f"{value:.3f}"
        rows += day_rows
    for index, row in enumerate(rows):
        row["id"] = row["id"] or 1000 + index
    return rows
