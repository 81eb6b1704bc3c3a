"""A local stand-in for Korto's GraphQL endpoint, speaking the two documented queries.

It runs as a real aiohttp server on 127.0.0.1. It authenticates by the ``auth_token`` cookie,
checks that a request is one of the two operations the web app sends (name, ``$id: ID!``
variable, the fields asked for), answers from the fixtures in ``tests/fixtures/korto`` and, as
Korto does, reports GraphQL errors with HTTP 200. Tests change its state (readings, tokens,
failures) between polls and read what it received.
"""

from __future__ import annotations

import asyncio
import base64
import copy
from dataclasses import dataclass, field
import json
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

FIXTURES = Path(__file__).parent.parent / "fixtures" / "korto"
APARTMENT_ID = "12345"
VIEWER_ID = "5001"


def make_jwt(exp: int = 1924992000, sub: str = "resident@example.ee") -> str:
    """A JWT-shaped token (the stand-in does not check signatures, nor does our client)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': sub, 'exp': exp})}.c2lnbmF0dXJl"


GOOD_TOKEN = make_jwt()
OTHER_TOKEN = make_jwt(sub="other@example.ee")


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


_METER_FIELDS = (
    "id",
    "type",
    "description",
    "unit",
    "step",
    "precision",
    "reading",
    "reading_date",
    "reading_origin",
    "consumption",
)
_BALANCE_FIELDS = ("balance", "balance_date", "last_payment", "last_payment_date")


@dataclass
class KortoStandIn:
    """The remote end's state and what it has seen."""

    tokens: set[str] = field(default_factory=lambda: {GOOD_TOKEN})
    meters: list[dict[str, Any]] = field(
        default_factory=lambda: load_fixture("meters.json")["data"]["viewer"]["apartment"]["meters"]
    )
    balance: dict[str, Any] | None = field(
        default_factory=lambda: load_fixture("balance.json")["data"]["viewer"]["apartment"][
            "balance"
        ]
    )
    apartments: set[str] = field(default_factory=lambda: {APARTMENT_ID})
    #: Meters in a changed shape, as a changed API would send them: ``"renamed"`` (``reading``
    #: under another name) or ``"text"`` (readings with their unit written in). None: today's.
    changed_shape: str | None = None
    #: A raw answer for the next requests instead of the normal one: (status, body, headers).
    override: tuple[int, str, dict[str, str]] | None = None
    #: GraphQL errors added to every answer (data stays as it would be).
    extra_errors: list[dict[str, Any]] | None = None
    #: Drop ``data`` when ``extra_errors`` are given (a whole-query failure).
    errors_drop_data: bool = True
    #: A cookie the server sets on every answer, as a session-minded backend might.
    set_cookie: str | None = None
    delay: float = 0.0
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)

    def meter(self, meter_id: str) -> dict[str, Any]:
        return next(meter for meter in self.meters if meter["id"] == meter_id)

    def set_reading(self, meter_id: str, reading: Any, reading_date: str | None) -> None:
        meter = self.meter(meter_id)
        meter["reading"] = reading
        meter["reading_date"] = reading_date

    def operations(self) -> list[str]:
        return [request["operationName"] for request in self.requests]

    async def handle(self, request: web.Request) -> web.Response:
        raw_body = await request.text()
        try:
            body = json.loads(raw_body)
        except ValueError:
            body = {}
        self.requests.append(
            {
                "operationName": body.get("operationName"),
                "variables": body.get("variables"),
                "cookie_header": request.headers.get("Cookie"),
                "token": request.cookies.get("auth_token"),
                "content_type": request.content_type,
            }
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.override is not None:
            status, text, headers = self.override
            return web.Response(status=status, text=text, headers=headers)
        problem = _check_operation(request.content_type, body)
        if problem is not None:
            return web.json_response({"errors": [{"message": problem}]}, status=400)
        headers = {"Set-Cookie": self.set_cookie} if self.set_cookie else None
        return web.json_response(
            self._answer(body, request.cookies.get("auth_token")), headers=headers
        )

    def _answer(self, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        if token not in self.tokens:
            return {
                "errors": [
                    {
                        "message": "Unauthenticated.",
                        "extensions": {"category": "authentication"},
                        "locations": [{"line": 2, "column": 3}],
                        "path": ["viewer"],
                    }
                ],
                "data": {"viewer": None},
            }
        apartment_id = str(body["variables"]["id"])
        if apartment_id not in self.apartments:
            return {
                "errors": [
                    {
                        "message": "No query results for model [App\\Models\\Apartment] "
                        + apartment_id,
                        "extensions": {"category": "graphql"},
                        "path": ["viewer", "apartment"],
                    }
                ],
                "data": {"viewer": {"id": VIEWER_ID, "apartment": None, "__typename": "Viewer"}},
            }
        apartment: dict[str, Any] = {"id": apartment_id, "__typename": "Apartment"}
        if body["operationName"] == "GetMetersData":
            apartment["meters"] = copy.deepcopy(self.meters)
            for meter in apartment["meters"]:
                if self.changed_shape == "renamed":
                    meter["value"] = meter.pop("reading")
                elif self.changed_shape == "text":
                    meter["reading"] = f"{meter['reading']} {meter.get('unit') or 'm3'}"
            apartment.update(readings_allowed=True, readings_start="20", readings_end="31")
        else:
            apartment["balance"] = copy.deepcopy(self.balance)
        answer: dict[str, Any] = {
            "data": {"viewer": {"id": VIEWER_ID, "apartment": apartment, "__typename": "Viewer"}}
        }
        if self.extra_errors:
            answer["errors"] = copy.deepcopy(self.extra_errors)
            if self.errors_drop_data:
                answer["data"] = None
        return answer


def _check_operation(content_type: str, body: dict[str, Any]) -> str | None:
    """Reject what the real endpoint would not understand, as a GraphQL server does (400)."""
    if content_type != "application/json":
        return "Expected a JSON body"
    operation = body.get("operationName")
    query = body.get("query") or ""
    variables = body.get("variables")
    if operation == "GetMetersData":
        fields = _METER_FIELDS
    elif operation == "GetApartmentBalance":
        fields = _BALANCE_FIELDS
    else:
        return f'Unknown operation named "{operation}".'
    if f"query {operation}($id: ID!" not in query or "apartment(id: $id)" not in query:
        return "Syntax Error: the query does not match the operation"
    if not isinstance(variables, dict) or not isinstance(variables.get("id"), str):
        return 'Variable "$id" of required type "ID!" was not provided.'
    missing = [name for name in fields if name not in query]
    if missing:
        return f"Cannot query: fields missing {missing}"
    return None


async def start_standin(standin: KortoStandIn) -> TestServer:
    app = web.Application()
    app.router.add_post("/api/", standin.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


def base_url(server: TestServer) -> str:
    return str(server.make_url("/api/"))
