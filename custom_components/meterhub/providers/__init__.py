"""The registry of providers. Each provider module registers itself here."""

from __future__ import annotations

from .base import ProviderRegistry
from .enedis import EnedisProvider

REGISTRY = ProviderRegistry()
# Menu order: dsmr, dsmr_reader, octopus, enedis, caruna, korto.
REGISTRY.register(EnedisProvider())
