"""Async client for Caruna Plus, the customer portal of the Finnish distributor Caruna.

The portal has no API keys: the client logs in the way a browser does (an OpenID dance through
Caruna's authentication portal, about eight requests), receives a bearer token that lasts about an
hour, and reads metering points and energy with it. Logging in is slow and Caruna has changed the
dance several times, so the client

* keeps the token until it expires and logs in again only then (one login at a time, however many
  callers need a token at once),
* walks the dance by what each page *is* (a redirect, a refresh, a form a script would post, the
  login form, the callback) rather than by a fixed list of URLs, and says ``login_changed`` when a
  page is none of those, so a user can tell a portal change from a wrong password,
* backs off after a failed login instead of retrying in a tight loop (at most one login attempt
  per back-off step, whatever failed), and reports rejected credentials as an authentication error
  only when they are rejected again after a pause,
* sends a desktop browser's User-Agent during the login (the portal serves browsers), reads the
  next URL after the credentials from the Wicket answer's body (``<redirect>``, the portal's way
  since 2025-26) or from the older ``Ajax-Location`` header, and reads JSON whatever content type
  it is labelled with.

Two sessions are used: the login runs in a private session with its own cookie jar (the portal's
cookies belong to one user and must not land in a shared jar); the API calls carry only the bearer
token and can use any session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
import json
import time
from typing import Any, Final, Literal

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from . import caruna_shapes as shapes
from .caruna_html import (
    PASSWORD_FIELD,
    USERNAME_FIELD,
    Form,
    Page,
    ajax_redirect,
    is_login_page,
    is_wicket_ajax_response,
    parse_page,
)
from .errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitError,
    ApiResponseError,
    ApiSchemaError,
    MeterHubApiError,
    raise_for_overload,
)

PLUS_URL: Final = "https://plus.caruna.fi"
DEFAULT_TIMEOUT: Final = 30.0
# A token is renewed this long before Caruna says it expires, so a request never races the expiry.
TOKEN_MARGIN: Final = 120.0
# Pages a login may pass through before the login form, and again before the callback.
MAX_HOPS: Final = 12
# After a failed login: wait this long, doubling per failure up to the cap.
BACKOFF_FIRST: Final = 60.0
BACKOFF_MAX: Final = 3600.0
# The login pages are made for browsers; pycaruna 1.1 sends one like this throughout the login.
BROWSER_USER_AGENT: Final = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
)
# Where a customer's metering points are listed: household meters first, then every asset.
METERING_POINT_PATHS: Final = ("assets/meteringpoints", "assets")

type Timespan = Literal["daily", "monthly"]


class CarunaError(MeterHubApiError):
    """Anything the Caruna Plus client raises."""


class CarunaConnectionError(CarunaError, ApiConnectionError):
    """Caruna Plus could not be reached, timed out or answered with a server error."""


class CarunaRateLimitError(CarunaError, ApiRateLimitError):
    """Caruna Plus asked us to slow down (HTTP 429)."""


class CarunaAuthError(CarunaError, ApiAuthError):
    """The portal rejected the username or password."""


class CarunaCredentialsRetryError(CarunaConnectionError):
    """The portal rejected the credentials once; tried again after a pause before asking the user.

    A single rejection can be the portal's hiccup; a second one in a row is an authentication error.
    """


class CarunaResponseError(CarunaError, ApiResponseError):
    """The API answered with something the client cannot read."""


class CarunaSchemaError(CarunaResponseError, ApiSchemaError):
    """The portal answered data in a shape this client does not read (see ``caruna_shapes``)."""


class CarunaLoginChangedError(CarunaResponseError):
    """A login page no longer looks the way the client expects: Caruna changed its portal."""

    error_key = "login_changed"


class CarunaHttpError(CarunaResponseError):
    """The API refused a request with a client error (400, 404, ...): ``status`` says which."""

    def __init__(self, status: int) -> None:
        """Keep the status so callers can tell a refused parameter from a missing path."""
        super().__init__(f"Caruna Plus answered HTTP {status}")
        self.status = status


@dataclass(frozen=True, kw_only=True)
class CarunaLogin:
    """A login: the bearer token, when it expires, and the customer numbers it may read."""

    token: str
    expires_at: float
    own_customer_numbers: tuple[str, ...]
    represented_customer_numbers: tuple[str, ...]

    @property
    def customer_numbers(self) -> tuple[str, ...]:
        """Own customer numbers first, then the represented ones, without repeats."""
        return tuple(
            dict.fromkeys((*self.own_customer_numbers, *self.represented_customer_numbers))
        )


@dataclass(frozen=True, kw_only=True)
class MeteringPoint:
    """One metering point (Caruna calls it an asset) of a customer.

    A point carries its GSRN, or at least its metering point number; ``identifier`` is the one that
    names it in statistic ids, unique ids and devices (the GSRN whenever there is one, so points
    set up before the number was read keep their ids).
    """

    customer: str
    asset_id: str
    gsrn: str | None
    fuse_size: str | None
    product: str | None
    address: str | None
    number: str | None = None

    @property
    def identifier(self) -> str:
        """The GSRN, else the metering point number: stable for the life of the point."""
        identifier = self.gsrn or self.number
        assert identifier, "a metering point has a GSRN or a metering point number"
        return identifier


@dataclass(frozen=True, kw_only=True)
class EnergyRow:
    """One hour (``timespan=daily``) or one day (``timespan=monthly``) of energy and fees.

    ``consumption`` is None for a period not yet measured: that is unknown, not zero.
    ``start`` is in UTC; Caruna dates each period by its start.
    """

    start: datetime
    consumption: float | None
    distribution_fee: float | None = None
    electricity_tax: float | None = None
    value_added_tax: float | None = None
    total_fee: float | None = None
    temperature: float | None = None

    @property
    def cost(self) -> float | None:
        """The period's fees in EUR: the total Caruna gives, else the sum of the parts it gives."""
        if self.total_fee is not None:
            return self.total_fee
        parts = [
            part
            for part in (self.distribution_fee, self.electricity_tax, self.value_added_tax)
            if part is not None
        ]
        return sum(parts) if parts else None


