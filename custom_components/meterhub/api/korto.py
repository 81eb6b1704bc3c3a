"""Async client for Korto, the Estonian residence-management system (GraphQL over HTTPS).

Korto has no public API documentation: this speaks the two queries its web app sends
(``GetMetersData`` and ``GetApartmentBalance``), authenticated by the ``auth_token`` cookie the web
app keeps (a JWT that lasts about a year). The token travels as an explicit ``Cookie`` header on
each request and never enters the caller's cookie jar: Home Assistant's session is shared by every
integration, and a cookie stored there would leak into other entries and outlive a reauth.

The service answers GraphQL errors with HTTP 200, and its numbers and dates are written the
Estonian way (``"12,5"``, ``"25.10.2026"``): everything is parsed defensively into typed models, and
nothing the server writes in free text ever reaches a message: a server's error text can name a
meter or the apartment, so only its machine-readable codes are repeated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
import json
import math
import re
from typing import Any, Final

import aiohttp
from yarl import URL

from . import korto_shapes as shapes
from .errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitError,
    ApiResponseError,
    ApiSchemaError,
    MeterHubApiError,
    raise_for_overload,
)

DEFAULT_BASE_URL: Final = "https://pro.korto.ee/api/"
DEFAULT_TIMEOUT: Final = 30.0
#: What a GraphQL error code looks like (``UNAUTHENTICATED``): safe to repeat, unlike its text.
_CODE_RE: Final = re.compile(r"[A-Z][A-Z_]{1,40}")

METERS_QUERY: Final = """
query GetMetersData($id: ID!, $ignore_date_limits: Boolean) {
  viewer {
    id
    apartment(id: $id) {
      id
      meters(ignore_date_limits: $ignore_date_limits) {
        id
        type
        description
        unit
        step
        precision
        reading
        reading_date
        reading_origin
        consumption
        __typename
      }
      readings_allowed
      readings_start
      readings_end
      __typename
    }
    __typename
  }
}
""".strip()

BALANCE_QUERY: Final = """
query GetApartmentBalance($id: ID!) {
  viewer {
    id
    apartment(id: $id) {
      id
      balance {
        balance
        balance_date
        last_payment
        last_payment_date
        __typename
      }
      __typename
    }
    __typename
  }
}
""".strip()


class KortoError(MeterHubApiError):
    """Base of every Korto client error (no ``error_key`` here: the second base supplies it)."""


class KortoConnectionError(KortoError, ApiConnectionError):
    """Korto could not be reached, timed out or answered with a server error."""


class KortoRateLimitError(KortoError, ApiRateLimitError):
    """Korto answered 429."""


class KortoAuthError(KortoError, ApiAuthError):
    """The token was rejected or has expired: the user must copy a new one."""


class KortoResponseError(KortoError, ApiResponseError):
    """Korto answered with something that is not the GraphQL answer we asked for."""


class KortoSchemaError(KortoResponseError, ApiSchemaError):
    """Korto answered in a shape this client does not read (see ``korto_shapes``)."""


class KortoUnknownApartmentError(KortoResponseError):
    """The token is fine but the apartment does not exist or belongs to someone else."""

    error_key = "unknown_apartment"


@dataclass(frozen=True, kw_only=True)
class KortoMeter:
    """One utility meter of the apartment with its latest reading (all optional but the id)."""

    id: str
    type: str
    description: str | None
    unit: str | None
    precision: int | None
    reading: float | None
    reading_date: date | None
    reading_origin: str | None
    consumption: float | None


@dataclass(frozen=True, kw_only=True)
class KortoMeters:
    """The apartment's meters and the window in which residents may enter readings."""

    meters: tuple[KortoMeter, ...]
    readings_allowed: bool | None
    readings_start: str | None
    readings_end: str | None
    #: Entries of the answer's list that could not be read as a meter (the list is partial).
    skipped: int = 0


@dataclass(frozen=True, kw_only=True)
class KortoBalance:
    """The apartment's balance and last payment in EUR; Korto leaves any of them null."""

    balance: float | None
    balance_date: date | None
    last_payment: float | None
    last_payment_date: date | None


_SPACES_RE: Final = re.compile(r"[\s\u00a0\u202f']")


