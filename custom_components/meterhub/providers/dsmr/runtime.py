"""One P1 meter while its entry is loaded: the reader task, the throttle, sensors and statistics.

The hot path runs once per telegram (every second on DSMR 5) in the event loop and is kept cheap: the
reader has already checked the CRC; the telegram is queued for forwarding; the expensive parse runs
only when a state update is due (the "minimum time between updates" option) or an M-Bus reading
changed (so no gas or water reading is missed for the statistics). Sensors then write only what
changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
import logging
import re
import time
from typing import Any, Final

from homeassistant.components.sensor import SensorEntity
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

from ...api.dsmr import (
    PROFILES,
    DsmrConnectionError,
    DsmrInvalidKeyError,
    MeterKeys,
    P1Reader,
    TelegramDecoder,
    UnparsedLine,
    readable_identifier,
)
from ...const import LOGGER
from ...entity import meter_device
from ...statistics import VOLUME_M3, StatisticSeries
from ..base import ProviderConfigEntry, ProviderRuntime, device_id
from .const import (
    CONF_AUTHENTICATION_KEY,
    CONF_DSMR_VERSION,
    CONF_ENCRYPTION_KEY,
    CONF_PORT,
    CONF_TIME_BETWEEN_UPDATE,
    DEFAULT_TIME_BETWEEN_UPDATE,
)
from .coordinator import DsmrCoordinator
from .forwarding import Forwarder, forward_targets
from .history import MbusStatistics
from .meter_swap import async_raise_meter_replaced, async_resolve_meter_replaced
from .model import MbusReading, P1Snapshot, mbus_readings
from .port_watch import PortWatch
from .sensors import (
    ELECTRICITY_SENSORS,
    DsmrSensor,
    mbus_description,
    read_electricity,
    with_unit,
)

#: The M-Bus reading lines: when their text changes, a new gas/water reading has arrived.
_MBUS_LINES: Final = re.compile(r"^\d-\d:24\.[23]\.[013]\(.*$", re.MULTILINE)
#: The silent-line timeout: a telegram arrives every 1 s (DSMR 5) or 10 s (DSMR 2.2/4).
SILENT_TIMEOUT: Final = 60.0

_STATISTIC_UNITS: Final = {"gas", "water"}

type DsmrConfigEntry = ProviderConfigEntry[DsmrRuntime]


def keys_of(data: Mapping[str, Any]) -> MeterKeys:
    """An encrypted meter's keys as the entry (or the form) holds them."""
    return MeterKeys(
        encryption_key=str(data.get(CONF_ENCRYPTION_KEY) or ""),
        authentication_key=str(data.get(CONF_AUTHENTICATION_KEY) or "") or None,
    )


