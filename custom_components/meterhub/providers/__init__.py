"""The registry of providers, in the order the config flow's menu offers them."""

from __future__ import annotations

from .base import ProviderRegistry
from .caruna import CarunaProvider
from .dsmr import DsmrProvider
from .dsmr_reader import DsmrReaderProvider
from .enedis import EnedisProvider
from .korto import KortoProvider
from .octopus import OctopusProvider

REGISTRY = ProviderRegistry()
for provider in (
    DsmrProvider(),
    DsmrReaderProvider(),
    OctopusProvider(),
    EnedisProvider(),
    CarunaProvider(),
    KortoProvider(),
):
    REGISTRY.register(provider)
