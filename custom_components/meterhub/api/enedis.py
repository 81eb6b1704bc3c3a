"""Async client for the Conso API gateway (conso.boris.sh), which relays Enedis Linky data.

The gateway answers ``GET /api/<type>?prm=&start=&end=`` (``end`` excluded) with
``{usage_point_id, reading_type, interval_reading: [{value, date, ...}]}``. Values are strings.
Daily values are Wh per Paris calendar day. The load curve is the *average power* in W over each
interval, dated by the *end* of the interval in naive Europe/Paris time; this module turns it into
energy per interval (W x hours) starting at a UTC instant, so nobody downstream deals with Paris
wall-clock time, DST folds or gaps again.

No Home Assistant imports: this module could become its own package.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
import json
import math
import re
import socket
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import aiohttp

from .errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitError,
    ApiResponseError,
)

PARIS: Final = ZoneInfo("Europe/Paris")
DEFAULT_BASE_URL: Final = "https://conso.boris.sh/api"
USER_AGENT: Final = (
    "MeterHub/0.1 Home-Assistant-custom-integration (+https://github.com/meterhub/meterhub)"
)
#: The gateway accepts at most this many days of load curve per call.
MAX_CURVE_DAYS: Final = 7
DEFAULT_INTERVAL_MINUTES: Final = 30

type Direction = Literal["consumption", "production"]

_PRM_RE: Final = re.compile(r"^\d{14}$")
_ANY_PRM_RE: Final = re.compile(r"\d{14}")
_DURATION_RE: Final = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$")
_UNIT_FACTORS: Final = {"w": 1.0, "wh": 1.0, "va": 1.0, "kw": 1000.0, "kwh": 1000.0, "kva": 1000.0}


class EnedisConnectionError(ApiConnectionError):
    """The gateway could not be reached, timed out, or Enedis behind it failed (5xx)."""


class EnedisRateLimitError(ApiRateLimitError):
    """The gateway asked us to slow down (429)."""


class EnedisAuthError(ApiAuthError):
    """The token was rejected, has expired, or does not give access to this PRM (401/403)."""


class EnedisWrongPrmError(EnedisAuthError):
    """The gateway answered for another usage point than the one asked for."""

    error_key = "wrong_prm"


class EnedisResponseError(ApiResponseError):
    """The gateway answered with something this client cannot read."""


class EnedisNoDataError(EnedisResponseError):
    """404 ``no_data_found``: nothing for that period (or the meter's collection is not enabled)."""

    error_key = "no_data"


class EnedisDateRangeError(EnedisResponseError):
    """400: Enedis refused the dates (too old, before the collection started, or in the future)."""


def valid_prm(prm: str) -> bool:
    """Whether ``prm`` looks like a usage point id: exactly 14 digits."""
    return _PRM_RE.fullmatch(prm) is not None


def _scrub(text: str) -> str:
    """Drop usage point ids from a server message before it goes into an exception or a log."""
    return _ANY_PRM_RE.sub("<prm>", text)[:200]


@dataclass(frozen=True, slots=True)
class DailyValue:
    """Energy of one Paris calendar day, in Wh."""

    day: date
    wh: float


@dataclass(frozen=True, slots=True)
class IntervalValue:
    """Energy of one load-curve interval: it starts at ``start`` (UTC) and lasts ``minutes``."""

    start: datetime
    minutes: int
    wh: float

    @property
    def local_day(self) -> date:
        """The Paris calendar day the interval belongs to (the day it starts in)."""
        return self.start.astimezone(PARIS).date()


@dataclass(frozen=True, slots=True)
class MaxPowerValue:
    """The highest apparent power of one day, in VA, with when it happened (UTC) if known."""

    day: date
    va: float
    at: datetime | None


def _number(value: Any) -> float | None:
    """A reading's value (a string in this API); None when it is missing or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except TypeError, ValueError:
        return None
    return number if math.isfinite(number) else None


def _minutes(text: Any) -> int:
    """``PT30M`` / ``PT1H`` -> minutes; the documented 30 when absent or unreadable."""
    if isinstance(text, str) and (match := _DURATION_RE.fullmatch(text.strip().upper())):
        minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
        if 0 < minutes <= 60:
            return minutes
    return DEFAULT_INTERVAL_MINUTES


def _local(text: str) -> datetime:
    """Parse a gateway timestamp; naive ones are Paris wall-clock time (``fold`` not yet set)."""
    return datetime.fromisoformat(text.strip())


def _to_utc(moment: datetime, fold: int) -> datetime:
    """A Paris wall-clock time as UTC; ``fold=1`` picks the second of a repeated autumn hour.

    A time in the spring gap (02:xx on the last Sunday of March) does not exist; Python reads it
    with the winter offset, which is exactly the instant Enedis means (02:00 CET == 03:00 CEST).
    """
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    return moment.replace(tzinfo=PARIS, fold=fold).astimezone(UTC)


def parse_load_curve(readings: list[Mapping[str, Any]], factor: float = 1.0) -> list[IntervalValue]:
    """Turn load-curve readings (average W, dated by interval end) into energy per interval.

    On the autumn DST day the wall-clock times 02:00-02:59 occur twice; readings come in time
    order, so the second occurrence of a time is the later (winter-time) one. Readings whose value
    is missing or not a number are skipped: the day's total fills such holes later. Two readings for
    the same instant keep the last one.
    """
    seen: set[datetime] = set()
    by_start: dict[datetime, IntervalValue] = {}
    for reading in readings:
        raw_date = reading.get("date")
        watts = _number(reading.get("value"))
        if not isinstance(raw_date, str) or watts is None:
            continue
        try:
            naive = _local(raw_date)
        except ValueError:
            continue
        fold = 1 if naive in seen else 0
        seen.add(naive)
        minutes = _minutes(reading.get("interval_length"))
        end = _to_utc(naive, fold)
        start = end - timedelta(minutes=minutes)
        by_start[start] = IntervalValue(
            start=start, minutes=minutes, wh=watts * factor * minutes / 60
        )
    return [by_start[start] for start in sorted(by_start)]


def parse_daily(readings: list[Mapping[str, Any]], factor: float = 1.0) -> list[DailyValue]:
    """Daily readings (Wh per day, dated ``YYYY-MM-DD``); unreadable ones are skipped."""
    days: dict[date, DailyValue] = {}
    for reading in readings:
        raw_date = reading.get("date")
        value = _number(reading.get("value"))
        if not isinstance(raw_date, str) or value is None:
            continue
        try:
            day = date.fromisoformat(raw_date.strip()[:10])
        except ValueError:
            continue
        days[day] = DailyValue(day=day, wh=value * factor)
    return [days[day] for day in sorted(days)]


def parse_max_power(readings: list[Mapping[str, Any]], factor: float = 1.0) -> list[MaxPowerValue]:
    """Daily maximum power readings: VA, dated by the moment of the peak (Paris time)."""
    days: dict[date, MaxPowerValue] = {}
    for reading in readings:
        raw_date = reading.get("date")
        value = _number(reading.get("value"))
        if not isinstance(raw_date, str) or value is None:
            continue
        try:
            moment = _local(raw_date)
        except ValueError:
            continue
        at = _to_utc(moment, 0) if len(raw_date.strip()) > 10 else None
        day = moment.date() if moment.tzinfo is None else moment.astimezone(PARIS).date()
        days[day] = MaxPowerValue(day=day, va=value * factor, at=at)
    return [days[day] for day in sorted(days)]


class EnedisClient:
    """One usage point (PRM) through the Conso API gateway, with one token.

    The gateway bans an address that makes 100 requests in 12 hours, so this client never retries
    on its own: the caller plans every request.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        prm: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        request_timeout: float = 30.0,
    ) -> None:
        """Keep the caller's session; nothing is sent until a method is called."""
        self._session = session
        self._token = token
        self._prm = prm
        self._base_url = base_url.rstrip("/")
        self._timeout = request_timeout
        #: Requests sent since this client was made (diagnostics and tests).
        self.requests = 0

    async def _request(self, kind: str, start: date, end: date) -> dict[str, Any]:
        """GET one resource for [start, end) and return its JSON object, or raise."""
        self.requests += 1
        params = {"prm": self._prm, "start": start.isoformat(), "end": end.isoformat()}
        headers = {
            "Authorization": f"Bearer {self._token}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._session.get(
                    f"{self._base_url}/{kind}", params=params, headers=headers
                )
                status = response.status
                text = await response.text()
                retry_after = response.headers.get("Retry-After")
        except TimeoutError as err:
            raise EnedisConnectionError(f"timeout talking to the gateway ({kind})") from err
        except (aiohttp.ClientError, socket.gaierror) as err:
            raise EnedisConnectionError(f"cannot reach the gateway ({kind}): {err}") from err
        try:
            body: Any = json.loads(text) if text else None
        except ValueError:
            body = None
        message = _scrub(_error_text(body)) if status != 200 else ""
        if status in (401, 403):
            raise EnedisAuthError(f"{kind}: token rejected ({status}) {message}".strip())
        if status == 404:
            raise EnedisNoDataError(f"{kind}: no data for {start}..{end} {message}".strip())
        if status == 429:
            raise EnedisRateLimitError(f"{kind}: rate limited", retry_after=_number(retry_after))
        if status == 400:
            raise EnedisDateRangeError(f"{kind}: dates refused {start}..{end} {message}".strip())
        if status >= 500:
            raise EnedisConnectionError(f"{kind}: gateway error {status} {message}".strip())
        if status != 200:
            raise EnedisResponseError(f"{kind}: unexpected status {status}")
        if not isinstance(body, dict) or not isinstance(body.get("interval_reading"), list):
            raise EnedisResponseError(f"{kind}: the answer is not a meter reading")
        point = body.get("usage_point_id")
        if point is not None and str(point) != self._prm:
            raise EnedisWrongPrmError(f"{kind}: the gateway answered for another usage point")
        return body

    async def daily(self, direction: Direction, start: date, end: date) -> list[DailyValue]:
        """Energy per day in Wh for [start, end) (at most about a year back)."""
        body = await self._request(f"daily_{direction}", start, end)
        return parse_daily(body["interval_reading"], _factor(body, "wh"))

    async def load_curve(self, direction: Direction, start: date, end: date) -> list[IntervalValue]:
        """Energy per interval (usually 30 min) for [start, end), at most 7 days."""
        if not timedelta(0) < end - start <= timedelta(days=MAX_CURVE_DAYS):
            raise ValueError("the load curve takes 1 to 7 days per call")
        body = await self._request(f"{direction}_load_curve", start, end)
        return parse_load_curve(body["interval_reading"], _factor(body, "w"))

    async def max_power(self, start: date, end: date) -> list[MaxPowerValue]:
        """The highest apparent power (VA) of each day in [start, end), with its time."""
        body = await self._request("consumption_max_power", start, end)
        return parse_max_power(body["interval_reading"], _factor(body, "va"))


def _factor(body: Mapping[str, Any], default_unit: str) -> float:
    """Multiplier to W / Wh / VA from the answer's ``reading_type.unit`` (kW, kWh, ... scaled)."""
    reading_type = body.get("reading_type")
    unit = reading_type.get("unit") if isinstance(reading_type, dict) else None
    if not isinstance(unit, str):
        unit = default_unit
    return _UNIT_FACTORS.get(unit.strip().lower(), 1.0)


def _error_text(body: Any) -> str:
    """The gateway's error description (``{status, message, error}``), if it sent one."""
    if isinstance(body, dict):
        parts = [str(body[key]) for key in ("error", "message") if body.get(key)]
        return ": ".join(parts)
    return ""