def parse_number(value: object) -> float | None:
    """A number from Korto: a JSON number, or text with a comma or point decimal.

    ``"12,5"``, ``"1 234,5"`` and ``"1,234.5"`` all parse; empty text, null and garbage give None,
    so one odd meter shows as unknown instead of failing the whole apartment.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    text = _SPACES_RE.sub("", value)
    if "," in text and "." in text:
        # Whichever comes last is the decimal separator; the other groups thousands.
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    else:
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


_DATE_FORMATS: Final = ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%d/%m/%Y")


def parse_date(value: object) -> date | None:
    """A date from Korto (``dd.mm.yyyy``; ISO and a trailing time are tolerated), else None.

    A null or unreadable date stays unknown: never 1970.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    head = text.split("T", 1)[0].split(" ", 1)[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(head, fmt).date()
        except ValueError:
            continue
    return None


def _parse_text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _parse_int(value: object) -> int | None:
    number = parse_number(value)
    if number is None or number != int(number):
        return None
    return int(number)


def _parse_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return bool(value)
    return None


def normalise_token(token: str) -> str:
    """The bare JWT from what a user pasted: ``auth_token=...``, quotes and spaces are dropped."""
    text = token.strip().strip("\"'").strip()
    for prefix in ("auth_token=", "Bearer ", "bearer "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text.split(";", 1)[0].strip().strip("\"'")


_AUTH_CATEGORIES: Final = frozenset({"authentication", "unauthenticated"})
_AUTH_CODES: Final = frozenset({"UNAUTHENTICATED", "INVALID_TOKEN", "TOKEN_EXPIRED"})
_AUTH_RE: Final = re.compile(
    r"unauthenti|not authenti|unauthori|log(ged)? ?in|sign(ed)? ?in|token|jwt|expired|session"
    r"|credential|sisselog|autent",
    re.IGNORECASE,
)
_MISSING_CATEGORIES: Final = frozenset({"authorization", "not_found", "notfound"})
_MISSING_CODES: Final = frozenset({"FORBIDDEN", "NOT_FOUND"})
_MISSING_RE: Final = re.compile(
    r"apartment|korter|not found|no query results|does not exist|permission|forbidden|access",
    re.IGNORECASE,
)


class KortoClient:
    """Reads one Korto account. The session comes from the caller; the base URL is a parameter."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Keep what each request needs; nothing is sent before the first call."""
        self._session = session
        self._token = normalise_token(token)
        self._url = URL(base_url)
        self._timeout = timeout
        self.requests = 0

    async def async_meters(self, apartment_id: str) -> KortoMeters:
        """The apartment's meters with their latest readings (``GetMetersData``)."""
        apartment = await self._async_apartment("GetMetersData", METERS_QUERY, apartment_id)
        raw_meters = shapes.METERS.check(apartment, KortoSchemaError).get("meters") or []
        meters = tuple(meter for raw in raw_meters if (meter := _parse_meter(raw)) is not None)
        return KortoMeters(
            meters=meters,
            readings_allowed=_parse_bool(apartment.get("readings_allowed")),
            readings_start=_parse_text(apartment.get("readings_start")),
            readings_end=_parse_text(apartment.get("readings_end")),
            skipped=len(raw_meters) - len(meters),
        )

    async def async_balance(self, apartment_id: str) -> KortoBalance:
        """The apartment's balance and last payment (``GetApartmentBalance``)."""
        apartment = await self._async_apartment("GetApartmentBalance", BALANCE_QUERY, apartment_id)
        raw = shapes.BALANCE.check(apartment, KortoSchemaError).get("balance") or {}
        return KortoBalance(
            balance=parse_number(raw.get("balance")),
            balance_date=parse_date(raw.get("balance_date")),
            last_payment=parse_number(raw.get("last_payment")),
            last_payment_date=parse_date(raw.get("last_payment_date")),
        )

    async def _async_apartment(
        self, operation: str, query: str, apartment_id: str
    ) -> Mapping[str, Any]:
        """Run ``query`` for the apartment and return ``data.viewer.apartment``.

        GraphQL reports errors next to (possibly partial) data. Authentication and apartment
        errors always win; any other error only fails the call when the apartment is missing.
        """
        body = await self._request(operation, query, {"id": apartment_id})
        errors = body.get("errors")
        data = body.get("data")
        viewer = data.get("viewer") if isinstance(data, dict) else None
        apartment = viewer.get("apartment") if isinstance(viewer, dict) else None
        if errors:
            self._raise_for_errors(errors, apartment_id, have_data=isinstance(apartment, dict))
        shapes.APARTMENT.check(body, KortoSchemaError)
        if viewer is None:
            # Korto answers an anonymous visitor with an empty viewer.
            raise KortoAuthError("Korto does not know this token")
        if apartment is None:
            raise KortoUnknownApartmentError("Korto does not show this apartment to this token")
        if not isinstance(apartment, dict):
            raise KortoSchemaError("apartment", "an apartment object", body)
        return apartment

    def _raise_for_errors(self, errors: object, apartment_id: str, *, have_data: bool) -> None:
        """Turn GraphQL ``errors`` into the matching client error, or accept partial data.

        Korto's error texts are not documented, so this reads every hint there is: the
        ``extensions`` a GraphQL server adds (``category``, ``code``), the ``path`` of the field that
        failed and the wording of the message. A field error next to a present apartment (one
        meter's consumption failed, say) leaves the rest of the answer usable.
        """
        if not isinstance(errors, list):
            raise KortoResponseError("Korto answered malformed errors")
        for error in errors:
            if not isinstance(error, dict):
                continue
            message = str(error.get("message") or "")
            extensions = error.get("extensions")
            extensions = extensions if isinstance(extensions, dict) else {}
            category = str(extensions.get("category") or "").lower()
            code = str(extensions.get("code") or "").upper()
            path = error.get("path")
            about_apartment = (isinstance(path, list) and "apartment" in path) or bool(
                re.search("apartment|korter", message, re.IGNORECASE)
            )
            if category in _AUTH_CATEGORIES or code in _AUTH_CODES:
                raise KortoAuthError("Korto rejected the token")
            if not have_data and _AUTH_RE.search(message) and not about_apartment:
                # Only by its wording when nothing came back: with the apartment in the
                # answer the token evidently worked, whatever a field error says.
                raise KortoAuthError("Korto rejected the token")
            if not have_data and (
                about_apartment
                or category in _MISSING_CATEGORIES
                or code in _MISSING_CODES
                or _MISSING_RE.search(message)
            ):
                raise KortoUnknownApartmentError("Korto does not show this apartment to this token")
        if not have_data:
            raise KortoResponseError(f"Korto answered an error{_error_codes(errors)}")

    async def _request(
        self, operation: str, query: str, variables: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """POST one GraphQL operation; map transport failures to the client's errors."""
        self.requests += 1
        headers = {
            "Accept": "application/json",
            "Cookie": f"auth_token={self._token}",
        }
        payload = {"operationName": operation, "variables": dict(variables), "query": query}
        try:
            async with (
                asyncio.timeout(self._timeout),
                self._session.post(
                    self._url, json=payload, headers=headers, allow_redirects=False
                ) as response,
            ):
                # Whatever cookies Korto set went into the caller's jar: take them out again.
                self._session.cookie_jar.clear_domain(self._url.host or "")
                status = response.status
                text = await response.text(errors="replace")
                retry_after = response.headers.get("Retry-After")
                location = response.headers.get("Location", "")
        except TimeoutError:
            raise KortoConnectionError("Timed out talking to Korto") from None
        except aiohttp.ClientError as err:
            # Not chained: the library's error carries the request URL into every traceback.
            raise KortoConnectionError(f"Could not talk to Korto ({type(err).__name__})") from None

        if status in (401, 403) or (300 <= status < 400 and "login" in location.lower()):
            raise KortoAuthError(f"Korto rejected the token (HTTP {status})")
        raise_for_overload(
            status,
            retry_after,
            service="Korto",
            rate_limited=KortoRateLimitError,
            unavailable=KortoConnectionError,
        )
        try:
            body = json.loads(text)
        except ValueError:
            raise KortoResponseError(f"Korto answered HTTP {status} without JSON") from None
        if not isinstance(body, dict):
            raise KortoResponseError("Korto answered JSON that is not an object")
        if status != 200 and not body.get("errors"):
            raise KortoResponseError(f"Korto answered HTTP {status}")
        return body


def _parse_meter(raw: object) -> KortoMeter | None:
    """One meter; a meter without an id cannot be followed over time and is skipped."""
    if not isinstance(raw, dict):
        return None
    meter_id = _parse_text(raw.get("id"))
    if meter_id is None:
        return None
    return KortoMeter(
        id=meter_id,
        type=_parse_text(raw.get("type")) or "",
        description=_parse_text(raw.get("description")),
        unit=_parse_text(raw.get("unit")),
        precision=_parse_int(raw.get("precision")),
        reading=parse_number(raw.get("reading")),
        reading_date=parse_date(raw.get("reading_date")),
        reading_origin=_parse_text(raw.get("reading_origin")),
        consumption=parse_number(raw.get("consumption")),
    )


def _error_codes(errors: list[Any]) -> str:
    """`` (codes A, B)`` from the errors' ``extensions.code``, or nothing when they have none."""
    codes = sorted(
        {
            str(error["extensions"].get("code"))
            for error in errors
            if isinstance(error, dict) and isinstance(error.get("extensions"), dict)
        }
    )
    safe = [code for code in codes if _CODE_RE.fullmatch(code)]
    return f" (codes {', '.join(safe)})" if safe else ""
