"""A stand-in for the Conso API gateway as it answers since October 2026 (v2 only), on the real URL.

It speaks Enedis' "mesure synchrone v2" through the gateway (bokub/conso-api
``content/migration-2026.md``; shapes as in the recorded answers under
``tests/fixtures/enedis/``): ``GET /api/<v2 type>?pointId=&dateDebut=&dateFin=`` answers
``{idPrm, etapeMetier, periode, pas, grandeur: [{grandeurMetier, grandeurPhysique, unite,
points: [{v, d, p, n}]}]}``. The legacy types (``daily_consumption``, ``consumption_load_curve``,
...) answer 404, as the gateway does now; the legacy parameter names are still accepted as
aliases. Errors are ``{status, message, error: {error, error_description}}``.

It is plugged into Home Assistant's shared session through ``aioclient_mock`` and produces data
from a model of the house: ``watts(start_utc)`` gives the average power of each interval. A day's
data is published at 08:00 Paris the next morning (``publish_lag`` can delay the load curve only),
values are strings (``null`` where ``unmeasured``), load-curve dates are the END of each interval in
naive Paris time (the autumn DST day repeats 02:00 and 02:30). Every request is recorded with the
frozen "now".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
import random
import re
from typing import Any
from zoneinfo import ZoneInfo

from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

from custom_components.meterhub.statistics import local_midnight as zone_midnight
from homeassistant.util import dt as dt_util

PARIS = ZoneInfo("Europe/Paris")
BASE = "https://conso.boris.sh/api/"
PRM = "12345678901234"
TOKEN = "good-token"

DAILY = {"consommation_quotidienne": False, "production_quotidienne": True}
CURVE = {"courbe_de_charge_consommation": False, "courbe_de_charge_production": True}
MAX_POWER = "puissance_conso_max_quotidienne"
LEGACY = {
    "daily_consumption",
    "consumption_load_curve",
    "consumption_max_power",
    "daily_production",
    "production_load_curve",
}
ACTIVATION_TEXT = (
    "The requested period cannot be anterior to the meter's last activation date "
    "(usage point {prm})"
)


def local_midnight(day: date) -> datetime:
    """Where a Paris day starts, in UTC (the start of its first hour in the statistics)."""
    return zone_midnight(day, PARIS)


def error_body(status: int, error: str, description: str, message: str = "") -> dict[str, Any]:
    return {
        "status": status,
        "message": message or "The Enedis API returned an error",
        "error": {"error": error, "error_description": description},
    }


@dataclass
class Request:
    at: datetime
    kind: str
    start: date
    end: date
    headers: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)


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
    #: The meter's last activation: a start before it is refused with ADAM-ERR0123 (400).
    activation: date | None = None
    #: Extra delay of the load curve after the daily total (Enedis sometimes lags a day).
    publish_lag: timedelta = timedelta(0)
    #: Interval starts (UTC) the load curve leaves out.
    holes: set[datetime] = field(default_factory=set)
    #: Interval starts (UTC) the load curve gives with ``"v": null`` (not measured yet).
    unmeasured: set[datetime] = field(default_factory=set)
    #: Length of the load-curve intervals, minutes (PT30M today; PT10M/PT15M/PT60M exist).
    step_minutes: int = 30
    #: Points order in an answer: "asc" (as Enedis sends them), "desc", or "shuffled".
    order: str = "asc"
    #: kind -> (HTTP status, error_description) to answer instead, for every request of it.
    fail: dict[str, tuple[int, str]] = field(default_factory=dict)
    answer_for_prm: str | None = None
    #: (status, raw body, headers) answered to every request instead, as a server might.
    raw: tuple[int, str, dict[str, str]] | None = None
    #: What the HTTP library raises for every request instead (refused, timeout, redirect loop),
    #: made from the request URL as aiohttp makes it.
    raises: Callable[[URL], Exception] | None = None
    #: Answer successful requests in a changed shape, as a changed API would: ``"renamed"`` (the
    #: points under another name), ``"text"`` (values that are not numbers) or ``"unit"`` (a unit
    #: the client does not know). None: the shape of today.
    changed_shape: str | None = None
    #: Enedis no longer has the user's consent (withdrawn, or ended): 403 ADAM-DC-0008, as the
    #: gateway relays it (bokub/conso-api issues 9 and 164).
    consent_withdrawn: bool = False
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
        step = timedelta(minutes=self.step_minutes)
        count = int((end - start) / step)
        return [start + step * n for n in range(count)]

    def day_wh(self, day: date, production: bool = False) -> float:
        model = self.production_watts if production else self.watts
        return sum(model(start) * self.step_minutes / 60 for start in self.intervals(day))

    # -- HTTP ------------------------------------------------------------------------------------

    async def handle(self, method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        headers = dict(self.mocker.mock_calls[-1][3] or {})
        kind = url.path.rsplit("/", 1)[-1]
        query = dict(url.query)
        point = query.get("pointId", query.get("prm"))
        raw_start = query.get("dateDebut", query.get("start", ""))
        raw_end = query.get("dateFin", query.get("end", ""))
        try:
            start, end = date.fromisoformat(raw_start), date.fromisoformat(raw_end)
        except ValueError:
            self.requests.append(Request(dt_util.utcnow(), kind, date.min, date.min, headers))
            return self.respond(url, 400, {"status": 400, "message": "Paramètres invalides"})
        self.requests.append(Request(dt_util.utcnow(), kind, start, end, headers, query))
        if self.raises is not None:
            raise self.raises(url)
        if self.raw is not None:
            status, text, raw_headers = self.raw
            return AiohttpClientMockResponse(
                "get", url, status=status, text=text, headers=raw_headers
            )
        if kind in LEGACY or kind not in {*DAILY, *CURVE, MAX_POWER}:
            return self.respond(url, 404, {"status": 404, "message": "Not found"})
        if (failure := self.fail.get(kind)) is not None:
            status, description = failure
            body = error_body(status, "failure", description.format(prm=self.prm))
            return self.respond(url, status, body)
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens or point != self.prm:
            message = "Votre token est invalide ou ne permet pas d'accéder à ce PRM"
            return self.respond(url, 401, {"status": 401, "message": message})
        if self.consent_withdrawn:
            description = "No consent can be found for this customer and this usage point."
            return self.respond(url, 403, error_body(403, "ADAM-DC-0008", description))
        today = dt_util.utcnow().astimezone(PARIS).date()
        if start >= end or end > today + timedelta(days=1):
            description = "The end date parameter must be earlier than the current date."
            return self.respond(url, 400, error_body(400, "ADAM-ERR0125", description))
        if kind in CURVE and (end - start).days > 7:
            description = "The requested period cannot be longer than 7 days."
            return self.respond(url, 400, error_body(400, "ADAM-ERR0069", description))
        if self.activation is not None and start < self.activation:
            description = ACTIVATION_TEXT.format(prm=self.prm)
            return self.respond(url, 400, error_body(400, "ADAM-ERR0123", description))
        if start < today - timedelta(days=3 * 365):
            description = "The start date must be greater than the history deadline."
            return self.respond(url, 400, error_body(400, "ADAM-ERR0124", description))
        days = [start + timedelta(days=n) for n in range((end - start).days)]
        grandeur: dict[str, Any]
        step = "P1D"
        if kind in CURVE:
            production = CURVE[kind]
            grandeur = self.grandeur(production, "PA", "W", self.curve_points(days, production))
            step = f"PT{self.step_minutes}M"
        elif kind in DAILY:
            production = DAILY[kind]
            points = [
                {"v": str(round(self.day_wh(day, production))), "d": day.isoformat()}
                for day in days
                if day >= self.daily_from and self.published(day, curve=False)
            ]
            grandeur = self.grandeur(production, "EA", "Wh", points)
        else:
            points = [
                {"v": "6120", "d": f"{day.isoformat()} 19:12:40"}
                for day in days
                if day >= self.daily_from and self.published(day, curve=False)
            ]
            grandeur = self.grandeur(False, "PMA", "VA", points)
        if not grandeur["points"]:
            description = "no measure found for this usage point"
            return self.respond(url, 404, error_body(404, "no_data_found", description))
        if self.changed_shape == "renamed":
            grandeur["valeurs"] = grandeur.pop("points")
        elif self.changed_shape == "text":
            grandeur["points"] = [{**point, "v": "n/a"} for point in grandeur["points"]]
        elif self.changed_shape == "unit":
            grandeur["unite"] = "MWh/h"
        body = {
            "idPrm": self.answer_for_prm or self.prm,
            "etapeMetier": "BRUT",
            "periode": {"dateDebut": start.isoformat(), "dateFin": end.isoformat()},
            "modeCalcul": "MESURE",
            "pas": step,
            "grandeur": [grandeur],
            "contexte": [],
        }
        return self.respond(url, 200, body)

    def grandeur(
        self, production: bool, physical: str, unit: str, points: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return {
            "grandeurMetier": "PROD" if production else "CONS",
            "grandeurPhysique": physical,
            "unite": unit,
            "points": points,
            "calendrier": [],
        }

    def curve_points(self, days: list[date], production: bool) -> list[dict[str, Any]]:
        model = self.production_watts if production else self.watts
        points: list[dict[str, Any]] = []
        for day in days:
            if day < self.curve_from or not self.published(day, curve=True):
                continue
            for start in self.intervals(day):
                if start in self.holes:
                    continue
                end = (start + timedelta(minutes=self.step_minutes)).astimezone(PARIS)
                value = None if start in self.unmeasured else str(round(model(start)))
                points.append(
                    {
                        "v": value,
                        "d": end.strftime("%Y-%m-%d %H:%M:%S"),
                        "p": f"PT{self.step_minutes}M",
                        "n": "B",
                    }
                )
        if self.order == "desc":
            points.reverse()
        elif self.order == "shuffled":
            random.Random(len(points)).shuffle(points)
        return points

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


def start_standin(mocker: AiohttpClientMocker) -> FakeGateway:
    """The gateway answering every request to its real URL through Home Assistant's session."""
    gateway = FakeGateway(mocker)
    gateway.install()
    return gateway
