"""Configuration keys and defaults of the DSMR provider (names as in Home Assistant's core ``dsmr``)."""

from __future__ import annotations

from typing import Final

CONF_PORT: Final = "port"
CONF_DSMR_VERSION: Final = "dsmr_version"
CONF_TIME_BETWEEN_UPDATE: Final = "time_between_update"
CONF_FORWARD_TO: Final = "forward_to"
CONF_ENCRYPTION_KEY: Final = "encryption_key"
CONF_AUTHENTICATION_KEY: Final = "authentication_key"

DEFAULT_TIME_BETWEEN_UPDATE: Final = 30
#: How long the config flow waits for a first telegram (DSMR 2.2/4 meters send one every 10 s).
VALIDATE_TIMEOUT: Final = 25.0

#: The labels name the version tokens dsmr-parser and Home Assistant core use; tokens such as "2.2"
#: or "MSn" cannot be translation keys, so the labels are written here, as core does.
VERSION_LABELS: Final = {
    "5": "DSMR 5",
    "5B": "DSMR 5B (Belgium, Fluvius)",
    "5L": "DSMR 5L (Luxembourg, unencrypted)",
    "MSn": "Luxembourg Smarty, encrypted (Creos)",
    "SAGEMCOM_T210_D_R": "Sagemcom T210-D-R, encrypted (Austria)",
    "5S": "DSMR 5S (Sweden)",
    "Q3D": "Q3D (Austria, EasyMeter)",
    "5EONHU": "DSMR 5 (E.ON Hungary)",
    "ISKRA_IE": "Iskra (Ireland)",
    "4": "DSMR 4",
    "2.2": "DSMR 2.2",
}
