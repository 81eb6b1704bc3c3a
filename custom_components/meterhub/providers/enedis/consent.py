"""The "Enedis consent expired" repair, next to Home Assistant's reauthentication.

A rejected token already starts a reauth (Home Assistant shows its own "reauthentication
required" repair), but it cannot say *why* or *where* to get a new token. When the consent is
over (the gateway's three-year token has expired, or Enedis has no consent any more) this issue
says so: renew the consent on conso.boris.sh and enter the new token. It is raised once per
entry, and removed once a new token is in: at the setup that follows a successful reauth, or
when a request succeeds.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Final

from homeassistant.helpers import issue_registry as ir
from homeassistant.util.hass_dict import HassKey

from ...const import DOMAIN
from ...repairs import issue_id

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

CONSENT_EXPIRED: Final = "consent_expired"
CONSENT_URL: Final = "https://conso.boris.sh"
#: entry id -> fingerprint of the token whose consent is over (memory only, never the token).
_EXPIRED_TOKENS: HassKey[dict[str, str]] = HassKey(f"{DOMAIN}_enedis_expired_consent")


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def async_report(hass: HomeAssistant, entry_id: str, token: str) -> None:
    """Raise the issue for this entry (the registry keeps one, however often it is reported)."""
    hass.data.setdefault(_EXPIRED_TOKENS, {})[entry_id] = _fingerprint(token)
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(CONSENT_EXPIRED, entry_id),
        is_fixable=False,
        is_persistent=False,
        learn_more_url=CONSENT_URL,
        severity=ir.IssueSeverity.ERROR,
        translation_key=CONSENT_EXPIRED,
        translation_placeholders={"url": CONSENT_URL},
    )


def async_resolve(
    hass: HomeAssistant, entry_id: str, token: str, *, answered: bool = False
) -> None:
    """Remove the issue once the entry has another token, or the gateway ``answered`` a request."""
    expired = hass.data.get(_EXPIRED_TOKENS, {})
    if entry_id not in expired:
        return
    if answered or expired[entry_id] != _fingerprint(token):
        del expired[entry_id]
        ir.async_delete_issue(hass, DOMAIN, issue_id(CONSENT_EXPIRED, entry_id))


def async_remove(hass: HomeAssistant, entry_id: str) -> None:
    """The entry is deleted: nothing is left to renew."""
    hass.data.get(_EXPIRED_TOKENS, {}).pop(entry_id, None)
    ir.async_delete_issue(hass, DOMAIN, issue_id(CONSENT_EXPIRED, entry_id))
