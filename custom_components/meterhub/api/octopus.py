"""Async client for the Octopus Energy (UK) REST and GraphQL APIs.

REST (account, consumption, tariffs) uses HTTP Basic auth with the API key as user name. GraphQL
(the account with its active meters, the balance, smart-meter telemetry) needs a Kraken token
obtained with the same key; the token lasts about an hour, so it is cached and renewed a few
minutes before it runs out rather than on every call. GraphQL has a per-IP hourly limit shared
with the Octopus app: once Kraken says "too many requests", every GraphQL call of this client
waits out the pause instead of asking again.

Every timestamp is parsed into an aware UTC ``datetime`` at the edge: the API mixes ``Z`` and
``+01:00`` and only UTC arithmetic stays right across daylight-saving changes.
No Home Assistant imports here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import json
import time
from typing import Any, Final
from urllib.parse import urljoin

import aiohttp

from . import octopus_shapes as shapes
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
from .shapes import Shape

DEFAULT_BASE_URL: Final = "https://api.octopus.energy/v1/"
#: The consumption endpoint's largest page: two years of half hours take two requests.
CONSUMPTION_PAGE_SIZE: Final = 25000
#: The tariff endpoints' largest page (Agile: about a month per page).
RATES_PAGE_SIZE: Final = 1500
#: Renew the Kraken token this long before it expires.
TOKEN_MARGIN: Final = timedelta(minutes=5)
#: When the token's lifetime cannot be read from it, assume this (Octopus documents about 1 h).
TOKEN_DEFAULT_LIFETIME: Final = timedelta(minutes=55)

#: How long GraphQL rests after a rate limit that names no time (the limit is counted per hour).
GRAPHQL_PAUSE: Final = timedelta(minutes=15)

#: Kraken error codes that mean the key or token is not (or no longer) accepted.
_AUTH_CODES: Final = frozenset(
    {
        "KT-CT-1111",
        "KT-CT-1124",
        "KT-CT-1134",
        "KT-CT-1135",
        "KT-CT-1139",
        "KT-CT-1143",
        "OE-0103",
    }
)
_TOKEN_EXPIRED_CODES: Final = frozenset({"KT-CT-1124"})
_RATE_LIMIT_CODE: Final = "KT-CT-1199"
#: How the per-IP GraphQL limit words itself when it comes without a code (tolerant matching).
_RATE_LIMIT_WORDS: Final = ("too many requests", "rate limit", "throttl")


class OctopusError(MeterHubApiError):
    """Anything the Octopus client raises."""


class OctopusConnectionError(OctopusError, ApiConnectionError):
    """Octopus could not be reached, timed out or had a server error."""


class OctopusRateLimitError(OctopusError, ApiRateLimitError):
    """Octopus asked us to slow down (HTTP 429 or GraphQL ``KT-CT-1199``)."""


class OctopusAuthError(OctopusError, ApiAuthError):
    """The API key was rejected (HTTP 401/403 or a Kraken authentication error)."""


class OctopusResponseError(OctopusError, ApiResponseError):
    """Octopus answered with something this client cannot read."""


class OctopusSchemaError(OctopusResponseError, ApiSchemaError):
    """Octopus answered in a shape this client does not read (see ``octopus_shapes``)."""


class OctopusAccountNotFoundError(OctopusResponseError):
    """The key works but the account number is unknown to it."""

    error_key = "invalid_account"


class OctopusNotFoundError(OctopusResponseError):
    """A resource (a product or tariff) does not exist."""


class GasUnit(StrEnum):
    """What a gas meter's consumption is counted in (GraphQL ``consumptionUnits``)."""

    KWH = "kWh"
    CUBIC_METERS = "m³"


def parse_gas_unit(value: Any) -> GasUnit | None:
    """``KWH``/``kWh`` (SMETS1) or ``MQ``/``m³`` (SMETS2); anything else is unknown."""
    text = str(value or "").strip().lower().replace(" ", "")
    if text in ("kwh", "kilowatt_hours", "kilowatthours"):
        return GasUnit.KWH
    if text in ("mq", "m3", "m³", "cubic_meters", "cubic_metres", "cubicmeters"):
        return GasUnit.CUBIC_METERS
    return None


