"""The registry of providers. Each provider module registers itself here."""

from __future__ import annotations

from .base import ProviderRegistry
from .caruna import CarunaProvider

REGISTRY = ProviderRegistry()
REGISTRY.register(CarunaProvider())
