"""The account, balance, current-price, history and telemetry coordinators.

Each polls what it needs as rarely as the data changes: the account (meters appearing or vanishing)
twice a day from GraphQL (REST when GraphQL fails), the balance four times a day, prices once a day. Current-price sensors must still flip
at every rate change (every half hour on Agile), so the price coordinator sets a timer for the next
change and rewrites its sensors then without a request; when the known rates run out (tomorrow's
Agile prices appear in the afternoon) the timer fetches again. The history coordinator runs the
importer (:mod:`.history`) for every current meter a few times a day. A Home Mini's telemetry is
read at most once a minute, and less often while Octopus fails or asks us to slow down.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_point_in_utc_time
from homeassistant.helpers.issue_registry import IssueSeverity
from homeassistant.util import dt as dt_util

from ...api.errors import ApiAuthError, ApiRateLimitError, MeterHubApiError
from ...api.octopus import Account, MeterPoint, OctopusClient, TelemetryReading
from ...const import LOGGER
from ...coordinator import MeterHubCoordinator, local_text
from ...repairs import HOME_MINI_QUIET, async_source_placeholders, entry_problems
from ...statistics import local_midnight
from .history import HISTORY_INTERVAL, HistoryImporter, MeterSummary
from .meters import OctopusMeter
from .tariffs import LONDON, PriceBook, async_price_book, local_day

if TYPE_CHECKING:
    from .runtime import OctopusConfigEntry

ACCOUNT_INTERVAL: Final = timedelta(hours=12)
#: While the account could only be read from REST, GraphQL is asked again this often.
ACCOUNT_FALLBACK_INTERVAL: Final = timedelta(hours=1)
#: Telemetry: never more often than this (BottlecapDave's Home Mini default is also 1 minute).
TELEMETRY_INTERVAL: Final = timedelta(minutes=1)
#: The longest pause between telemetry reads while Octopus keeps failing.
TELEMETRY_MAX_BACKOFF: Final = timedelta(minutes=30)
#: A device whose newest reading is older than this is quiet: no demand is shown.
TELEMETRY_QUIET_AFTER: Final = timedelta(minutes=45)
#: A device quiet this long gets a repair. The sensors are honest (unavailable) long before; the
#: repair asks the user to act, so it waits out what fixes itself: a router restart, a Home Mini
#: reconnecting, Octopus's telemetry running late (readings then arrive in a batch). Two hours is
#: longer than those and still tells the user the same day, before the evening peak.
TELEMETRY_REPAIR_AFTER: Final = timedelta(hours=2)
BALANCE_INTERVAL: Final = timedelta(hours=6)
RATES_INTERVAL: Final = timedelta(days=1)
#: How far ahead current prices are fetched: today and tomorrow (UK days).
RATES_HORIZON: Final = timedelta(days=2)
#: When the known rates have run out, try again this often until new ones are published.
RATES_RUN_OUT_RETRY: Final = timedelta(hours=1)


class OctopusAccountCoordinator(MeterHubCoordinator[Account]):
    """Reads the account: meter points, active meters, gas units, device ids, agreements.

    GraphQL is the source (it lists active meters only and says each gas meter's unit). REST's
    account is read first all the same: it is the fallback when GraphQL fails for any reason but
    a rejected key (narrowed with the last GraphQL answer, :func:`merge_known`, and GraphQL is
    asked again within the hour), and it proves the key still opens REST, which every history
    and price request uses (a Kraken token can outlive a rotated key).
    """

    def __init__(
        self, hass: HomeAssistant, entry: OctopusConfigEntry, client: OctopusClient
    ) -> None:
        """Poll twice a day; meters rarely change."""
        super().__init__(hass, entry, name="Octopus account", update_interval=ACCOUNT_INTERVAL)
        self.client = client
        self.account_number: str = entry.data["account_number"]
        self.known: Account | None = None
        self.fallbacks = 0

    async def _async_fetch(self) -> Account:
        rest = await self.client.async_get_account(self.account_number)
        try:
            account = await self.client.async_get_graphql_account(self.account_number)
        except ApiAuthError:
            raise
        except MeterHubApiError as err:
            self.fallbacks += 1
            LOGGER.debug("Octopus GraphQL account unavailable (%s): using REST", type(err).__name__)
            self.update_interval = ACCOUNT_FALLBACK_INTERVAL
            return merge_known(rest, self.known)
        self.known = account
        self.update_interval = ACCOUNT_INTERVAL
        return account


def merge_known(rest: Account, known: Account | None) -> Account:
    """REST's account, with what GraphQL said last time: active serials, units, device ids, products.

    REST lists every serial a point ever had; without an earlier GraphQL answer all of them are
    kept, and gas meters stay without a unit (their history waits for GraphQL).
    """
    if known is None:
        return rest
    known_points = {(p.fuel, p.identifier): p for prop in known.properties for p in prop.points}
    properties = []
    for prop in rest.properties:
        points = []
        for point in prop.points:
            seen = known_points.get((point.fuel, point.identifier))
            if seen is None:
                points.append(point)
                continue
            active = {m.serial_number: m for m in seen.meters}
            products = {a.tariff_code: a.product for a in seen.agreements if a.product}
            points.append(
                replace(
                    point,
                    meters=tuple(
                        active[m.serial_number] for m in point.meters if m.serial_number in active
                    )
                    or seen.meters,
                    agreements=tuple(
                        replace(a, product=products.get(a.tariff_code)) for a in point.agreements
                    ),
                )
            )
        properties.append(replace(prop, points=tuple(points)))
    return replace(rest, properties=tuple(properties))


class OctopusBalanceCoordinator(MeterHubCoordinator[float]):
    """Reads the account balance over GraphQL (pounds, positive when in credit)."""

    def __init__(
        self, hass: HomeAssistant, entry: OctopusConfigEntry, client: OctopusClient
    ) -> None:
        """Poll a few times a day."""
        super().__init__(hass, entry, name="Octopus balance", update_interval=BALANCE_INTERVAL)
        self.client = client
        self.account_number: str = entry.data["account_number"]

    async def _async_fetch(self) -> float:
        return await self.client.async_get_balance(self.account_number)


class OctopusRatesCoordinator(MeterHubCoordinator[dict[str, PriceBook]]):
    """Today's and tomorrow's prices per meter point, and a timer for the next rate change."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: OctopusConfigEntry,
        client: OctopusClient,
        points: Callable[[], Mapping[str, MeterPoint]],
    ) -> None:
        """Poll once a day; ``points`` gives the current meter points by identifier."""
        super().__init__(hass, entry, name="Octopus prices", update_interval=RATES_INTERVAL)
        self.client = client
        self._points = points
        self._unsub_timer: CALLBACK_TYPE | None = None
        self.async_add_listener(self._schedule_boundary)

    async def _async_fetch(self) -> dict[str, PriceBook]:
        start = local_midnight(local_day(dt_util.utcnow()), LONDON)
        books: dict[str, PriceBook] = {}
        for identifier, point in self._points().items():
            books[identifier] = await async_price_book(
                self.client,
                point,
                start,
                start + RATES_HORIZON,
                standing_charges=not point.is_export,
            )
        return books

    @callback
    def _schedule_boundary(self) -> None:
        """Set one timer for the earliest moment a price sensor must change or data runs out."""
        self._cancel_timer()
        if not self.data:
            return
        now = dt_util.utcnow()
        moments: list[datetime] = []
        refetch = False
        for book in self.data.values():
            if (change := book.next_change(now, RATES_HORIZON)) is not None:
                moments.append(change)
            until = book.known_until()
            if until is not None and until > now:
                moments.append(until)
            elif book.tariffs and book.unit_rate(now) is None:
                refetch = True
        if refetch:
            self._unsub_timer = async_call_later(
                self.hass, RATES_RUN_OUT_RETRY, self._async_boundary
            )
        elif moments:
            self._unsub_timer = async_track_point_in_utc_time(
                self.hass, self._async_boundary, min(moments)
            )

    async def _async_boundary(self, _scheduled: datetime) -> None:
        """A rate changed: rewrite the sensors, and fetch again if the known rates ran out."""
        self._unsub_timer = None
        now = dt_util.utcnow()  # the timer may fire late (a suspended host)
        if self.data and any(
            book.tariffs and book.unit_rate(now) is None for book in self.data.values()
        ):
            await self.async_request_refresh()
            return
        self.async_update_listeners()

    @callback
    def _cancel_timer(self) -> None:
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None

    async def async_shutdown(self) -> None:
        """Stop the boundary timer too."""
        self._cancel_timer()
        await super().async_shutdown()


