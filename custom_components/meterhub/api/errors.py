"""The exception tree every provider client raises.

Clients subclass these so the Home Assistant side can map them without knowing the provider:
authentication problems start a reauth, connection problems make entities unavailable until the next
success, and ``error_key`` names the form error a config flow shows.

Every client has the same shape: a root ``XError(MeterHubApiError)`` and beneath it
``XConnectionError(XError, ApiConnectionError)``, ``XRateLimitError(XError, ApiRateLimitError)``,
``XAuthError(XError, ApiAuthError)`` and
``XResponseError(XError, ApiResponseError)``, so a caller can catch "anything from this client" or
"any connection problem" alike. The header and token helpers at the end are shared by the clients.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
import json
import math


class MeterHubApiError(Exception):
    """Base of every error a provider client raises."""

    #: The config-flow form error (a key under ``config.error`` in strings.json).
    error_key: str = "unknown"

    @property
    def placeholders(self) -> dict[str, str]:
        """Values for the placeholders in this error's translated text (none by default)."""
        return {}


class ApiConnectionError(MeterHubApiError):
    """The provider could not be reached, timed out or answered with a server error."""

    error_key = "cannot_connect"


class ApiRateLimitError(ApiConnectionError):
    """The provider asked us to slow down; ``retry_after`` is in seconds when it said so."""

    error_key = "rate_limited"

    def __init__(self, message: str = "rate limited", retry_after: float | None = None) -> None:
        """Keep the provider's wish of when to come back."""
        super().__init__(message)
        self.retry_after = retry_after


class ApiAuthError(MeterHubApiError):
    """The credentials were rejected or have expired: the user must enter new ones."""

    error_key = "invalid_auth"


class ApiResponseError(MeterHubApiError):
    """The provider answered with something we cannot read (HTML instead of JSON, a new shape)."""

    error_key = "unexpected_response"


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds, or None when absent or not a number.

    The HTTP-date form is rare enough from these services to be treated as not said; a negative
    number means "now" (0), and infinity or NaN are not said either.
    """
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def raise_for_overload(
    status: int,
    retry_after: str | None,
    *,
    service: str,
    rate_limited: type[ApiRateLimitError],
    unavailable: type[ApiConnectionError],
) -> None:
    """Raise the client's own error for the two answers every service gives the same meaning.

    429: slow down, for ``Retry-After`` seconds when the service says so. 5xx: the service is
    down or broken for now; try again later. Anything else is for the client to read.
    """
    if status == 429:
        raise rate_limited(f"{service} asks us to slow down", retry_after_seconds(retry_after))
    if status >= 500:
        raise unavailable(f"{service} answered HTTP {status}")


def jwt_expiry(token: str) -> datetime | None:
    """When a JWT says it expires (its ``exp`` claim), or None when it is not a readable JWT.

    The signature is not checked: the expiry only tells us when to renew or to warn the user in
    advance; the server decides whether the token is good.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except ValueError:  # also binascii.Error and UnicodeDecodeError
        return None
    if not isinstance(claims, dict):
        return None
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    try:
        return datetime.fromtimestamp(exp, UTC)
    except OverflowError, OSError, ValueError:
        return None
