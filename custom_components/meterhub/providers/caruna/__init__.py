"""Caruna Plus (Finland): hourly consumption and network fees of every metering point of a login.

The login belongs to a person who may see several customer numbers (their own and those they
represent); one config entry covers all of them, identified by the first own customer number.
The metering points are listed again every few hours: a new one gets its device, sensors and
backfill without a reload; one that left the account loses its device (its statistics stay).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final

import aiohttp
import probatio as vol

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import (
    async_create_clientsession,
    async_get_clientsession,
)
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ...api.caruna import (
    PLUS_URL,
    CarunaClient,
    CarunaResponseError,
    MeteringPoint,
)
from ...api.errors import ApiAuthError, MeterHubApiError
from ...const import DOMAIN, LOGGER, PROVIDER_CARUNA
from ...entity import meter_device
from ...sensor import MeterHubSensor
from ..base import FormError, Provider, ProviderRuntime, Validated
from .coordinator import CarunaPointCoordinator
from .progress import BackfillProgress, async_remove_progress
from .sensor import SENSORS

CONF_TRANSFER_PRICE: Final = "transfer_price"
MAX_TRANSFER_PRICE: Final = 5.0
# How often the metering points are listed again (new ones added, vanished ones removed).
POINTS_INTERVAL: Final = timedelta(hours=6)


def _login_session(hass: HomeAssistant, *, auto_cleanup: bool) -> aiohttp.ClientSession:
    """A session of its own for the login, so the portal's cookies never reach the shared one.

    ``unsafe`` only lets the jar keep cookies of hosts addressed by IP (the local stand-in in
    tests); the jar belongs to this login alone and is cleared before every login.
    """
    return async_create_clientsession(
        hass, auto_cleanup=auto_cleanup, cookie_jar=aiohttp.CookieJar(unsafe=True)
    )


async def _async_points(client: CarunaClient) -> list[MeteringPoint]:
    """Every metering point of every customer number the login may read.

    A represented customer whose points cannot be read (a representation that has just ended) is
    skipped rather than failing the whole entry; the user's own customer numbers must work.
    """
    login = await client.async_ensure_login()
    points: list[MeteringPoint] = []
    seen: set[str] = set()
    for customer in login.customer_numbers:
        try:
            found = await client.async_metering_points(customer)
        except CarunaResponseError:
            if customer in login.own_customer_numbers:
                raise
            LOGGER.warning(
                "The metering points of a customer you represent could not be read; skipped"
            )
            continue
        for point in found:
            if point.identifier not in seen:
                seen.add(point.identifier)
                points.append(point)
    return points


def _label(point: MeteringPoint) -> str:
    return f"Caruna {point.address}" if point.address else "Caruna metering point"


def _device_key(point: MeteringPoint) -> str:
    """The device identifier and unique-id prefix (``caruna_<gsrn>``, as since the start)."""
    return f"caruna_{point.identifier}"


class CarunaRuntime(ProviderRuntime):
    """The client, its login session, one coordinator per metering point, and the point watch."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        client: CarunaClient,
        login_session: aiohttp.ClientSession,
        progress: BackfillProgress,
    ) -> None:
        """Keep what unload has to stop; coordinators are added by :meth:`add_point`."""
        super().__init__()
        self.hass = hass
        self.entry = entry
        self.client = client
        self.login_session = login_session
        self.progress = progress
        self._next_index = 1
        self._unsub_watch: CALLBACK_TYPE | None = None
        self.point_listings = 0

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
            label=_label(point),
            transfer_price=float(price) if price is not None else None,
            progress=self.progress,
        )
        self._next_index += 1
        self.coordinators.append(coordinator)
        return coordinator

    def _point_sensors(self, coordinator: CarunaPointCoordinator) -> list[MeterHubSensor[Any]]:
        point = coordinator.point
        key = _device_key(point)
        device = meter_device(
            key,
            name=_label(point),
            manufacturer="Caruna",
            model=point.product,
            serial_number=point.identifier,
        )
        return [MeterHubSensor(coordinator, device, key, description) for description in SENSORS]

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
        found = await _async_points(self.client)
        self.point_listings += 1
        known = {c.point.identifier: c for c in self.points}
        if not found and known:
            # An empty answer for an account that had points is more likely a portal hiccup than
            # every meter gone at once: keep them until a listing names others.
            LOGGER.debug("Caruna listed no metering points; keeping the known ones")
            return
        current = {point.identifier for point in found}
        for coordinator in [c for key, c in known.items() if key not in current]:
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
        registry = dr.async_get(self.hass)
        keep = {_device_key(c.point) for c in self.points}
        for device in dr.async_entries_for_config_entry(registry, self.entry.entry_id):
            ours = {ident for domain, ident in device.identifiers if domain == DOMAIN}
            if ours and not ours & keep:
                registry.async_update_device(device.id, remove_config_entry_id=self.entry.entry_id)

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


