"""Every cloud client checks the shape of what it reads in one place and says what changed.

For each provider, an answer as the service gives it today passes its shape; the same answer with
a renamed field, a value that is no longer a number, or a unit we do not know raises the client's
own schema error (an ``ApiSchemaError``, so the api_changed repair), never a KeyError or
TypeError, and its text carries field names only: no identifier, no value.
"""

from __future__ import annotations

from collections.abc import Callable
import copy
import json
from typing import Any

import pytest

from custom_components.meterhub.api import (
    caruna_shapes,
    dsmr_reader_shapes,
    enedis_shapes,
    korto_shapes,
    octopus_shapes,
)
from custom_components.meterhub.api.caruna import CarunaSchemaError
from custom_components.meterhub.api.dsmr_reader import DsmrReaderSchemaError
from custom_components.meterhub.api.enedis import EnedisSchemaError
from custom_components.meterhub.api.errors import ApiSchemaError
from custom_components.meterhub.api.korto import KortoSchemaError
from custom_components.meterhub.api.octopus import OctopusSchemaError
from custom_components.meterhub.api.shapes import Shape

#: A value that must never show in an error: identifiers ride along in every sample.
SECRET_ID = "1200012345678"

type Change = Callable[[Any], None]


def _octopus() -> Any:
    return {
        "count": 1,
        "next": None,
        "results": [
            {
                "consumption": 0.25,
                "interval_start": "2026-12-01T00:00:00Z",
                "interval_end": "2026-12-01T00:30:00Z",
                "mpan": SECRET_ID,
            }
        ],
    }


def _enedis() -> Any:
    return {
        "idPrm": SECRET_ID,
        "pas": "PT30M",
        "grandeur": [
            {
                "grandeurMetier": "CONS",
                "grandeurPhysique": "PA",
                "unite": "W",
                "points": [{"v": "4078", "d": "2026-12-01 00:30:00", "p": "PT30M"}],
            }
        ],
    }


def _korto() -> Any:
    return {"meters": [{"id": SECRET_ID, "unit": "m3", "reading": "12,5", "type": "Vesi"}]}


def _caruna() -> Any:
    return [{"timestamp": "2026-12-01T00:00:00Z", "totalConsumption": 0.5, "gsrn": SECRET_ID}]


def _dsmr_reader() -> Any:
    return {
        "count": 1,
        "next": None,
        "results": [
            {
                "hour_start": "2026-12-01T00:00:00+01:00",
                "electricity1": "0.125",
                "electricity2": "0.000",
                "electricity1_returned": "0.000",
                "electricity2_returned": "0.000",
                "gas": None,
                "serial": SECRET_ID,
            }
        ],
    }


def _rename(path: list[Any], new: str) -> Change:
    def change(body: Any) -> None:
        holder = body
        for step in path[:-1]:
            holder = holder[step]
        holder[new] = holder.pop(path[-1])

    return change


def _set(path: list[Any], value: Any) -> Change:
    def change(body: Any) -> None:
        holder = body
        for step in path[:-1]:
            holder = holder[step]
        holder[path[-1]] = value

    return change


ENEDIS_UNIT = enedis_shapes.unit("courbe_de_charge_consommation", ("w", "kw"))

#: provider -> (a good answer, its shape, the client's error, {change name: change})
CASES: dict[str, tuple[Callable[[], Any], Shape, type[ApiSchemaError], dict[str, Change]]] = {
    "octopus": (
        _octopus,
        octopus_shapes.CONSUMPTION_PAGE,
        OctopusSchemaError,
        {
            "renamed": _rename(["results", 0, "consumption"], "consumption_kwh"),
            "text": _set(["results", 0, "consumption"], "0.25 kWh"),
        },
    ),
    "enedis": (
        _enedis,
        enedis_shapes.MEASUREMENT,
        EnedisSchemaError,
        {
            "renamed": _rename(["grandeur", 0, "points"], "valeurs"),
            "text": _set(["grandeur", 0, "points", 0, "v"], "n/a"),
        },
    ),
    "korto": (
        _korto,
        korto_shapes.METERS,
        KortoSchemaError,
        {
            "renamed": _rename(["meters", 0, "reading"], "value"),
            "text": _set(["meters", 0, "reading"], "12,5 m3"),
        },
    ),
    "caruna": (
        _caruna,
        caruna_shapes.ENERGY_ROWS,
        CarunaSchemaError,
        {
            "renamed": _rename([0, "totalConsumption"], "energy"),
            "text": _set([0, "totalConsumption"], "0,5 kWh"),
        },
    ),
    "dsmr_reader": (
        _dsmr_reader,
        dsmr_reader_shapes.HOUR_PAGE,
        DsmrReaderSchemaError,
        {
            "renamed": _rename(["results", 0, "electricity1"], "electricity1_kwh"),
            "text": _set(["results", 0, "electricity1"], {"value": "0.125"}),
        },
    ),
}

PARAMS = [
    pytest.param(provider, name, id=f"{provider}-{name}")
    for provider, (_, _, _, changes) in CASES.items()
    for name in changes
]


@pytest.mark.parametrize("provider", list(CASES))
def test_todays_answer_fits_its_shape(provider: str) -> None:
    make, shape, error, _ = CASES[provider]
    shape.check(make(), error)


@pytest.mark.parametrize(("provider", "change"), PARAMS)
def test_changed_answer_raises_the_clients_schema_error(provider: str, change: str) -> None:
    make, shape, error, changes = CASES[provider]
    body = copy.deepcopy(make())
    changes[change](body)
    with pytest.raises(error) as caught:
        shape.check(body, error)
    err = caught.value
    assert isinstance(err, ApiSchemaError)
    assert err.error_key == "api_changed"
    shown = json.dumps([str(err), err.placeholders, err.received])
    assert SECRET_ID not in shown
    assert "0.25" not in shown
    assert "12,5" not in shown
    assert "n/a" not in shown


def test_a_unit_we_do_not_know_is_a_changed_api() -> None:
    ENEDIS_UNIT.check("kW", EnedisSchemaError)
    with pytest.raises(EnedisSchemaError) as caught:
        ENEDIS_UNIT.check("MWh/h", EnedisSchemaError)
    assert caught.value.placeholders["expected"] == "one of kw, w"
    assert "MWh" not in str(caught.value)


def test_the_misfit_is_named_by_field_names_with_identifiers_masked() -> None:
    body = {"meters": [{"id": "x", "reading": "12,5"}], SECRET_ID: {"reading": []}}
    shape = Shape("meters", "an object", korto_shapes.METERS.schema)
    shape.check(body, KortoSchemaError)  # extra fields are fine
    body["meters"][0]["reading"] = []
    with pytest.raises(KortoSchemaError) as caught:
        shape.check(body, KortoSchemaError)
    assert caught.value.what == "meters (meters[0].reading)"
    assert SECRET_ID not in json.dumps(caught.value.received)


def test_the_repair_shows_the_part_that_did_not_fit() -> None:
    make, shape, error, changes = CASES["octopus"]
    renamed = copy.deepcopy(make())
    changes["renamed"](renamed)
    with pytest.raises(error) as caught:
        shape.check(renamed, error)
    # The row that lost its field, by field names; the sample keeps the whole answer's shape.
    assert caught.value.placeholders["received"] == (
        "an object with fields consumption_kwh, interval_end, interval_start, mpan"
    )
    assert caught.value.received["results"][1]["consumption_kwh"] == "float"
    text = copy.deepcopy(make())
    changes["text"](text)
    with pytest.raises(error) as caught:
        shape.check(text, error)
    assert caught.value.placeholders["received"] == "a str"
