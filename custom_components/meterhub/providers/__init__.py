"""The registry of providers. Each provider module registers itself here."""

from __future__ import annotations

from .base import ProviderRegistry
from .dsmr_reader import DsmrReaderProvider

REGISTRY = ProviderRegistry()
REGISTRY.register(DsmrReaderProvider())
