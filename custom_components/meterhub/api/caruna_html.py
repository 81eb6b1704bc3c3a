"""Reading the Caruna login portal's HTML: forms, hidden inputs, meta refreshes, Wicket Ajax calls.

The portal is a browser application: what a browser does with JavaScript (submit a form on load, follow
a ``<meta http-equiv="refresh">``, post the login through a Wicket Ajax behaviour) the client has to
do by hand, so it needs to see the pages the way a browser does. The standard library's tolerant
HTML parser is enough for that; no scraping library is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
import json
import re
from typing import Final

USERNAME_FIELD: Final = "ttqusername"
PASSWORD_FIELD: Final = "userPassword"

_REFRESH_URL_RE: Final = re.compile(r"url\s*=\s*['\"]?([^'\"]+)", re.IGNORECASE)
_WICKET_AJAX_RE: Final = re.compile(r"Wicket\.Ajax\.ajax\((\{.*?\})\)", re.DOTALL)
# The Wicket behaviour that posts the credentials has this in its URL (the live portal, 2026).
LOGIN_BEHAVIOUR: Final = "loginWithUserID"
# Wicket's Ajax answer names the next page in its body since 2025-26 (no Ajax-Location header).
_AJAX_REDIRECT_RE: Final = re.compile(
    r"<redirect>\s*(?:<!\[CDATA\[(.*?)\]\]>|([^<]*))\s*</redirect>", re.DOTALL | re.IGNORECASE
)


@dataclass
class FormInput:
    """One ``<input>`` (or ``<button>``) of a form."""

    name: str
    type: str
    value: str
    id: str


@dataclass
class Form:
    """A ``<form>``: where it posts and what it holds."""

    action: str
    method: str
    id: str
    inputs: list[FormInput] = field(default_factory=list)

    def hidden_values(self) -> dict[str, str]:
        """The hidden inputs a browser would send along (session and anti-forgery values)."""
        return {i.name: i.value for i in self.inputs if i.type == "hidden" and i.name}

    def field_names(self) -> set[str]:
        """Names of every named input."""
        return {i.name for i in self.inputs if i.name}

    def submit(self) -> FormInput | None:
        """The form's submit button, whose name Wicket expects in the post."""
        for candidate in self.inputs:
            if candidate.type == "submit" and candidate.name:
                return candidate
        return None

    @property
    def is_login(self) -> bool:
        """The username and password form."""
        return {USERNAME_FIELD, PASSWORD_FIELD} <= self.field_names()

    @property
    def is_auto_post(self) -> bool:
        """A form made only of hidden inputs: a browser's script posts it on load."""
        visible = [i for i in self.inputs if i.type not in {"hidden", "submit"}]
        return bool(self.action) and not visible and bool(self.hidden_values())


@dataclass
class Page:
    """What the client learned from one HTML page."""

    forms: list[Form] = field(default_factory=list)
    refresh_url: str | None = None
    ajax_calls: list[dict[str, object]] = field(default_factory=list)

    def login_form(self) -> Form | None:
        """The username and password form, if the page has one."""
        return next((form for form in self.forms if form.is_login), None)

    def auto_post_form(self) -> Form | None:
        """A form a browser would post by itself, if the page has one."""
        return next((form for form in self.forms if form.is_auto_post), None)

    def ajax_url_for(self, element_id: str) -> str | None:
        """The Wicket Ajax behaviour URL bound to ``element_id`` (the login button)."""
        for call in self.ajax_calls:
            if call.get("c") == element_id and isinstance(call.get("u"), str):
                return str(call["u"])
        return None

    def login_ajax_url(self) -> str | None:
        """The URL of the Wicket behaviour that posts the credentials, found by its name.

        The live portal's script binds ``{"u": "...loginWithUserID", ...}``; the element id it is
        bound to has changed between versions, the behaviour's name has not.
        """
        for call in self.ajax_calls:
            url = call.get("u")
            if isinstance(url, str) and LOGIN_BEHAVIOUR in url:
                return url
        return None


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._form: Form | None = None
        self._in_script = False
        self._scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key.lower(): value or "" for key, value in attrs}
        if tag == "form":
            self._form = Form(
                action=values.get("action", ""),
                method=values.get("method", "get").lower(),
                id=values.get("id", ""),
            )
            self.page.forms.append(self._form)
        elif tag in {"input", "button"} and self._form is not None:
            self._form.inputs.append(
                FormInput(
                    name=values.get("name", ""),
                    type=values.get("type", "text" if tag == "input" else "submit").lower(),
                    value=values.get("value", ""),
                    id=values.get("id", ""),
                )
            )
        elif tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            if match := _REFRESH_URL_RE.search(values.get("content", "")):
                self.page.refresh_url = match.group(1).strip()
        elif tag == "script":
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self._scripts.append(data)

    def close(self) -> None:
        super().close()
        for match in _WICKET_AJAX_RE.finditer("".join(self._scripts)):
            try:
                call = json.loads(match.group(1))
            except ValueError:
                continue
            if isinstance(call, dict):
                self.page.ajax_calls.append(call)


def parse_page(text: str) -> Page:
    """Parse ``text`` into the forms, refresh target and Ajax bindings the login needs."""
    parser = _PageParser()
    parser.feed(text)
    parser.close()
    return parser.page


def ajax_redirect(text: str) -> str | None:
    """The next URL a Wicket ``<ajax-response>`` sends the browser to, if it names one."""
    if not is_wicket_ajax_response(text):
        return None
    if (match := _AJAX_REDIRECT_RE.search(text)) is None:
        return None
    target = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
    return target or None


def is_login_page(text: str) -> bool:
    """An HTML page asking for a password: what the portal shows once a session is gone."""
    head = text.lstrip()[:200].lower()
    if not head.startswith("<"):
        return False
    return any(any(i.type == "password" for i in form.inputs) for form in parse_page(text).forms)


def is_wicket_ajax_response(text: str) -> bool:
    """Wicket answered an Ajax call (an ``<ajax-response>`` document), not some other page."""
    return "<ajax-response" in text[:500]
