"""A local stand-in for Caruna Plus and its authentication portal, on 127.0.0.1.

Two servers, like the real two hosts: ``plus`` (the API and the OpenID client) and ``auth`` (the
Wicket login portal). The login walks the whole dance: the JSON start, an HTTP redirect, a meta
refresh, the login form with hidden inputs posted through Wicket Ajax (headers checked), the next
URL, another refresh, a self-posting form, two redirects to the callback carrying ``code``,
``state`` and ``session_state``, and the token exchange. Cookies are required where a browser would
carry them, and the login pages answer only a desktop browser's User-Agent.
``break_step`` makes one step answer the way a changed portal might.

By default it answers as the live portal does in 2026 (pycaruna 1.1.x, Nornode/ha-caruna-plus 0.3,
probed 2026-08-18): the accepted login's next URL only in the Ajax answer's body
(``<redirect><![CDATA[...]]></redirect>``, no ``Ajax-Location`` header); login JSON labelled
``text/html``; ``/assets/meteringpoints`` served; ``timespan=monthly`` with ``day=`` refused with
HTTP 400; energy as a flat list with ``totalConsumption``. Switches bring back the older portal:
``redirect_in="header"``, ``login_json_type="application/json"``, ``meteringpoints=False``,
``monthly_day_refused=False``, ``shape`` (``"old"``, ``"consumption"``, ``"values"``,
``"quarter"`` for 15-minute rows), ``ajax_script=False`` (no Wicket script: post the form action).

Energy is generated from ``hours`` (UTC hour -> kWh, None for "not measured") per asset, with fees;
``days_only`` holds days whose hours are gone.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import json
import secrets
import time
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

HELSINKI = ZoneInfo("Europe/Helsinki")
USERNAME = "matti.meikalainen@example.fi"
PASSWORD = "Salasana-123"
OWN = "1234567"
REPRESENTED = "7654321"
GSRN_1 = "643007574000000001"
GSRN_2 = "643007574000000002"
ASSET_1 = "A-100"
ASSET_2 = "A-200"
TOKEN_PREFIX = "tok-"

AJAX_PATH = "3-1.IBehaviorListener.0-userIDPanel-usernameLogin-loginWithUserID"
FORM_PATH = "1-1.IFormSubmitListener-userIDPanel-usernameLogin"
METERING_POINT_NUMBER_1 = "MP-0001"


def local_day_hours(day: date) -> list[datetime]:
    """The UTC starts of the hours of a Finnish calendar day (23, 24 or 25 of them)."""
    start = datetime(day.year, day.month, day.day, tzinfo=HELSINKI).astimezone(UTC)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=HELSINKI).astimezone(UTC)
    count = int((end - start) / timedelta(hours=1))
    return [start + timedelta(hours=i) for i in range(count)]


def fees(kwh: float) -> dict[str, float]:
    distribution = round(kwh * 0.05, 6)
    tax = round(kwh * 0.02253, 6)
    vat = round((distribution + tax) * 0.255, 6)
    return {
        "distributionFee": distribution,
        "electricityTax": tax,
        "valueAddedTax": vat,
        "totalFee": round(distribution + tax + vat, 6),
    }


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Portal:
    """The remote end, controlled by the test."""

    username: str = USERNAME
    password: str = PASSWORD
    own: list[str] = field(default_factory=lambda: [OWN])
    represented: list[str] = field(default_factory=lambda: [REPRESENTED])
    assets: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {
            OWN: [
                {
                    "type": "meteringPoint",
                    "assetId": ASSET_1,
                    "gsrn": GSRN_1,
                    "fuseSize": "3x25",
                    "contractProductDesc": "Yösiirto 25 A",
                    "address": {"streetName": "Esimerkkitie", "houseNumber": "1"},
                }
            ],
            REPRESENTED: [
                {
                    "type": "meteringPoint",
                    "assetId": ASSET_2,
                    "gsrn": GSRN_2,
                    "fuseSize": "3x35",
                    "contractProductDesc": "Yleissiirto",
                    "address": {"streetName": "Mökkitie", "houseNumber": "7"},
                }
            ],
        }
    )
    hours: dict[str, dict[datetime, float | None]] = field(default_factory=dict)
    days_only: dict[str, dict[date, float]] = field(default_factory=dict)
    with_fees: bool = True
    shape: str = "flat"
    #: Energy rows in a changed shape, as a changed API would send them: ``"renamed"`` (the
    #: consumption under a name no version used) or ``"text"`` (kWh as text with its unit).
    #: None: the portal as it answers today.
    changed_shape: str | None = None
    redirect_in: str = "body"
    login_json_type: str = "text/html"
    meteringpoints: bool = True
    #: Extra rows only ``/assets/meteringpoints`` lists (2026 household meters), per customer.
    meteringpoint_extras: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    monthly_day_refused: bool = True
    #: Every monthly request answered with this status (a portal that stopped serving months).
    monthly_status: int | None = None
    #: The content type API JSON is labelled with.
    api_json_type: str = "application/json"
    ajax_script: bool = True
    require_browser: bool = True
    #: API requests answered with a maintenance page (HTML without a login form).
    maintenance_for_api: int = 0
    token_lifetime: float = 3600
    break_step: str | None = None
    #: The ``Retry-After`` header of a login start refused with 429 (``break_step="start_429"``).
    retry_after: str | None = "120"
    html_for_api: int = 0
    #: Energy requests answered normally before the energy endpoint starts failing.
    energy_fails_after: int | None = None
    energy_fail_status: int = 500
    energy_fail_text: str = "Internal Server Error"
    #: Headers of the failing energy answers (``Retry-After`` with a 429).
    energy_fail_headers: dict[str, str] = field(default_factory=dict)
    energy_delay: float = 0.0
    forbidden_customers: set[str] = field(default_factory=set)
    calls: Counter[str] = field(default_factory=Counter)
    energy_requests: list[tuple[str, str, int, int, int]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    tokens_issued: int = 0
    #: Every token handed out, kept after expiry (the privacy test looks for them in the logs).
    issued: list[str] = field(default_factory=list)
    plus_url: str = ""
    auth_url: str = ""
    _flows: dict[str, str] = field(default_factory=dict)
    _sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    _codes: dict[str, str] = field(default_factory=dict)

    def expire_tokens(self) -> None:
        self.tokens.clear()

    # -- plus: the OpenID client and the API ----------------------------------------------

    async def login_start(self, request: web.Request) -> web.StreamResponse:
        self.calls["start"] += 1
        if self.break_step == "start_429":
            headers = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
            return web.json_response({}, status=429, headers=headers)
        if self.break_step == "start_html":
            return web.Response(text="<html>Huoltokatko</html>", content_type="text/html")
        body = await request.json()
        assert body["language"] == "fi"
        assert body["redirectAfterLogin"].startswith(self.plus_url)
        if self.break_step == "start_no_url":
            return web.json_response({"redirectAfterLogin": body["redirectAfterLogin"]})
        state = secrets.token_hex(8)
        flow = secrets.token_hex(8)
        self._flows[flow] = state
        response = self._login_json(
            {"loginRedirectUrl": f"{self.auth_url}/oauth/authorize?client_id=plus&state={state}"}
        )
        response.set_cookie("plus_flow", flow)
        return response

    def _login_json(self, body: dict[str, Any]) -> web.Response:
        """JSON as the login endpoints send it: labelled text/html by the live portal."""
        return web.Response(text=json.dumps(body), content_type=self.login_json_type)

    async def token(self, request: web.Request) -> web.StreamResponse:
        self.calls["token"] += 1
        if self.break_step == "token_500":
            return web.Response(status=500)
        form = await request.post()
        flow = request.cookies.get("plus_flow", "")
        state = self._flows.pop(flow, None)
        if state is None or form.get("state") != state:
            return web.json_response({"error": "invalid state"}, status=400)
        if self._codes.pop(str(form.get("code")), None) != state or not form.get("session_state"):
            return web.json_response({"error": "invalid code"}, status=400)
        if self.break_step == "token_garbage":
            return web.json_response({"unexpected": True})
        token = f"{TOKEN_PREFIX}{secrets.token_hex(8)}"
        self.tokens.add(token)
        self.issued.append(token)
        self.tokens_issued += 1
        return self._login_json(
            {
                "token": token,
                "expiresAt": int(time.time() + self.token_lifetime),
                "user": {
                    "userName": self.username,
                    "ownCustomerNumbers": self.own,
                    "representedCustomerNumbers": self.represented,
                },
                "redirectAfterLogin": f"{self.plus_url}/",
            }
        )

    def _authorised(self, request: web.Request) -> web.Response | None:
        if self.html_for_api > 0:
            # The session is gone: the portal's login page instead of JSON.
            self.html_for_api -= 1
            return web.Response(
                text=(
                    "<!doctype html><html><body><h1>Kirjaudu sisään</h1>"
                    '<form method="post" action="/portal/login"><input name="ttqusername">'
                    '<input type="password" name="userPassword"></form></body></html>'
                ),
                content_type="text/html",
            )
        if self.maintenance_for_api > 0:
            self.maintenance_for_api -= 1
            return web.Response(
                text="<!doctype html><html><body>Huoltokatko: palvelu palaa pian</body></html>",
                content_type="text/html",
            )
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or header[7:] not in self.tokens:
            return web.json_response({"error": "unauthorized"}, status=401)
        return None

    async def assets_handler(self, request: web.Request) -> web.StreamResponse:
        self.calls["assets"] += 1
        if (denied := self._authorised(request)) is not None:
            return denied
        customer = request.match_info["customer"]
        if customer not in (*self.own, *self.represented) or customer in self.forbidden_customers:
            return web.json_response({"error": "forbidden"}, status=403)
        return self._api_json(self.assets.get(customer, []))

    async def meteringpoints_handler(self, request: web.Request) -> web.StreamResponse:
        """``/assets/meteringpoints`` (2026): the household meters, with their numbers."""
        self.calls["meteringpoints"] += 1
        if not self.meteringpoints:
            return web.json_response({"error": "not found"}, status=404)
        if (denied := self._authorised(request)) is not None:
            return denied
        customer = request.match_info["customer"]
        if customer not in (*self.own, *self.represented) or customer in self.forbidden_customers:
            return web.json_response({"error": "forbidden"}, status=403)
        rows = [
            {
                **asset,
                "type": "consumptionMeteringPoint",
                "meteringPointNumber": f"MP-{asset['assetId']}",
                "tabs": ["consumption"],
            }
            for asset in self.assets.get(customer, [])
        ]
        return self._api_json(rows + self.meteringpoint_extras.get(customer, []))

    def _api_json(self, body: Any) -> web.Response:
        return web.Response(text=json.dumps(body), content_type=self.api_json_type)

    async def energy_handler(self, request: web.Request) -> web.StreamResponse:
        self.calls["energy"] += 1
        if (denied := self._authorised(request)) is not None:
            return denied
        if self.energy_fails_after is not None:
            if self.energy_fails_after <= 0:
                return web.Response(
                    status=self.energy_fail_status,
                    text=self.energy_fail_text,
                    content_type="text/plain",
                    headers=self.energy_fail_headers,
                )
            self.energy_fails_after -= 1
        if self.energy_delay:
            await asyncio.sleep(self.energy_delay)
        asset = request.match_info["asset"]
        query = request.query
        timespan = query["timespan"]
        if timespan == "monthly" and "day" in query and self.monthly_day_refused:
            self.energy_requests.append((asset, "refused", int(query["year"]), 0, 0))
            return web.json_response({"error": "Bad Request"}, status=400)
        if timespan == "monthly" and self.monthly_status is not None:
            self.energy_requests.append((asset, "refused", int(query["year"]), 0, 0))
            return web.json_response({"error": "refused"}, status=self.monthly_status)
        year, month, day = int(query["year"]), int(query["month"]), int(query.get("day", 1))
        self.energy_requests.append((asset, timespan, year, month, day))
        hours = self.hours.get(asset, {})
        days_only = self.days_only.get(asset, {})
        rows: list[dict[str, Any]] = []
        if timespan == "daily":
            wanted = date(year, month, day)
            if wanted not in days_only:
                for start in local_day_hours(wanted):
                    if self.shape == "quarter":
                        rows.extend(self._quarters(start, hours.get(start)))
                    else:
                        rows.append(self._row(start, hours.get(start)))
        elif timespan == "monthly":
            current = date(year, month, 1)
            while current.month == month:
                values = [hours.get(h) for h in local_day_hours(current)]
                measured = [v for v in values if v is not None]
                value: float | None = sum(measured) if measured else days_only.get(current)
                midnight = datetime(current.year, current.month, current.day, tzinfo=HELSINKI)
                rows.append(self._row(midnight, value))
                current += timedelta(days=1)
        else:
            return web.json_response({"error": "bad timespan"}, status=400)
        if self.shape == "old":
            return self._api_json({"results": [{"type": timespan, "data": rows}]})
        if self.shape == "values":
            return self._api_json({"timespan": timespan, "values": rows})
        return self._api_json(rows)

    def _quarters(self, start: datetime, kwh: float | None) -> list[dict[str, Any]]:
        """15-minute rows: the hour split 10/20/30/40 % (a measured hour sums back exactly)."""
        shares = (0.1, 0.2, 0.3, 0.4)
        return [
            self._row(start + timedelta(minutes=15 * i), None if kwh is None else kwh * share)
            for i, share in enumerate(shares)
        ]

    def _row(self, start: datetime, kwh: float | None) -> dict[str, Any]:
        consumption_key = {"consumption": "consumption", "values": "invoicedConsumption"}.get(
            self.shape, "totalConsumption"
        )
        row: dict[str, Any] = {
            "timestamp": _stamp(start),
            consumption_key: kwh,
            "temperature": -3.5,
            "production": None,
        }
        if self.changed_shape == "renamed":
            row["energyKwh"] = row.pop(consumption_key)
        elif self.changed_shape == "text" and kwh is not None:
            row[consumption_key] = f"{kwh} kWh"
        if self.with_fees:
            if kwh is None:
                row.update(dict.fromkeys(fees(0.0)))
            else:
                row.update(fees(kwh))
        return row

    # -- auth: the Wicket login portal ----------------------------------------------------

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        self.calls["authorize"] += 1
        if self.break_step == "authorize_404":
            return web.Response(status=404)
        if self.break_step == "redirect_loop":
            return _redirect(f"/oauth/authorize?{request.query_string}")
        sid = secrets.token_hex(8)
        self._sessions[sid] = {
            "state": request.query["state"],
            "csrf": secrets.token_hex(6),
            "authenticated": False,
        }
        response = _redirect("/portal/ngResponder")
        response.set_cookie("JSESSIONID", sid)
        return response

    def _session(self, request: web.Request) -> dict[str, Any] | None:
        return self._sessions.get(request.cookies.get("JSESSIONID", ""))

    async def ng_responder(self, request: web.Request) -> web.StreamResponse:
        self.calls["ng_responder"] += 1
        return web.Response(
            text='<html><head><meta http-equiv="refresh" content="0;URL=/portal/login"></head></html>',
            content_type="text/html",
        )

    def _browser(self, request: web.Request) -> bool:
        return not self.require_browser or "Mozilla/5.0" in request.headers.get("User-Agent", "")

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        self.calls["login_page"] += 1
        if not self._browser(request):
            return web.Response(
                text="<html><body>Selaintasi ei tueta</body></html>", content_type="text/html"
            )
        session = self._session(request)
        if session is None:
            return web.Response(text="<html>Istunto vanhentui</html>", content_type="text/html")
        if self.break_step == "login_page_changed":
            return web.Response(
                text="<html><body><h1>Uusi kirjautuminen</h1><div id='app'></div></body></html>",
                content_type="text/html",
            )
        submit = (
            ""
            if self.break_step == "login_no_submit"
            else '<input type="submit" name="loginWithUserID" id="loginWithUserID5" value="Kirjaudu">'
        )
        # The live page binds the behaviour with "u" first; the button id it names has changed
        # over the years (here it names none), the behaviour's name has not.
        script = (
            'Wicket.Event.add(window, "domready", function(event) {\n'
            f'Wicket.Ajax.ajax({{"u":"./wicket/page?{AJAX_PATH}","m":"POST",'
            '"c":"id3f","f":"usernameLogin4","sc":"loginWithUserID","e":"click"});;\n});'
            if self.ajax_script
            else ""
        )
        return web.Response(
            text=f"""<!doctype html><html><head><title>Caruna</title>
