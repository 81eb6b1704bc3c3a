"""The DSMR provider: a smart meter's P1 port on a USB cable or behind a network P1 bridge."""

from __future__ import annotations

from collections.abc import Mapping
import hashlib
from typing import Any, ClassVar, Final

from dsmr_parser.objects import Telegram
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
    TextSelectorType,
)

from ...api.dsmr import (
    ENCRYPTED,
    PROFILES,
    VERSIONS,
    DsmrKeyRequiredError,
    DsmrWrongVersionError,
    MeterKeys,
    TelegramDecoder,
    async_detect,
    async_read_first_telegram,
    detect_encrypted_version,
    detect_version,
    valid_key,
)
from ...const import LOGGER
from ..base import FormError, Probed, Provider, Validated, number_box
from . import const
from .const import (
    CONF_AUTHENTICATION_KEY,
    CONF_DSMR_VERSION,
    CONF_ENCRYPTION_KEY,
    CONF_FORWARD_TO,
    CONF_PORT,
    CONF_TIME_BETWEEN_UPDATE,
    DEFAULT_TIME_BETWEEN_UPDATE,
    VERSION_LABELS,
)
from .forwarding import parse_targets
from .runtime import DsmrConfigEntry, DsmrRuntime, keys_of

#: Registers a meter without an equipment identifier is told apart by, with its port and header.
_FIRST_READINGS: Final = (
    "ELECTRICITY_IMPORTED_TOTAL",
    "ELECTRICITY_USED_TARIFF_1",
    "ELECTRICITY_EXPORTED_TOTAL",
)


def meter_key(port: str, telegram: str, parsed: Telegram) -> str:
    """A stable unique id for a meter that sends no equipment identifier (5S, Sagemcom T210-D-R).

    A hash of the port, the header line and the first energy readings seen at setup: the header
    alone names only the model (two such meters would collide), the port tells them apart, and the
    readings tell a replaced meter on the same port from the old one. Taken once, at setup, and
    stored as the entry's unique id, so it never changes afterwards.
    """
    header = telegram.split("\r\n", 1)[0]
    readings = [str(getattr(getattr(parsed, name, None), "value", "")) for name in _FIRST_READINGS]
    digest = hashlib.sha256("|".join([port, header, *readings]).encode()).hexdigest()
    return f"p1_{digest[:16]}"


BY_ID = "/dev/serial/by-id/"


def _list_ports() -> list[str]:
    """The serial ports the system has, stable ``/dev/serial/by-id`` names first (blocking)."""
    try:
        ports = [port.device for port in serialx.list_serial_ports()]
    except OSError, serialx.SerialException:
        LOGGER.debug("Listing serial ports failed", exc_info=True)
        return []
    return sorted(set(ports), key=lambda path: (not path.startswith(BY_ID), path))


async def async_serial_ports(hass: HomeAssistant) -> list[str]:
    """The serial ports the system has, listed in the executor (for forms and fix flows)."""
    return await hass.async_add_executor_job(_list_ports)


SMARTY_AUTH_KEY: Final = "00112233445566778899AABBCCDDEEFF"
#: Encrypted frames do not say which encrypted variant they are before they are decrypted; the
#: Luxembourg one is preselected (the more common), the form's text names both.
_ENCRYPTED_GUESS: Final = "MSn"
#: Marks the form's defaults when the port sent encrypted frames (never stored in an entry).
_ENCRYPTED_FRAMES: Final = "encrypted_frames"


def version_label(detected: str | None) -> str:
    """A detected version named as the version list names it (a dash when nothing was recognised)."""
    if detected == ENCRYPTED:
        return f"{VERSION_LABELS['MSn']} / {VERSION_LABELS['SAGEMCOM_T210_D_R']}"
    return VERSION_LABELS.get(detected or "", "-")


def _key_fields() -> dict[Any, Any]:
    """The decryption key (required) and the authentication key (only where the meter needs one)."""
    secret = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
    return {
        # Optional to the form, so that another version can still be chosen; validation asks for
        # it (key_required) when the chosen version is an encrypted one.
        vol.Optional(CONF_ENCRYPTION_KEY): secret,
        vol.Optional(CONF_AUTHENTICATION_KEY): secret,
    }


def _keys_from_form(data: Mapping[str, Any]) -> MeterKeys:
    """The keys typed into the form (spaces and case forgiven), or a field error."""
    encryption = "".join(str(data.get(CONF_ENCRYPTION_KEY) or "").split()).upper()
    authentication = "".join(str(data.get(CONF_AUTHENTICATION_KEY) or "").split()).upper()
    if not encryption:
        raise FormError(CONF_ENCRYPTION_KEY, "key_required")
    if not valid_key(encryption):
        raise FormError(CONF_ENCRYPTION_KEY, "invalid_key")
    if authentication and not valid_key(authentication):
        raise FormError(CONF_AUTHENTICATION_KEY, "invalid_key")
    return keys_of({CONF_ENCRYPTION_KEY: encryption, CONF_AUTHENTICATION_KEY: authentication})