class OctopusHistoryCoordinator(MeterHubCoordinator[dict[str, MeterSummary]]):
    """Imports every current meter's history a few times a day."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: OctopusConfigEntry,
        importer: HistoryImporter,
        meters: Callable[[], Mapping[str, OctopusMeter]],
    ) -> None:
        """Poll every few hours; ``meters`` gives the meters current on the account."""
        super().__init__(hass, entry, name="Octopus history", update_interval=HISTORY_INTERVAL)
        self.importer = importer
        self._meters = meters

    async def _async_fetch(self) -> dict[str, MeterSummary]:
        """One meter at a time; a rejected key or a rate limit stops the round at once."""
        now = dt_util.utcnow()
        previous = self.data or {}
        data: dict[str, MeterSummary] = {}
        failure: MeterHubApiError | None = None
        for key, meter in self._meters().items():
            try:
                data[key] = await self.importer.async_update(meter, now, previous.get(key))
            except ApiAuthError, ApiRateLimitError:
                raise
            except MeterHubApiError as err:
                failure = failure or err
                if key in previous:
                    data[key] = previous[key]
        if failure is not None:
            raise failure
        return data


def price_points(meters: Mapping[str, OctopusMeter]) -> dict[str, MeterPoint]:
    """The distinct points of the current meters (several meters may share one)."""
    return {meter.point.identifier: meter.point for meter in meters.values()}


@dataclass(frozen=True, kw_only=True)
class Telemetry:
    """What a Home Mini said: the newest reading and today's consumption (kWh)."""

    newest: TelemetryReading | None
    today_kwh: float | None
    checked_at: datetime

    @property
    def last_reading(self) -> datetime | None:
        """When the device last reported."""
        return None if self.newest is None else self.newest.read_at

    def quiet(self, now: datetime) -> bool:
        """No reading for a while: the device (or its link to Octopus) has gone quiet."""
        return self.newest is None or now - self.newest.read_at > TELEMETRY_QUIET_AFTER

    def demand(self, now: datetime) -> float | None:
        """Current demand in W; None (unavailable) when the device is quiet."""
        if self.quiet(now) or self.newest is None:
            return None
        return self.newest.demand_w


