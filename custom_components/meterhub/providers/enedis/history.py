"""What goes into long-term statistics for an Enedis usage point, and under which ids.

Every statistic is re-derived from the stored readings (see :mod:`.ledger`) for whole Paris days,
so a day first known by its daily total is replaced, hour by hour, once its load curve arrives;
the shared importer upserts whole hours and never counts an hour twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Final

from homeassistant.core import HomeAssistant

from ...statistics import ENERGY_KWH, StatisticSeries, async_import_series
from .ledger import Ledger, project
from .tariff import Tariff

CURRENCY: Final = "EUR"


class EnedisSeries:
    """The statistics of one usage point (ids ``meterhub:<key>_<prm>_<quantity>``)."""

    def __init__(self, key: str, prm: str) -> None:
        """Name every series once."""

        def series(quantity: str, name: str, unit: str = ENERGY_KWH) -> StatisticSeries:
            return StatisticSeries(provider=key, meter=prm, quantity=quantity, name=name, unit=unit)

        self.consumption = series("consumption", "Linky consumption")
        self.peak = series("consumption_peak", "Linky consumption peak hours")
        self.offpeak = series("consumption_offpeak", "Linky consumption off-peak hours")
        self.cost = series("cost", "Linky cost", CURRENCY)
        self.cost_peak = series("cost_peak", "Linky cost peak hours", CURRENCY)
        self.cost_offpeak = series("cost_offpeak", "Linky cost off-peak hours", CURRENCY)
        self.production = series("production", "Linky production")


async def async_import_days(
    hass: HomeAssistant,
    series: EnedisSeries,
    tariff: Tariff,
    consumption: tuple[Ledger, Iterable[date]],
    production: tuple[Ledger, Iterable[date]] | None,
) -> None:
    """Write the hours of the given days into every statistic (whole days, see ledger.py).

    ``production`` is None when production is not fetched. Without off-peak windows the split
    would repeat the total: no peak/off-peak series then; without prices, no cost series.
    """
    # A year of half hours takes about half a second to project: keep it off the event loop.
    ledger, days = consumption
    hours = await hass.async_add_executor_job(project, ledger, set(days), tariff)
    split = bool(tariff.windows)
    pairs = [(series.consumption, hours.total)]
    if split:
        pairs += [(series.peak, hours.peak), (series.offpeak, hours.offpeak)]
    if tariff.priced:
        pairs.append((series.cost, hours.cost))
        if split:
            pairs += [
                (series.cost_peak, hours.cost_peak),
                (series.cost_offpeak, hours.cost_offpeak),
            ]
    if production is not None:
        ledger, days = production
        produced = await hass.async_add_executor_job(project, ledger, set(days), tariff)
        pairs.append((series.production, produced.total))
    for statistic, values in pairs:
        if values:
            await async_import_series(hass, statistic, values)
