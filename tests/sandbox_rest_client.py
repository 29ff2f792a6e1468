"""A plain ``requests`` client of the sandbox's REST Agents API, shared by the REST test modules."""

from __future__ import annotations

from typing import Any

import requests

from soapkit.sandbox import Sandbox

JSON = "application/json"


class Rest:
    """``POST {base}/{ctx}/api/v1/Agents/{path}`` with a fresh ticket (``SOTicket``) and the application token."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.http = requests.Session()
        self.ticket = sb.issue_ticket()

    def auth(self, **extra: str) -> dict[str, str]:
        """The ticket's headers, and ``extra`` ones (``SO-TimeZone``, ...)."""
        return {"Authorization": f"SOTicket {self.ticket}", "SO-AppToken": self.sb.config["client_secret"], **extra}

    def post(self, path: str, *, headers: dict[str, str] | None = None, base: str | None = None,
             **kwargs: Any) -> requests.Response:
        """The answer, which must be JSON; ``base`` is another tenant root (``{host}/{ctx}``)."""
        root = base or f"{self.sb.base_url}/{self.sb.context_identifier}"
        response = self.http.post(f"{root}/api/v1/Agents/{path}", headers=self.auth() if headers is None else headers,
                                  timeout=30, **kwargs)
        assert response.headers["Content-Type"].startswith(JSON), (response.status_code, response.text[:200])
        return response

    def ok(self, path: str, **kwargs: Any) -> Any:
        """The JSON of an answer that must be 200."""
        response = self.post(path, **kwargs)
        assert response.status_code == 200, response.text[:300]
        return response.json()


def error_of(response: requests.Response, status: int, error_type: str) -> dict[str, Any]:
    """The REST error document of an answer that must be ``status`` with ``ErrorType`` ``error_type``."""
    assert response.status_code == status, response.text[:300]
    document = response.json()
    assert document["Error"] is True and document["ErrorType"] == error_type, document
    assert document["Message"] and document["ErrorSource"] == "SoapKit.Sandbox"
    return dict(document)