class CarunaProvider(Provider):
    """Caruna Plus: log in like a browser, read metering points and hourly energy."""

    key: ClassVar[str] = PROVIDER_CARUNA
    secret_fields = (CONF_PASSWORD,)

    def __init__(self, plus_url: str = PLUS_URL) -> None:
        """``plus_url`` is the portal's address (tests point it at a local stand-in)."""
        self.plus_url = plus_url

    async def async_schema(self, hass: HomeAssistant, defaults: Mapping[str, Any]) -> vol.Schema:
        """Username and password of Caruna Plus."""
        return vol.Schema(
            {
                vol.Required(CONF_USERNAME): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.TEXT, autocomplete="username")
                ),
                vol.Required(CONF_PASSWORD): TextSelector(
                    TextSelectorConfig(
                        type=TextSelectorType.PASSWORD, autocomplete="current-password"
                    )
                ),
            }
        )

    def _client(
        self, hass: HomeAssistant, login_session: aiohttp.ClientSession, data: Mapping[str, Any]
    ) -> CarunaClient:
        return CarunaClient(
            async_get_clientsession(hass),
            login_session,
            str(data[CONF_USERNAME]).strip(),
            str(data[CONF_PASSWORD]),
            plus_url=self.plus_url,
            auth_failures_before_reauth=1,
        )

    async def async_validate(self, hass: HomeAssistant, data: Mapping[str, Any]) -> Validated:
        """Log in and list the metering points; the first own customer number is the unique id."""
        username = str(data.get(CONF_USERNAME, "")).strip()
        if not username:
            raise FormError(CONF_USERNAME, "invalid_auth")
        login_session = _login_session(hass, auto_cleanup=False)
        try:
            client = self._client(hass, login_session, data)
            login = await client.async_login()
            if not login.customer_numbers:
                raise CarunaResponseError("the login has no customer numbers")
            await _async_points(client)
        finally:
            login_session.cookie_jar.clear()
            login_session.detach()
        unique_id = (login.own_customer_numbers or login.customer_numbers)[0]
        return Validated(
            title=f"Caruna Plus ({username})",
            unique_id=unique_id,
            data={CONF_USERNAME: username, CONF_PASSWORD: data[CONF_PASSWORD]},
        )

    async def async_setup_entry(
        self, hass: HomeAssistant, entry: ConfigEntry[Any]
    ) -> CarunaRuntime:
        """Log in, find the metering points, read yesterday for each; backfill runs afterwards."""
        # Created inside the entry's setup, Home Assistant detaches it on unload as well.
        login_session = _login_session(hass, auto_cleanup=True)
        client = self._client(hass, login_session, entry.data)
        try:
            await client.async_ensure_login()
            points = await _async_points(client)
        except ApiAuthError as err:
            login_session.detach()
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except MeterHubApiError as err:
            login_session.detach()
            key = "login_changed" if err.error_key == "login_changed" else "cannot_connect"
            raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key=key) from err
        # In the background a single rejection may be the portal's hiccup: ask the user only when
        # the credentials are rejected twice in a row.
        client.auth_failures_before_reauth = 2
        runtime = CarunaRuntime(
            hass, entry, client, login_session, BackfillProgress(hass, entry.entry_id)
        )
        try:
            for point in points:
                await runtime.add_point(point).async_config_entry_first_refresh()
        except Exception:
            await runtime.async_shutdown()
            raise
        runtime.start_watching()
        return runtime

    async def async_remove_entry(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Forget the backfill progress; the imported statistics stay."""
        await async_remove_progress(hass, entry.entry_id)

    def options_schema(self, options: Mapping[str, Any]) -> vol.Schema | None:
        """An optional transfer price for data without fees."""
        return vol.Schema(
            {
                vol.Optional(CONF_TRANSFER_PRICE): NumberSelector(
                    NumberSelectorConfig(
                        min=0,
                        max=MAX_TRANSFER_PRICE,
                        step="any",
                        unit_of_measurement="EUR/kWh",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
            }
        )

    def validate_options(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """A price is a number of euros per kWh, from 0 to 5."""
        price = options.get(CONF_TRANSFER_PRICE)
        if price is None:
            return {}
        try:
            value = float(price)
        except TypeError, ValueError:
            raise FormError(CONF_TRANSFER_PRICE, "invalid_price") from None
        if not 0 <= value <= MAX_TRANSFER_PRICE:
            raise FormError(CONF_TRANSFER_PRICE, "invalid_price")
        return {CONF_TRANSFER_PRICE: value}
