"""The registry of providers, in the order the config flow's menu offers them."""

from __future__ import annotations

from .base import ProviderRegistry
from .caruna import CarunaProvider
from .korto import KortoProvider

REGISTRY = ProviderRegistry()
for provider in (CarunaProvider(), KortoProvider()):
    REGISTRY.register(provider)
