"""The DSMR provider: a smart meter's P1 port on a USB cable or behind a network P1 bridge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import probatio as vol
import serialx

from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
)

from ...api.dsmr import (
    VERSIONS,
    DsmrWrongVersionError,
    TelegramDecoder,
    async_read_first_telegram,
)
from ...const import LOGGER
from ..base import FormError, Provider, Validated, number_box
from . import const
from .const import (
    CONF_DSMR_VERSION,
    CONF_FORWARD_TO,
    CONF_PORT,
    CONF_TIME_BETWEEN_UPDATE,
    DEFAULT_TIME_BETWEEN_UPDATE,
    VERSION_LABELS,
)
from .forwarding import parse_targets
from .runtime import DsmrConfigEntry, DsmrRuntime

BY_ID = "/dev/serial/by-id/"


def _list_ports() -> list[str]:
    """The serial ports the system has, stable ``/dev/serial/by-id`` names first (blocking)."""
    try:
        ports = [port.device for port in serialx.list_serial_ports()]
    except OSError, serialx.SerialException:
        LOGGER.debug("Listing serial ports failed", exc_info=True)
        return []
    return sorted(set(ports), key=lambda path: (not path.startswith(BY_ID), path))


class DsmrProvider(Provider[DsmrRuntime]):
    """A P1 port: serial device or ``socket://host:port``."""

    key: ClassVar[str] = "dsmr"

    async def async_schema(self, hass: HomeAssistant, defaults: Mapping[str, Any]) -> vol.Schema:
        """Port (a list of the ports Home Assistant sees, or typed) and DSMR version."""
        ports = await hass.async_add_executor_job(_list_ports)
        current = defaults.get(CONF_PORT)
        if current and current not in ports:
            ports.insert(0, current)
        return vol.Schema(
            {
                vol.Required(CONF_PORT): SelectSelector(
                    SelectSelectorConfig(
                        options=ports,
                        custom_value=True,
                        mode=SelectSelectorMode.DROPDOWN,
                        sort=False,
                    )
                ),
                vol.Required(
                    CONF_DSMR_VERSION, default=defaults.get(CONF_DSMR_VERSION, "5")
                ): SelectSelector(
                    SelectSelectorConfig(
                        options=[
                            SelectOptionDict(value=version, label=VERSION_LABELS[version])
                            for version in VERSION_LABELS
                        ],
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
            }
        )

    async def async_validate(self, hass: HomeAssistant, data: Mapping[str, Any]) -> Validated:
        """Read one complete telegram; its equipment identifier becomes the unique id."""
        port = str(data[CONF_PORT]).strip()
        version = str(data[CONF_DSMR_VERSION])
        if not port:
            raise FormError(CONF_PORT, "cannot_connect")
        if version not in VERSIONS:
            raise FormError(CONF_DSMR_VERSION, "wrong_version")
        telegram = await async_read_first_telegram(port, version, const.VALIDATE_TIMEOUT)
        decoder = TelegramDecoder(version)
        try:
            parsed = decoder.decode(telegram)
        except Exception as err:  # the parser's errors are not a closed set
            raise DsmrWrongVersionError("the telegram does not parse as this version") from err
        equipment_id = decoder.equipment_id(parsed, telegram)
        if equipment_id is None:
            raise DsmrWrongVersionError("no equipment identifier for this version")
        return Validated(
            title=f"P1 meter ({port})",
            unique_id=equipment_id,
            data={CONF_PORT: port, CONF_DSMR_VERSION: version},
        )

    async def async_create_runtime(
        self, hass: HomeAssistant, entry: DsmrConfigEntry
    ) -> DsmrRuntime:
        """The reader and its runtime; reading starts when the runtime starts."""
        return DsmrRuntime(hass, entry, key=self.key)

    def options_schema(self, options: Mapping[str, Any]) -> vol.Schema | None:
        """Minimum seconds between state updates, and DSMR-reader servers to forward to."""
        return vol.Schema(
            {
                vol.Optional(
                    CONF_TIME_BETWEEN_UPDATE,
                    default=options.get(CONF_TIME_BETWEEN_UPDATE, DEFAULT_TIME_BETWEEN_UPDATE),
                ): number_box(0, 3600, "s"),
                vol.Optional(CONF_FORWARD_TO, default=options.get(CONF_FORWARD_TO, "")): (
                    TextSelector(TextSelectorConfig(multiline=True))
                ),
            }
        )

    def validate_options(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """Whole seconds; each forwarding line a URL and an API key."""
        text = str(options.get(CONF_FORWARD_TO) or "")
        try:
            parse_targets(text)
        except ValueError as err:
            raise FormError(CONF_FORWARD_TO, "invalid_forward_target") from err
        return {
            CONF_TIME_BETWEEN_UPDATE: int(
                options.get(CONF_TIME_BETWEEN_UPDATE, DEFAULT_TIME_BETWEEN_UPDATE)
            ),
            CONF_FORWARD_TO: text.strip(),
        }
