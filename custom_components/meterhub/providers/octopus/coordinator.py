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
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_point_in_utc_time
from homeassistant.helpers.issue_registry import IssueSeverity
from homeassistant.util import dt as dt_util

from ...api.errors import ApiAuthError, ApiRateLimitError, ApiSchemaError, MeterHubApiError
from ...api.octopus import Account, MeterPoint, OctopusClient, TelemetryReading
from ...const import LOGGER
from ...coordinator import MeterHubCoordinator, local_text
from ...repairs import API_CHANGED, HOME_MINI_QUIET, async_source_placeholders, entry_problems
from ...statistics import local_midnight
from .history import HISTORY_INTERVAL, HistoryImporter, MeterSummary
from .meters import OctopusMeter
from .tariffs import LONDON, PriceBook, async_price_book, local_day

if TYPE_CHECKING:
    from .runtime import OctopusConfigEntry

ACCOUNT_INTERVAL: Final = timedelta(hours=12)
#: Who reports GraphQL's account in a changed shape (one account coordinator per entry).
GRAPHQL_ACCOUNT_SOURCE: Final = "Octopus account (GraphQL)"
#: While the account could only be read from REST, GraphQL is asked again this often.
ACCOUNT_FALLBACK_INTERVAL: Final = timedelta(hours=1)
#: Telemetry: never more often than this (BottlecapDave's Home Mini default is also 1 minute).
TELEMETRY_INTERVAL: Final = timedelta(minutes=1)
#: Live demand: the ONE_MINUTE rows of the last few minutes (a row or two may arrive late).
TELEMETRY_LIVE_WINDOW: Final = timedelta(minutes=5)
#: Today's consumption: the HALF_HOURLY rows of the UK day, read once per half hour (at the
#: first poll after each :00 and :30, so at UK midnight too).
TELEMETRY_DAY_INTERVAL: Final = timedelta(minutes=30)
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

    A GraphQL answer in a changed shape falls back the same way and also raises the
    ``api_changed`` repair (once; cleared by the next correct GraphQL answer). A gas meter keeps
    the unit of the last good GraphQL answer of this session; without one its unit is unknown
    and its history waits (REST does not say kWh or m³, and a guess would book SMETS2 m³ as kWh
    or the other way round, 11 times off).
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
            if isinstance(err, ApiSchemaError):
                # The update succeeds (REST answered), so the spine never sees this error: say
                # so anyway, or a gas meter whose unit only GraphQL tells waits without a word.
                await self.async_report_api_changed(err, GRAPHQL_ACCOUNT_SOURCE)
            return merge_known(rest, self.known)
        self.known = account
        self.update_interval = ACCOUNT_INTERVAL
        if self.config_entry is not None:
            entry_problems(self.hass, self.config_entry.entry_id).resolve(
                self.hass, API_CHANGED, GRAPHQL_ACCOUNT_SOURCE
            )
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


@dataclass(frozen=True, kw_only=True)
class SettledDay:
    """The UK day's finished half hours, from one HALF_HOURLY read."""

    day_start: datetime
    #: The start of the half hour in progress when read: one-minute rows count from here.
    until: datetime
    #: Wh of today's finished half hours (None: the day has none yet).
    wh: float | None
    #: The newest half-hourly row (yesterday's too, just after midnight).
    newest: TelemetryReading | None
    read_at: datetime


