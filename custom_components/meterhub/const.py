"""Constants shared by the integration's modules."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "meterhub"
LOGGER: Final = logging.getLogger(__package__)

CONF_PROVIDER: Final = "provider"

# Provider keys live on each Provider class (``Provider.key``).

# Keys whose values are secrets or identifiers: never logged, always redacted in diagnostics.
REDACT_KEYS: Final = frozenset(
    {
        "api_key",
        # A proxy's address may carry credentials (https://user:secret@proxy/...).
        "base_url",
        "token",
        "password",
        "username",
        "cookie",
        "auth_token",
        "access_token",
        "refresh_token",
        "account_number",
        "mpan",
        "mprn",
        "prm",
        "gsrn",
        "serial_number",
        "equipment_identifier",
        "equipment_id",
        "customer_number",
        "customer_numbers",
        "asset_id",
        "apartment_id",
        "meter_id",
        "forward_to",
        "encryption_key",
        "authentication_key",
        "unique_id",
        "meter",
        "url",
        "server_id",
        "title",
    }
)
