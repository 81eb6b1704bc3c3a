"""The account, balance, current-price and history coordinators.

Each polls what it needs as rarely as the data changes: the account (meters appearing or vanishing)
twice a day, the balance four times a day, prices once a day. Current-price sensors must still flip
at every rate change (every half hour on Agile), so the price coordinator sets a timer for the next
change and rewrites its sensors then without a request; when the known rates run out (tomorrow's
Agile prices appear in the afternoon) the timer fetches again. The history coordinator runs the
importer (:mod:`.history`) for every current meter a few times a day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ...api.errors import ApiAuthError, ApiRateLimitError, MeterHubApiError
from ...api.octopus import Account, MeterPoint, OctopusClient
from ...coordinator import MeterHubCoordinator
from ...statistics import local_midnight
from .history import HISTORY_INTERVAL, HistoryImporter, MeterSummary
from .meters import OctopusMeter
from .tariffs import LONDON, PriceBook, async_price_book, local_day

if TYPE_CHECKING:
    from .runtime import OctopusConfigEntry

ACCOUNT_INTERVAL: Final = timedelta(hours=12)
BALANCE_INTERVAL: Final = timedelta(hours=6)
RATES_INTERVAL: Final = timedelta(days=1)
#: How far ahead current prices are fetched: today and tomorrow (UK days).
RATES_HORIZON: Final = timedelta(days=2)
#: When the known rates have run out, try again this often until new ones are published.
RATES_RUN_OUT_RETRY: Final = timedelta(hours=1)


class OctopusAccountCoordinator(MeterHubCoordinator[Account]):
    """Reads the account: properties, meter points, meters, agreements."""

    def __init__(
        self, hass: HomeAssistant, entry: OctopusConfigEntry, client: OctopusClient
    ) -> None:
        """Poll twice a day; meters rarely change."""
        super().__init__(hass, entry, name="Octopus account", update_interval=ACCOUNT_INTERVAL)
        self.client = client
        self.account_number: str = entry.data["account_number"]

    async def _async_fetch(self) -> Account:
        return await self.client.async_get_account(self.account_number)


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
