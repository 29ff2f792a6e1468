"""Helpers for the OAuth, reference-token and SAML tests: a sandbox, a scripted "browser", raw token calls.

Collected by pytest like any test module, but holds no tests of its own.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from soapkit import connect
from soapkit.client import SuperOfficeClient
from soapkit.credentials.base import Credential
from soapkit.sandbox import Sandbox

LOOPBACK = "http://127.0.0.1:8123/"


def running_sandbox(tmp_path_factory: pytest.TempPathFactory, name: str = "oauth-sandbox") -> Iterator[Sandbox]:
    """Body of a module-scoped ``sandbox`` fixture: a sandbox on an ephemeral loopback port."""
    with Sandbox(data_dir=tmp_path_factory.mktemp(name), port=0) as sb:
        yield sb


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = values.get("action")
        elif tag == "input" and values.get("type") in ("hidden", None, "text") and "name" in values:
            self.fields[values["name"]] = values.get("value", "")


def read_form(html: str) -> tuple[str, dict[str, str]]:
    reader = _FormReader()
    reader.feed(html)
    assert reader.action, "the sign-in page has no form"
    return reader.action, reader.fields


class ScriptedBrowser:
    """Follows an authorize URL like a user would: reads the sign-in page, fills it in, posts, follows."""

    def __init__(self, username: str = "EVA", password: str = "sandbox", consent: str = "allow",
                 tamper: Callable[[str], str] | None = None) -> None:
        self.username, self.password, self.consent, self.tamper = username, password, consent, tamper
        self.session = requests.Session()
        self.pages: list[requests.Response] = []

    def consent_redirect(self, url: str) -> str:
        """The Location the sandbox answers to the posted sign-in form."""
        page = self.session.get(url, timeout=10)
        self.pages.append(page)
        assert page.status_code == 200, page.text
        action, fields = read_form(page.text)
        fields.update(username=self.username, password=self.password, consent=self.consent)
        answer = self.session.post(action, data=fields, allow_redirects=False, timeout=10)
        self.pages.append(answer)
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]

    def __call__(self, url: str) -> bool:
        location = self.consent_redirect(url)
        if self.tamper is not None:
            location = self.tamper(location)
        self.session.get(location, timeout=10)  # the loopback receiver
        return True


def pkce_pair(method: str = "S256") -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    if method == "plain":
        return verifier, verifier
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(sb: Sandbox, **parameters: str) -> str:
    values = {"client_id": sb.config["client_id"], "redirect_uri": LOOPBACK, "response_type": "code",
              "scope": "openid", "state": "st-1", "nonce": "n-1", **parameters}
    return f"{sb.base_url}/login/common/oauth/authorize?{urlencode({k: v for k, v in values.items() if v})}"


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def get_code(sb: Sandbox, browser: ScriptedBrowser | None = None, **parameters: str) -> str:
    location = (browser or ScriptedBrowser()).consent_redirect(authorize_url(sb, **parameters))
    answer = query_of(location)
    assert "code" in answer, answer
    return answer["code"]


def token_call(sb: Sandbox, auth: str = "post", secret: str | None = None, client_id: str | None = None,
               **form: str) -> requests.Response:
    client_id = client_id or sb.config["client_id"]
    secret = sb.config["client_secret"] if secret is None else secret
    headers: dict[str, str] = {}
    data = dict(form)
    if auth == "post":
        data.update(client_id=client_id, client_secret=secret)
    else:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return requests.post(f"{sb.base_url}/login/common/oauth/tokens", data=data, headers=headers, timeout=10)


def code_tokens(sb: Sandbox, **parameters: str) -> dict[str, Any]:
    verifier, challenge = pkce_pair()
    code = get_code(sb, code_challenge=challenge, code_challenge_method="S256", **parameters)
    answer = token_call(sb, grant_type="authorization_code", code=code, redirect_uri=LOOPBACK,
                        code_verifier=verifier)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def client_for(sb: Sandbox, credentials: Credential, ctx: str | None = None) -> SuperOfficeClient:
    return connect(ctx or sb.context_identifier, env=sb.base_url, app_token=sb.config["client_secret"],
                   credentials=credentials, client_id=sb.config["client_id"])
