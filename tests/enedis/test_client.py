"""The Conso API v2 client against the stand-in gateway and recorded answers: parsing and errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import itertools
import json
from pathlib import Path
import random
from typing import Any

from aiohttp import ClientError
from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.meterhub.api.enedis import (
    USER_AGENT,
    EnedisAuthError,
    EnedisClient,
    EnedisConnectionError,
    EnedisHistoryLimitError,
    EnedisNoDataError,
    EnedisRateLimitError,
    EnedisRequestError,
    EnedisResponseError,
    EnedisWrongPrmError,
    parse_load_curve,
    valid_prm,
)
from custom_components.meterhub.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiRateLimitError,
    ApiResponseError,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .standin import BASE, LEGACY, PARIS, PRM, TOKEN, FakeGateway, local_midnight

FIXTURES = Path(__file__).parent.parent / "fixtures" / "enedis"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def client(hass: HomeAssistant, token: str = TOKEN) -> EnedisClient:
    return EnedisClient(async_get_clientsession(hass), token, PRM)


def labels(day: date, minutes: int = 30) -> list[str]:
    """Interval ends of a Paris day as Enedis writes them: naive local time."""
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    ends, moment = [], start + timedelta(minutes=minutes)
    while moment <= end:
        ends.append(moment.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S"))
        moment += timedelta(minutes=minutes)
    return ends


def test_prm_is_fourteen_digits() -> None:
    assert valid_prm("12345678901234")
    assert not valid_prm("1234567890123")
    assert not valid_prm("1234567890123a")
    assert not valid_prm("123456789012345")


def test_load_curve_watts_become_wh_at_interval_start() -> None:
    points = parse_load_curve(
        [
            {"v": "1200", "d": "2026-06-01 00:30:00", "p": "PT30M", "n": "B"},
            {"v": "600", "d": "2026-06-01 01:00:00"},  # no p: the answer's step (30 min)
            {"v": None, "d": "2026-06-01 01:30:00", "p": "PT30M"},  # not measured: nothing
            {"v": "900", "d": "2026-06-01 02:10:00", "p": "PT10M"},
        ]
    )
    # 00:00-00:30 Paris (CEST) is 22:00-22:30 UTC the day before; 1200 W for 30 min = 600 Wh.
    assert [(p.start, p.minutes, p.wh) for p in points] == [
        (datetime(2026, 5, 31, 22, 0, tzinfo=UTC), 30, 600.0),
        (datetime(2026, 5, 31, 22, 30, tzinfo=UTC), 30, 300.0),
        (datetime(2026, 6, 1, 0, 0, tzinfo=UTC), 10, 150.0),
    ]
    assert points[0].local_day == date(2026, 6, 1)
    # The 00:00 point closes the previous day.
    [last] = parse_load_curve([{"v": "1000", "d": "2026-06-02 00:00:00", "p": "PT30M"}])
    assert last.local_day == date(2026, 6, 1)
    for bad in ("P1D", "PT7M", "soon"):
        with pytest.raises(EnedisResponseError):
            parse_load_curve([{"v": "1", "d": "2026-06-01 00:30:00", "p": bad}])


@pytest.mark.parametrize("minutes", [10, 15, 30, 60])
def test_dst_days_have_every_interval_once(minutes: int) -> None:
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    per_hour = 60 // minutes
    spring_labels, autumn_labels = labels(spring, minutes), labels(autumn, minutes)
    assert len(spring_labels) == 23 * per_hour  # 46 half hours
    assert len(autumn_labels) == 25 * per_hour  # 50 half hours
    # The autumn day repeats the wall-clock ends of the 02:xx hour (summer, then winter time).
    assert len(set(autumn_labels)) == 24 * per_hour
    for day, ends in ((spring, spring_labels), (autumn, autumn_labels)):
        points = parse_load_curve([{"v": "1000", "d": end, "p": f"PT{minutes}M"} for end in ends])
        assert len(points) == len(ends)
        starts = [p.start for p in points]
        assert starts == sorted(set(starts))
        assert all(b - a == timedelta(minutes=minutes) for a, b in itertools.pairwise(starts))
        assert {p.local_day for p in points} == {day}
        assert sum(p.wh for p in points) == 1000 * len(ends) * minutes / 60


def test_autumn_fold_is_told_apart_by_the_order_of_the_answer() -> None:
    """Ascending (as sent) or reversed: exact. Shuffled: the repeated hour's readings averaged."""
    recorded = fixture("courbe_de_charge_consommation_autumn.json")["grandeur"][0]["points"]
    assert len(recorded) == 50
    exact = {p.start: p.wh for p in parse_load_curve(recorded)}
    assert len(exact) == 50
    # The n-th half hour of the day carries 100 x n W: check the fold hour by UTC instant.
    start = local_midnight(date(2026, 10, 25))
    assert [exact[start + timedelta(minutes=30 * n)] for n in range(50)] == [
        100 * (n + 1) / 2 for n in range(50)
    ]
    assert {p.start: p.wh for p in parse_load_curve(recorded[::-1])} == exact
    shuffled = list(recorded)
    random.Random(7).shuffle(shuffled)
    mixed = {p.start: p.wh for p in parse_load_curve(shuffled)}
    assert set(mixed) == set(exact)
    differing = sorted(moment for moment in exact if mixed[moment] != exact[moment])
    # Only the four repeated half hours (02:00 and 02:30 ends, twice) are evened out, in pairs.
    assert len(differing) == 4
    assert {m.astimezone(PARIS).hour for m in differing} <= {1, 2}
    assert sum(mixed.values()) == sum(exact.values())
    assert sum(mixed[m] for m in differing) == sum(exact[m] for m in differing)