@dataclass(frozen=True)
class _Response:
    """What one login request returned (never followed automatically)."""

    url: URL
    status: int
    headers: Mapping[str, str]
    text: str

    @property
    def location(self) -> URL | None:
        if 300 <= self.status < 400 and (target := self.headers.get("Location")):
            return self.url.join(URL(target))
        return None


class CarunaClient:
    """Logs in to Caruna Plus and reads metering points and energy.

    ``session`` carries the API calls (the caller's shared session is fine); ``login_session`` must
    be a session of its own whose cookie jar only this client uses. ``plus_url`` is the portal's base
    URL (tests point it at a local stand-in). ``auth_failures_before_reauth`` is how many rejections
    in a row it takes to raise :class:`CarunaAuthError` (1 in a config flow, where the user is
    present; 2 in the background).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        login_session: aiohttp.ClientSession,
        username: str,
        password: str,
        *,
        plus_url: str = PLUS_URL,
        language: str = "fi",
        timeout: float = DEFAULT_TIMEOUT,
        auth_failures_before_reauth: int = 2,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Keep the sessions and credentials; nothing is requested yet."""
        self._session = session
        self._login_session = login_session
        self._username = username
        self._password = password
        self._plus = URL(plus_url.rstrip("/") + "/")
        self._language = language
        self._timeout = timeout
        #: Rejections in a row before :class:`CarunaAuthError` is raised (see the class docstring).
        self.auth_failures_before_reauth = max(1, auth_failures_before_reauth)
        # Looked up at each call, so a frozen clock in tests (or a changed one) is seen.
        self._clock = clock or _now
        self._login: CarunaLogin | None = None
        self._login_lock = asyncio.Lock()
        self._failures = 0
        self._auth_failures = 0
        self._retry_at = 0.0
        self._last_error: Exception | None = None
        #: Counters for diagnostics and tests.
        self.logins = 0
        self.login_requests = 0
        self.api_requests = 0

    # -- login ---------------------------------------------------------------------------------

    @property
    def login(self) -> CarunaLogin | None:
        """The current login, if any (it may have expired)."""
        return self._login

    def _valid(self, login: CarunaLogin | None) -> bool:
        return login is not None and self._clock() < login.expires_at - TOKEN_MARGIN

    async def async_login(self) -> CarunaLogin:
        """Log in now, whatever the state (the config flow's check)."""
        async with self._login_lock:
            return await self._async_login_tracked()

    async def async_ensure_login(self, stale: CarunaLogin | None = None) -> CarunaLogin:
        """A valid login: the kept one, or a new one when it expired or ``stale`` was rejected.

        Callers queue on one lock, so several coordinators that need a token at once cause one
        login. During the back-off after a failed login no request is made: the last error is
        raised again.
        """
        async with self._login_lock:
            current = self._login
            if self._valid(current) and (stale is None or current is not stale):
                assert current is not None
                return current
            if self._clock() < self._retry_at and self._last_error is not None:
                raise self._repeat(self._last_error)
            return await self._async_login_tracked()

    def _repeat(self, err: Exception) -> Exception:
        """A fresh exception of the same kind as the last failure, for the back-off period."""
        message = "login is backing off after a failure"
        if isinstance(err, CarunaAuthError):
            return CarunaAuthError(message)
        if isinstance(err, CarunaCredentialsRetryError):
            return CarunaCredentialsRetryError(message)
        if isinstance(err, CarunaLoginChangedError):
            return CarunaLoginChangedError(message)
        if isinstance(err, ApiResponseError):
            return CarunaResponseError(message)
        return CarunaConnectionError(message)

    async def _async_login_tracked(self) -> CarunaLogin:
        """Log in and keep count of failures for the back-off and the reauth decision."""
        self._login = None
        try:
            login = await self._async_login_dance()
        except CarunaAuthError as err:
            self._auth_failures += 1
            error: Exception = err
            if self._auth_failures < self.auth_failures_before_reauth:
                error = CarunaCredentialsRetryError("credentials rejected; retrying after a pause")
            self._fail(error)
            raise error from err
        except (ApiConnectionError, ApiResponseError) as err:
            self._fail(err)
            raise
        self._login = login
        self._failures = 0
        self._auth_failures = 0
        self._retry_at = 0.0
        self._last_error = None
        self.logins += 1
        return login

    def _fail(self, err: Exception) -> None:
        self._failures += 1
        self._last_error = err
        delay = min(BACKOFF_FIRST * 2 ** (self._failures - 1), BACKOFF_MAX)
        self._retry_at = self._clock() + delay

    async def _async_login_dance(self) -> CarunaLogin:
        """The browser's way in: start, reach the login form, post it, reach the callback, token."""
        self._login_session.cookie_jar.clear()
        start = await self._login_request(
            "POST",
            self._plus.join(URL("api/authorization/login")),
            json_body={
                "language": self._language,
                "redirectAfterLogin": str(self._plus),
            },
            step="start",
        )
        if start.status != 200:
            raise CarunaLoginChangedError(f"login start answered HTTP {start.status}")
        redirect = _json_object(start.text, "login start").get("loginRedirectUrl")
        if not isinstance(redirect, str) or not redirect:
            raise CarunaLoginChangedError("login start gave no loginRedirectUrl")
        first = await self._login_request("GET", start.url.join(URL(redirect)), step="redirect")
        form_response, page, form = await self._walk_to_login_form(first)
        next_url = await self._post_login_form(form_response, page, form)
        callback = await self._walk_to_callback(next_url)
        return await self._exchange_code(callback)

    async def _walk_to_login_form(self, response: _Response) -> tuple[_Response, Page, Form]:
        """Follow redirects, refreshes and self-posting forms until the login form shows."""
        for _ in range(MAX_HOPS):
            if (target := response.location) is not None:
                response = await self._login_request("GET", target, step="to login form")
                continue
            page = self._html_page(response, "to login form")
            if (form := page.login_form()) is not None:
                return response, page, form
            response = await self._follow_page(response, page, "to login form")
        raise CarunaLoginChangedError("too many pages before the login form")

    async def _post_login_form(self, response: _Response, page: Page, form: Form) -> URL:
        """Post the credentials the way the page's Wicket Ajax script does."""
        data = form.hidden_values()
        data[USERNAME_FIELD] = self._username
        data[PASSWORD_FIELD] = self._password
        submit = form.submit()
        if submit is None:
            raise CarunaLoginChangedError("the login form has no submit button")
        data[submit.name] = "1"
        ajax_url = (page.ajax_url_for(submit.id) if submit.id else None) or page.login_ajax_url()
        target = ajax_url or form.action
        if not target:
            raise CarunaLoginChangedError("the login form has nowhere to post")
        origin = response.url.origin()
        headers = {
            "Wicket-Ajax": "true",
            "Wicket-Ajax-BaseURL": response.url.path.rsplit("/", 1)[-1] or ".",
            "Wicket-FocusedElementId": submit.id or submit.name,
            "X-Requested-With": "XMLHttpRequest",
            "Accept": "text/xml",
            "Origin": str(origin),
            "Referer": str(response.url),
        }
        answer = await self._login_request(
            "POST", response.url.join(URL(target)), form=data, headers=headers, step="login form"
        )
        if answer.status in {401, 403}:
            raise CarunaAuthError("the portal rejected the credentials")
        if (location := answer.location) is not None:
            return location
        redirect = answer.headers.get("Ajax-Location")
        if redirect is None and answer.status == 200:
            redirect = ajax_redirect(answer.text)
        if redirect is not None:
            # Wicket's script sends the browser there: relative to the page, not the Ajax call.
            next_url = response.url.join(URL(redirect))
            if next_url.with_query(None) == response.url.with_query(None):
                # Sent back to the login page itself: the credentials were not taken.
                raise CarunaAuthError("the portal rejected the credentials")
            return next_url
        if answer.status == 200 and is_wicket_ajax_response(answer.text):
            # Wicket re-rendered the form (with its error message) instead of moving on.
            raise CarunaAuthError("the portal rejected the credentials")
        if answer.status == 200 and parse_page(answer.text).login_form() is not None:
            raise CarunaAuthError("the portal rejected the credentials")
        raise CarunaLoginChangedError(f"the login post answered HTTP {answer.status}")

    async def _walk_to_callback(self, next_url: URL) -> URL:
        """From the accepted login to the callback URL that carries ``code`` and ``state``."""
        if {"code", "state"} <= set(next_url.query):
            return next_url
        response = await self._login_request("GET", next_url, step="after login")
        for _ in range(MAX_HOPS):
            if (location := response.location) is not None:
                if {"code", "state"} <= set(location.query):
                    return location
                response = await self._login_request("GET", location, step="after login")
                continue
            page = self._html_page(response, "after login")
            if page.login_form() is not None:
                raise CarunaAuthError("the portal showed the login form again")
            response = await self._follow_page(response, page, "after login")
        raise CarunaLoginChangedError("too many pages after the login form")

    async def _follow_page(self, response: _Response, page: Page, step: str) -> _Response:
        """Do what a browser's script would: follow a meta refresh or post a self-posting form."""
        if page.refresh_url:
            return await self._login_request(
                "GET", response.url.join(URL(page.refresh_url)), step=step
            )
        if (form := page.auto_post_form()) is not None:
            return await self._login_request(
                "POST",
                response.url.join(URL(form.action)),
                form=form.hidden_values(),
                step=step,
            )
        raise CarunaLoginChangedError(f"unexpected page at step '{step}'")

    def _html_page(self, response: _Response, step: str) -> Page:
        if response.status != 200:
            raise CarunaLoginChangedError(f"step '{step}' answered HTTP {response.status}")
        return parse_page(response.text)

    async def _exchange_code(self, callback: URL) -> CarunaLogin:
        """Trade the callback's code for the API token."""
        query = callback.query
        data = {key: query[key] for key in ("code", "state", "session_state") if key in query}
        response = await self._login_request(
            "POST", self._plus.join(URL("api/authorization/token")), form=data, step="token"
        )
        if response.status in {401, 403}:
            raise CarunaAuthError("the portal refused to issue a token")
        if response.status != 200:
            raise CarunaLoginChangedError(f"the token exchange answered HTTP {response.status}")
        body = _json_object(response.text, "token exchange")
        token = body.get("token")
        expires_at = body.get("expiresAt")
        user = body.get("user")
        if (
            not isinstance(token, str)
            or not token
            or not isinstance(expires_at, int | float)
            or not isinstance(user, dict)
        ):
            raise CarunaLoginChangedError("the token exchange gave no token")
        return CarunaLogin(
            token=token,
            expires_at=float(expires_at),
            own_customer_numbers=_strings(user.get("ownCustomerNumbers")),
            represented_customer_numbers=_strings(user.get("representedCustomerNumbers")),
        )

    async def _login_request(
        self,
        method: str,
        url: URL,
        *,
        step: str,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> _Response:
        """One request of the dance, in the private session, redirects left to the caller."""
        self.login_requests += 1
        sent = {"User-Agent": BROWSER_USER_AGENT, **(headers or {})}
        try:
            async with (
                asyncio.timeout(self._timeout),
                self._login_session.request(
                    method,
                    url,
                    json=json_body,
                    data=form,
                    headers=sent,
                    allow_redirects=False,
                ) as response,
            ):
                text = await response.text(errors="replace")
                result = _Response(
                    url=response.url,
                    status=response.status,
                    headers=CIMultiDict(response.headers),
                    text=text,
                )
        except TimeoutError:
            raise CarunaConnectionError(f"login step '{step}' timed out") from None
        except aiohttp.ClientError as err:
            # Not chained: aiohttp's errors carry the URL, and the login's URLs hold the OpenID
            # code and state (issue 23); the step and the error's kind are what we know.
            raise CarunaConnectionError(
                f"login step '{step}' failed: {type(err).__name__}"
            ) from None
        raise_for_overload(
            result.status,
            result.headers.get("Retry-After"),
            service=f"Caruna Plus (login step '{step}')",
            rate_limited=CarunaRateLimitError,
            unavailable=CarunaConnectionError,
        )
        return result

    # -- API -----------------------------------------------------------------------------------

    async def async_metering_points(self, customer: str) -> list[MeteringPoint]:
        """The metering points of ``customer`` (one of the login's customer numbers).

        Household meters are listed under ``/assets/meteringpoints`` (2026); ``/assets`` lists
        them too on older accounts. Both are read and merged by asset id; a path the portal does
        not serve (an HTTP 4xx) is skipped, and only when neither answers is that an error.
        """
        points: dict[str, MeteringPoint] = {}
        refused: CarunaHttpError | None = None
        answered = False
        for path in METERING_POINT_PATHS:
            try:
                body = await self._api_get(f"api/customers/{customer}/{path}")
            except CarunaHttpError as err:
                refused = err
                continue
            answered = True
            for item in _asset_rows(body):
                if (point := _metering_point(customer, item)) is not None:
                    points.setdefault(point.asset_id, point)
        if not answered:
            assert refused is not None
            raise refused
        return list(points.values())

    async def async_hours(self, point: MeteringPoint, day: date) -> list[EnergyRow]:
        """The hours of one Finnish calendar day (``timespan=daily``)."""
        return await self._energy(point, "daily", year=day.year, month=day.month, day=day.day)

    async def async_days(self, point: MeteringPoint, year: int, month: int) -> list[EnergyRow]:
        """The days of one month (``timespan=monthly``), for months whose hours are gone."""
        # Since 2026 a monthly request that names a day is refused (HTTP 400).
        return await self._energy(point, "monthly", year=year, month=month)

    async def _energy(
        self,
        point: MeteringPoint,
        timespan: Timespan,
        *,
        year: int,
        month: int,
        day: int | None = None,
    ) -> list[EnergyRow]:
        params: dict[str, Any] = {"year": year, "month": month}
        if day is not None:
            params["day"] = day
        params["timespan"] = timespan
        body = await self._api_get(
            f"api/customers/{point.customer}/assets/{point.asset_id}/energy", params=params
        )
        shapes.ENERGY_ROWS.check(_energy_items(body), CarunaSchemaError, sample=body)
        return hourly(parse_energy(body)) if timespan == "daily" else parse_energy(body)

    async def _api_get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET with the bearer token; an expired session (401/403, a login page) means one re-login.

        A token fresh from a login that the API rejects as well means the login no longer gives
        what the API wants: that is a portal change, reported as ``login_changed`` and counted as a
        failed login, so the next login waits for the back-off instead of looping.
        """
        logins = self.logins
        fresh = await self.async_ensure_login()
        if self.logins == logins:
            # A kept token: the session may have ended early; one new login is worth a try.
            try:
                return await self._api_request(path, params, fresh)
            except _SessionExpiredError:
                fresh = await self.async_ensure_login(stale=fresh)
        try:
            return await self._api_request(path, params, fresh)
        except _SessionExpiredError as err:
            if err.status == 403:
                # A fresh token refused for this resource only (a representation that ended).
                raise CarunaHttpError(403) from err
            error = CarunaLoginChangedError("the API rejected a token fresh from a login")
            async with self._login_lock:
                if self._login is fresh:
                    self._login = None
                    self._fail(error)
            raise error from err

    async def _api_request(
        self, path: str, params: Mapping[str, Any] | None, login: CarunaLogin
    ) -> Any:
        self.api_requests += 1
        try:
            async with (
                asyncio.timeout(self._timeout),
                self._session.get(
                    self._plus.join(URL(path)),
                    params=params,
                    headers={
                        "Authorization": f"Bearer {login.token}",
                        "Accept": "application/json",
                    },
                ) as response,
            ):
                status = response.status
                content_type = response.content_type
                text = await response.text(errors="replace")
                headers = CIMultiDict(response.headers)
        except TimeoutError:
            raise CarunaConnectionError("request to Caruna Plus timed out") from None
        except aiohttp.ClientError as err:
            # Not chained: aiohttp's errors (too many redirects, ...) carry the URL, which holds
            # the customer number and the asset id (issue 23).
            raise CarunaConnectionError(
                f"request to Caruna Plus failed: {type(err).__name__}"
            ) from None
        if status in {401, 403}:
            raise _SessionExpiredError(status)
        raise_for_overload(
            status,
            headers.get("Retry-After"),
            service="Caruna Plus",
            rate_limited=CarunaRateLimitError,
            unavailable=CarunaConnectionError,
        )
        if is_login_page(text):
            # The portal sends its login page instead of JSON once the session is gone.
            raise _SessionExpiredError
        if status != 200:
            raise CarunaHttpError(status)
        try:
            # Read by what the body is: the portal labels JSON text/html at times.
            return json.loads(text)
        except ValueError as err:
            raise CarunaResponseError(
                f"Caruna Plus answered with something other than JSON ({content_type})"
            ) from err


def _now() -> float:
    return time.time()


class _SessionExpiredError(Exception):
    """The API wants a new login (internal: the client logs in again once).

    ``status`` is 401 or 403, or None for a login page in place of JSON.
    """

    def __init__(self, status: int | None = None) -> None:
        super().__init__(status)
        self.status = status


# Where a row list may sit in an energy answer that is an object (clients agree on these).
_ROW_LIST_KEYS: Final = ("values", "data", "hours", "days", "items")


def _energy_items(body: Any) -> list[Any]:
    """The raw rows of an energy answer, whichever of the known shapes it has."""
    if isinstance(body, list):
        return body
    if not isinstance(body, dict):
        raise CarunaSchemaError("energy", "a list of rows", body)
    results = body.get("results")
    if isinstance(results, list):
        raw: list[Any] = []
        for result in results:
            if isinstance(result, dict):
                raw.extend(_energy_items({k: v for k, v in result.items() if k != "results"}))
        return raw
    for key in _ROW_LIST_KEYS:
        if isinstance(rows := body.get(key), list):
            return rows
    if "timestamp" in body:
        return [body]
    if not body:
        return []
    raise CarunaSchemaError("energy", "a list of rows", body)


def parse_energy(body: Any) -> list[EnergyRow]:
    """Energy rows from any known shape.

    A flat list of rows (2026); ``{"results": [{"data": [...]}]}`` (older); or an object with the
    rows under ``values``, ``data``, ``hours``, ``days`` or ``items``. Field names differ between
    versions (``totalConsumption``, ``consumption`` or ``invoicedConsumption``; ``totalFee`` or
    ``totalcost``), so keys are compared without case. A row without a readable timestamp is
    dropped; a null consumption stays None (not measured yet).
    """
    rows: list[EnergyRow] = []
    for item in _energy_items(body):
        if not isinstance(item, dict):
            continue
        fields = {str(key).lower(): value for key, value in item.items()}
        start = _timestamp(fields.get("timestamp"))
        if start is None:
            continue
        rows.append(
            EnergyRow(
                start=start,
                consumption=_first_number(
                    fields, "totalconsumption", "consumption", "invoicedconsumption"
                ),
                distribution_fee=_first_number(fields, "distributionfee"),
                electricity_tax=_first_number(fields, "electricitytax"),
                value_added_tax=_first_number(fields, "valueaddedtax"),
                total_fee=_first_number(fields, "totalfee", "totalcost"),
                temperature=_first_number(fields, "temperature"),
            )
        )
    rows.sort(key=lambda row: row.start)
    return rows


def hourly(rows: list[EnergyRow]) -> list[EnergyRow]:
    """One row per UTC hour: rows closer than an hour apart (15-minute metering) summed.

    Finnish meters are moving to 15-minute intervals; should the API hand out quarter-hour rows,
    each hour is the sum of its rows (never the last row seen). An hour with a row not yet measured
    is left unmeasured as a whole, so it is read again later rather than booked short.
    """
    groups: dict[datetime, list[EnergyRow]] = {}
    for row in rows:
        groups.setdefault(row.start.replace(minute=0, second=0, microsecond=0), []).append(row)
    result: list[EnergyRow] = []
    for start, group in sorted(groups.items()):
        if len(group) == 1 and group[0].start == start:
            result.append(group[0])
            continue
        complete = all(row.consumption is not None for row in group)
        temperatures = [row.temperature for row in group if row.temperature is not None]
        result.append(
            EnergyRow(
                start=start,
                consumption=_sum(row.consumption for row in group) if complete else None,
                distribution_fee=_sum(row.distribution_fee for row in group),
                electricity_tax=_sum(row.electricity_tax for row in group),
                value_added_tax=_sum(row.value_added_tax for row in group),
                total_fee=_sum(row.total_fee for row in group),
                temperature=sum(temperatures) / len(temperatures) if temperatures else None,
            )
        )
    return result


def _sum(values: Iterable[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def _asset_rows(body: Any) -> list[dict[str, Any]]:
    """The asset objects of a metering point listing (a list, or a list under a known key)."""
    if isinstance(body, dict):
        for key in ("results", "data", "assets", "meteringPoints", "meteringpoints", "items"):
            if isinstance(body.get(key), list):
                body = body[key]
                break
        else:
            body = [body]
    if not isinstance(body, list):
        raise CarunaResponseError("metering points are not a list")
    return [item for item in body if isinstance(item, dict)]


def _metering_point(customer: str, item: Mapping[str, Any]) -> MeteringPoint | None:
    """A metering point from an asset row, if it has an asset id and a stable identifier."""
    asset_id = _optional_str(item.get("assetId"))
    gsrn = _optional_str(item.get("gsrn"))
    number = _optional_str(item.get("meteringPointNumber"))
    if asset_id is None or (gsrn is None and number is None):
        return None
    return MeteringPoint(
        customer=customer,
        asset_id=asset_id,
        gsrn=gsrn,
        number=number,
        fuse_size=_optional_str(item.get("fuseSize")),
        product=_optional_str(item.get("contractProductDesc")),
        address=_address(item.get("address")),
    )


def _first_number(fields: Mapping[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = fields.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                continue
    return None


def _timestamp(value: Any) -> datetime | None:
    """A UTC datetime from Caruna's ISO timestamps (``...Z``); naive ones are UTC too."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError as err:
        raise CarunaLoginChangedError(f"{what} did not answer JSON") from err
    if not isinstance(body, dict):
        raise CarunaLoginChangedError(f"{what} did not answer a JSON object")
    return body


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(item) for item in value if item not in (None, ""))


def _optional_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _address(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    parts = [value.get("streetName"), value.get("houseNumber")]
    text = " ".join(str(part) for part in parts if part)
    return text or None
