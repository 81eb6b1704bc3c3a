"""A loaded Caruna entry: client, login session, a coordinator per point, and the point watch."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Final

import aiohttp

from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers.event import async_track_time_interval

from ...api.caruna import CarunaClient, CarunaResponseError, MeteringPoint
from ...api.errors import MeterHubApiError
from ...const import LOGGER
from ...devices import async_remove_stale_devices
from ...privacy_rename import LegacyName, LegacyNames
from ...sensor import MeterHubSensor
from ..base import ProviderConfigEntry, ProviderRuntime
from .coordinator import CarunaPointCoordinator
from .history import PointHistory
from .sensors import SENSORS, legacy_point_label, point_device, point_device_id, point_label
from .store import BackfillProgress

type CarunaConfigEntry = ProviderConfigEntry[CarunaRuntime]

CONF_TRANSFER_PRICE: Final = "transfer_price"
# How often the metering points are listed again (new ones added, vanished ones removed).
POINTS_INTERVAL: Final = timedelta(hours=6)


async def async_points(client: CarunaClient) -> list[MeteringPoint]:
    """Every metering point of every customer number the login may read (see :func:`async_listing`)."""
    points, _complete = await async_listing(client)
    return points


async def async_listing(client: CarunaClient) -> tuple[list[MeteringPoint], bool]:
    """The metering points, and whether every customer number's points could be read.

    A represented customer whose points cannot be read (a representation that has just ended) is
    skipped rather than failing the whole entry; the user's own customer numbers must work. Such
    a listing is partial: it may not be used to remove the points it lacks.
    """
    login = await client.async_ensure_login()
    points: list[MeteringPoint] = []
    seen: set[str] = set()
    complete = True
    for customer in login.customer_numbers:
        try:
            found = await client.async_metering_points(customer)
        except CarunaResponseError:
            if customer in login.own_customer_numbers:
                raise
            LOGGER.warning(
                "The metering points of a customer you represent could not be read; skipped"
            )
            complete = False
            continue
        for point in found:
            if point.identifier not in seen:
                seen.add(point.identifier)
                points.append(point)
    return points, complete


class CarunaRuntime(ProviderRuntime):
    """The client, its login session, one coordinator per metering point, and the point watch."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: CarunaConfigEntry,
        client: CarunaClient,
        login_session: aiohttp.ClientSession,
        *,
        key: str,
    ) -> None:
        """Keep what unload has to stop; coordinators are added by :meth:`add_point`."""
        super().__init__()
        self.hass = hass
        self.entry = entry
        self.key = key
        self.client = client
        self.login_session = login_session
        self.progress = BackfillProgress(hass, key, entry.entry_id)
        self._next_index = 1
        #: Whether the account has more than one point: then names carry the number's last four.
        self._several = False
        self._unsub_watch: CALLBACK_TYPE | None = None
        self.point_listings = 0

    async def async_start(self) -> None:
        """Log in, find the metering points, read the recent days of each; backfill runs later."""
        await self.client.async_ensure_login()
        points = await async_points(self.client)
        self._several = len(points) > 1
        # In the background a single rejection may be the portal's hiccup: ask the user only when
        # the credentials are rejected twice in a row.
        self.client.auth_failures_before_reauth = 2
        for point in points:
            await self.add_point(point).async_config_entry_first_refresh()
        self.start_watching()

    @property
    def points(self) -> list[CarunaPointCoordinator]:
        """The coordinators of the metering points on the account now."""
        return [c for c in self.coordinators if isinstance(c, CarunaPointCoordinator)]

    def add_point(self, point: MeteringPoint) -> CarunaPointCoordinator:
        """A coordinator for ``point`` (its first refresh is the caller's)."""
        price = self.entry.options.get(CONF_TRANSFER_PRICE)
        coordinator = CarunaPointCoordinator(
            self.hass,
            self.entry,
            self.client,
            point,
            index=self._next_index,
            history=PointHistory(
                self.hass, self.key, point, point_label(point, several=self._several)
            ),
            transfer_price=float(price) if price is not None else None,
            progress=self.progress,
        )
        self._next_index += 1
        self.coordinators.append(coordinator)
        return coordinator

    def _point_sensors(self, coordinator: CarunaPointCoordinator) -> list[MeterHubSensor[Any]]:
        device = point_device(self.key, coordinator.point, several=self._several)
        return [MeterHubSensor(coordinator, device, description) for description in SENSORS]

    def sensors(self) -> Iterable[MeterHubSensor[Any]]:
        """Yesterday's consumption and cost, last data and fuse size per metering point."""
        for coordinator in self.points:
            yield from self._point_sensors(coordinator)

    def start_watching(self) -> None:
        """List the metering points again every ``POINTS_INTERVAL``."""
        self._unsub_watch = async_track_time_interval(
            self.hass, self._async_watch, POINTS_INTERVAL, name="Caruna metering points"
        )

    async def _async_watch(self, _now: datetime) -> None:
        try:
            await self.async_sync_points()
        except MeterHubApiError as err:
            # The point coordinators report the portal's state; the next listing tries again.
            LOGGER.debug("Listing the Caruna metering points failed: %s", type(err).__name__)

    async def async_sync_points(self) -> None:
        """Add metering points that appeared on the account; remove the ones that left it."""
        found, complete = await async_listing(self.client)
        self.point_listings += 1
        known = {c.point.identifier: c for c in self.points}
        if not found and known:
            # An empty answer for an account that had points is more likely a portal hiccup than
            # every meter gone at once: keep them until a listing names others.
            LOGGER.debug("Caruna listed no metering points; keeping the known ones")
            return
        current = {point.identifier for point in found}
        # A partial listing (a represented customer skipped) adds but never removes.
        self._several = len(found) > 1
        gone = [c for key, c in known.items() if key not in current] if complete else []
        for coordinator in gone:
            await coordinator.async_shutdown()
            self.coordinators.remove(coordinator)
            await self.progress.async_forget(coordinator.point.identifier)
        added = [self.add_point(point) for point in found if point.identifier not in known]
        self._remove_stale_devices()
        for coordinator in added:
            await coordinator.async_refresh()
            self.add_sensors(self._point_sensors(coordinator))

    def _remove_stale_devices(self) -> None:
        """Devices of this entry whose metering point is gone; their entities go with them."""
        async_remove_stale_devices(self.hass, self.entry, self.provided_device_ids())

    def provided_device_ids(self) -> set[str]:
        """The devices of the metering points on the account now."""
        return {point_device_id(self.key, c.point) for c in self.points}

    def legacy_names(self) -> LegacyNames | None:
        """The address-bearing names older versions gave the points' devices (issue 23)."""
        devices = {
            point_device_id(self.key, c.point): LegacyName(name=name, private=c.point.address or "")
            for c in self.points
            if (name := legacy_point_label(c.point)) is not None
        }
        return LegacyNames(what="address", devices=devices) if devices else None

    def diagnostics(self) -> dict[str, Any]:
        """Login and request counters, and each metering point's progress."""
        return {
            "logins": self.client.logins,
            "login_requests": self.client.login_requests,
            "api_requests": self.client.api_requests,
            "point_listings": self.point_listings,
            "metering_points": [coordinator.diagnostics() for coordinator in self.points],
        }

    async def async_shutdown(self) -> None:
        """Stop the watch and the coordinators, keep the progress, let go of the login session."""
        if self._unsub_watch is not None:
            self._unsub_watch()
            self._unsub_watch = None
        await super().async_shutdown()
        await self.progress.async_flush()
        self.login_session.cookie_jar.clear()
        self.login_session.detach()