class FuelType(StrEnum):
    """Which kind of meter point."""

    ELECTRICITY = "electricity"
    GAS = "gas"


def parse_time(text: str) -> datetime:
    """An ISO timestamp with ``Z`` or an offset, as aware UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except TypeError, ValueError:
        # Not chained and without the text: errors are built from what we know, never from
        # what a server sent (issue 23).
        raise OctopusResponseError("unreadable timestamp") from None
    if moment.tzinfo is None:
        raise OctopusResponseError("timestamp without a time zone")
    return moment.astimezone(UTC)


def _optional_time(value: Any) -> datetime | None:
    return None if value in (None, "") else parse_time(str(value))


def format_time(moment: datetime) -> str:
    """A UTC timestamp the API accepts as a filter."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, kw_only=True)
class Agreement:
    """A tariff in force on a meter point from ``valid_from`` until ``valid_to`` (None: open)."""

    tariff_code: str
    valid_from: datetime | None
    valid_to: datetime | None
    #: Octopus' own ``productCode`` (GraphQL); None when only REST told us the tariff.
    product: str | None = None

    @property
    def product_code(self) -> str:
        """The product: GraphQL's ``productCode``, else cut from a ``E-1R-...-C`` tariff code.

        Cutting is only a fallback for REST answers: tariff codes without the ``E-1R-`` shape
        exist, and for those the code is used as it is.
        """
        if self.product:
            return self.product
        parts = self.tariff_code.split("-")
        if len(parts) < 4 or parts[0] not in ("E", "G") or not parts[1][:1].isdigit():
            return self.tariff_code
        return "-".join(parts[2:-1])

    @property
    def two_rate(self) -> bool:
        """Economy 7 style tariffs (``E-2R-``) have day and night unit rates."""
        return self.tariff_code.upper().startswith("E-2R-")

    def covers(self, moment: datetime) -> bool:
        """Whether the agreement is in force at ``moment``."""
        if self.valid_from is not None and moment < self.valid_from:
            return False
        return self.valid_to is None or moment < self.valid_to

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether any part of [start, end) is under this agreement."""
        if self.valid_from is not None and end <= self.valid_from:
            return False
        return self.valid_to is None or start < self.valid_to


@dataclass(frozen=True, kw_only=True)
class Meter:
    """One physical meter on a point (a point may have several, e.g. after a replacement)."""

    serial_number: str
    #: Gas only: what consumption is counted in (None: not known, REST does not say).
    consumption_units: GasUnit | None = None
    #: The smart meter's device id (Home Mini telemetry), when GraphQL names one.
    device_id: str | None = None
    #: Whether it is a smart meter: GraphQL tells (a device id or none), REST does not (None).
    smart: bool | None = None


@dataclass(frozen=True, kw_only=True)
class MeterPoint:
    """An electricity MPAN or gas MPRN with its meters and tariff agreements."""

    fuel: FuelType
    identifier: str
    is_export: bool
    meters: tuple[Meter, ...]
    agreements: tuple[Agreement, ...]

    def agreement_at(self, moment: datetime) -> Agreement | None:
        """The agreement in force at ``moment`` (the newest one if they overlap)."""
        found = [a for a in self.agreements if a.covers(moment)]
        if not found:
            return None
        return max(found, key=lambda a: a.valid_from or datetime.min.replace(tzinfo=UTC))

    def is_current(self, now: datetime) -> bool:
        """A point is current while an agreement is open, runs past ``now`` or starts later."""
        return any(a.valid_to is None or a.valid_to > now for a in self.agreements)


@dataclass(frozen=True, kw_only=True)
class Property:
    """A supply address; its points. Moved-out properties are kept with ``moved_out_at``."""

    moved_out_at: datetime | None
    points: tuple[MeterPoint, ...]


@dataclass(frozen=True, kw_only=True)
class Account:
    """An account's properties."""

    number: str
    properties: tuple[Property, ...]
    #: True when read from GraphQL (active meters only, units and product codes known).
    from_graphql: bool = False
    #: The balance in pounds when GraphQL sent it along (saves the balance its own request).
    balance: float | None = None