def half_hour_start(moment: datetime) -> datetime:
    """The start of the half hour ``moment`` falls in (UTC; UK half hours are UTC half hours)."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute // 30 * 30, second=0, microsecond=0)


def newer(
    current: TelemetryReading | None, other: TelemetryReading | None
) -> TelemetryReading | None:
    """The later of two readings (``current`` on a tie: one-minute rows are read first)."""
    if other is None or (current is not None and current.read_at >= other.read_at):
        return current
    return other


class OctopusTelemetryCoordinator(MeterHubCoordinator[Telemetry]):
    """One smart meter's telemetry (a Home Mini or Home Pro), read at most once a minute.

    Two groupings, because each answers one question well and cheaply:

    - current demand comes from ``ONE_MINUTE`` rows of the last :data:`TELEMETRY_LIVE_WINDOW`
      (a handful of rows each minute). A ``HALF_HOURLY`` row's demand belongs to a whole half hour
      (Octopus has served it as the half hour's average), so it is not live power;
    - today's consumption is the ``HALF_HOURLY`` rows of the day's finished half hours, read every
      :data:`TELEMETRY_DAY_INTERVAL` and at UK midnight, plus the one-minute deltas since the half
      hour that was in progress then (each minute row counted once, by its ``readAt``). A
      whole-day ``ONE_MINUTE`` read would be up to 1440 rows a minute; a whole-day ``HALF_HOURLY``
      read every minute would repeat 47 known rows.

    So a Home Mini costs 60 + 2 = 62 GraphQL requests an hour (the old whole-day read cost 60).
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
        self._reset()

    def _reset(self) -> None:
        #: The newest reading ever seen (the day's query window forgets yesterday's at midnight).
        self.last_seen: datetime | None = None
        #: When this coordinator first heard from Octopus: a device silent from the start is
        #: quiet since then.
        self.watching_since: datetime | None = None
        self.settled: SettledDay | None = None
        #: One-minute deltas (Wh) since ``settled.until``, by ``readAt``.
        self.minute_wh: dict[datetime, float] = {}
        self.newest: TelemetryReading | None = None
        #: What today's sensor showed last (a total_increasing sensor must not dip within a day).
        self.shown_today: tuple[datetime, float] | None = None

    def move_to(self, device_id: str) -> None:
        """Read another device id from now on (the account names a new one for the meter)."""
        self.device_id = device_id
        self._reset()

    async def _async_fetch(self) -> Telemetry:
        now = dt_util.utcnow()
        try:
            settled = self.settled
            day_start = local_midnight(local_day(now), LONDON)
            fresh_day = (
                settled is None
                or settled.day_start != day_start
                or half_hour_start(now) > settled.until
            )
            if fresh_day or settled is None:
                settled = self.settled = await self._async_read_day(day_start, now)
                self.minute_wh = {}
            minutes = await self.client.async_get_telemetry(
                self.device_id,
                self._live_window_start(now, settled.until if fresh_day else None),
                now + timedelta(minutes=1),
                grouping="ONE_MINUTE",
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
        for row in minutes:
            if row.read_at >= settled.until and row.consumption_delta_wh is not None:
                self.minute_wh[row.read_at] = row.consumption_delta_wh
        # the window reaches back to the newest reading known (up to the quiet threshold), so
        # this answer alone says what is newest: an empty one means nothing recent is known
        live = [r for r in minutes if r.demand_w is not None]
        newest = live[-1] if live else (minutes[-1] if minutes else None)
        if fresh_day:
            newest = newer(newest, settled.newest)
        self.newest = newest
        telemetry = Telemetry(newest=newest, today_kwh=self._today_kwh(settled), checked_at=now)
        await self._async_review_quiet(telemetry, now)
        return telemetry

    async def _async_read_day(self, day_start: datetime, now: datetime) -> SettledDay:
        """The day's finished half hours (HALF_HOURLY), and the newest row for the quiet check."""
        # from a little before midnight too: just after it, yesterday's last readings are what
        # says the device is alive (today's total counts from midnight only)
        rows = await self.client.async_get_telemetry(
            self.device_id,
            min(day_start, now - TELEMETRY_QUIET_AFTER),
            now + timedelta(minutes=1),
            grouping="HALF_HOURLY",
        )
        until = max(half_hour_start(now), day_start)
        finished = [
            r.consumption_delta_wh
            for r in rows
            if day_start <= r.read_at
            and r.read_at + timedelta(minutes=30) <= until
            and r.consumption_delta_wh is not None
        ]
        return SettledDay(
            day_start=day_start,
            until=until,
            wh=sum(finished) if finished else None,
            newest=rows[-1] if rows else None,
            read_at=now,
        )

    def _live_window_start(self, now: datetime, settled_until: datetime | None) -> datetime:
        """The last few minutes, reaching back to the newest reading known (after a gap).

        Never further back than :data:`TELEMETRY_QUIET_AFTER` (older readings make no demand),
        so an answer has a handful of rows and at most ~45. Just after a half-hourly read it
        starts no later than ``settled_until``: one-minute deltas count from there, each
        ``readAt`` once.
        """
        anchor = now - TELEMETRY_QUIET_AFTER if self.newest is None else self.newest.read_at
        start = min(now - TELEMETRY_LIVE_WINDOW, anchor)
        if settled_until is not None:
            start = min(start, settled_until)
        return max(now - TELEMETRY_QUIET_AFTER, start)

    def _today_kwh(self, settled: SettledDay) -> float | None:
        """Finished half hours plus the minutes since; never below what was shown today."""
        if settled.wh is None and not self.minute_wh:
            return None
        today = round(((settled.wh or 0.0) + sum(self.minute_wh.values())) / 1000, 3)
        shown = self.shown_today
        if shown is not None and shown[0] == settled.day_start:
            # one-minute deltas and the half hour they are settled into may differ by a few Wh
            today = max(today, shown[1])
        self.shown_today = (settled.day_start, today)
        return today

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