class DsmrRuntime(ProviderRuntime):
    """The reader task and everything fed from it."""

    def __init__(self, hass: HomeAssistant, entry: DsmrConfigEntry, *, key: str) -> None:
        """Wire reader, coordinator, sensors and forwarders; :meth:`async_start` starts reading."""
        self.hass = hass
        self.entry = entry
        self.key = key
        self.version: str = entry.data[CONF_DSMR_VERSION]
        self.meter_id: str = entry.unique_id or entry.entry_id
        self.coordinator = DsmrCoordinator(hass, entry)
        super().__init__([self.coordinator])
        self.decoder = TelegramDecoder(self.version)
        self.min_interval = float(
            entry.options.get(CONF_TIME_BETWEEN_UPDATE, DEFAULT_TIME_BETWEEN_UPDATE)
        )
        self.reader = P1Reader(
            entry.data[CONF_PORT],
            self.version,
            on_telegram=self._on_telegram,
            on_connection=self._on_connection,
            silent_timeout=SILENT_TIMEOUT,
            keys=keys_of(entry.data) if PROFILES[self.version].encrypted else None,
            on_invalid_key=self._on_invalid_key,
        )
        self.port_watch = PortWatch(hass, entry, entry.data[CONF_PORT])
        self.forwarders = [Forwarder(hass, url, key) for url, key in forward_targets(entry.options)]
        self._last_shown = -1e12
        self._update_due = True
        self._mbus_text: list[str] = []
        self._entities: dict[str, DsmrSensor] = {}
        self._statistics: dict[int, MbusStatistics] = {}
        #: The meter key last seen on each M-Bus channel (to tell a swapped meter).
        self._mbus_meters: dict[int, str] = {}
        self._statistic_tasks: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._stop_listener: Any = None
        self.parse_errors = 0
        self.unparsed_lines = 0
        self._unparsed_registers: set[str] = set()
        self.shown = 0
        self._unknown_units: set[tuple[str, str | None]] = set()
        self._electricity_device_id: str | None = None

    # --- life cycle ------------------------------------------------------------------------

    async def async_start(self) -> None:
        """Start reading, and close the port when Home Assistant stops.

        Sensors appear with the first telegram.
        """
        self._task = self.entry.async_create_background_task(
            self.hass, self.reader.run(), "meterhub dsmr reader"
        )
        for forwarder in self.forwarders:
            forwarder.start(self.entry)
        self._stop_listener = self.hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_STOP, self._on_stop
        )

    @callback
    def _on_stop(self, _event: Event) -> None:
        self._stop_listener = None
        if self._task is not None:
            self._task.cancel()
        self.reader.close()
        self._cancel_statistics()

    def _cancel_statistics(self) -> None:
        """Stop pending imports (the recorder is going away, or the entry is)."""
        for task in self._statistic_tasks:
            task.cancel()

    async def async_shutdown(self) -> None:
        """Stop reading and close the port (unload)."""
        if self._stop_listener is not None:
            self._stop_listener()
            self._stop_listener = None
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.reader.close()
        self.port_watch.stop()
        # Let imports already under way finish: cancelling the task would not stop the recorder
        # query it waits for, and each import is small and idempotent.
        await asyncio.gather(*self._statistic_tasks, return_exceptions=True)
        for forwarder in self.forwarders:
            await forwarder.async_stop()
        await super().async_shutdown()

    # --- the hot path ----------------------------------------------------------------------

    @callback
    def _on_connection(self, connected: bool) -> None:
        if connected:
            self._update_due = True  # show the first telegram at once
            self.port_watch.port_back()
            return
        self.port_watch.connection_failed()
        if self.coordinator.data is not None:
            self.coordinator.async_set_update_error(
                DsmrConnectionError("the P1 connection is lost; reconnecting")
            )

    @callback
    def _on_invalid_key(self) -> None:
        """The meter's frames no longer decrypt (a new key at the grid operator): ask for it."""
        LOGGER.warning("The P1 meter's telegrams cannot be decrypted with the saved keys")
        self.coordinator.async_set_update_error(
            DsmrInvalidKeyError("the telegrams do not decrypt with the saved keys")
        )
        self.entry.async_start_reauth(self.hass)

    @callback
    def _unparsed_line(self, unparsed: UnparsedLine) -> None:
        """Count a line that did not parse; say so once per register, then only at debug level."""
        self.unparsed_lines += 1
        first = unparsed.obis not in self._unparsed_registers
        self._unparsed_registers.add(unparsed.obis)
        LOGGER.log(
            logging.WARNING if first else logging.DEBUG,
            "In a telegram from the P1 meter, %s (counted in the diagnostics)",
            unparsed,
        )

    @callback
    def _unknown_unit(self, key: str, unit: str | None) -> None:
        """Log a unit no sensor can show, once per sensor and unit."""
        if (key, unit) in self._unknown_units:
            return
        self._unknown_units.add((key, unit))
        LOGGER.warning(
            "The meter gives %s in an unknown unit (%s); the sensor stays unknown", key, unit
        )

    @callback
    def _on_telegram(self, telegram: str) -> None:
        for forwarder in self.forwarders:
            forwarder.enqueue(telegram)
        now = time.monotonic()
        mbus_text = _MBUS_LINES.findall(telegram)
        mbus_changed = mbus_text != self._mbus_text
        if not mbus_changed and not self._update_due and now - self._last_shown < self.min_interval:
            return
        self._mbus_text = mbus_text
        self._update_due = False
        self._last_shown = now
        self._show(telegram, book_mbus=mbus_changed)

    @callback
    def _show(self, telegram: str, *, book_mbus: bool) -> None:
        try:
            parsed = self.decoder.decode(telegram)
        except Exception as err:  # the parser's errors are not a closed set
            self.parse_errors += 1
            # The type only: the parser's messages and tracebacks may quote the telegram.
            LOGGER.debug("A telegram could not be parsed (%s)", type(err).__name__)
            return
        for unparsed in self.decoder.unparsed:
            self._unparsed_line(unparsed)
        electricity = read_electricity(parsed, self.version, self._unknown_unit)
        snapshot = P1Snapshot(
            values=electricity.values,
            mbus=mbus_readings(parsed),
            units=electricity.units,
            attributes=electricity.attributes,
        )
        self.shown += 1
        # Data first: new entities write their state as soon as they are added.
        self.coordinator.async_set_updated_data(snapshot)
        self._add_new_entities(snapshot)
        if book_mbus:
            self._book_mbus(snapshot)

    # --- sensors ---------------------------------------------------------------------------

    def sensors(self) -> Iterable[SensorEntity]:
        """The sensors known when the platform is set up; later ones are added as they appear."""
        return list(self._entities.values())

    def _electricity_device(self) -> DeviceInfo:
        return meter_device(
            device_id(self.key, self.meter_id),
            name="Electricity meter",
            model=f"DSMR {self.version}",
            serial_number=readable_identifier(self.meter_id),
        )

    def _electricity_registry_id(self) -> str:
        """The electricity meter's device registry id, registering the device if need be.

        M-Bus meters hang under it by ``via_device_id`` (the registry id): the identifier tuple
        ``via_device`` is deprecated in Home Assistant 2026.10 and 2026.11 alike.
        """
        if self._electricity_device_id is None:
            info = self._electricity_device()
            device = dr.async_get(self.hass).async_get_or_create(
                config_entry_id=self.entry.entry_id,
                identifiers=info["identifiers"],
                name=info.get("name"),
                model=info.get("model"),
                serial_number=info.get("serial_number"),
            )
            self._electricity_device_id = device.id
        return self._electricity_device_id

    def _add_new_entities(self, snapshot: P1Snapshot) -> None:
        new: list[DsmrSensor] = []
        if any(key not in self._entities for key in snapshot.values):
            device = self._electricity_device()
            for description in ELECTRICITY_SENSORS:
                key = description.key
                if key in snapshot.values and key not in self._entities:
                    entity = DsmrSensor(
                        self.coordinator, device, with_unit(description, snapshot.units.get(key))
                    )
                    self._entities[key] = entity
                    new.append(entity)
        for reading in snapshot.mbus.values():
            meter = self._mbus_meter(reading)
            # Keyed by the meter, not the channel: a meter swapped on the same channel (a new
            # equipment identifier) is a new device with its own sensor at once.
            slot = f"mbus_{meter}"
            if slot in self._entities or reading.value is None:
                continue
            self._note_mbus_meter(reading, meter)
            device = meter_device(
                device_id(self.key, meter),
                name=f"{reading.kind.capitalize()} meter",
                serial_number=readable_identifier(reading.identifier)
                if reading.identifier
                else None,
            )
            device["via_device_id"] = self._electricity_registry_id()
            entity = DsmrSensor(self.coordinator, device, mbus_description(reading))
            self._entities[slot] = entity
            new.append(entity)
        if new and self._add_sensors is not None:
            self.add_sensors(new)

    def _mbus_meter(self, reading: MbusReading) -> str:
        """The meter key of an M-Bus meter: its equipment identifier, else entry and channel."""
        return reading.identifier or f"{self.meter_id}_mbus{reading.channel}"

    def _mbus_device_id(self, reading: MbusReading) -> str:
        return device_id(self.key, self._mbus_meter(reading))

    @callback
    def _note_mbus_meter(self, reading: MbusReading, meter: str) -> None:
        """Remember which meter sits on the channel; a different one there means it was swapped.

        The grid operator replaced the meter: the old one's device, sensor and statistics stay
        as they are (the device is stale and the user may delete it), the new one is counted in
        its own series. The energy dashboard cannot be moved over for the user, so a gas meter
        swap raises ``meter_replaced``, which says to add the new meter's statistic there.
        """
        before = self._mbus_meters.get(reading.channel)
        self._mbus_meters[reading.channel] = meter
        if before is None or before == meter:
            return
        LOGGER.info("A new meter is on M-Bus channel %s; it gets its own device", reading.channel)
        if reading.kind == "gas":
            async_raise_meter_replaced(
                self.hass, self.entry.entry_id, reading.channel, device_id(self.key, before)
            )

    def provided_device_ids(self) -> set[str]:
        """The electricity meter and the M-Bus meters of the latest telegram.

        An M-Bus meter missing from one telegram is not removed by itself (a gas meter's radio
        link drops now and then); once it is gone for good the user may delete its device.
        """
        ids = {device_id(self.key, self.meter_id)}
        if (snapshot := self.coordinator.data) is not None:
            ids |= {self._mbus_device_id(reading) for reading in snapshot.mbus.values()}
        return ids

    @callback
    def forget_device(self, identifier: str) -> None:
        """An M-Bus meter the user deleted gets its sensor again should its channel come back."""
        for slot, entity in list(self._entities.items()):
            if (
                slot.startswith("mbus_")
                and entity.unique_id
                and entity.unique_id.startswith(f"{identifier}_")
            ):
                del self._entities[slot]
        async_resolve_meter_replaced(self.hass, self.entry.entry_id, identifier)

    # --- statistics ------------------------------------------------------------------------

    def _book_mbus(self, snapshot: P1Snapshot) -> None:
        for reading in snapshot.mbus.values():
            if reading.kind not in _STATISTIC_UNITS or reading.value is None:
                continue
            if reading.taken is None or reading.unit != VOLUME_M3:
                continue
            statistics = self._statistics.get(reading.channel)
            if statistics is None or statistics.series.meter != self._mbus_meter(reading):
                # A new meter on the channel (or the first): its own series. The old series
                # keeps its history; the new register is never compared with the old one.
                statistics = self._statistics[reading.channel] = MbusStatistics(
                    self.hass, self._series(reading)
                )
            task = self.entry.async_create_background_task(
                self.hass,
                statistics.async_add(reading.taken, reading.value),
                "meterhub dsmr statistics",
            )
            self._statistic_tasks.add(task)
            task.add_done_callback(self._statistic_tasks.discard)

    def _series(self, reading: MbusReading) -> StatisticSeries:
        return StatisticSeries(
            provider=self.key,
            meter=self._mbus_meter(reading),
            quantity=reading.kind,
            name=f"{reading.kind.capitalize()} (P1, hour of reading)",
            unit=VOLUME_M3,
        )

    # --- diagnostics -----------------------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """Reader counters, parse and display figures, statistics and forwarding counters."""
        return {
            "version": self.version,
            "connected": self.reader.connected,
            "reader": self.reader.stats.as_dict(),
            "parse_errors": self.parse_errors,
            "unparsed_lines": self.unparsed_lines,
            "telegrams_shown": self.shown,
            "min_seconds_between_updates": self.min_interval,
            "mbus_channels": {
                str(channel): {"imports": stats.imports, "ignored": stats.ignored}
                for channel, stats in self._statistics.items()
            },
            "forwarding": [forwarder.diagnostics() for forwarder in self.forwarders],
        }
