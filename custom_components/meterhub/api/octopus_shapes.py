"""The shapes of the Octopus answers the client reads, in one place.

REST (``api.octopus.energy/v1``): paged lists ``{count, next, previous, results: [...]}``;
consumption rows ``{consumption: number, interval_start, interval_end}``; rate rows
``{value_inc_vat: number, valid_from, valid_to, payment_method}``; an account
``{number, properties: [...]}``. GraphQL (Kraken): the balance is a number of pence; telemetry is a
list of readings or null; the account lists its active agreements' meter points with their active
meters (a gas meter with its ``consumptionUnits``, the one place that says kWh or m³) and tariffs.
The client checks every answer against these before it reads it.
"""

from __future__ import annotations

from typing import Any, Final

import probatio as vol

from .shapes import Shape, nullable, number, one_of_units, record


def _page_of(row: vol.Schema) -> vol.Schema:
    return record({vol.Required("results"): [row], vol.Optional("next"): nullable(str)})


CONSUMPTION_PAGE: Final = Shape(
    "consumption",
    "a paged list of half-hour rows, each with a number of kWh and its start and end",
    _page_of(
        record(
            {
                vol.Required("consumption"): number,
                vol.Required("interval_start"): str,
                vol.Required("interval_end"): str,
            }
        )
    ),
)
RATES_PAGE: Final = Shape(
    "rates",
    "a paged list of rates, each with a price including VAT",
    _page_of(
        record(
            {
                vol.Required("value_inc_vat"): number,
                vol.Optional("valid_from"): nullable(str),
                vol.Optional("valid_to"): nullable(str),
                vol.Optional("payment_method"): nullable(str),
            }
        )
    ),
)
ACCOUNT: Final = Shape(
    "account", "an account with a list of properties", record({vol.Required("properties"): list})
)
BALANCE: Final = Shape(
    "balance",
    "an account with a balance in pence",
    record({vol.Required("account"): record({vol.Required("balance"): number})}),
)
TELEMETRY: Final = Shape(
    "telemetry",
    "a list of readings, each with its time",
    record(
        {
            vol.Optional("smartMeterTelemetry"): nullable(
                [record({vol.Required("readAt"): nullable(str)})]
            )
        }
    ),
)


#: ``consumptionUnits`` as Kraken writes it (``KWH``, ``MQ``) and the spellings seen elsewhere;
#: anything else (or nothing) is a misfit: a gas meter's unit is never guessed.
GAS_UNITS: Final = ("KWH", "kWh", "MQ", "m3", "m³")


def _graphql_point(identifier: str, meter: dict[Any, Any]) -> vol.Schema:
    return record(
        {
            vol.Required("meterPoint"): record(
                {
                    vol.Required(identifier): str,
                    vol.Optional("direction"): nullable(str),
                    vol.Required("meters"): [record(meter)],
                    vol.Required("agreements"): [
                        record(
                            {
                                vol.Optional("validFrom"): nullable(str),
                                vol.Optional("validTo"): nullable(str),
                                # ``... on TariffType``: another kind of tariff comes as {}
                                vol.Required("tariff"): nullable(
                                    record(
                                        {
                                            vol.Optional("tariffCode"): str,
                                            vol.Optional("productCode"): nullable(str),
                                        }
                                    )
                                ),
                            }
                        )
                    ],
                }
            )
        }
    )


GRAPHQL_ACCOUNT: Final = Shape(
    "account",
    "an account with its electricity and gas agreements, each with a meter point, its meters "
    "(serial numbers; gas meters with a unit of kWh or m³) and its tariffs",
    record(
        {
            vol.Optional("balance"): nullable(number),
            vol.Required("electricityAgreements"): [
                _graphql_point("mpan", {vol.Required("serialNumber"): str})
            ],
            vol.Required("gasAgreements"): [
                _graphql_point(
                    "mprn",
                    {
                        vol.Required("serialNumber"): str,
                        vol.Required("consumptionUnits"): one_of_units(GAS_UNITS),
                    },
                )
            ],
        }
    ),
)
