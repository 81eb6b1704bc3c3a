"""USB discovery of P1 cables: only cables that say they are one, and the port chosen for the user.

The manifest's matchers are checked with Home Assistant's own matching function against what real
cables report (FTDI "P1 Converter Cable" / "P1 CABLE", and the generic adapters most P1 cables
are, which must not be matched). The flow is then started as the ``usb`` integration starts it.
"""

from __future__ import annotations

from collections.abc import Iterator
import importlib
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import Any

import pytest

from custom_components.meterhub.const import DOMAIN
from homeassistant.config_entries import SOURCE_USB
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.generated.usb import USB
from homeassistant.helpers.service_info.usb import UsbServiceInfo
from homeassistant.loader import async_get_usb

from . import telegrams
from .helpers import add_meter
from .standin import PtyMeter, Sender

HA_USB = "homeassistant.components.usb"


@pytest.fixture
def usb_utils() -> Iterator[ModuleType]:
    """Home Assistant's ``usb.utils`` (the matching function), without the ``usb`` package's
    ``__init__``: that needs aiousbwatcher, which this test environment does not install."""
    package_dir = importlib.util.find_spec("homeassistant.components").submodule_search_locations
    spec = importlib.machinery.ModuleSpec(HA_USB, None, is_package=True)
    package = importlib.util.module_from_spec(spec)
    package.__path__ = [f"{next(iter(package_dir))}/usb"]
    saved = {name: module for name, module in sys.modules.items() if name.startswith(HA_USB)}
    for name in saved:
        del sys.modules[name]
    sys.modules[HA_USB] = package
    try:
        yield importlib.import_module(f"{HA_USB}.utils")
    finally:
        for name in [name for name in sys.modules if name.startswith(HA_USB)]:
            del sys.modules[name]
        sys.modules.update(saved)


def ftdi(description: str, *, vid: str = "0403", pid: str = "6001") -> dict[str, Any]:
    return {
        "device": "/dev/ttyUSB0",
        "vid": vid,
        "pid": pid,
        "serial_number": "P1XZ0001",
        "manufacturer": "FTDI",
        "description": description,
    }


async def test_matchers_take_p1_cables_and_leave_other_adapters(
    hass: HomeAssistant, usb_utils: ModuleType
) -> None:
    ours = [matcher for matcher in await async_get_usb(hass) if matcher["domain"] == DOMAIN]
    assert ours

    def matches(**device: Any) -> bool:
        usb_device = usb_utils.USBDevice(**device)
        return any(usb_utils.usb_device_matches_matcher(usb_device, m) for m in ours)

    assert matches(**ftdi("P1 Converter Cable"))  # smartmeterdashboard.nl's cable
    assert matches(**ftdi("P1 CABLE"))
    # What most P1 cables report, like every other USB-serial adapter: never offered.
    assert not matches(**ftdi("FT232R USB UART"))
    assert not matches(**ftdi("P1 Converter Cable", vid="067B", pid="2303"))  # not FTDI
    assert not matches(**ftdi("USB Serial", vid="1A86", pid="7523"))  # CH340
    assert not matches(**ftdi("USB-Serial Controller", vid="067B", pid="2303"))  # Prolific
    assert not matches(**ftdi("TTL232R-3V3"))

    # Home Assistant offers only the most specific matchers for a device: for a P1 cable ours
    # must be at least as specific as any core integration's that also matches it.
    cable = usb_utils.USBDevice(**ftdi("P1 Converter Cable"))
    core = [m for m in USB if usb_utils.usb_device_matches_matcher(cable, m)]
    assert all(len(m) <= len(ours[0]) for m in core), core


def discovered(path: str) -> UsbServiceInfo:
    return UsbServiceInfo(**ftdi("P1 Converter Cable") | {"device": path})


async def test_discovered_cable_opens_the_p1_form_with_its_port(
    hass: HomeAssistant, pty_meter: PtyMeter
) -> None:
    sender = Sender(pty_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USB}, data=discovered(pty_meter.path)
        )
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "dsmr"
        suggested = {
            str(key): (key.description or {}).get("suggested_value")
            for key in result["data_schema"].schema
        }
        assert suggested["port"] == pty_meter.path
        (progress,) = hass.config_entries.flow.async_progress()
        assert progress["context"]["title_placeholders"] == {"name": "P1 Converter Cable"}

        # The user keeps the port; the form reads a telegram and preselects its version.
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"port": pty_meter.path}
        )
        assert result["step_id"] == "dsmr_details"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"dsmr_version": "5"}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        entry = result["result"]
        assert entry.unique_id == telegrams.V5_ID  # the meter's, not the cable's
        assert entry.data["port"] == pty_meter.path
    finally:
        await sender.stop()


async def test_cable_already_read_by_an_entry_is_not_offered(
    hass: HomeAssistant, pty_meter: PtyMeter
) -> None:
    sender = Sender(pty_meter.write, telegrams.v5(), 0.1)
    sender.start()
    try:
        await add_meter(hass, pty_meter.path, "5")
        # The same device under its other name (the link's target), as a rescan reports it.
        device = str(pty_meter.link.resolve())
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USB}, data=discovered(device)
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "already_configured"
    finally:
        await sender.stop()


async def test_ignored_cable_stays_ignored(hass: HomeAssistant, pty_meter: PtyMeter) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=discovered(pty_meter.path)
    )
    assert result["type"] is FlowResultType.FORM
    (progress,) = hass.config_entries.flow.async_progress()
    unique_id = progress["context"]["unique_id"]
    assert unique_id == "usb_0403_6001_p1xz0001"
    await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": "ignore"},
        data={"unique_id": unique_id, "title": "P1 Converter Cable"},
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=discovered(pty_meter.path)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
