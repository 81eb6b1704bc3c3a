"""USB discovery of P1 cables: which port to preselect, and whether it is set up already.

Home Assistant's ``usb`` integration starts a flow for a USB device that matches the manifest's
``usb`` matchers. Most P1 cables are plain USB-serial adapters (FTDI FT232R ``0403:6001`` saying
"FT232R USB UART", Prolific ``067b:2303``, CH340 ``1a86:7523``) that no matcher can tell from any
other adapter, so the manifest matches only FTDI cables whose product string says they are a P1
cable ("P1 Converter Cable", "P1 CABLE"). Anything else is added by hand, as before.
"""

from __future__ import annotations

import os
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.helpers.service_info.usb import UsbServiceInfo

from ...const import CONF_PROVIDER, DOMAIN
from .const import CONF_PORT

BY_ID = Path("/dev/serial/by-id")


def discovery_id(info: UsbServiceInfo) -> str:
    """The discovered cable's id for its flow (so "Ignore" sticks); an entry takes the meter's."""
    return f"usb_{info.vid}_{info.pid}_{info.serial_number or '-'}".lower()


def stable_path(device: str) -> str:
    """The ``/dev/serial/by-id`` link of ``device``, which keeps its name when the cable moves.

    ``device`` itself when there is none (blocking: run it in the executor).
    """
    if device.startswith(f"{BY_ID}/") or not BY_ID.is_dir():
        return device
    real = os.path.realpath(device)
    for link in sorted(BY_ID.iterdir()):
        if os.path.realpath(link) == real:
            return str(link)
    return device


def _same_device(first: str, second: str) -> bool:
    return first == second or os.path.realpath(first) == os.path.realpath(second)


async def async_discovered_port(hass: HomeAssistant, info: UsbServiceInfo) -> str:
    """The path to preselect for a discovered cable: its by-id link if it has one."""
    return await hass.async_add_executor_job(stable_path, info.device)


async def async_port_in_use(hass: HomeAssistant, key: str, port: str) -> bool:
    """Whether an entry of provider ``key`` already reads ``port`` (under any of its names)."""
    ports = [
        str(entry.data.get(CONF_PORT))
        for entry in hass.config_entries.async_entries(DOMAIN, include_ignore=False)
        if entry.data.get(CONF_PROVIDER) == key and "://" not in str(entry.data.get(CONF_PORT))
    ]
    if not ports:
        return False

    def in_use() -> bool:
        return any(_same_device(port, other) for other in ports)

    return await hass.async_add_executor_job(in_use)
