"""Async client for the REST API (v2) of a DSMR-reader server.

DSMR-reader stores P1 data on another machine and serves it as JSON: the latest reading, today's
consumption with costs, hourly and daily statistics and the energy prices the user entered. The API
is off until the user enables it, and it says so in two ways (405 on old versions, 403 with
``{"detail": "API is disabled"}`` on newer ones), so a 403 is only a wrong key after the body has
been read. Decimals arrive as strings and any value may be null; datetimes carry their offset.

Time filters are sent as ISO 8601 with their offset: the server reads a naive time in its own zone and
answers 400 when that time is ambiguous or does not exist (the hour the clocks go back or forward),
while a time with an offset (or ``Z``) is always exact (recorded from DSMR-reader 5.11).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
import json
from typing import Any, Final

import aiohttp
from yarl import URL

from . import dsmr_reader_shapes as shapes
from .errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitError,
    ApiResponseError,
    ApiSchemaError,
    MeterHubApiError,
    raise_for_overload,
)
from .shapes import Shape

API_PATH: Final = "api/v2"
DEFAULT_TIMEOUT: Final = 20.0
DEFAULT_PAGE_SIZE: Final = 500
# How often a listing may change under us (rows added or removed while paging) before we give up.
MAX_REANCHORS: Final = 10


class DsmrReaderError(MeterHubApiError):
    """Anything the DSMR-reader client raises."""


class DsmrReaderConnectionError(DsmrReaderError, ApiConnectionError):
    """The server could not be reached, timed out or answered with a server error (5xx)."""


class DsmrReaderCertificateError(DsmrReaderConnectionError):
    """The ``https://`` server's certificate could not be verified (self-signed, expired, other host).

    Its own message, because the fix is the user's: switch off "verify SSL" for a self-signed
    certificate they trust.
    """

    error_key = "ssl_certificate"


class DsmrReaderRateLimitError(DsmrReaderError, ApiRateLimitError):
    """The server (or a proxy in front of it) asked us to slow down (429)."""


class DsmrReaderAuthError(DsmrReaderError, ApiAuthError):
    """The server rejected the API key (DSMR-reader answers 403, not 401)."""


class DsmrReaderResponseError(DsmrReaderError, ApiResponseError):
    """The server answered with something that is not the DSMR-reader API."""


class DsmrReaderNotJsonError(DsmrReaderResponseError):
    """HTML or other text instead of JSON: usually the address of another web page or a proxy."""

    error_key = "not_dsmr_reader"


class DsmrReaderSchemaError(DsmrReaderResponseError, ApiSchemaError):
    """The server answered in a shape this client does not read (see ``dsmr_reader_shapes``)."""


class DsmrReaderApiDisabledError(DsmrReaderError):
    """The API is switched off in DSMR-reader's settings.

    Not an authentication error: the key may well be right, and a new key would not help. Nor an
    unreadable answer. The user has to enable the API; polling continues and recovers by itself
    once that is done.
    """

    error_key = "api_disabled"


class DsmrReaderNotFoundError(DsmrReaderResponseError):
    """The endpoint does not exist on this server (an older DSMR-reader version, or not DSMR-reader)."""

    error_key = "not_dsmr_reader"


def normalize_url(raw: str) -> URL:
    """The server's base URL: ``http://`` added when no scheme is given, any path dropped.

    Users paste addresses in every shape (``192.168.1.10:7777``, ``http://dsmr.local/``,
    ``http://host:7777/about``); the API lives at ``/api/v2`` under the root, so only scheme, host
    and port matter. Raises ``ValueError`` when there is no usable host.
    """
    text = raw.strip()
    if "://" not in text:
        text = f"http://{text}"
    try:
        url = URL(text)
    except ValueError as err:
        raise ValueError("not a URL") from err
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("not an http(s) URL with a host")
    try:
        port = url.port
    except ValueError as err:  # a port that is not a number
        raise ValueError("invalid port") from err
    return URL.build(scheme=url.scheme, host=url.host.lower(), port=port)


def server_key(url: URL) -> str:
    """``host:port`` of a normalised URL (the port always spelled out): how we tell servers apart."""
    return f"{url.host}:{url.port}"


def parse_number(value: Any) -> float | None:
    """A decimal string, int or float as float; None for null, empty or unreadable values."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return float(number) if number.is_finite() else None
    return None


def parse_datetime(value: Any) -> datetime | None:
    """An ISO datetime with its offset; None when absent, unreadable or without an offset."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def parse_date(value: Any) -> date | None:
    """A ``YYYY-MM-DD`` date; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def time_filter(moment: datetime, zone: tzinfo) -> str:
    """A datetime filter value: ISO 8601 in the server's zone *with* its offset.

    Never naive: ``2026-10-25 02:00:00`` happens twice in Europe/Amsterdam and the server answers
    400; ``2026-10-25T02:00:00+01:00`` is one moment. The server's own zone only keeps it readable.
    """
    return moment.astimezone(zone).isoformat()


@dataclass(frozen=True, kw_only=True)
class Reading:
    """The latest P1 reading as the server stored it. Registers in kWh, power in kW, gas in m³."""

    timestamp: datetime | None
    electricity_delivered_1: float | None
    electricity_returned_1: float | None
    electricity_delivered_2: float | None
    electricity_returned_2: float | None
    electricity_currently_delivered: float | None
    electricity_currently_returned: float | None
    phase_currently_delivered_l1: float | None
    phase_currently_delivered_l2: float | None
    phase_currently_delivered_l3: float | None
    phase_currently_returned_l1: float | None
    phase_currently_returned_l2: float | None
    phase_currently_returned_l3: float | None
    phase_voltage_l1: float | None
    phase_voltage_l2: float | None
    phase_voltage_l3: float | None
    phase_power_current_l1: float | None
    phase_power_current_l2: float | None
    phase_power_current_l3: float | None
    extra_device_timestamp: datetime | None
    extra_device_delivered: float | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reading:
        """Parse one ``dsmrreading`` result; missing fields (older versions) become None."""
        numbers = {
            name: parse_number(data.get(name))
            for name in cls.__dataclass_fields__
            if name not in ("timestamp", "extra_device_timestamp")
        }
        return cls(
            timestamp=parse_datetime(data.get("timestamp")),
            extra_device_timestamp=parse_datetime(data.get("extra_device_timestamp")),
            **numbers,
        )


@dataclass(frozen=True, kw_only=True)
class TodayConsumption:
    """What has been used today so far, with the costs the server computed from its prices."""

    day: date | None
    electricity1: float | None
    electricity2: float | None
    electricity1_returned: float | None
    electricity2_returned: float | None
    electricity1_cost: float | None
    electricity2_cost: float | None
    gas: float | None
    gas_cost: float | None
    #: The contract's fixed daily cost; ``total_cost`` includes it.
    fixed_cost: float | None
    total_cost: float | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TodayConsumption:
        """Parse ``consumption/today``."""
        numbers = {name: parse_number(data.get(name)) for name in cls.__dataclass_fields__}
        numbers.pop("day")
        return cls(day=parse_date(data.get("day")), **numbers)


@dataclass(frozen=True, kw_only=True)
class HourStatistic:
    """One hour of ``statistics/hour``: kWh per tariff delivered and returned, gas in m³."""

    hour_start: datetime
    electricity1: float | None
    electricity2: float | None
    electricity1_returned: float | None
    electricity2_returned: float | None
    gas: float | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HourStatistic | None:
        """Parse one row; None when the row has no usable ``hour_start``."""
        start = parse_datetime(data.get("hour_start"))
        if start is None:
            return None
        return cls(
            hour_start=start,
            electricity1=parse_number(data.get("electricity1")),
            electricity2=parse_number(data.get("electricity2")),
            electricity1_returned=parse_number(data.get("electricity1_returned")),
            electricity2_returned=parse_number(data.get("electricity2_returned")),
            gas=parse_number(data.get("gas")),
        )


@dataclass(frozen=True, kw_only=True)
class DayStatistic:
    """One day of ``statistics/day``: the day's quantities and costs.

    The server builds the day from its first and last reading of the day, so its electricity is
    the whole day's, while its hour rows miss what was used between one hour's last reading and
    the next hour's first. ``total_cost`` includes ``fixed_cost``.
    """

    day: date
    electricity1: float | None = None
    electricity2: float | None = None
    electricity1_returned: float | None = None
    electricity2_returned: float | None = None
    gas: float | None = None
    electricity1_cost: float | None
    electricity2_cost: float | None
    gas_cost: float | None
    fixed_cost: float | None
    total_cost: float | None

    @property
    def electricity_cost(self) -> float | None:
        """Both tariffs' electricity cost; None when the server gave neither."""
        parts = [c for c in (self.electricity1_cost, self.electricity2_cost) if c is not None]
        return sum(parts) if parts else None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DayStatistic | None:
        """Parse one row; None when the row has no usable ``day``."""
        day = parse_date(data.get("day"))
        if day is None:
            return None
        return cls(
            day=day,
            electricity1=parse_number(data.get("electricity1")),
            electricity2=parse_number(data.get("electricity2")),
            electricity1_returned=parse_number(data.get("electricity1_returned")),
            electricity2_returned=parse_number(data.get("electricity2_returned")),
            gas=parse_number(data.get("gas")),
            electricity1_cost=parse_number(data.get("electricity1_cost")),
            electricity2_cost=parse_number(data.get("electricity2_cost")),
            gas_cost=parse_number(data.get("gas_cost")),
            fixed_cost=parse_number(data.get("fixed_cost")),
            total_cost=parse_number(data.get("total_cost")),
        )


@dataclass(frozen=True, kw_only=True)
class EnergyPrices:
    """The energy contract prices the user entered in DSMR-reader, per kWh and per m³."""

    start: date | None
    end: date | None
    electricity_delivered_1_price: float | None
    electricity_delivered_2_price: float | None
    electricity_returned_1_price: float | None
    electricity_returned_2_price: float | None
    gas_price: float | None
    fixed_daily_cost: float | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EnergyPrices:
        """Parse one ``energy-supplier-prices`` result."""
        numbers = {
            name: parse_number(data.get(name))
            for name in cls.__dataclass_fields__
            if name not in ("start", "end")
        }
        return cls(start=parse_date(data.get("start")), end=parse_date(data.get("end")), **numbers)

    def valid_on(self, day: date) -> bool:
        """Whether the contract covers ``day`` (an open end runs on)."""
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


PRICE_FIELDS: Final = (
    "electricity_delivered_1_price",
    "electricity_delivered_2_price",
    "electricity_returned_1_price",
    "electricity_returned_2_price",
    "gas_price",
    "fixed_daily_cost",
)


def combine_prices(contracts: list[EnergyPrices]) -> EnergyPrices | None:
    """The prices in force when several contracts cover the same day, as DSMR-reader combines them.

    Users may enter electricity in one contract and gas in another. The server then takes each
    price field from the one contract that sets it (above zero); a field set by none, or by more
    than one (it cannot tell which wins), is 0 (``dsmr_consumption.services.get_day_prices``; the
    ``energy_supplier_price_*`` fields of ``consumption/today`` show the result). One contract is
    used as it is; none gives None.
    """
    if not contracts:
        return None
    if len(contracts) == 1:
        return contracts[0]
    combined: dict[str, float | None] = {}
    for name in PRICE_FIELDS:
        set_by = [
            value
            for contract in contracts
            if (value := getattr(contract, name)) is not None and value > 0
        ]
        combined[name] = set_by[0] if len(set_by) == 1 else 0.0
    starts = [c.start for c in contracts if c.start is not None]
    ends = [c.end for c in contracts if c.end is not None]
    return EnergyPrices(
        start=max(starts) if starts else None, end=min(ends) if ends else None, **combined
    )


@dataclass(frozen=True, kw_only=True)
class MeterStatistics:
    """``datalogger/meter-statistics``: what the server last heard from the meter itself.

    The raw ``latest_telegram`` is deliberately not kept: it carries the meters' equipment ids.
    """

    timestamp: datetime | None
    dsmr_version: str | None
    electricity_tariff: int | None
    power_failure_count: int | None
    long_power_failure_count: int | None
    voltage_sag_count_l1: int | None
    voltage_sag_count_l2: int | None
    voltage_sag_count_l3: int | None
    voltage_swell_count_l1: int | None
    voltage_swell_count_l2: int | None
    voltage_swell_count_l3: int | None
    rejected_telegrams: int | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MeterStatistics:
        """Parse the single object the endpoint returns; missing fields become None."""
        counts = {
            name: None if (number := parse_number(data.get(name))) is None else int(number)
            for name in cls.__dataclass_fields__
            if name not in ("timestamp", "dsmr_version")
        }
        version = data.get("dsmr_version")
        return cls(
            timestamp=parse_datetime(data.get("timestamp")),
            dsmr_version=version if isinstance(version, str) and version else None,
            **counts,
        )


class DsmrReaderClient:
    """Talks to one DSMR-reader server. The aiohttp session is the caller's (Home Assistant's)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str | URL,
        api_key: str,
        *,
        request_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Remember where the server is and how to authenticate; no request is made yet."""
        self._session = session
        self._base = normalize_url(str(base_url))
        self._api_key = api_key
        self._timeout = request_timeout
        self.requests = 0
        self.reanchors = 0

    async def _request(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        """GET ``/api/v2/<path>`` and return the decoded JSON, mapping every failure to our errors."""
        url = self._base.joinpath(*API_PATH.split("/"), *path.split("/"))
        headers = {"X-AUTHKEY": self._api_key, "Accept": "application/json"}
        self.requests += 1
        try:
            async with asyncio.timeout(self._timeout):
                async with self._session.get(url, params=params, headers=headers) as response:
                    status = response.status
                    content_type = response.content_type
                    retry_after = response.headers.get("Retry-After")
                    body = await response.text(errors="replace")
        # Re-raised ``from None``: aiohttp's exceptions carry the request URL (and a redirect's
        # target), which would reach the "Full error" traceback of a log a user shares (issue 23).
        except TimeoutError:
            raise DsmrReaderConnectionError("Timed out talking to the DSMR-reader server") from None
        except aiohttp.ClientConnectorCertificateError:
            raise DsmrReaderCertificateError(
                "The DSMR-reader server's certificate could not be verified"
            ) from None
        except aiohttp.ClientError as err:
            raise DsmrReaderConnectionError(
                f"Could not reach the DSMR-reader server: {type(err).__name__}"
            ) from None

        if status in (401, 403):
            if _says_api_disabled(body):
                raise DsmrReaderApiDisabledError("The API is disabled in DSMR-reader's settings")
            raise DsmrReaderAuthError("DSMR-reader rejected the API key")
        if status == 405:
            raise DsmrReaderApiDisabledError("The API is disabled in DSMR-reader's settings")
        if status == 404:
            raise DsmrReaderNotFoundError(f"DSMR-reader has no endpoint {path}")
        raise_for_overload(
            status,
            retry_after,
            service="DSMR-reader",
            rate_limited=DsmrReaderRateLimitError,
            unavailable=DsmrReaderConnectionError,
        )
        if status >= 400:
            raise DsmrReaderResponseError(f"DSMR-reader answered {status} to {path}")
        if "json" not in content_type and not _looks_like_json(body):
            raise DsmrReaderNotJsonError(
                f"The server answered {path} with {content_type or 'no content type'}, not JSON: "
                "is this the address of DSMR-reader?"
            )
        try:
            return json.loads(body)
        except ValueError:  # the decoder's error holds the whole body (its ``doc``): not chained
            raise DsmrReaderNotJsonError(
                f"The server's answer to {path} is not valid JSON"
            ) from None

    async def async_version(self) -> str | None:
        """The server's DSMR-reader version (``application/version``), None when it does not say."""
        data = await self._request("application/version")
        version = data.get("version") if isinstance(data, Mapping) else None
        return version if isinstance(version, str) else None

    async def async_latest_reading(self) -> Reading | None:
        """The newest stored reading, or None when the server has none yet."""
        page = await self._request(
            "datalogger/dsmrreading", {"ordering": "-timestamp", "limit": 1, "offset": 0}
        )
        results = _results(page, "datalogger/dsmrreading")
        if not results or not isinstance(results[0], Mapping):
            return None
        return Reading.from_json(results[0])

    async def async_today(self) -> TodayConsumption | None:
        """Today's consumption, or None when the server has no readings today yet.

        DSMR-reader then answers 200 with a JSON *string* ("No electricity readings found for: ...").
        """
        data = await self._request("consumption/today")
        if isinstance(data, str):
            return None
        if not isinstance(data, Mapping):
            raise DsmrReaderResponseError("consumption/today is neither an object nor a message")
        return TodayConsumption.from_json(data)

    async def async_prices(self, day: date) -> EnergyPrices | None:
        """The prices in force on ``day``, split contracts combined; None when none are entered.

        Raises :class:`DsmrReaderNotFoundError` when the server is too old to expose prices.
        """
        path = "consumption/energy-supplier-prices"
        contracts: list[EnergyPrices] = []
        offset = 0
        while True:  # a handful of contracts: plain offsets (several may share a start date)
            page = await self._request(
                path,
                {
                    "ordering": "start",
                    "start__lte": day.isoformat(),
                    "end__gte": day.isoformat(),
                    "limit": 100,
                    "offset": offset,
                },
            )
            results = _results(page, path)
            contracts += [
                contract
                for row in results
                if isinstance(row, Mapping)
                and (contract := EnergyPrices.from_json(row)).valid_on(day)
            ]
            offset += len(results)
            if not results or page.get("next") is None or offset > 10_000:
                return combine_prices(contracts)

    async def async_meter_statistics(self) -> MeterStatistics | None:
        """The meter's own counters and the latest telegram's time; None when the server has none."""
        data = await self._request("datalogger/meter-statistics")
        if not isinstance(data, Mapping):
            return None
        return MeterStatistics.from_json(data)

    async def async_first_hour(self, since: datetime, zone: tzinfo) -> datetime | None:
        """The oldest hour the server has from ``since`` on (one small request)."""
        page = await self._request(
            "statistics/hour",
            {
                "ordering": "hour_start",
                "hour_start__gte": time_filter(since, zone),
                "limit": 1,
                "offset": 0,
            },
        )
        for row in _results(page, "statistics/hour"):
            if isinstance(row, Mapping) and (found := HourStatistic.from_json(row)) is not None:
                return found.hour_start
        return None

    def hour_statistics(
        self,
        since: datetime,
        zone: tzinfo,
        *,
        until: datetime | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> AsyncIterator[list[HourStatistic]]:
        """Pages of hours from ``since`` (to ``until``, both inclusive), oldest first.

        The filters carry their offset (see :func:`time_filter`), so they are exact also in the hour
        the clocks go back; rows outside the window are still dropped here, by their timestamps.
        """
        filters = {"hour_start__gte": time_filter(since, zone)}
        if until is not None:
            filters["hour_start__lte"] = time_filter(until, zone)
        return self._pages(
            "statistics/hour",
            ordering="hour_start",
            filters=filters,
            anchor="hour_start__gte",
            shape=shapes.HOUR_PAGE,
            parse=HourStatistic.from_json,
            key=lambda row: row.hour_start,
            anchor_value=lambda row: time_filter(row.hour_start, zone),
            page_size=page_size,
            keep=lambda row: since <= row.hour_start and (until is None or row.hour_start <= until),
        )

    def day_statistics(
        self, since: date, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[list[DayStatistic]]:
        """Pages of days from ``since`` (a day in the server's calendar), oldest first."""
        return self._pages(
            "statistics/day",
            ordering="day",
            filters={"day__gte": since.isoformat()},
            anchor="day__gte",
            shape=shapes.DAY_PAGE,
            parse=DayStatistic.from_json,
            key=lambda row: row.day,
            anchor_value=lambda row: row.day.isoformat(),
            page_size=page_size,
        )

    async def _pages[RowT, KeyT: date](
        self,
        path: str,
        *,
        ordering: str,
        filters: Mapping[str, str],
        anchor: str,
        shape: Shape,
        parse: Callable[[Mapping[str, Any]], RowT | None],
        key: Callable[[RowT], KeyT],
        anchor_value: Callable[[RowT], str],
        page_size: int,
        keep: Callable[[RowT], bool] = lambda row: True,
    ) -> AsyncIterator[list[RowT]]:
        """Walk a ``limit``/``offset`` listing, surviving a listing that changes while we page.

        New hours get added while we read, and a recalculation on the server can remove or insert
        rows: offsets then shift, which would skip or repeat rows. We notice by ``count`` changing
        between pages; we then restart from the last row we have seen (as a filter, offset 0), and
        drop rows at or before it, so every row is yielded once and in order. An empty page ends
        the walk even when ``count`` promises more.
        """
        params: dict[str, str | int] = {"ordering": ordering, **filters, "limit": page_size}
        offset = 0
        count: int | None = None
        last_row: RowT | None = None
        reanchors = 0
        while True:
            page = await self._request(path, {**params, "offset": offset})
            results = _results(shape.check(page, DsmrReaderSchemaError), path)
            total = page.get("count") if isinstance(page, Mapping) else None
            if count is not None and total != count and last_row is not None:
                reanchors += 1
                self.reanchors += 1
                if reanchors > MAX_REANCHORS:
                    raise DsmrReaderResponseError(f"{path} kept changing while it was read")
                params[anchor] = anchor_value(last_row)
                offset = 0
                count = None
                continue
            count = total if isinstance(total, int) else None
            last = None if last_row is None else key(last_row)
            rows: list[RowT] = []
            for raw in results:
                if not isinstance(raw, Mapping) or (row := parse(raw)) is None:
                    continue
                if last is not None and key(row) <= last:
                    continue  # seen before a re-anchor (or the server repeated it)
                last_row = row
                if keep(row):
                    rows.append(row)
            if rows:
                yield rows
            offset += len(results)
            at_end = "next" in page and page["next"] is None
            if not results or at_end or (count is not None and offset >= count):
                return


def _results(page: Any, path: str) -> list[Any]:
    """The ``results`` list of a paged answer; a clear error when the answer has another shape."""
    if not isinstance(page, Mapping) or not isinstance(page.get("results"), list):
        raise DsmrReaderResponseError(f"{path} did not return a paged list")
    return list(page["results"])


def _says_api_disabled(body: str) -> bool:
    """Whether a 403 body is DSMR-reader's "API is disabled" rather than a key rejection."""
    try:
        data = json.loads(body)
    except ValueError:
        return False
    detail = data.get("detail") if isinstance(data, Mapping) else None
    return isinstance(detail, str) and "disabled" in detail.lower()


def _looks_like_json(body: str) -> bool:
    """Some proxies drop the content type; accept a body that starts like JSON."""
    return body.lstrip()[:1] in ("{", "[", '"')