def test_a_null_summer_reading_keeps_the_winter_one_in_its_own_slot() -> None:
    recorded = fixture("courbe_de_charge_consommation_autumn.json")["grandeur"][0]["points"]
    first_two = [n for n, p in enumerate(recorded) if p["d"].endswith("02:00:00")]
    assert len(first_two) == 2
    summer, winter = first_two
    points = [dict(p) for p in recorded]
    points[summer]["v"] = None
    for order in (points, points[::-1]):
        parsed = {p.start: p.wh for p in parse_load_curve(order)}
        # The half hour ending 02:00 CEST (00:00 UTC) is missing; the one ending 02:00 CET
        # (01:00 UTC) keeps its own value.
        assert datetime(2026, 10, 24, 23, 30, tzinfo=UTC) not in parsed
        assert parsed[datetime(2026, 10, 25, 0, 30, tzinfo=UTC)] == 100 * (winter + 1) / 2
        assert len(parsed) == 49
    shuffled = list(points)
    random.Random(3).shuffle(shuffled)
    parsed = {p.start: p.wh for p in parse_load_curve(shuffled)}
    assert len(parsed) == 48  # the order cannot tell which is null: neither is booked


async def test_recorded_answers_through_the_client(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    aioclient_mock.get(
        f"{BASE}consommation_quotidienne", json=fixture("consommation_quotidienne.json")
    )
    aioclient_mock.get(
        f"{BASE}puissance_conso_max_quotidienne",
        json=fixture("puissance_conso_max_quotidienne.json"),
    )
    aioclient_mock.get(
        f"{BASE}courbe_de_charge_production",
        json=fixture("courbe_de_charge_production_pt60m.json"),
    )
    api = client(hass)
    days = await api.daily("consumption", date(2026, 9, 29), date(2026, 10, 1))
    # Sept 30 is null: not measured, so not booked (and not zero).
    assert [(d.day, d.wh) for d in days] == [(date(2026, 9, 29), 33495.0)]
    power = await api.max_power(date(2026, 9, 29), date(2026, 10, 1))
    assert [(p.day, p.va) for p in power] == [
        (date(2026, 9, 29), 4680.0),
        (date(2026, 9, 30), 6510.0),
    ]
    assert power[0].at == datetime(2026, 9, 29, 11, 3, 35, tzinfo=UTC)
    produced = await api.load_curve("production", date(2026, 9, 29), date(2026, 9, 30))
    assert len(produced) == 23  # 24 hours, the null one left out
    assert {p.minutes for p in produced} == {60}
    assert produced[12].start == local_midnight(date(2026, 9, 29)) + timedelta(hours=13)
    assert produced[12].wh == 3000.0
    # The right direction is checked: a production answer to a consumption request is refused.
    aioclient_mock.get(
        f"{BASE}courbe_de_charge_consommation",
        json=fixture("courbe_de_charge_production_pt60m.json"),
    )
    with pytest.raises(EnedisResponseError, match="PROD"):
        await api.load_curve("consumption", date(2026, 9, 29), date(2026, 9, 30))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"grandeurMetier": "PROD"}, "PROD"),
        ({"unite": "kWh"}, "unit"),  # energy where power is expected
        ({"unite": "Wh/h"}, "unit"),
        ({"points": "none"}, "points"),
    ],
)
async def test_wrong_direction_or_unit_is_an_error_never_booked(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, change: dict[str, Any], message: str
) -> None:
    body = fixture("courbe_de_charge_consommation_autumn.json")
    body["grandeur"][0].update(change)
    aioclient_mock.get(f"{BASE}courbe_de_charge_consommation", json=body)
    with pytest.raises(EnedisResponseError, match=message):
        await client(hass).load_curve("consumption", date(2026, 10, 25), date(2026, 10, 26))


