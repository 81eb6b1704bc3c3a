"""A stand-in for the Conso API gateway, speaking the documented shapes, on the real URL.

It is plugged into Home Assistant's shared session through ``aioclient_mock`` and produces data
from a model of the house: ``watts(start_utc)`` gives the average power of each half hour. A day's
data is published at 08:00 Paris the next morning (``publish_lag`` can delay the load curve only),
values are strings, load-curve dates are the END of each interval in naive Paris time (so the
autumn DST day repeats 02:00 and 02:30). Every request is recorded with the frozen "now".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
import re
from typing import Any
from zoneinfo import ZoneInfo

from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

from homeassistant.util import dt as dt_util

PARIS = ZoneInfo("Europe/Paris")
BASE = "https://conso.boris.sh/api/"
PRM = "12345678901234"
TOKEN = "good-token"


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)


@dataclass
class Request:
    at: datetime
    kind: str
    start: date
    end: date
    headers: dict[str, str]


@dataclass
class FakeGateway:
    mocker: AiohttpClientMocker
    prm: str = PRM
    tokens: set[str] = field(default_factory=lambda: {TOKEN})
    watts: Callable[[datetime], float] = lambda start: 1000.0
    production_watts: Callable[[datetime], float] = lambda start: 0.0
    curve_from: date = date(2000, 1, 1)
    #: Daily totals exist from this day (tests keep it short: every row costs recorder time).
    daily_from: date = date(2026, 5, 1)
    #: Extra delay of the load curve after the daily total (Enedis sometimes lags a day).
    publish_lag: timedelta = timedelta(0)
    #: Interval starts (UTC) the load curve leaves out.
    holes: set[datetime] = field(default_factory=set)
    #: kind -> HTTP status to answer instead (500, 401, ...), for every request of that kind.
    fail: dict[str, int] = field(default_factory=dict)
    answer_for_prm: str | None = None
    requests: list[Request] = field(default_factory=list)

    def install(self) -> None:
        self.mocker.get(re.compile(r"^https://conso\.boris\.sh/api/"), side_effect=self.handle)

    # -- the published data -------------------------------------------------------------------

    def published(self, day: date, *, curve: bool) -> bool:
        now = dt_util.utcnow()
        ready = datetime.combine(day + timedelta(days=1), time(8), tzinfo=PARIS)
        if curve:
            ready += self.publish_lag
        return now >= ready

    def intervals(self, day: date) -> list[datetime]:
        start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
        count = int((end - start) / timedelta(minutes=30))
        return [start + timedelta(minutes=30 * n) for n in range(count)]

    def day_wh(self, day: date, production: bool = False) -> float:
        model = self.production_watts if production else self.watts
        return sum(model(start) / 2 for start in self.intervals(day))

    # -- HTTP ------------------------------------------------------------------------------------

    async def handle(self, method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        headers = dict(self.mocker.mock_calls[-1][3] or {})
        kind = url.path.rsplit("/", 1)[-1]
        query = url.query
        start, end = date.fromisoformat(query["start"]), date.fromisoformat(query["end"])
        self.requests.append(Request(dt_util.utcnow(), kind, start, end, headers))
        if (status := self.fail.get(kind)) is not None:
            body = {"status": status, "error": "failure", "message": f"prm {self.prm}"}
            return self.respond(url, status, body)
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens or query.get("prm") not in {self.prm, None}:
            return self.respond(url, 401, {"status": 401, "error": "invalid_token"})
        today = dt_util.utcnow().astimezone(PARIS).date()
        if start >= end or end > today + timedelta(days=1):
            return self.respond(url, 400, {"status": 400, "error": "invalid_dates"})
        if kind.endswith("load_curve") and (end - start).days > 7:
            return self.respond(url, 400, {"status": 400, "error": "too_many_days"})
        if start < today - timedelta(days=3 * 365):
            return self.respond(url, 400, {"status": 400, "error": "start_too_old"})
        days = [start + timedelta(days=n) for n in range((end - start).days)]
        production = kind.startswith(("daily_production", "production"))
        readings: list[dict[str, Any]]
        if kind.endswith("load_curve"):
            readings = self.curve_readings(days, production)
            unit = "W"
        elif kind.startswith("daily_"):
            readings = [
                {"value": str(round(self.day_wh(day, production))), "date": day.isoformat()}
                for day in days
                if day >= self.daily_from and self.published(day, curve=False)
            ]
            unit = "Wh"
        elif kind == "consumption_max_power":
            readings = [
                {"value": "6120", "date": f"{day.isoformat()} 19:12:40"}
                for day in days
                if day >= self.daily_from and self.published(day, curve=False)
            ]
            unit = "VA"
        else:
            return self.respond(url, 404, {"status": 404, "error": "not_found"})
        if not readings:
            return self.respond(url, 404, {"status": 404, "error": "no_data_found"})
        body = {
            "usage_point_id": self.answer_for_prm or self.prm,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "quality": "BRUT",
            "reading_type": {"unit": unit, "measurement_kind": "power", "aggregate": "average"},
            "interval_reading": readings,
        }
        return self.respond(url, 200, body)

    def curve_readings(self, days: list[date], production: bool) -> list[dict[str, Any]]:
        model = self.production_watts if production else self.watts
        readings = []
        for day in days:
            if day < self.curve_from or not self.published(day, curve=True):
                continue
            for start in self.intervals(day):
                if start in self.holes:
                    continue
                end = (start + timedelta(minutes=30)).astimezone(PARIS)
                readings.append(
                    {
                        "value": str(round(model(start))),
                        "date": end.strftime("%Y-%m-%d %H:%M:%S"),
                        "interval_length": "PT30M",
                        "measure_type": "B",
                    }
                )
        return readings

    def respond(self, url: URL, status: int, body: dict[str, Any]) -> AiohttpClientMockResponse:
        return AiohttpClientMockResponse(
            "get", url, status=status, json=body, headers={"Content-Type": "application/json"}
        )

    # -- counting ----------------------------------------------------------------------------------

    def max_in_window(self, window: timedelta = timedelta(hours=12)) -> int:
        times = sorted(request.at for request in self.requests)
        best = 0
        for index, moment in enumerate(times):
            count = sum(1 for other in times[index:] if other < moment + window)
            best = max(best, count)
        return best