@dataclass(frozen=True, kw_only=True)
class Interval:
    """A half hour's consumption (kWh, or m³ for SMETS2 gas)."""

    start: datetime
    end: datetime
    consumption: float


@dataclass(frozen=True, kw_only=True)
class Rate:
    """A unit rate or standing charge in pence (inc. VAT) over [valid_from, valid_to)."""

    value_inc_vat: float
    valid_from: datetime | None
    valid_to: datetime | None
    payment_method: str | None = None


@dataclass(frozen=True, kw_only=True)
class TelemetryReading:
    """One smart-meter telemetry row: Wh totals, W demand (any may be missing)."""

    read_at: datetime
    consumption_wh: float | None
    consumption_delta_wh: float | None
    demand_w: float | None
    export_wh: float | None


@dataclass
class _Token:
    value: str
    expires: float
    refresh_token: str | None = None
    refresh_expires: float | None = None


@dataclass
class RequestCounter:
    """How many HTTP requests a client made (for diagnostics and the benchmark)."""

    total: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        """Count one request of ``kind``."""
        self.total += 1
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1


class OctopusClient:
    """Talks to the Octopus REST and GraphQL APIs with an injected aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        request_timeout: float = 60.0,
    ) -> None:
        """Keep the session, key and base URL (tests point it at a local stand-in)."""
        self._session = session
        self._api_key = api_key
        self._base_url = base_url if base_url.endswith("/") else f"{base_url}/"
        self._timeout = request_timeout
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()
        self._graphql_paused_until = 0.0
        self.requests = RequestCounter()

    # -- transport -------------------------------------------------------------------------

    async def _request(
        self,
        kind: str,
        url: str,
        *,
        method: str = "GET",
        params: Mapping[str, str | int] | None = None,
        json_body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        basic_auth: bool = True,
    ) -> Any:
        """One request with a timeout; HTTP errors become the exception tree, JSON is returned."""
        self.requests.count(kind)
        all_headers = dict(headers or {})
        if basic_auth:
            all_headers["Authorization"] = aiohttp.encode_basic_auth(self._api_key, "")
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._session.request(
                    method, url, params=params, json=json_body, headers=all_headers
                )
                async with response:
                    status = response.status
                    text = await response.text()
                    retry_after = response.headers.get("Retry-After")
        # Re-raised without the URL (``from None``): aiohttp's exceptions, its timeouts and a
        # redirect loop's included, carry the request URL with the account number, MPAN and
        # serial, which the "Full error" traceback of a shared log would repeat (issue 23).
        except TimeoutError:
            raise OctopusConnectionError(f"timeout talking to Octopus ({kind})") from None
        except aiohttp.ClientError as err:
            raise OctopusConnectionError(
                f"cannot reach Octopus ({kind}): {type(err).__name__}"
            ) from None
        if status in (401, 403):
            raise OctopusAuthError(f"Octopus rejected the API key ({status})")
        raise_for_overload(
            status,
            retry_after,
            service=f"Octopus ({kind})",
            rate_limited=OctopusRateLimitError,
            unavailable=OctopusConnectionError,
        )
        if status == 404:
            raise OctopusNotFoundError(f"Octopus has no such {kind}")
        if status >= 400:
            raise OctopusResponseError(f"Octopus answered {status} ({kind})")
        try:
            return json.loads(text)
        except ValueError:  # the decoder's error holds the whole answer (its ``doc``): not chained
            raise OctopusResponseError(
                f"Octopus answered something that is not JSON ({kind})"
            ) from None

    async def _paged(
        self, kind: str, path: str, params: Mapping[str, str | int], shape: Shape
    ) -> list[dict[str, Any]]:
        """Every result of a paged list, following ``next`` links; each page has ``shape``."""
        results: list[dict[str, Any]] = []
        url: str | None = urljoin(self._base_url, path)
        query: Mapping[str, str | int] | None = params
        while url is not None:
            page = shape.check(await self._request(kind, url, params=query), OctopusSchemaError)
            results.extend(page["results"])
            next_url = page.get("next")
            url = next_url if isinstance(next_url, str) and next_url else None
            query = None  # the next link carries the query
        return results

    # -- REST ------------------------------------------------------------------------------

    async def async_get_account(self, account_number: str) -> Account:
        """The account's properties, meter points, meters and agreements."""
        try:
            data = await self._request(
                "account", urljoin(self._base_url, f"accounts/{account_number}/")
            )
        except OctopusNotFoundError as err:
            raise OctopusAccountNotFoundError("unknown account number") from err
        return _parse_account(account_number, data)

    async def async_get_consumption(
        self,
        point: MeterPoint,
        serial_number: str,
        period_from: datetime,
        period_to: datetime,
        *,
        page_size: int | None = None,
    ) -> list[Interval]:
        """Half-hour intervals in [period_from, period_to), oldest first, duplicates removed.

        Octopus sometimes answers a little more than asked for; rows reaching outside the window
        are dropped, because the importer replaces whole hours and a stray half hour would
        overwrite a neighbouring chunk's hour with half its value.
        """
        kind = (
            "electricity-meter-points" if point.fuel is FuelType.ELECTRICITY else "gas-meter-points"
        )
        rows = await self._paged(
            "consumption",
            f"{kind}/{point.identifier}/meters/{serial_number}/consumption/",
            {
                "period_from": format_time(period_from),
                "period_to": format_time(period_to),
                "page_size": page_size or CONSUMPTION_PAGE_SIZE,
                "order_by": "period",
            },
            shapes.CONSUMPTION_PAGE,
        )
        intervals: dict[datetime, Interval] = {}
        for row in rows:
            try:
                value = float(row["consumption"])
                start = parse_time(row["interval_start"])
                end = parse_time(row["interval_end"])
            except KeyError, TypeError, ValueError:
                raise OctopusResponseError("unexpected consumption row") from None
            if start < period_from or end > period_to:
                continue
            intervals[start] = Interval(start=start, end=end, consumption=value)
        return [intervals[start] for start in sorted(intervals)]

    async def async_get_rates(
        self,
        fuel: FuelType,
        agreement: Agreement,
        endpoint: str,
        period_from: datetime,
        period_to: datetime,
    ) -> list[Rate]:
        """Rates of ``endpoint`` (``standard-unit-rates``, ``standing-charges``, ...) in a period.

        Where a tariff lists direct-debit and other payment methods side by side, only the
        direct-debit rows are kept so each moment has one price.
        """
        rows = await self._paged(
            "rates",
            f"products/{agreement.product_code}/{fuel.value}-tariffs/"
            f"{agreement.tariff_code}/{endpoint}/",
            {
                "period_from": format_time(period_from),
                "period_to": format_time(period_to),
                "page_size": RATES_PAGE_SIZE,
            },
            shapes.RATES_PAGE,
        )
        rates: list[Rate] = []
        for row in rows:
            try:
                rates.append(
                    Rate(
                        value_inc_vat=float(row["value_inc_vat"]),
                        valid_from=_optional_time(row.get("valid_from")),
                        valid_to=_optional_time(row.get("valid_to")),
                        payment_method=row.get("payment_method"),
                    )
                )
            except KeyError, TypeError, ValueError:
                raise OctopusResponseError("unexpected rate row") from None
        direct = [r for r in rates if r.payment_method in (None, "DIRECT_DEBIT")]
        return direct if direct else rates

    # -- GraphQL ---------------------------------------------------------------------------

    @property
    def graphql_paused_for(self) -> float:
        """Seconds GraphQL still rests after a rate limit (0: free to ask)."""
        return max(0.0, self._graphql_paused_until - time.monotonic())

    def _pause_graphql(self, seconds: float | None) -> OctopusRateLimitError:
        pause = seconds if seconds and seconds > 0 else GRAPHQL_PAUSE.total_seconds()
        self._graphql_paused_until = max(self._graphql_paused_until, time.monotonic() + pause)
        return OctopusRateLimitError("Kraken asks us to slow down", pause)

    async def _graphql(self, query: str, variables: Mapping[str, Any], *, token: str | None) -> Any:
        """One GraphQL call; Kraken errors arrive with HTTP 200 and an ``errorCode``.

        The rate limit is shared by every GraphQL call (and the Octopus app on the same IP): after
        one, calls fail at once without a request until the pause is over.
        """
        if (paused := self.graphql_paused_for) > 0:
            raise OctopusRateLimitError("Kraken rate limit: still pausing", paused)
        headers = {"Authorization": token} if token else None
        try:
            data = await self._request(
                "graphql",
                urljoin(self._base_url, "graphql/"),
                method="POST",
                json_body={"query": query, "variables": dict(variables)},
                headers=headers,
                basic_auth=False,
            )
        except OctopusRateLimitError as err:
            raise self._pause_graphql(err.retry_after) from err
        if not isinstance(data, dict):
            raise OctopusResponseError("unexpected GraphQL answer")
        errors = data.get("errors")
        if errors:
            codes = {
                str((e.get("extensions") or {}).get("errorCode", ""))
                for e in errors
                if isinstance(e, dict)
            }
            messages = " ".join(
                str(e.get("message", "")).lower() for e in errors if isinstance(e, dict)
            )
            if _RATE_LIMIT_CODE in codes or any(w in messages for w in _RATE_LIMIT_WORDS):
                raise self._pause_graphql(None)
            if codes & _TOKEN_EXPIRED_CODES:
                raise _TokenExpiredError
            if codes & _AUTH_CODES:
                raise OctopusAuthError("Kraken rejected the credentials")
            raise OctopusResponseError(f"GraphQL error {sorted(codes)}")
        result = data.get("data")
        if not isinstance(result, dict):
            raise OctopusResponseError("GraphQL answer without data")
        return result

    async def async_token(self) -> str:
        """A Kraken token, reused until a few minutes before it expires."""
        async with self._token_lock:
            now = time.time()
            token = self._token
            if token is not None and token.expires - TOKEN_MARGIN.total_seconds() > now:
                return token.value
            use_refresh = (
                token is not None
                and token.refresh_token is not None
                and (token.refresh_expires or 0) - TOKEN_MARGIN.total_seconds() > now
            )
            self._token = None
            if use_refresh and token is not None:
                try:
                    self._token = await self._obtain_token({"refreshToken": token.refresh_token})
                except OctopusAuthError:
                    self._token = None
            if self._token is None:
                self._token = await self._obtain_token({"APIKey": self._api_key})
            return self._token.value

    async def _obtain_token(self, token_input: Mapping[str, Any]) -> _Token:
        query = (
            "mutation obtainKrakenToken($input: ObtainJSONWebTokenInput!) {"
            " obtainKrakenToken(input: $input) { token refreshToken refreshExpiresIn } }"
        )
        try:
            data = await self._graphql(query, {"input": dict(token_input)}, token=None)
        except _TokenExpiredError as err:
            raise OctopusAuthError("Kraken refused a token") from err
        found = data.get("obtainKrakenToken")
        if not isinstance(found, dict) or not isinstance(found.get("token"), str):
            raise OctopusResponseError("no Kraken token in the answer")
        now = time.time()
        value: str = found["token"]
        expiry = jwt_expiry(value)
        expires = expiry.timestamp() if expiry else now + TOKEN_DEFAULT_LIFETIME.total_seconds()
        refresh_expires_in = found.get("refreshExpiresIn")
        refresh_expires: float | None = None
        if isinstance(refresh_expires_in, int | float):
            # Kraken gives an absolute Unix time here; accept a relative number of seconds too.
            refresh_expires = (
                float(refresh_expires_in)
                if refresh_expires_in > 10**9
                else now + float(refresh_expires_in)
            )
        refresh = found.get("refreshToken")
        return _Token(
            value=value,
            expires=expires,
            refresh_token=refresh if isinstance(refresh, str) else None,
            refresh_expires=refresh_expires,
        )

    async def _authed(self, query: str, variables: Mapping[str, Any]) -> Any:
        """A GraphQL query with a token, renewing the token once if Kraken says it expired."""
        for attempt in range(2):
            token = await self.async_token()
            try:
                return await self._graphql(query, variables, token=token)
            except _TokenExpiredError:
                self._token = None  # renewed on the next attempt
                if attempt:
                    raise OctopusAuthError("Kraken token rejected twice") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def async_get_graphql_account(self, account_number: str) -> Account:
        """The account as GraphQL knows it: active meters with units and device ids, products.

        Everything sits in one :class:`Property` (GraphQL lists agreements, not addresses); only
        active agreements' points and active meters are returned. An answer in another shape
        (a renamed field, a gas unit we do not know) raises :class:`OctopusSchemaError`.
        """
        data = await self._authed(_ACCOUNT_QUERY, {"account": account_number})
        account = data.get("account")
        if account is None:
            raise OctopusAccountNotFoundError("unknown account number")
        checked = shapes.GRAPHQL_ACCOUNT.check(account, OctopusSchemaError)
        return _parse_graphql_account(account_number, checked)

    async def async_get_telemetry(
        self, device_id: str, start: datetime, end: datetime, *, grouping: str = "HALF_HOURLY"
    ) -> list[TelemetryReading]:
        """A Home Mini / Home Pro's readings in [start, end), oldest first (may be empty)."""
        data = await self._authed(
            _TELEMETRY_QUERY,
            {
                "deviceId": device_id,
                "grouping": grouping,
                "start": start.astimezone(UTC).isoformat(),
                "end": end.astimezone(UTC).isoformat(),
            },
        )
        rows = shapes.TELEMETRY.check(data, OctopusSchemaError).get("smartMeterTelemetry")
        if rows is None:
            return []
        readings: list[TelemetryReading] = []
        for row in rows:
            if not isinstance(row, dict) or not row.get("readAt"):
                continue
            readings.append(
                TelemetryReading(
                    read_at=parse_time(str(row["readAt"])),
                    consumption_wh=_optional_float(row.get("consumption")),
                    consumption_delta_wh=_optional_float(row.get("consumptionDelta")),
                    demand_w=_optional_float(row.get("demand")),
                    export_wh=_optional_float(row.get("export")),
                )
            )
        readings.sort(key=lambda r: r.read_at)
        return readings

    async def async_get_balance(self, account_number: str) -> float:
        """The account balance in pounds (positive: in credit). Kraken reports pence."""
        query = "query balance($account: String!) { account(accountNumber: $account) { balance } }"
        data = await self._authed(query, {"account": account_number})
        checked = shapes.BALANCE.check(data, OctopusSchemaError)
        return float(checked["account"]["balance"]) / 100


