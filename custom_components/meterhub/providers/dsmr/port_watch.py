"""Is the P1 cable still there? A serial device that stays gone raises a fixable repair.

The reader reconnects on its own, with a back-off, whatever went wrong; this module only tells a
*vanished* device (the USB cable was unplugged, or moved to another USB port where the system gave
it a new name) apart from a port that is merely silent or busy, because only the first needs the
user. It looks at the device path itself (``Path.exists`` follows a ``/dev/serial/by-id`` link
to its device), in the executor, when the reader reports a failure; Home Assistant's ``usb``
helpers only know USB devices, and a P1 port can be a GPIO UART (``/dev/ttyAMA0``) as well.

A USB device re-enumerates in a few seconds, so the repair waits :data:`PORT_GRACE` and looks
again before it speaks; it is raised once, and removed as soon as a telegram arrives again, the
device is back, or the entry is changed (reload) or removed. A network bridge (``socket://``)
has no device to vanish: it stays unavailable and reconnecting, as before.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from ...const import LOGGER
from ...repairs import PORT_MISSING, entry_problems

if TYPE_CHECKING:
    from .runtime import DsmrConfigEntry

#: How long a serial device may be gone before the repair appears (USB re-enumeration: seconds).
PORT_GRACE: Final = timedelta(seconds=30)
#: Who reports the issue in the entry's problem record.
_SOURCE: Final = "p1 port"


def is_device_path(port: str) -> bool:
    """Whether ``port`` names a device (``/dev/...``), not a URL such as ``socket://host:port``."""
    return "://" not in port


def port_present(port: str) -> bool:
    """Whether the device exists; a by-id link whose device is gone counts as gone (blocking)."""
    return Path(port).exists()


class PortWatch:
    """Watches one entry's serial device while the entry is loaded."""

    def __init__(self, hass: HomeAssistant, entry: DsmrConfigEntry, port: str) -> None:
        """Watch ``port``; a URL is never watched."""
        self.hass = hass
        self.entry = entry
        self.port = port
        self.watching = is_device_path(port)
        #: Whether the repair is up (it is raised once, not on every reconnect attempt).
        self.raised = False
        self._checking = False
        self._look_again = False
        self._grace_timer: CALLBACK_TYPE | None = None
        #: How often the device was found back (or the watch stopped): tells a stale look.
        self._back_count = 0

    @callback
    def connection_failed(self) -> None:
        """The reader lost the port or could not open it: look whether the device is still there.

        One look at a time; a failure during a look asks for another one after it, so the last
        failure is always looked at (a device still closing can look present a moment longer).
        """
        if not self.watching:
            return
        if self._checking:
            self._look_again = True
            return
        self._checking = True
        self.entry.async_create_task(
            self.hass, self._async_look_after_failure(), "meterhub p1 port check"
        )

    async def _async_look_after_failure(self) -> None:
        try:
            while True:
                self._look_again = False
                present = await self.hass.async_add_executor_job(port_present, self.port)
                if not self._look_again or not self.watching:
                    break
        finally:
            self._checking = False
        if not self.watching:
            return
        if present:
            self.port_back()
            return
        if self._grace_timer is None and not self.raised:
            LOGGER.debug("The P1 port's device is gone; waiting %s before saying so", PORT_GRACE)
            self._grace_timer = async_call_later(
                self.hass, PORT_GRACE, HassJob(self._grace_over, cancel_on_shutdown=True)
            )

    @callback
    def _grace_over(self, _now: datetime) -> None:
        self._grace_timer = None
        self.entry.async_create_task(
            self.hass, self._async_raise_if_still_gone(), "meterhub p1 port repair"
        )

    async def _async_raise_if_still_gone(self) -> None:
        """Raise the repair if the device is still gone after the grace period."""
        if self.raised or not self.watching:
            return
        seen = self._back_count
        if await self.hass.async_add_executor_job(port_present, self.port):
            return  # back (re-enumerated): the reader reconnects on its own
        if self._back_count != seen:
            return  # a telegram or an unload came while we looked
        LOGGER.warning(
            "The P1 cable's device %s has disappeared; see Settings > Repairs", self.port
        )
        self.raised = True
        entry_problems(self.hass, self.entry.entry_id).report(
            self.hass, PORT_MISSING, _SOURCE, {"port": self.port}, is_fixable=True
        )

    @callback
    def port_back(self) -> None:
        """The device is there again (or a telegram arrived): no repair is needed."""
        self._cancel_timer()
        self._back_count += 1
        if self.raised:
            LOGGER.info("The P1 cable's device %s is back", self.port)
        self.raised = False
        entry_problems(self.hass, self.entry.entry_id).resolve(self.hass, PORT_MISSING, _SOURCE)

    @callback
    def stop(self) -> None:
        """The entry unloads (changed, reloaded, removed or Home Assistant stops): drop the repair.

        A changed entry may point somewhere else; if the device is still gone after the reload,
        the repair comes back after the grace period.
        """
        self.watching = False
        self.port_back()

    def _cancel_timer(self) -> None:
        if self._grace_timer is not None:
            self._grace_timer()
            self._grace_timer = None
