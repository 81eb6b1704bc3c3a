"""The base coordinator: provider errors become Home Assistant's, and polling stays gentle."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime, timedelta
import random
from typing import TYPE_CHECKING, Any

from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api.errors import ApiAuthError, ApiRateLimitError, ApiSchemaError, MeterHubApiError
from .const import DOMAIN, LOGGER
from .repairs import API_CHANGED, HISTORY_STALLED, async_source_placeholders, entry_problems
from .statistics import async_last_rows

#: How long a source that fills long-term statistics may fail before a repair says so.
HISTORY_STALL: timedelta = timedelta(days=1)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant


def translate_error(err: MeterHubApiError) -> ConfigEntryAuthFailed | UpdateFailed:
    """The Home Assistant exception for a client error, with a translated message.

    Authentication failures start a reauth flow; everything else marks the entities unavailable
    until the next successful update. A rate limit carries the provider's ``Retry-After``. The
    message is the exception's own ``error_key`` under ``exceptions`` in strings.json, so a
    provider's specific error (a changed login page, say) tells the user what it is.
    """
    if isinstance(err, ApiAuthError):
        return ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="auth_failed")
    retry_after = err.retry_after if isinstance(err, ApiRateLimitError) else None
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key=err.error_key,
        translation_placeholders=err.placeholders or None,
        retry_after=retry_after,
    )


def setup_error(err: MeterHubApiError) -> ConfigEntryAuthFailed | ConfigEntryNotReady:
    """The Home Assistant exception for a client error while an entry is being set up.

    Rejected credentials start a reauth; anything else retries the setup later, with the
    exception's own ``error_key`` as the message (a changed login page reads differently from an
    unreachable server).
    """
    if isinstance(err, ApiAuthError):
        return ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="auth_failed")
    return ConfigEntryNotReady(translation_domain=DOMAIN, translation_key=err.error_key)


class MeterHubCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """Polls one provider resource.

    Subclasses implement :meth:`_async_fetch` and raise client errors; this class maps them.
    ``DataUpdateCoordinator`` already logs once when a source goes down and once when it is back.
    The interval gets a little random jitter so that many installs do not hit a provider in step.

    It also keeps the entry's repair issues (see repairs.py): an answer the client cannot read
    raises ``api_changed``; a coordinator that fills long-term statistics (it names the statistic
    in :attr:`history_statistic_id`) and has failed for more than a day raises
    ``history_stalled``. Both go away by themselves after the next success.
    """

    #: The long-term statistic this coordinator fills, for the "history stalled" repair.
    history_statistic_id: str | None = None

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        *,
        name: str,
        update_interval: timedelta | None,
        jitter: float = 0.1,
    ) -> None:
        """Set up polling at ``update_interval`` stretched by up to ``jitter`` (a fraction)."""
        self.jitter = jitter
        if update_interval is not None:
            update_interval = self.jittered(update_interval)
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=name,
            update_interval=update_interval,
        )

    _failing_since: datetime | None = None

    def jittered(self, interval: timedelta) -> timedelta:
        """``interval`` stretched by up to ``jitter``: for a subclass that changes its interval."""
        return interval * (1 + random.uniform(0, self.jitter)) if self.jitter else interval

    async def _async_update_data(self) -> DataT:
        problems = entry_problems(self.hass, self._problems_entry_id)
        try:
            data = await self._async_fetch()
        except MeterHubApiError as err:
            await self._async_report_problems(err)
            raise translate_error(err) from err
        self._failing_since = None
        for cause in (API_CHANGED, HISTORY_STALLED):
            problems.resolve(self.hass, cause, self._problem_source)
        return data

    @property
    def _problems_entry_id(self) -> str:
        return self.config_entry.entry_id if self.config_entry is not None else ""

    @property
    def _problem_source(self) -> str:
        """Who reports a problem: this coordinator (two may share a name)."""
        return f"{self.name}#{id(self)}"

    async def _async_report_problems(self, err: MeterHubApiError) -> None:
        """Raise the repair issues this failure calls for."""
        if self.config_entry is None:
            return
        problems = entry_problems(self.hass, self._problems_entry_id)
        now = dt_util.utcnow()
        if self._failing_since is None:
            self._failing_since = now
        stalled = (
            self.history_statistic_id is not None and now - self._failing_since > HISTORY_STALL
        )
        if not isinstance(err, ApiSchemaError) and not stalled:
            return
        if isinstance(err, ApiSchemaError):
            await self.async_report_api_changed(err)
        if stalled and self.history_statistic_id is not None:
            placeholders = await async_source_placeholders(self.hass, self.config_entry)
            last = await async_last_rows(self.hass, self.history_statistic_id, 1)
            problems.report(
                self.hass,
                HISTORY_STALLED,
                self._problem_source,
                {
                    **placeholders,
                    "since": local_text(self._failing_since),
                    "last_hour": local_text(last[0].start) if last else "-",
                },
            )

    async def async_report_api_changed(
        self, err: ApiSchemaError, source: str | None = None
    ) -> None:
        """Raise (or refresh) ``api_changed`` for ``err`` and keep its shape for diagnostics.

        ``source`` is who reports it, this coordinator by default; a subclass whose update
        succeeds anyway (a fallback answered) reports under its own name and resolves it itself.
        """
        if self.config_entry is None:
            return
        problems = entry_problems(self.hass, self._problems_entry_id)
        problems.remember_schema_error(err)
        placeholders = await async_source_placeholders(self.hass, self.config_entry)
        problems.report(
            self.hass,
            API_CHANGED,
            source or self._problem_source,
            {**placeholders, **err.placeholders},
            learn_more_url=placeholders["issue_tracker"] or None,
        )

    @abstractmethod
    async def _async_fetch(self) -> DataT:
        """Fetch fresh data from the provider (raise ``api.errors`` exceptions)."""


def local_text(moment: datetime) -> str:
    """A moment as the user reads it: local date and time to the minute."""
    return dt_util.as_local(moment).strftime("%Y-%m-%d %H:%M")