class _TokenExpiredError(OctopusAuthError):
    """The Kraken token ran out early: get a new one and try again once."""


_ACCOUNT_QUERY: Final = """query account($account: String!) {
  account(accountNumber: $account) {
    balance
    electricityAgreements(active: true) { meterPoint { mpan direction
      meters(includeInactive: false) { serialNumber
        smartImportElectricityMeter { deviceId } smartExportElectricityMeter { deviceId } }
      agreements(includeInactive: true) { validFrom validTo
        tariff { ... on TariffType { productCode tariffCode } } } } }
    gasAgreements(active: true) { meterPoint { mprn
      meters(includeInactive: false) { serialNumber consumptionUnits smartGasMeter { deviceId } }
      agreements(includeInactive: true) { validFrom validTo
        tariff { tariffCode productCode } } } }
  }
}"""

_TELEMETRY_QUERY: Final = """query telemetry(
  $deviceId: String!, $grouping: TelemetryGrouping, $start: DateTime, $end: DateTime
) {
  smartMeterTelemetry(deviceId: $deviceId, grouping: $grouping, start: $start, end: $end) {
    readAt consumption consumptionDelta demand export
  }
}"""


def _optional_float(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except TypeError, ValueError:
        return None


def _device_id(value: Any) -> str | None:
    if isinstance(value, dict) and value.get("deviceId"):
        return str(value["deviceId"])
    return None


def _graphql_agreements(rows: Any) -> tuple[Agreement, ...]:
    agreements: list[Agreement] = []
    for row in rows or ():
        tariff = row.get("tariff") if isinstance(row, dict) else None
        if not isinstance(tariff, dict) or not isinstance(tariff.get("tariffCode"), str):
            continue
        product = tariff.get("productCode")
        agreements.append(
            Agreement(
                tariff_code=tariff["tariffCode"],
                valid_from=_optional_time(row.get("validFrom")),
                valid_to=_optional_time(row.get("validTo")),
                product=product if isinstance(product, str) and product else None,
            )
        )
    return tuple(agreements)


def _parse_graphql_account(number: str, data: Mapping[str, Any]) -> Account:
    """The account from an answer ``GRAPHQL_ACCOUNT`` has checked: its structure is known."""

    def electricity_meter(meter: Mapping[str, Any], export: bool) -> Meter:
        importing = _device_id(meter.get("smartImportElectricityMeter"))
        exporting = _device_id(meter.get("smartExportElectricityMeter"))
        return Meter(
            serial_number=str(meter["serialNumber"]),
            device_id=exporting if export else importing,
            smart=bool(importing or exporting),
        )

    def gas_meter(meter: Mapping[str, Any], _export: bool) -> Meter:
        device = _device_id(meter.get("smartGasMeter"))
        return Meter(
            serial_number=str(meter["serialNumber"]),
            consumption_units=parse_gas_unit(meter.get("consumptionUnits")),
            device_id=device,
            smart=device is not None,
        )

    points: list[MeterPoint] = []
    for fuel, agreements, key, make_meter in (
        (FuelType.ELECTRICITY, "electricityAgreements", "mpan", electricity_meter),
        (FuelType.GAS, "gasAgreements", "mprn", gas_meter),
    ):
        for agreement in data[agreements]:
            point = agreement["meterPoint"]
            if not point[key]:
                continue
            export = str(point.get("direction") or "").upper() == "EXPORT"
            points.append(
                MeterPoint(
                    fuel=fuel,
                    identifier=str(point[key]),
                    is_export=export,
                    meters=tuple(
                        make_meter(m, export) for m in point["meters"] if m["serialNumber"]
                    ),
                    agreements=_graphql_agreements(point["agreements"]),
                )
            )
    # the same point may come once per active agreement: keep one
    unique = {(p.fuel, p.identifier): p for p in points}
    balance = data.get("balance")
    return Account(
        number=number,
        properties=(Property(moved_out_at=None, points=tuple(unique.values())),),
        from_graphql=True,
        balance=float(balance) / 100 if isinstance(balance, int | float) else None,
    )


def _parse_agreements(rows: Any) -> tuple[Agreement, ...]:
    agreements: list[Agreement] = []
    for row in rows or ():
        if not isinstance(row, dict) or not isinstance(row.get("tariff_code"), str):
            continue
        agreements.append(
            Agreement(
                tariff_code=row["tariff_code"],
                valid_from=_optional_time(row.get("valid_from")),
                valid_to=_optional_time(row.get("valid_to")),
            )
        )
    return tuple(agreements)


def _parse_meters(rows: Any) -> tuple[Meter, ...]:
    return tuple(
        Meter(serial_number=str(row["serial_number"]))
        for row in rows or ()
        if isinstance(row, dict) and row.get("serial_number")
    )


def _parse_account(number: str, data: Any) -> Account:
    properties: list[Property] = []
    for prop in shapes.ACCOUNT.check(data, OctopusSchemaError)["properties"]:
        if not isinstance(prop, dict):
            continue
        points: list[MeterPoint] = []
        for row in prop.get("electricity_meter_points") or ():
            if isinstance(row, dict) and row.get("mpan"):
                points.append(
                    MeterPoint(
                        fuel=FuelType.ELECTRICITY,
                        identifier=str(row["mpan"]),
                        is_export=bool(row.get("is_export")),
                        meters=_parse_meters(row.get("meters")),
                        agreements=_parse_agreements(row.get("agreements")),
                    )
                )
        for row in prop.get("gas_meter_points") or ():
            if isinstance(row, dict) and row.get("mprn"):
                points.append(
                    MeterPoint(
                        fuel=FuelType.GAS,
                        identifier=str(row["mprn"]),
                        is_export=False,
                        meters=_parse_meters(row.get("meters")),
                        agreements=_parse_agreements(row.get("agreements")),
                    )
                )
        properties.append(
            Property(moved_out_at=_optional_time(prop.get("moved_out_at")), points=tuple(points))
        )
    return Account(number=number, properties=tuple(properties))