class OctopusTelemetryCoordinator(MeterHubCoordinator[Telemetry]):
    """One smart meter's telemetry (a Home Mini or Home Pro), read at most once a minute.

    Failures double the pause up to :data:`TELEMETRY_MAX_BACKOFF`; a rate limit (Kraken's, or the
    shared per-IP GraphQL limit the client is already pausing for) waits as long as asked. The
    half-hourly REST history stays the source of the statistics: this only feeds live sensors.

    A device that has sent nothing for :data:`TELEMETRY_REPAIR_AFTER` raises the
    ``home_mini_quiet`` repair, judged only from answers Octopus did give: while Octopus fails or
    asks us to slow down nothing is known about the device, so nothing is raised (or cleared).
    The first reading that comes back clears it.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: OctopusConfigEntry,
        client: OctopusClient,
        device_id: str,
    ) -> None:
        """Poll once a minute, without the usual jitter stretching the interval."""
        super().__init__(
            hass, entry, name="Octopus telemetry", update_interval=TELEMETRY_INTERVAL, jitter=0
        )
        self.client = client
        self.device_id = device_id
        self.failures = 0
        #: The newest reading ever seen (the day's query window forgets yesterday's at midnight).
        self.last_seen: datetime | None = None
        #: When this coordinator first heard from Octopus: a device silent from the start is
        #: quiet since then.
        self.watching_since: datetime | None = None

    def move_to(self, device_id: str) -> None:
        """Read another device id from now on (the account names a new one for the meter)."""
        self.device_id = device_id
        self.last_seen = None
        self.watching_since = None

    async def _async_fetch(self) -> Telemetry:
        now = dt_util.utcnow()
        start = local_midnight(local_day(now), LONDON)
        try:
            # from a little before midnight too: just after it, yesterday's last readings are
            # what says the device is alive (today's total counts from midnight only)
            readings = await self.client.async_get_telemetry(
                self.device_id,
                min(start, now - TELEMETRY_QUIET_AFTER),
                now + timedelta(minutes=1),
            )
        except MeterHubApiError as err:
            self.failures += 1
            pause = TELEMETRY_INTERVAL * (2 ** min(self.failures, 5))
            if isinstance(err, ApiRateLimitError) and err.retry_after:
                pause = max(pause, timedelta(seconds=err.retry_after))
            self.update_interval = min(pause, TELEMETRY_MAX_BACKOFF)
            raise
        self.failures = 0
        self.update_interval = TELEMETRY_INTERVAL
        today = [r for r in readings if r.read_at >= start]
        deltas = [r.consumption_delta_wh for r in today if r.consumption_delta_wh is not None]
        telemetry = Telemetry(
            newest=readings[-1] if readings else None,
            today_kwh=round(sum(deltas) / 1000, 3) if deltas else None,
            checked_at=now,
        )
        await self._async_review_quiet(telemetry, now)
        return telemetry

    @property
    def quiet_since(self) -> datetime | None:
        """Since when the device has said nothing: its last reading, or when we started asking."""
        return self.last_seen or self.watching_since

    async def _async_review_quiet(self, telemetry: Telemetry, now: datetime) -> None:
        """Raise the quiet-device repair once, or clear it when readings are back."""
        if self.watching_since is None:
            self.watching_since = now
        if telemetry.last_reading is not None and (
            self.last_seen is None or telemetry.last_reading > self.last_seen
        ):
            self.last_seen = telemetry.last_reading
        if self.config_entry is None:
            return
        problems = entry_problems(self.hass, self.config_entry.entry_id)
        since = self.quiet_since
        if since is None or now - since <= TELEMETRY_REPAIR_AFTER:
            problems.resolve(self.hass, HOME_MINI_QUIET, self._problem_source)
            return
        if problems.reports(HOME_MINI_QUIET, self._problem_source):
            return
        placeholders = await async_source_placeholders(self.hass, self.config_entry)
        problems.report(
            self.hass,
            HOME_MINI_QUIET,
            self._problem_source,
            {"source": placeholders["source"], "since": local_text(since)},
            severity=IssueSeverity.WARNING,  # live sensors only: no history is at stake
        )

    async def async_shutdown(self) -> None:
        """Stop polling; a repair about this device goes too (nothing watches it any more)."""
        await super().async_shutdown()
        if self.config_entry is not None:
            entry_problems(self.hass, self.config_entry.entry_id).resolve(
                self.hass, HOME_MINI_QUIET, self._problem_source
            )