<script type="text/javascript">
/*<![CDATA[*/
{script}
</script></head><body>
<form id="usernameLogin4" method="post" action="./login?{FORM_PATH}">
<div style="display:none"><input type="hidden" name="usernameLogin4_hf_0" id="usernameLogin4_hf_0" value=""></div>
<input type="hidden" name="csrfToken" value="{session["csrf"]}">
<input type="text" name="ttqusername" id="ttqusername1" value="">
<input type="password" name="userPassword" id="userPassword2" value="">
{submit}
</form></body></html>""",
            content_type="text/html",
        )

    async def wicket_ajax(self, request: web.Request) -> web.StreamResponse:
        return await self._login_post(request, AJAX_PATH)

    async def form_post(self, request: web.Request) -> web.StreamResponse:
        """The form's own action: Wicket takes the Ajax post there as well."""
        return await self._login_post(request, FORM_PATH)

    async def _login_post(self, request: web.Request, path: str) -> web.StreamResponse:
        self.calls["login_post"] += 1
        if self.break_step == "login_post_404" or request.query_string != path:
            return web.Response(
                status=404, text="<html>Page expired</html>", content_type="text/html"
            )
        if not self._browser(request):
            return web.Response(text="<html>Page expired</html>", content_type="text/html")
        session = self._session(request)
        headers = request.headers
        if (
            session is None
            or headers.get("Wicket-Ajax") != "true"
            or headers.get("X-Requested-With") != "XMLHttpRequest"
            or headers.get("Wicket-Ajax-BaseURL") != "login"
            or headers.get("Wicket-FocusedElementId") != "loginWithUserID5"
        ):
            return web.Response(text="<html>Page expired</html>", content_type="text/html")
        form = await request.post()
        if (
            form.get("csrfToken") != session["csrf"]
            or "usernameLogin4_hf_0" not in form
            or form.get("loginWithUserID") != "1"
        ):
            return web.Response(text="<html>Page expired</html>", content_type="text/html")
        if form.get("ttqusername") != self.username or form.get("userPassword") != self.password:
            return web.Response(
                text=(
                    '<?xml version="1.0" encoding="UTF-8"?><ajax-response>'
                    '<component id="feedback6"><![CDATA[<span>Virheellinen käyttäjätunnus '
                    "tai salasana</span>]]></component></ajax-response>"
                ),
                content_type="text/xml",
            )
        session["authenticated"] = True
        if self.redirect_in == "header":
            return web.Response(
                text='<?xml version="1.0" encoding="UTF-8"?><ajax-response></ajax-response>',
                content_type="text/xml",
                headers={"Ajax-Location": "./loggedin"},
            )
        return web.Response(
            text=(
                '<?xml version="1.0" encoding="UTF-8"?><ajax-response><redirect><![CDATA['
                f"{self.auth_url}/portal/loggedin]]></redirect></ajax-response>"
            ),
            content_type="text/xml",
        )

    async def logged_in(self, request: web.Request) -> web.StreamResponse:
        self.calls["logged_in"] += 1
        session = self._session(request)
        if session is None or not session["authenticated"]:
            return _redirect("/portal/login")
        if self.break_step == "after_login_changed":
            return web.Response(
                text="<html><body>Tervetuloa</body></html>", content_type="text/html"
            )
        return web.Response(
            text=(
                '<html><head><meta http-equiv="refresh" '
                f'content="0;URL={self.auth_url}/ngPostResponder?rid=42"></head></html>'
            ),
            content_type="text/html",
        )

    async def post_responder(self, request: web.Request) -> web.StreamResponse:
        self.calls["post_responder"] += 1
        session = self._session(request)
        if session is None or not session["authenticated"]:
            return web.Response(status=400)
        session["ticket"] = secrets.token_hex(6)
        return web.Response(
            text=f"""<html><body onload="document.forms[0].submit()">
<form method="post" action="{self.auth_url}/oauth/continue">
<input type="hidden" name="sessionTicket" value="{session["ticket"]}">
<noscript><input type="submit" value="Jatka"></noscript>
</form></body></html>""",
            content_type="text/html",
        )

    async def oauth_continue(self, request: web.Request) -> web.StreamResponse:
        self.calls["continue"] += 1
        session = self._session(request)
        form = await request.post()
        if session is None or form.get("sessionTicket") != session.get("ticket"):
            return web.Response(status=400)
        return _redirect("/oauth/authorize/finish")

    async def finish(self, request: web.Request) -> web.StreamResponse:
        self.calls["finish"] += 1
        session = self._session(request)
        if session is None or not session["authenticated"]:
            return web.Response(status=400)
        if self.break_step == "callback_without_code":
            return _redirect(f"{self.plus_url}/api/authorization/callback?error=denied")
        code = secrets.token_hex(8)
        self._codes[code] = session["state"]
        return _redirect(
            f"{self.plus_url}/api/authorization/callback?code={code}"
            f"&state={session['state']}&session_state={secrets.token_hex(4)}"
        )

    async def callback(self, request: web.Request) -> web.StreamResponse:
        # A client that followed the callback itself would land here and lose the code.
        self.calls["callback"] += 1
        return web.Response(status=404)

    def plus_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/authorization/login", self.login_start)
        app.router.add_post("/api/authorization/token", self.token)
        app.router.add_get("/api/authorization/callback", self.callback)
        app.router.add_get("/api/customers/{customer}/assets", self.assets_handler)
        app.router.add_get(
            "/api/customers/{customer}/assets/meteringpoints", self.meteringpoints_handler
        )
        app.router.add_get("/api/customers/{customer}/assets/{asset}/energy", self.energy_handler)
        return app

    def auth_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/oauth/authorize", self.authorize)
        app.router.add_get("/portal/ngResponder", self.ng_responder)
        app.router.add_get("/portal/login", self.login_page)
        app.router.add_post("/portal/wicket/page", self.wicket_ajax)
        app.router.add_post("/portal/login", self.form_post)
        app.router.add_get("/portal/loggedin", self.logged_in)
        app.router.add_get("/ngPostResponder", self.post_responder)
        app.router.add_post("/oauth/continue", self.oauth_continue)
        app.router.add_get("/oauth/authorize/finish", self.finish)
        return app


async def start_standin(portal: Portal) -> list[web.AppRunner]:
    """Serve Caruna Plus and its login portal on free ports of 127.0.0.1 (``portal.plus_url`` and
    ``portal.auth_url``); clean the returned runners up afterwards."""
    runners: list[web.AppRunner] = []
    urls: list[str] = []
    for app in (portal.plus_app(), portal.auth_app()):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        urls.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
    portal.plus_url, portal.auth_url = urls
    return runners


@asynccontextmanager
async def running_portal(portal: Portal | None = None) -> AsyncIterator[Portal]:
    """The stand-in for the length of a ``with`` block (tests that start several)."""
    portal = portal or Portal()
    runners = await start_standin(portal)
    try:
        yield portal
    finally:
        for runner in runners:
            await runner.cleanup()
