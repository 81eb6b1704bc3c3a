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


class ApiSchemaError(ApiResponseError):
    """The provider answered in a shape this version of Meter Hub does not understand.

    A service that changes its API is the usual cause (Enedis closed one in 2026, Caruna changed
    its login twice): Home Assistant shows a repair that says so, and nothing of the answer is
    imported. The error keeps what was expected and the *shape* of what came (field names and
    types, never values), so it can be logged, shown and attached to a bug report without carrying
    an identifier or a secret. Clients raise their own subclass (``XSchemaError(XError,
    ApiSchemaError)``), from one place per client that checks what it parses.
    """

    error_key = "api_changed"

    def __init__(
        self, what: str, expected: str, received: object, *, misfit: object = None
    ) -> None:
        """Describe the mismatch: ``what`` was read, what was ``expected``, what was ``received``.

        ``received`` is the whole answer (its shape is the sample diagnostics keep); ``misfit``,
        when given, is the part of it that did not fit, which the texts summarise instead.
        """
        self.what = what
        self.expected = expected
        self.received = shape_of(received)
        self.received_summary = summary_of(self.received if misfit is None else shape_of(misfit))
        super().__init__(f"{what}: expected {expected}, received {self.received_summary}")

    @property
    def placeholders(self) -> dict[str, str]:
        """The repair's and the form's details."""
        return {
            "what": self.what,
            "expected": self.expected,
            "received": self.received_summary,
        }


#: Containers deeper than this are summarised, so a sample stays small.
_SHAPE_DEPTH = 4


def shape_of(value: object, depth: int = _SHAPE_DEPTH) -> object:
    """The shape of a parsed JSON value: field names and types, with every value left out.

    ``{"mpan": "1200…", "rates": [{"value": 24.5}]}`` becomes
    ``{"mpan": "str", "rates": ["list of 1", {"value": "float"}]}``. Keys that look like data
    rather than field names (long digit runs, e-mail addresses) are masked too.
    """
    if isinstance(value, dict):
        if depth == 0:
            return f"object with {len(value)} fields"
        return {_field_name(str(key)): shape_of(item, depth - 1) for key, item in value.items()}
    if isinstance(value, list):
        if depth == 0 or not value:
            return f"list of {len(value)}"
        return [f"list of {len(value)}", shape_of(value[0], depth - 1)]
    if value is None:
        return "null"
    return type(value).__name__


def summary_of(shape: object) -> str:
    """One short line for a shape: what a log line or a repair can show."""
    if isinstance(shape, dict):
        fields = ", ".join(sorted(shape)[:12])
        more = f" (+{len(shape) - 12})" if len(shape) > 12 else ""
        return f"an object with fields {fields}{more}" if shape else "an empty object"
    if isinstance(shape, list):
        return f"a {shape[0]}"
    return f"a {shape}" if shape != "null" else "null"


def _field_name(key: str) -> str:
    digits = sum(char.isdigit() for char in key)
    return "<value>" if "@" in key or digits >= 6 else key


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
