"""Async client for the Conso API gateway (conso.boris.sh), which relays Enedis Linky data.

Since mid-October 2026 the gateway serves only Enedis' "mesure synchrone v2" API:
``GET /api/<type>?pointId=&dateDebut=&dateFin=`` (``dateFin`` excluded) with the types
``consommation_quotidienne``, ``courbe_de_charge_consommation``, ``production_quotidienne``,
``courbe_de_charge_production`` and ``puissance_conso_max_quotidienne``. The answer is
``{idPrm, periode, pas, grandeur: [{grandeurMetier, grandeurPhysique, unite, points: [{v, d, p}]}]}``
where ``v`` is a string, or null for "not measured". Daily values are Wh per Paris calendar day.
The load curve is the *average power* over each interval (its length in ``p``), dated by the
*end* of the interval in naive Europe/Paris wall time; this module turns it into energy per
interval starting at a UTC instant, so nobody downstream deals with Paris wall-clock time, DST
folds or gaps again.

Errors come as ``{status, message, error: {error, error_description}}``; the description is
what Enedis says went wrong, and every exception raised here carries it (scrubbed of the PRM).

No Home Assistant imports: this module could become its own package.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
import itertools
import json
import math
import re
import socket
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import aiohttp

from . import enedis_shapes as shapes
from .errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitError,
    ApiResponseError,
    ApiSchemaError,
    MeterHubApiError,
    jwt_expiry,
    raise_for_overload,
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

#: The v2 resource names (the legacy ones answer 404 since October 2026).
DAILY_TYPES: Final[dict[Direction, str]] = {
    "consumption": "consommation_quotidienne",
    "production": "production_quotidienne",
}
CURVE_TYPES: Final[dict[Direction, str]] = {
    "consumption": "courbe_de_charge_consommation",
    "production": "courbe_de_charge_production",
}
MAX_POWER_TYPE: Final = "puissance_conso_max_quotidienne"
#: ``grandeurMetier`` of each direction.
_BUSINESS: Final[dict[Direction, str]] = {"consumption": "CONS", "production": "PROD"}
#: Units each kind of answer may carry, with their factor to W / Wh / VA.
_CURVE_UNITS: Final = {"w": 1.0, "kw": 1000.0}
_ENERGY_UNITS: Final = {"wh": 1.0, "kwh": 1000.0}
_POWER_UNITS: Final = {"va": 1.0, "kva": 1000.0}

#: Enedis' descriptions that mean "the start is before what this meter has": a limit, not a fault.
_HISTORY_LIMIT_TEXTS: Final = ("last activation date", "history deadline", "adam-err0123")
_NO_DATA_TEXTS: Final = ("no measure found",)
#: Enedis' code and words for "no consent for this customer and usage point" (403).
_NO_CONSENT_TEXTS: Final = ("adam-dc-0008", "no consent can be found")

_PRM_RE: Final = re.compile(r"^\d{14}$")
_ANY_PRM_RE: Final = re.compile(r"\d{14}")
_DURATION_RE: Final = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$")


class EnedisError(MeterHubApiError):
    """The root of every Enedis exception: it carries Enedis' own words and the HTTP status.

    ``description`` is ``error.error_description`` from the gateway's answer (the PRM removed), so
    a form, a log line or a repair can show the user what Enedis said instead of a guess.
    """

    description: str | None = None
    status: int | None = None

    @property
    def placeholders(self) -> dict[str, str]:
        """The description for the ``{gateway_error}`` placeholder of translated texts."""
        return {"gateway_error": self.description or "-"}


class EnedisConnectionError(EnedisError, ApiConnectionError):
    """The gateway could not be reached, timed out, or Enedis behind it failed (5xx)."""


class EnedisRateLimitError(EnedisError, ApiRateLimitError):
    """The gateway asked us to slow down (429)."""


class EnedisAuthError(EnedisError, ApiAuthError):
    """The token was rejected, has expired, or does not give access to this PRM (401/403)."""


class EnedisConsentExpiredError(EnedisAuthError):
    """The user's consent is over: the gateway's token has expired, or Enedis has no consent.

    The gateway signs each token for three years (``364 + 365 + 365`` days, bokub/conso-api
    ``lib/auth.ts``) and answers an expired one like any bad token: 401 "Votre token est invalide
    ou ne permet pas d'accéder à ce PRM"; the token's own ``exp`` tells the two apart. A consent
    that the user withdrew, or that Enedis no longer has, comes back from Enedis as 403
    ``ADAM-DC-0008`` "No consent can be found for this customer and this usage point." Either
    way the user must give consent again on conso.boris.sh and enter the new token.
    """

    error_key = "consent_expired"


class EnedisWrongPrmError(EnedisAuthError):
    """The gateway answered for another usage point than the one asked for."""

    error_key = "wrong_prm"


class EnedisResponseError(EnedisError, ApiResponseError):
    """The gateway answered with something this client cannot read or must not book."""


class EnedisSchemaError(EnedisResponseError, ApiSchemaError):
    """The gateway answered in a shape this client does not read (see ``enedis_shapes``)."""

    @property
    def placeholders(self) -> dict[str, str]:
        """What was expected and what came (the repair's details); Enedis said nothing."""
        return {
            "what": self.what,
            "expected": self.expected,
            "received": self.received_summary,
            "gateway_error": "-",
        }


class EnedisNoDataError(EnedisResponseError):
    """404 (or "no measure found"): nothing for that period, or the collection is not enabled."""

    error_key = "no_data"


class EnedisRequestError(EnedisResponseError):
    """400: Enedis refused the request; its description says why (shown to the user)."""

    error_key = "request_refused"


class EnedisHistoryLimitError(EnedisRequestError):
    """400 "anterior to the meter's last activation date" / "history deadline".

    The start asked for is older than what the meter has: the history begins later. The caller
    moves its start forward; this is not a failure.
    """


def valid_prm(prm: str) -> bool:
    """Whether ``prm`` looks like a usage point id: exactly 14 digits."""
    return _PRM_RE.fullmatch(prm) is not None


def _scrub(text: str, secrets: Sequence[str] = ()) -> str:
    """Drop usage point ids and our secrets from a server message before anyone shows it.

    The gateway's description is free text: besides the PRM it may echo what it was sent (the
    token), and a log or a repair must repeat neither.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<secret>")
    return _ANY_PRM_RE.sub("<prm>", text)[:300]


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
    """A point's value (a string in this API); None when null ("not measured") or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except TypeError, ValueError:
        return None
    return number if math.isfinite(number) else None


def interval_minutes(text: Any, default: int = DEFAULT_INTERVAL_MINUTES) -> int:
    """``PT30M`` / ``PT10M`` / ``PT1H`` / ``PT60M`` -> minutes; ``default`` when absent.

    A duration that is present but not 1..60 minutes dividing the hour (``P1D`` on a load-curve
    point, ``PT7M``) is refused: booking it with a guessed length would be silently wrong.
    """
    if text is None:
        return default
    if isinstance(text, str) and (match := _DURATION_RE.fullmatch(text.strip().upper())):
        minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
        if 0 < minutes <= 60 and 60 % minutes == 0:
            return minutes
    raise EnedisResponseError(f"unknown load-curve interval length {str(text)[:20]!r}")


def _ambiguous(naive: datetime) -> bool:
    """Whether a Paris wall time occurs twice (the autumn DST night)."""
    first = naive.replace(tzinfo=PARIS, fold=0).utcoffset()
    second = naive.replace(tzinfo=PARIS, fold=1).utcoffset()
    return first != second


def _to_utc(moment: datetime, fold: int = 0) -> datetime:
    """A Paris wall-clock time as UTC; ``fold=1`` picks the second of a repeated autumn hour.

    A time in the spring gap (02:xx on the last Sunday of March) does not exist; Python reads it
    with the winter offset, which is exactly the instant Enedis means (02:00 CET == 03:00 CEST).
    """
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    return moment.replace(tzinfo=PARIS, fold=fold).astimezone(UTC)


def _array_direction(times: Sequence[datetime]) -> int:
    """+1 if the wall times come in ascending order, -1 if descending, 0 if neither (shuffled)."""
    pairs = list(itertools.pairwise(times))
    if all(a <= b for a, b in pairs):
        return 1
    if all(a >= b for a, b in pairs):
        return -1
    return 0


def parse_load_curve(
    points: Sequence[Mapping[str, Any]], factor: float = 1.0, default_minutes: int = 30
) -> list[IntervalValue]:
    """Turn load-curve points (average W, dated by interval END, Paris wall time) into energy.

    ``v`` null means "not measured": no interval is made, so the day stays incomplete and is
    asked for again (and its daily total, if known, fills the hole meanwhile).

    The autumn DST night repeats the wall times 02:00-02:59 (50 half hours that day). Points may
    come in any order, so the two readings of a repeated time are told apart by the order of the
    answer: the gateway relays Enedis' time order, ascending (first = summer time, the earlier
    instant) or, if the whole answer is reversed, descending (first = winter time). The direction
    is read from the points whose wall time is not repeated; null points keep their place, so a
    null summer reading never pushes the winter one into its slot. When the answer is shuffled
    and the order cannot tell, both readings of a repeated time get their mean (nothing if either
    is null): the day's total, the two hours' total and the peak/off-peak split (same wall-clock
    hour) stay exact, only the split between the two UTC hours of that night is evened out. A
    repeated time that comes only once is read as the summer one. Two points for the same
    unambiguous time keep the last measured one.
    """
    parsed: list[tuple[datetime, int, float | None]] = []
    for point in points:
        raw_date = point.get("d")
        if not isinstance(raw_date, str):
            continue
        try:
            naive = datetime.fromisoformat(raw_date.strip())
        except ValueError as err:
            raise EnedisResponseError(f"unreadable load-curve date {raw_date[:30]!r}") from err
        minutes = interval_minutes(point.get("p"), default_minutes)
        watts = _number(point.get("v"))
        parsed.append((naive, minutes, None if watts is None else watts * factor))
    repeated = {naive for naive, _, _ in parsed if naive.tzinfo is None and _ambiguous(naive)}
    direction = _array_direction([naive for naive, _, _ in parsed if naive not in repeated])
    groups: dict[datetime, list[tuple[int, float | None]]] = {}
    for naive, minutes, watts in parsed:
        groups.setdefault(naive, []).append((minutes, watts))
    by_start: dict[datetime, IntervalValue] = {}
    for naive, readings in groups.items():
        placed: list[tuple[int, tuple[int, float | None]]]
        if naive in repeated and len(readings) >= 2:
            pair = readings[:2]
            if direction == -1:
                pair.reverse()
            elif direction == 0:
                values = [watts for _, watts in pair]
                mean = None if None in values else sum(v for v in values if v is not None) / 2
                pair = [(minutes, mean) for minutes, _ in pair]
            placed = list(enumerate(pair))
        else:
            measured = [reading for reading in readings if reading[1] is not None]
            placed = [(0, measured[-1])] if measured else []
        for fold, (minutes, watts) in placed:
            if watts is None:
                continue
            end = _to_utc(naive, fold)
            start = end - timedelta(minutes=minutes)
            by_start[start] = IntervalValue(start=start, minutes=minutes, wh=watts * minutes / 60)
    return [by_start[start] for start in sorted(by_start)]


def parse_daily(points: Sequence[Mapping[str, Any]], factor: float = 1.0) -> list[DailyValue]:
    """Daily points (Wh per day, ``d`` = ``YYYY-MM-DD``); null ("not measured") is skipped."""
    days: dict[date, DailyValue] = {}
    for point in points:
        raw_date = point.get("d")
        value = _number(point.get("v"))
        if not isinstance(raw_date, str) or value is None:
            continue
        try:
            day = date.fromisoformat(raw_date.strip()[:10])
        except ValueError as err:
            raise EnedisResponseError(f"unreadable daily date {raw_date[:30]!r}") from err
        days[day] = DailyValue(day=day, wh=value * factor)
    return [days[day] for day in sorted(days)]


def parse_max_power(
    points: Sequence[Mapping[str, Any]], factor: float = 1.0
) -> list[MaxPowerValue]:
    """Daily maximum power points: VA, ``d`` = the moment of the peak (Paris wall time)."""
    days: dict[date, MaxPowerValue] = {}
    for point in points:
        raw_date = point.get("d")
        value = _number(point.get("v"))
        if not isinstance(raw_date, str) or value is None:
            continue
        try:
            moment = datetime.fromisoformat(raw_date.strip())
        except ValueError as err:
            raise EnedisResponseError(f"unreadable max-power date {raw_date[:30]!r}") from err
        at = _to_utc(moment) if len(raw_date.strip()) > 10 else None
        day = moment.date() if moment.tzinfo is None else moment.astimezone(PARIS).date()
        days[day] = MaxPowerValue(day=day, va=value * factor, at=at)
    return [days[day] for day in sorted(days)]


@dataclass(frozen=True, slots=True)
class _Series:
    """The points of one answer, checked: right direction, known unit (as a factor)."""

    points: list[Mapping[str, Any]]
    factor: float
    step: str | None


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

    def token_expired(self) -> bool:
        """Whether the token's own expiry (its JWT ``exp``) has passed."""
        expiry = jwt_expiry(self._token)
        return expiry is not None and expiry <= datetime.now(UTC)

    async def _request(
        self, kind: str, start: date, end: date, extra: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """GET one resource for [start, end) and return its JSON object, or raise."""
        self.requests += 1
        params = {
            "pointId": self._prm,
            "dateDebut": start.isoformat(),
            "dateFin": end.isoformat(),
            **(extra or {}),
        }
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
        except TimeoutError:
            # aiohttp's own timeouts (ConnectionTimeoutError, ...) name the URL, which holds the
            # PRM: they are not chained, or the "Full error" traceback would repeat it.
            raise EnedisConnectionError(f"timeout talking to the gateway ({kind})") from None
        except (aiohttp.ClientError, socket.gaierror) as err:
            # The exception text may hold the URL, and the URL holds the PRM.
            raise EnedisConnectionError(
                f"cannot reach the gateway ({kind}): {type(err).__name__}"
            ) from None
        try:
            body: Any = json.loads(text) if text else None
        except ValueError:
            body = None
        if status != 200:
            raise _status_error(
                kind,
                status,
                body,
                (start, end),
                retry_after,
                secrets=(self._token,),
                token_expired=self.token_expired(),
            )
        measurement: dict[str, Any] = shapes.MEASUREMENT.check(body, EnedisSchemaError)
        point = measurement.get("idPrm")
        if point is not None and str(point) != self._prm:
            raise EnedisWrongPrmError(f"{kind}: the gateway answered for another usage point")
        return measurement

    def _series(
        self, kind: str, body: Mapping[str, Any], direction: Direction, units: Mapping[str, float]
    ) -> _Series:
        """The answer's points, refusing another direction's ``grandeur`` or an unknown unit."""
        points: list[Mapping[str, Any]] = []
        factor: float | None = None
        for grandeur in body["grandeur"]:
            business = grandeur.get("grandeurMetier")
            if business != _BUSINESS[direction]:
                raise EnedisResponseError(
                    f"{kind}: answer for {str(business)[:10]!r}, not {_BUSINESS[direction]}"
                )
            unit = shapes.unit(kind, units).check(grandeur["unite"], EnedisSchemaError)
            unit = unit.strip().lower()
            if factor is not None and units[unit] != factor:
                raise EnedisResponseError(f"{kind}: mixed units in one answer")
            factor = units[unit]
            points += grandeur["points"]
        step = body.get("pas")
        return _Series(points, factor or 1.0, step if isinstance(step, str) else None)

    async def daily(self, direction: Direction, start: date, end: date) -> list[DailyValue]:
        """Energy per day in Wh for [start, end) (at most about a year back)."""
        kind = DAILY_TYPES[direction]
        series = self._series(kind, await self._request(kind, start, end), direction, _ENERGY_UNITS)
        return parse_daily(series.points, series.factor)

    async def load_curve(self, direction: Direction, start: date, end: date) -> list[IntervalValue]:
        """Energy per interval (usually 30 min) for [start, end), at most 7 days."""
        if not timedelta(0) < end - start <= timedelta(days=MAX_CURVE_DAYS):
            raise ValueError("the load curve takes 1 to 7 days per call")
        kind = CURVE_TYPES[direction]
        series = self._series(kind, await self._request(kind, start, end), direction, _CURVE_UNITS)
        default = DEFAULT_INTERVAL_MINUTES
        if series.step is not None and series.step.upper().startswith("PT"):
            default = interval_minutes(series.step)
        return parse_load_curve(series.points, series.factor, default)

    async def max_power(self, start: date, end: date) -> list[MaxPowerValue]:
        """The highest apparent power (VA) of each day in [start, end), with its time."""
        body = await self._request(
            MAX_POWER_TYPE, start, end, {"mesuresPas": "P1D", "grandeurPhysique": "PMA"}
        )
        series = self._series(MAX_POWER_TYPE, body, "consumption", _POWER_UNITS)
        return parse_max_power(series.points, series.factor)


def gateway_description(body: Any, secrets: Sequence[str] = ()) -> str | None:
    """``error.error_description`` of an error answer (or its ``message``), without the PRM.

    ``secrets`` (the token) are cut out as well, should the server repeat them.
    """
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    parts: list[str] = []
    if isinstance(error, dict):
        for key in ("error_description", "error"):
            if isinstance(error.get(key), str) and error[key].strip():
                parts.append(error[key].strip())
                break
    elif isinstance(error, str) and error.strip():
        parts.append(error.strip())
    if not parts and isinstance(body.get("message"), str) and body["message"].strip():
        parts.append(body["message"].strip())
    return _scrub(parts[0], secrets) if parts else None


def _status_error(
    kind: str,
    status: int,
    body: Any,
    period: tuple[date, date],
    retry_after: str | None,
    *,
    secrets: Sequence[str],
    token_expired: bool = False,
) -> EnedisError:
    """The exception for a non-200 answer, carrying Enedis' description (scrubbed)."""
    description = gateway_description(body, secrets)
    code = ""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = str(body["error"].get("error", ""))
    said = f"{description or ''} {code}".lower()
    what = f"{kind} {period[0]}..{period[1]}: {status} {description or ''}".strip()
    error: EnedisError
    if (status == 401 and token_expired) or (
        status == 403 and any(text in said for text in _NO_CONSENT_TEXTS)
    ):
        error = EnedisConsentExpiredError(what)
    elif status in (401, 403):
        error = EnedisAuthError(what)
    elif status == 404 or any(text in said for text in _NO_DATA_TEXTS):
        error = EnedisNoDataError(what)
    elif status == 400 and any(text in said for text in _HISTORY_LIMIT_TEXTS):
        error = EnedisHistoryLimitError(what)
    elif status == 400:
        error = EnedisRequestError(what)
    else:
        try:  # 429 and 5xx mean what they mean for every service
            raise_for_overload(
                status,
                retry_after,
                service=what,
                rate_limited=EnedisRateLimitError,
                unavailable=EnedisConnectionError,
            )
        except EnedisError as overload:
            error = overload
        else:
            error = EnedisResponseError(what)
    error.description = description
    error.status = status
    return error
