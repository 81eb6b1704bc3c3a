"""What a provider supplies to the shared spine: a form, a validation call and a runtime.

The config flow, setup, unload, diagnostics and the sensor platform are written once against this
contract; a provider module only says what is particular to its source.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final

import probatio as vol

from homeassistant.components.sensor import SensorEntity
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from ..const import CONF_PROVIDER, DOMAIN

if TYPE_CHECKING:
    from ..privacy_rename import LegacyNames

#: Entry data key of a cloud service's address: absent means the service itself. An advanced option
#: (the form shows it only in advanced mode) for going through a proxy or a local copy of the API.
CONF_BASE_URL: Final = "base_url"


def base_url(data: Mapping[str, Any], default: str) -> str:
    """The address a client talks to: the entry's ``base_url`` if it has one, else ``default``."""
    return str(data.get(CONF_BASE_URL) or default)


def device_id(key: str, *parts: str) -> str:
    """The device registry identifier of a meter or account: ``<provider key>_<part>_<part>...``.

    It is also the prefix of the unique ids of the device's entities (``<device id>_<sensor key>``)
    and must never change: users' entities hang on it. Pass the provider class's ``key``.
    """
    return "_".join((key, *parts))


def entry_title(hass: HomeAssistant, key: str, name: str, unique_id: str) -> str:
    """An entry title that says what the entry is, never whose: "Korto apartment", "Caruna Plus 2".

    Home Assistant logs titles on every retry and writes them into repair texts, so a user name,
    account or meter number there would end up in every pasted log. The number tells apart
    several entries of one provider (rename them as you like).
    """
    others = [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.data.get(CONF_PROVIDER) == key and entry.unique_id != unique_id
    ]
    return name if not others else f"{name} {len(others) + 1}"


def number_box(minimum: float, maximum: float, unit: str) -> NumberSelector:
    """A whole-number field typed into a box (intervals, depths) for a provider's form."""
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=1,
            unit_of_measurement=unit,
            mode=NumberSelectorMode.BOX,
        )
    )


@dataclass(frozen=True, kw_only=True)
class Validated:
    """What a successful validation learned: the entry's title, unique id and normalised data."""

    title: str
    unique_id: str
    data: Mapping[str, Any]


class ProviderRuntime:
    """Everything one config entry holds while it is loaded (``entry.runtime_data``).

    Providers subclass it to keep their client and coordinators; the defaults cover the usual case.
    """

    def __init__(self, coordinators: Iterable[DataUpdateCoordinator[Any]] = ()) -> None:
        """Keep the coordinators so unload and diagnostics can reach them."""
        self.coordinators: list[DataUpdateCoordinator[Any]] = list(coordinators)
        self._add_sensors: AddConfigEntryEntitiesCallback | None = None

    def sensors(self) -> Iterable[SensorEntity]:
        """The sensors to create when the entry is set up."""
        return ()

    @callback
    def attach_sensor_platform(self, add_entities: AddConfigEntryEntitiesCallback) -> None:
        """Remember the platform's callback so sensors for meters found later can be added."""
        self._add_sensors = add_entities
        add_entities(list(self.sensors()))

    @callback
    def add_sensors(self, entities: Iterable[SensorEntity]) -> None:
        """Add sensors after setup (a meter that appeared on the account)."""
        if self._add_sensors is not None:
            self._add_sensors(list(entities))

    async def async_start(self) -> None:
        """First contact, called once by the spine after the runtime is built.

        Do the first refresh here (``async_config_entry_first_refresh`` raises ConfigEntryNotReady
        or ConfigEntryAuthFailed) and start background work. Raising is fine: the spine shuts the
        runtime down and translates client errors (see ``__init__.async_setup_entry``).
        """

    def provided_device_ids(self) -> set[str] | None:
        """Identifiers of the devices the source names now (None: not known, keep them all).

        A user may delete a device of this entry only when its identifier is not in here
        (``async_remove_config_entry_device``): a meter the source still lists would come back.
        """
        return None

    @callback
    def forget_device(self, identifier: str) -> None:
        """The user deleted the device ``identifier``: add it again should the meter come back."""

    def diagnostics(self) -> dict[str, Any]:
        """Provider-specific diagnostics; redaction happens in diagnostics.py."""
        return {}

    def legacy_names(self) -> LegacyNames | None:
        """Device names older versions made from an identifier (see ``privacy_rename``).

        A provider whose device names once carried a serial or an address returns them here, so
        that entity ids made from them can be offered a rename; None when there never were any.
        """
        return None

    async def async_shutdown(self) -> None:
        """Stop everything this entry started: tasks, timers, ports, sessions."""
        for coordinator in self.coordinators:
            await coordinator.async_shutdown()