async def test_kilo_units_are_scaled(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    body = fixture("consommation_quotidienne.json")
    body["grandeur"][0]["unite"] = "kWh"
    aioclient_mock.get(f"{BASE}consommation_quotidienne", json=body)
    days = await client(hass).daily("consumption", date(2026, 9, 29), date(2026, 10, 1))
    assert days[0].wh == 33_495_000.0


@pytest.mark.parametrize("minutes", [10, 15, 30, 60])
async def test_requests_use_v2_types_and_parameters(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    minutes: int,
) -> None:
    freezer.move_to("2026-06-10 10:00:00+00:00")
    gateway = FakeGateway(aioclient_mock, step_minutes=minutes)
    gateway.install()
    api = client(hass)
    points = await api.load_curve("consumption", date(2026, 6, 1), date(2026, 6, 3))
    assert len(points) == 48 * 60 // minutes
    assert {p.minutes for p in points} == {minutes}
    assert sum(p.wh for p in points) == 48_000.0
    daily = await api.daily("consumption", date(2026, 6, 1), date(2026, 6, 3))
    assert [(d.day, d.wh) for d in daily] == [
        (date(2026, 6, 1), 24_000.0),
        (date(2026, 6, 2), 24_000.0),
    ]
    power = await api.max_power(date(2026, 6, 1), date(2026, 6, 2))
    assert power[0].va == 6120.0
    assert power[0].at == datetime(2026, 6, 1, 17, 12, 40, tzinfo=UTC)
    request = gateway.requests[0]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["User-Agent"] == USER_AGENT
    assert request.params == {"pointId": PRM, "dateDebut": "2026-06-01", "dateFin": "2026-06-03"}
    assert [r.kind for r in gateway.requests] == [
        "courbe_de_charge_consommation",
        "consommation_quotidienne",
        "puissance_conso_max_quotidienne",
    ]
    assert gateway.requests[2].params["mesuresPas"] == "P1D"
    assert api.requests == 3
    with pytest.raises(ValueError, match="7 days"):
        await api.load_curve("consumption", date(2026, 6, 1), date(2026, 6, 9))
    assert api.requests == 3  # refused locally, nothing sent


async def test_stand_in_answers_legacy_types_404(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, freezer: FrozenDateTimeFactory
) -> None:
    """Like the gateway since October 2026: a client still on the legacy API gets nothing."""
    freezer.move_to("2026-06-10 10:00:00+00:00")
    FakeGateway(aioclient_mock).install()
    session = async_get_clientsession(hass)
    for kind in sorted(LEGACY):
        response = await session.get(
            f"{BASE}{kind}",
            params={"prm": PRM, "start": "2026-06-01", "end": "2026-06-02"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert response.status == 404


@pytest.mark.parametrize(
    ("status", "error", "description", "raised", "base"),
    [
        (401, "invalid_token", "token invalide", EnedisAuthError, ApiAuthError),
        (403, "forbidden", "no access to this PRM", EnedisAuthError, ApiAuthError),
        (
            404,
            "no_data_found",
            "no measure found for this usage point",
            EnedisNoDataError,
            ApiResponseError,
        ),
        (
            400,
            "ADAM-ERR0123",
            "The requested period cannot be anterior to the meter's last activation date",
            EnedisHistoryLimitError,
            ApiResponseError,
        ),
        (
            400,
            "ADAM-ERR0124",
            "The start date must be greater than the history deadline.",
            EnedisHistoryLimitError,
            ApiResponseError,
        ),
        (
            400,
            "ADAM-ERR0025",
            "The start date must be before the end date.",
            EnedisRequestError,
            ApiResponseError,
        ),
        (500, "technical_error", "technical error", EnedisConnectionError, ApiConnectionError),
        (418, "teapot", "odd", EnedisResponseError, ApiResponseError),
    ],
)
async def test_status_codes_map_to_the_error_tree_with_enedis_words(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    *,
    status: int,
    error: str,
    description: str,
    raised: type[Exception],
    base: type[Exception],
) -> None:
    body = {
        "status": status,
        "message": "The Enedis API returned an error",
        "error": {"error": error, "error_description": f"{description} (point {PRM})"},
    }
    aioclient_mock.get(f"{BASE}consommation_quotidienne", status=status, json=body)
    with pytest.raises(raised) as caught:
        await client(hass).daily("consumption", date(2026, 6, 1), date(2026, 6, 2))
    assert type(caught.value) is raised
    assert isinstance(caught.value, base)
    assert caught.value.description == f"{description} (point <prm>)"
    assert caught.value.status == status
    assert caught.value.placeholders == {"gateway_error": f"{description} (point <prm>)"}
    assert PRM not in str(caught.value)  # identifiers never reach messages or logs


async def test_a_plain_400_from_the_gateway_itself_keeps_its_message(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    body = {"status": 400, "message": "Le header 'Authorization' est manquant ou invalide"}
    aioclient_mock.get(f"{BASE}consommation_quotidienne", status=400, json=body)
    with pytest.raises(EnedisRequestError) as caught:
        await client(hass).daily("consumption", date(2026, 6, 1), date(2026, 6, 2))
    assert caught.value.error_key == "request_refused"
    assert caught.value.description == body["message"]


async def test_rate_limit_keeps_retry_after(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    aioclient_mock.get(
        f"{BASE}consommation_quotidienne", status=429, headers={"Retry-After": "120"}
    )
    with pytest.raises(EnedisRateLimitError) as caught:
        await client(hass).daily("consumption", date(2026, 6, 1), date(2026, 6, 2))
    assert isinstance(caught.value, ApiRateLimitError)
    assert caught.value.retry_after == 120.0


@pytest.mark.parametrize(
    "text",
    [
        "<html>maintenance</html>",
        '{"interval_reading": []}',  # the legacy shape is not read any more
        '{"grandeur": "nope"}',
        "[]",
        "",
    ],
)
async def test_garbage_is_a_response_error(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, text: str
) -> None:
    aioclient_mock.get(f"{BASE}consommation_quotidienne", text=text)
    with pytest.raises(EnedisResponseError):
        await client(hass).daily("consumption", date(2026, 6, 1), date(2026, 6, 2))


async def test_answer_for_another_prm_is_refused(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to("2026-06-10 10:00:00+00:00")
    gateway = FakeGateway(aioclient_mock, answer_for_prm="99999999999999")
    gateway.install()
    with pytest.raises(EnedisWrongPrmError) as caught:
        await client(hass).daily("consumption", date(2026, 6, 1), date(2026, 6, 2))
    assert caught.value.error_key == "wrong_prm"
    assert "99999999999999" not in str(caught.value)


@pytest.mark.parametrize("exc", [ClientError(f"reset for pointId={PRM}"), TimeoutError()])
async def test_network_failures_are_connection_errors(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, exc: Exception
) -> None:
    aioclient_mock.get(f"{BASE}consommation_quotidienne", exc=exc)
    with pytest.raises(EnedisConnectionError) as caught:
        await client(hass).daily("consumption", date(2026, 6, 1), date(2026, 6, 2))
    assert PRM not in str(caught.value)