class DsmrProvider(Provider[DsmrRuntime]):
    """A P1 port: serial device or ``socket://host:port``."""

    key: ClassVar[str] = "dsmr"
    secret_fields: ClassVar[tuple[str, ...]] = (CONF_ENCRYPTION_KEY, CONF_AUTHENTICATION_KEY)
    #: The form asks for the port first, listens to it, then offers the version list with the
    #: version the first telegram looks like preselected (and the key fields for an encrypted one).
    probe_fields: ClassVar[tuple[str, ...]] = (CONF_PORT,)

    async def async_schema(self, hass: HomeAssistant, defaults: Mapping[str, Any]) -> vol.Schema:
        """Port (a list of the ports Home Assistant sees, or typed) and DSMR version.

        The key fields appear when the port sent encrypted frames, or once an encrypted version is
        chosen (the form comes back asking for them), and in reauthentication, which shows only
        them.
        """
        version = defaults.get(CONF_DSMR_VERSION)
        encrypted = (version in PROFILES and PROFILES[version].encrypted) or bool(
            defaults.get(_ENCRYPTED_FRAMES)
        )
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
                **(_key_fields() if encrypted else {}),
            }
        )

    async def async_probe(self, hass: HomeAssistant, data: Mapping[str, Any]) -> Probed:
        """Listen to the port; preselect the version its first telegram looks like.

        Data that looks like no version still leads on (the user may know better; the version
        list then starts at DSMR 5 and validation says what it saw).
        """
        port = str(data.get(CONF_PORT) or "").strip()
        if not port:
            raise FormError(CONF_PORT, "cannot_connect")
        detected = await async_detect(port, const.VALIDATE_TIMEOUT)
        defaults: dict[str, Any] = {CONF_PORT: port}
        if detected == ENCRYPTED:
            # The key fields stay on the form whichever version is then chosen.
            defaults.update({CONF_DSMR_VERSION: _ENCRYPTED_GUESS, _ENCRYPTED_FRAMES: True})
        elif detected is not None:
            defaults[CONF_DSMR_VERSION] = detected
        return Probed(defaults=defaults, placeholders={"detected": version_label(detected)})

    async def async_validate(self, hass: HomeAssistant, data: Mapping[str, Any]) -> Validated:
        """Read one complete telegram; its equipment identifier becomes the unique id."""
        port = str(data[CONF_PORT]).strip()
        version = str(data[CONF_DSMR_VERSION])
        if not port:
            raise FormError(CONF_PORT, "cannot_connect")
        if version not in VERSIONS:
            raise DsmrWrongVersionError("not a version this integration knows")
        stored: dict[str, Any] = {CONF_PORT: port, CONF_DSMR_VERSION: version}
        keys: MeterKeys | None = None
        if PROFILES[version].encrypted:
            keys = _keys_from_form(data)
            stored[CONF_ENCRYPTION_KEY] = keys.encryption_key
            if keys.authentication_key:
                stored[CONF_AUTHENTICATION_KEY] = keys.authentication_key
        try:
            telegram = await async_read_first_telegram(port, version, const.VALIDATE_TIMEOUT, keys)
        except DsmrWrongVersionError as err:
            if err.detected == ENCRYPTED:
                raise DsmrKeyRequiredError("the meter encrypts its telegrams") from err
            # Name the version as the list does, so the user finds it there.
            if err.detected is not None:
                err.detected = version_label(err.detected)
            raise
        decoder = TelegramDecoder(version)
        looks_like = detect_encrypted_version if decoder.profile.encrypted else detect_version
        try:
            parsed = decoder.decode(telegram)
        except Exception as err:  # the parser's errors are not a closed set
            raise DsmrWrongVersionError(
                "the telegram does not parse as this version",
                version_label(looks_like(telegram)),
            ) from err
        if decoder.profile.identifier is None:
            unique_id: str | None = meter_key(port, telegram, parsed)
        else:
            unique_id = decoder.equipment_id(parsed, telegram)
        if unique_id is None:
            raise DsmrWrongVersionError(
                "no equipment identifier for this version", version_label(looks_like(telegram))
            )
        return Validated(title=f"P1 meter ({port})", unique_id=unique_id, data=stored)

    def description_placeholders(self) -> dict[str, str]:
        """The fixed authentication key of Luxembourg Smarty meters, quoted in the key's help."""
        return {"smarty_auth_key": SMARTY_AUTH_KEY}

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
