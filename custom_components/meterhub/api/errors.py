"""The exception tree every provider client raises.

Clients subclass these so the Home Assistant side can map them without knowing the provider:
authentication problems start a reauth, connection problems make entities unavailable until the next
success, and ``error_key`` names the form error a config flow shows.
"""

from __future__ import annotations


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
