"""What a client sees on an agent call with bad credentials, and the sliding lifetime of tickets.

Every case answers HTTP 200 with ``Succeeded=false`` and ``ExceptionInfo`` (Source ``SoapKit.Sandbox``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import requests
import zeep
from lxml import etree

from soapkit.credentials.jwt_validation import JwksCache, claim, validate_system_user_jwt
from soapkit.credentials.signing import sign_system_token
from soapkit.sandbox import Sandbox, SandboxSettings

NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"
ACTION = f"{NS}/Contact/GetContactEntity"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> Iterator[Sandbox]:
    settings = SandboxSettings(clock=clock)
    with Sandbox(tmp_path_factory.mktemp("sandbox-credentials"), port=0, settings=settings) as running:
        yield running


def envelope(app_token: str | None, ticket: str | None, *, namespace: str = NS) -> bytes:
    headers = ""
    if app_token is not None:
        headers += f"<so:ApplicationToken>{app_token}</so:ApplicationToken>"
    if ticket is not None:
        headers += f'<c:Credentials xmlns:c="{namespace}"><c:Ticket>{ticket}</c:Ticket></c:Credentials>'
    return (f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:so="{NS}">'
            f"<s:Header>{headers}</s:Header><s:Body><so:GetContactEntity><so:ContactEntityId>1</so:ContactEntityId>"
            "</so:GetContactEntity></s:Body></s:Envelope>").encode()


def call(sb: Sandbox, app_token: str | None, ticket: str | None, ctx: str = "Cust12345", **kw: str) -> dict:
    response = requests.post(f"{sb.base_url}/{ctx}/Remote/Services88/Contact.svc",
                             data=envelope(app_token, ticket, **kw), timeout=10,
                             headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ACTION}"'})
    assert response.status_code == 200, response.text
    document = etree.fromstring(response.content)
    info = document.find(f".//{{{NS}}}ExceptionInfo")
    return {
        "succeeded": document.findtext(f".//{{{NS}}}Succeeded"),
        "type": info.findtext(f"{{{NS}}}ExceptionType") if info is not None else None,
        "message": info.findtext(f"{{{NS}}}Message") if info is not None else None,
        "source": info.findtext(f"{{{NS}}}Source") if info is not None else None,
        "name": document.findtext(f".//{{{NS}}}Response/{{{NS}}}Name"),
    }


def test_valid_credentials(sb: Sandbox) -> None:
    answer = call(sb, sb.config["client_secret"], sb.issue_ticket())
    assert answer["succeeded"] == "true" and answer["type"] is None and answer["name"]


def test_ticket_from_the_exchange_works(sb: Sandbox) -> None:
    config = sb.config
    signed = sign_system_token(config["system_user_token"], config["private_key_pem"], now=sb.settings.now())
    token = requests.post(config["partner_rest_url"], timeout=10, json={
        "SignedSystemToken": signed, "ApplicationToken": config["client_secret"],
        "ContextIdentifier": "Cust12345", "ReturnTokenType": "Jwt"}).json()["Token"]
    # The JWT's times follow this module's hand-moved sandbox clock, not the machine's: no expiry check here.
    ticket = validate_system_user_jwt(token, JwksCache(config["jwks_url"]), leeway=10**9)[claim("ticket")]
    assert call(sb, config["client_secret"], ticket)["succeeded"] == "true"


@pytest.mark.parametrize(
    ("case", "exception_type", "words"),
    [
        ("no credentials", "CredentialsMissingException", "missing"),
        ("empty ticket", "CredentialsMissingException", "missing"),
        ("credentials in another namespace", "CredentialsMissingException", "missing"),
        ("unknown ticket", "CredentialsInvalidException", "not valid"),
        ("revoked ticket", "CredentialsInvalidException", "revoked"),
        ("expired ticket", "CredentialsExpiredException", "expired"),
        ("no application token", "ApplicationTokenInvalidException", "No ApplicationToken"),
        ("wrong application token", "ApplicationTokenInvalidException", "not the client secret"),
        ("ticket of another tenant", "CredentialsInvalidException", "another tenant"),
    ],
)
def test_bad_credentials(sb: Sandbox, case: str, exception_type: str, words: str) -> None:
    secret, ticket = sb.config["client_secret"], sb.issue_ticket()
    kwargs: dict[str, str] = {}
    ctx = "Cust12345"
    if case == "no credentials":
        ticket = None  # type: ignore[assignment]
    elif case == "empty ticket":
        ticket = ""
    elif case == "credentials in another namespace":
        kwargs["namespace"] = "urn:elsewhere"
    elif case == "unknown ticket":
        ticket = "7T:dGhpcyBpcyBub3QgYSB0aWNrZXQ="
    elif case == "revoked ticket":
        sb.revoke_credential(ticket)
    elif case == "expired ticket":
        sb.expire_credential(ticket)
    elif case == "no application token":
        secret = None  # type: ignore[assignment]
    elif case == "wrong application token":
        secret = "f" * 32
    elif case == "ticket of another tenant":
        if sb.backend.tenants.get("Cust30001") is None:
            sb.add_tenant("Cust30001")
        ctx = "Cust30001"
    answer = call(sb, secret, ticket, ctx, **kwargs)
    assert answer["succeeded"] == "false"
    assert answer["type"] == exception_type
    assert words in answer["message"]
    assert answer["source"] == "SoapKit.Sandbox"
    assert answer["name"] is None
    if ticket:
        assert ticket not in answer["message"]
    assert sb.config["client_secret"] not in answer["message"]


def test_app_not_installed_in_the_tenant(sb: Sandbox) -> None:
    if sb.backend.tenants.get("Cust30002") is None:
        sb.add_tenant("Cust30002", install=False)
    answer = call(sb, sb.config["client_secret"], sb.issue_ticket("Cust30002"), "Cust30002")
    assert answer["type"] == "ApplicationTokenInvalidException" and "not installed" in answer["message"]


def test_ticket_expires_after_its_lifetime_without_use(sb: Sandbox, clock: Clock) -> None:
    ticket = sb.issue_ticket()
    clock.advance(hours=5, minutes=59)
    assert call(sb, sb.config["client_secret"], ticket)["succeeded"] == "true"
    other = sb.issue_ticket()
    clock.advance(hours=6, minutes=1)
    answer = call(sb, sb.config["client_secret"], other)
    assert answer["type"] == "CredentialsExpiredException"


def test_ticket_lifetime_slides_with_use(sb: Sandbox, clock: Clock) -> None:
    ticket = sb.issue_ticket()
    for _ in range(4):  # 4 x 5 h = 20 h, far beyond one lifetime, never 6 h idle
        clock.advance(hours=5)
        assert call(sb, sb.config["client_secret"], ticket)["succeeded"] == "true"
    clock.advance(hours=6, seconds=1)
    assert call(sb, sb.config["client_secret"], ticket)["type"] == "CredentialsExpiredException"


def test_failed_calls_do_not_extend_a_ticket(sb: Sandbox, clock: Clock) -> None:
    ticket = sb.issue_ticket()
    clock.advance(hours=5)
    assert call(sb, "f" * 32, ticket)["type"] == "ApplicationTokenInvalidException"
    clock.advance(hours=1, seconds=1)
    assert call(sb, sb.config["client_secret"], ticket)["type"] == "CredentialsExpiredException"


def test_configurable_lifetime(sb: Sandbox, clock: Clock) -> None:
    original = sb.settings.ticket_lifetime
    sb.settings.ticket_lifetime = dt.timedelta(seconds=30)
    try:
        ticket = sb.issue_ticket()
        clock.advance(seconds=20)
        assert call(sb, sb.config["client_secret"], ticket)["succeeded"] == "true"
        clock.advance(seconds=20)
        assert call(sb, sb.config["client_secret"], ticket)["succeeded"] == "true"
        clock.advance(seconds=31)
        assert call(sb, sb.config["client_secret"], ticket)["type"] == "CredentialsExpiredException"
    finally:
        sb.settings.ticket_lifetime = original


def test_operations_without_credentials_header_need_only_the_app_token(sb: Sandbox) -> None:
    client = zeep.Client(f"{sb.config['netserver_url']}SoPrincipal.svc?wsdl")
    service = client.service
    ok = service.GetSystemInfo(_soapheaders={"ApplicationToken": sb.config["client_secret"]})
    assert ok.header.Succeeded is True
    refused = service.GetSystemInfo(_soapheaders={"ApplicationToken": "nope"})
    assert refused.header.Succeeded is False
    assert refused.header.ExceptionInfo.ExceptionType == "ApplicationTokenInvalidException"


def test_tickets_are_stored_hashed(sb: Sandbox) -> None:
    ticket = sb.issue_ticket()
    files = [sb.data.database, sb.data.database.with_name(sb.data.database.name + "-wal")]
    stored = b"".join(path.read_bytes() for path in files if path.exists())
    for secret in (ticket, sb.config["client_secret"], sb.config["system_user_token"]):
        assert secret.encode() not in stored
    rows = sb.backend.store.all("SELECT value_hash, kind FROM credential")
    assert rows and all(len(r["value_hash"]) == 64 and r["kind"] == "ticket" for r in rows)
