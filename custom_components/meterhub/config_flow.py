"""Config flow: a provider menu, then the provider's own form; reauth, reconfigure and options.

Written once for every provider: a provider supplies its form (``async_schema``), its validation call
(``async_validate``) and, if it has any, an options form. Each form tests the connection before an
entry is created, so a wrong key is a form error rather than a dead entry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import probatio as vol

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.service_info.usb import UsbServiceInfo

from .api.errors import MeterHubApiError
from .const import CONF_PROVIDER, DOMAIN, LOGGER
from .providers import REGISTRY
from .providers.base import (
    CONF_BASE_URL,
    DETAILS_STEP,
    FormError,
    Probed,
    Provider,
    Validated,
)
from .providers.dsmr import DsmrProvider
from .providers.dsmr.const import CONF_PORT
from .providers.dsmr.discovery import async_discovered_port, async_port_in_use, discovery_id


def _service_address(
    provider: Provider, user_input: Mapping[str, Any], errors: dict[str, str]
) -> str | None:
    """The ``base_url`` a flow was given for a cloud provider (None: the service itself).

    Not a form field: documented as an advanced option for pointing the client at a proxy. A value
    that is not an http(s) address is a ``cannot_connect`` error; other unknown keys are ignored.
    """
    address = user_input.get(CONF_BASE_URL) if provider.has_base_url else None
    if not address:
        return None
    try:
        return str(cv.url(address))
    except vol.Invalid:
        errors["base"] = "cannot_connect"
        return None


class MeterHubConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a meter or an account."""

    VERSION = 1
    MINOR_VERSION = 1
    #: Placeholders of the error the form shows (a provider's own words, say); replaced, never
    #: mutated, so the shared class-level default stays empty.
    _error_placeholders: dict[str, str] = {}  # noqa: RUF012
    #: Values the provider form starts with (the port of a discovered P1 cable).
    _suggested: dict[str, Any] = {}  # noqa: RUF012
    #: What the first step of a two-step provider form found (see ``Provider.probe_fields``).
    _probed: Probed | None = None

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Let the user pick the source; each menu option is a provider key and a step id."""
        return self.async_show_menu(step_id="user", menu_options=REGISTRY.keys())

    def __getattr__(self, name: str) -> Any:
        """Resolve ``async_step_<provider key>`` (and ``<key>_details``) to the shared steps.

        The flow manager looks steps up by name; this keeps one implementation for every provider.
        """
        step = name.removeprefix("async_step_")
        if step != name and (chosen := REGISTRY.get(step)) is not None:

            async def first(user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
                return await self._async_step_provider(chosen, user_input)

            return first
        key, _, suffix = step.rpartition("_")
        probing = REGISTRY.get(key) if step != name and suffix == DETAILS_STEP else None
        if probing is not None and probing.probe_fields:

            async def details(user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
                return await self._async_step_details(probing, user_input)

            return details
        raise AttributeError(name)

    async def async_step_usb(self, discovery_info: UsbServiceInfo) -> ConfigFlowResult:
        """A P1 cable was plugged in (the manifest's ``usb`` matchers): the P1 form, port chosen.

        The user still picks the DSMR version and submits; the form then reads a telegram, as
        for a port chosen by hand. A cable that an entry already reads is not offered again.
        """
        provider = REGISTRY.providers[DsmrProvider.key]
        await self.async_set_unique_id(discovery_id(discovery_info))
        self._abort_if_unique_id_configured()
        port = await async_discovered_port(self.hass, discovery_info)
        if await async_port_in_use(self.hass, provider.key, port):
            return self.async_abort(reason="already_configured")
        self.context["title_placeholders"] = {"name": discovery_info.description or port}
        self._suggested = {CONF_PORT: port}
        return await self._async_step_provider(provider, None)

    async def _async_step_provider(
        self, provider: Provider, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Show the provider's form; on submit validate and create the entry.

        A provider with ``probe_fields`` gets only those here; once they check out, the rest of
        its form follows in the details step.
        """
        errors: dict[str, str] = {}
        if user_input is not None and provider.probe_fields:
            self._probed = await self._async_guarded(
                provider, provider.async_probe(self.hass, user_input), errors
            )
            if self._probed is not None:
                return await self._async_step_details(provider, None)
        elif user_input is not None:
            address = _service_address(provider, user_input, errors)
            data = {**user_input, CONF_BASE_URL: address} if address else user_input
            validated = None if errors else await self._async_validate(provider, data, errors)
            if validated is not None:
                return await self._async_create(provider, validated, address)
        defaults = user_input or self._suggested
        schema = await provider.async_schema(self.hass, defaults)
        if provider.probe_fields:
            schema = _fields(schema, lambda field: field in provider.probe_fields)
        shown = self.add_suggested_values_to_schema(schema, defaults)
        if provider.has_base_url:
            # Not a field: the service's address (``base_url``, for a proxy or a local copy of the
            # API) is accepted from whoever drives the flow through Home Assistant's REST API.
            shown = vol.Schema(shown.schema, extra=vol.ALLOW_EXTRA)
        return self.async_show_form(
            step_id=provider.key,
            data_schema=shown,
            errors=errors,
            description_placeholders=self._placeholders(provider),
        )

    async def _async_step_details(
        self, provider: Provider, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """The rest of the provider's form, preselected with what the probe found."""
        assert self._probed is not None  # the first step probed before coming here
        errors: dict[str, str] = {}
        values = {**self._probed.defaults, **(user_input or {})}
        if user_input is not None:
            validated = await self._async_validate(provider, values, errors)
            if validated is not None:
                return await self._async_create(provider, validated)
        schema = await provider.async_schema(self.hass, values)
        return self.async_show_form(
            step_id=f"{provider.key}_{DETAILS_STEP}",
            data_schema=self.add_suggested_values_to_schema(
                _fields(schema, lambda field: field not in provider.probe_fields), user_input
            ),
            errors=errors,
            description_placeholders={**self._probed.placeholders, **self._placeholders(provider)},
        )

    async def _async_create(
        self, provider: Provider, validated: Validated, address: str | None = None
    ) -> ConfigFlowResult:
        """The new entry, unless this meter or account is already set up.

        ``address`` is the service's ``base_url`` when the flow was given one.
        """
        await self.async_set_unique_id(validated.unique_id)
        self._abort_if_unique_id_configured()
        data = {CONF_PROVIDER: provider.key, **validated.data}
        return self.async_create_entry(
            title=validated.title, data={**data, CONF_BASE_URL: address} if address else data
        )

    def _placeholders(self, provider: Provider) -> dict[str, str]:
        """The provider's placeholders, plus those of the error being shown (if any)."""
        return {**provider.description_placeholders(), **self._error_placeholders}

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Credentials were rejected: ask for new ones."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask only for the provider's secrets; the rest of the entry stays as it is."""
        entry = self._get_reauth_entry()
        provider = _provider_of(entry)
        errors: dict[str, str] = {}
        if user_input is not None:
            merged = {**entry.data, **user_input}
            validated = await self._async_validate(provider, merged, errors)
            if validated is not None:
                await self.async_set_unique_id(validated.unique_id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                return self.async_update_reload_and_abort(
                    entry, data={**entry.data, **validated.data}
                )
        full = await provider.async_schema(self.hass, entry.data)
        schema = vol.Schema(
            {key: value for key, value in full.schema.items() if key in provider.secret_fields}
        )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=schema,
            errors=errors,
            description_placeholders={"title": entry.title, **self._placeholders(provider)},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change where the data comes from (a moved USB port, a new server address)."""
        entry = self._get_reconfigure_entry()
        provider = _provider_of(entry)
        errors: dict[str, str] = {}
        if user_input is not None:
            validated = await self._async_validate(provider, {**entry.data, **user_input}, errors)
            if validated is not None:
                await self.async_set_unique_id(validated.unique_id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                return self.async_update_reload_and_abort(
                    entry, data={**entry.data, **validated.data}
                )
        schema = await provider.async_schema(self.hass, entry.data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or entry.data),
            errors=errors,
            description_placeholders=self._placeholders(provider),
        )

    async def _async_validate(
        self, provider: Provider, data: Mapping[str, Any], errors: dict[str, str]
    ) -> Validated | None:
        """Run the provider's check; fill ``errors`` with what the form should say."""
        return await self._async_guarded(provider, provider.async_validate(self.hass, data), errors)

    async def _async_guarded[T](
        self, provider: Provider, check: Awaitable[T], errors: dict[str, str]
    ) -> T | None:
        """Await a provider's check (validate or probe); its errors become the form's."""
        self._error_placeholders = {}
        try:
            return await check
        except FormError as err:
            errors[err.field] = err.error_key
        except MeterHubApiError as err:
            errors["base"] = err.error_key
            self._error_placeholders = err.placeholders
        except Exception:
            LOGGER.exception("Unexpected error while validating a %s entry", provider.key)
            errors["base"] = "unknown"
        return None

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Only providers with options get an options button."""
        provider = REGISTRY.get(config_entry.data.get(CONF_PROVIDER, ""))
        return provider is not None and provider.options_schema(config_entry.options) is not None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> MeterHubOptionsFlow:
        """The provider's options form."""
        return MeterHubOptionsFlow()


class MeterHubOptionsFlow(OptionsFlowWithReload):
    """Options of one entry; the entry reloads when they change.

    The form is a step named after the provider (``options.step.<provider key>`` in strings.json),
    so each provider's options have their own title and descriptions.
    """

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Go straight to the provider's own options step."""
        return await self._async_step_options(user_input)

    def __getattr__(self, name: str) -> Any:
        """Resolve ``async_step_<provider key>`` to the provider's options step."""
        if name.startswith("async_step_") and REGISTRY.get(name[11:]) is not None:
            return self._async_step_options
        raise AttributeError(name)

    async def _async_step_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and save the provider's options."""
        provider = _provider_of(self.config_entry)
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                return self.async_create_entry(data=dict(provider.validate_options(user_input)))
            except FormError as err:
                errors[err.field] = err.error_key
        schema = provider.options_schema(self.config_entry.options)
        assert schema is not None  # async_supports_options_flow said so
        return self.async_show_form(
            step_id=provider.key,
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or self.config_entry.options
            ),
            errors=errors,
        )


def _fields(schema: vol.Schema, keep: Callable[[str], bool]) -> vol.Schema:
    """The part of a form whose fields ``keep`` accepts."""
    return vol.Schema({key: value for key, value in schema.schema.items() if keep(str(key))})


def _provider_of(entry: ConfigEntry) -> Provider:
    """The provider an entry was created with."""
    provider = REGISTRY.get(entry.data[CONF_PROVIDER])
    if provider is None:
        raise vol.Invalid(f"unknown provider {entry.data[CONF_PROVIDER]}")
    return provider