#: A config entry whose ``runtime_data`` is the runtime of one provider.
type ProviderConfigEntry[RuntimeT: ProviderRuntime] = ConfigEntry[RuntimeT]


#: Any Meter Hub entry, as the spine (setup, sensor platform, diagnostics) sees it.
@dataclass(frozen=True, kw_only=True)
class Probed:
    """What a provider's first form found out: values to preselect in the second, and words for it.

    ``defaults`` hold the first form's answers too; ``placeholders`` go into the second form's text.
    """

    defaults: Mapping[str, Any]
    placeholders: Mapping[str, str] = field(default_factory=dict)


#: The step id suffix of a provider's second form (``<key>_details``), see ``Provider.probe_fields``.
DETAILS_STEP: Final = "details"


type MeterHubConfigEntry = ConfigEntry[ProviderRuntime]


@dataclass(frozen=True)
class FormError(Exception):
    """A problem with one field of the form, found before any request is made."""

    field: str
    error_key: str


class Provider[RuntimeT: ProviderRuntime = ProviderRuntime](ABC):
    """One source of meter data. Subclasses are stateless; per-entry state lives in the runtime.

    ``key`` is the one place a provider's key is written: the menu option, the step id, the first
    part of its statistic ids and device ids. Everything else takes it from the class.
    """

    key: ClassVar[str]
    #: Fields a reauthentication asks for again (keys, tokens, passwords).
    secret_fields: ClassVar[tuple[str, ...]] = ()
    platforms: ClassVar[tuple[Platform, ...]] = (Platform.SENSOR,)
    #: A cloud service whose address may be changed (``base_url`` in the entry data, asked for
    #: only in advanced mode). Local sources have their address in the form anyway.
    has_base_url: ClassVar[bool] = False
    #: Fields of a first form (where the data comes from). When set, the setup flow asks only these,
    #: calls :meth:`async_probe` with them, and asks the rest of :meth:`async_schema` in a second
    #: step (``<key>_details``) preselected with what the probe found. Reconfigure stays one form.
    probe_fields: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    async def async_schema(self, hass: HomeAssistant, defaults: Mapping[str, Any]) -> vol.Schema:
        """The setup form, pre-filled with ``defaults`` (the entry's data on reconfigure)."""

    @abstractmethod
    async def async_validate(self, hass: HomeAssistant, data: Mapping[str, Any]) -> Validated:
        """Test the connection with ``data``.

        Raises :class:`FormError` or an ``api.errors.MeterHubApiError`` whose ``error_key`` is shown.
        """

    async def async_probe(self, hass: HomeAssistant, data: Mapping[str, Any]) -> Probed:
        """Look at the source the first form names; what to preselect in the second form.

        Raises like :meth:`async_validate`. Only called when ``probe_fields`` is set.
        """
        return Probed(defaults=data)

    @abstractmethod
    async def async_create_runtime(
        self, hass: HomeAssistant, entry: ProviderConfigEntry[RuntimeT]
    ) -> RuntimeT:
        """Build the client and the runtime, without any request.

        The spine then calls ``runtime.async_start()`` and cleans up if that fails.
        """

    @callback  # noqa: B027 - an optional hook, not abstract
    def async_setup(self, hass: HomeAssistant) -> None:
        """Register the provider's actions, once, when the integration loads (not per entry)."""

    async def async_remove_entry(  # noqa: B027 - an optional hook, not abstract
        self, hass: HomeAssistant, entry: ProviderConfigEntry[RuntimeT]
    ) -> None:
        """Clean up what the entry kept outside the entry (stored state); statistics stay."""

    def options_schema(self, options: Mapping[str, Any]) -> vol.Schema | None:
        """The options form, or None when this provider has no options."""
        return None

    def validate_options(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """Check and normalise submitted options; raise :class:`FormError` to show a field error."""
        return options

    def description_placeholders(self) -> dict[str, str]:
        """Placeholders for this provider's form texts (links to where a key is found, ...)."""
        return {}


@dataclass
class ProviderRegistry:
    """The providers the config flow offers, by key. Tests may register a stand-in provider."""

    providers: dict[str, Provider[Any]] = field(default_factory=dict)

    def register(self, provider: Provider[Any]) -> Callable[[], None]:
        """Add ``provider``; returns a function that removes it again."""
        self.providers[provider.key] = provider

        def remove() -> None:
            self.providers.pop(provider.key, None)

        return remove

    def get(self, key: str) -> Provider[Any] | None:
        """The provider with ``key``, if registered."""
        return self.providers.get(key)

    def keys(self) -> list[str]:
        """Keys in the order they were registered (the order of the menu)."""
        return list(self.providers)
