"""The recorder: capture files, redaction everywhere (envelopes, logs, exceptions, reprs), diff and replay."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from soapkit.client import SuperOfficeClient
from soapkit.credentials.base import StaticToken
from soapkit.debug import (
    Exchange,
    Recorder,
    RedactingFilter,
    canonical_envelope,
    diff_envelopes,
    exchange_failed,
    format_exchange,
    install_log_redaction,
    load_capture,
    parse_capture,
    replay,
    replay_url,
    save_capture,
)
from soapkit.errors import AgentError, CaptureFormatError, ConfigurationError

TICKET = "7T:c2VjcmV0LXRpY2tldC12YWx1ZQ=="
APP_TOKEN = "client-secret-1234567890"
SO = "http://www.superoffice.net/ws/crm/NetServer/Services88"

REQUEST = f"""<?xml version='1.0' encoding='utf-8'?>
<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">
  <soap-env:Header>
    <ns0:ApplicationToken xmlns:ns0="{SO}">{APP_TOKEN}</ns0:ApplicationToken>
    <ns0:Credentials xmlns:ns0="{SO}"><ns0:Ticket>{TICKET}</ns0:Ticket></ns0:Credentials>
  </soap-env:Header>
  <soap-env:Body>
    <ns0:GetContactEntity xmlns:ns0="{SO}"><ns0:ContactEntityId>5</ns0:ContactEntityId></ns0:GetContactEntity>
  </soap-env:Body>
</soap-env:Envelope>""".encode()

FAILED_RESPONSE = f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>
<h:ExceptionInfo xmlns:h="{SO}"><h:Message>Ticket {TICKET} has expired</h:Message>
<h:ExceptionType>SoSecurityException</h:ExceptionType><h:FriendlyText>Sign in again</h:FriendlyText></h:ExceptionInfo>
<h:Succeeded xmlns:h="{SO}">false</h:Succeeded></s:Header>
<s:Body><GetContactEntityResponse xmlns="{SO}"/></s:Body></s:Envelope>""".encode()

URL = "https://sod2.superoffice.com/Cust12345/Remote/Services88/Contact.svc"
HEADERS = {"SOAPAction": f'"{SO}/Contact/GetContactEntity"', "Content-Type": "text/xml; charset=utf-8",
           "Authorization": f"SOTicket {TICKET}"}


def exchange(response: bytes = FAILED_RESPONSE, status: int = 200) -> Exchange:
    return Exchange(URL, dict(HEADERS), REQUEST, status, {"Content-Type": "text/xml"}, response, 0.0421,
                    timestamp=1_700_000_000.5)


# --- capture files -----------------------------------------------------------------------------


def test_capture_round_trip_keeps_wire_bytes_with_show_secrets(tmp_path: Path) -> None:
    path = save_capture([exchange(), exchange(b"\xff\xfe not utf-8", 500)], tmp_path / "c.json", show_secrets=True)
    loaded = load_capture(path)
    assert [e.request_body for e in loaded] == [REQUEST, REQUEST]
    assert loaded[0].response_body == FAILED_RESPONSE and loaded[1].response_body == b"\xff\xfe not utf-8"
    assert loaded[0].status == 200 and loaded[1].status == 500
    assert loaded[0].seconds == pytest.approx(0.0421) and loaded[0].timestamp == pytest.approx(1_700_000_000.5)
    assert loaded[0].operation == "GetContactEntity"
    document = json.loads(path.read_text())
    assert document["format"] == "soapkit-capture" and document["version"] == 1 and document["redacted"] is False
    assert "body_base64" in document["exchanges"][1]["response"]


def test_saved_capture_is_redacted_by_default_and_private(tmp_path: Path) -> None:
    recorder = Recorder()
    recorder.add(exchange())
    path = recorder.save(tmp_path / "capture.json")
    text = path.read_text()
    assert TICKET not in text and APP_TOKEN not in text and "c2VjcmV0" not in text
    assert "<ns0:ContactEntityId>5</ns0:ContactEntityId>" in text  # only secrets are touched
    assert "<ns0:Ticket>7T:***</ns0:Ticket>" in text  # the kind of credential is kept
    assert json.loads(text)["redacted"] is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(Recorder.load(path)) == 1


def test_recorder_is_bounded_in_count_and_size() -> None:
    recorder = Recorder(max_exchanges=2, max_body_bytes=10)
    for _ in range(5):
        recorder.record(URL, {}, b"x" * 50, None, 0.001)
    assert len(recorder) == 2
    assert all(e.truncated and len(e.request_body) == 10 for e in recorder.exchanges)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json at all", "is not JSON"),
        ('{"format": "har", "version": 1}', "not a soapkit capture file"),
        ('{"format": "soapkit-capture", "version": 99, "exchanges": []}', "version 99"),
        ('{"format": "soapkit-capture", "version": 1, "exchanges": {}}', '"exchanges" must be a list'),
        ('{"format": "soapkit-capture", "version": 1, "exchanges": [{"url": "x"}]}', "exchanges[0].request"),
        ('{"format": "soapkit-capture", "version": 1, "exchanges": [{"request": {}}]}', "exchanges[0].url"),
        ('{"format": "soapkit-capture", "version": 1, "exchanges": [{"url": "x", "status": "ok", "request": {}}]}',
         "status must be an integer"),
    ],
)
def test_malformed_capture_files_say_what_is_wrong(content: str, expected: str) -> None:
    with pytest.raises(CaptureFormatError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        parse_capture(content)


def test_missing_capture_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureFormatError, match="does not exist"):
        load_capture(tmp_path / "nope.json")


# --- redaction in envelopes, logs, exceptions and reprs ----------------------------------------


def test_printed_exchange_surfaces_the_outcome_and_hides_secrets() -> None:
    text = format_exchange(exchange())
    assert "Succeeded=false  SoSecurityException" in text and "FriendlyText: Sign in again" in text
    assert TICKET not in text and APP_TOKEN not in text and "c2VjcmV0" not in text
    assert exchange_failed(exchange())
    shown = format_exchange(exchange(), show_secrets=True)
    assert TICKET in shown and APP_TOKEN in shown


def test_log_records_are_redacted_through_the_filter(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("soapkit.test.redaction")
    caplog.handler.addFilter(RedactingFilter())
    try:
        with caplog.at_level(logging.DEBUG, logger="soapkit.test.redaction"):
            logger.debug("sending %s with ticket %s", REQUEST.decode(), TICKET)
            try:
                raise ValueError(f"bad ticket {TICKET}")
            except ValueError:
                logger.exception("failed")
    finally:
        caplog.handler.filters.clear()
    assert TICKET not in caplog.text and "c2VjcmV0" not in caplog.text
    assert "ContactEntityId" in caplog.text and "ValueError" in caplog.text


def test_install_log_redaction_covers_every_handler_once() -> None:
    logger = logging.getLogger("soapkit.test.install")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    try:
        install_log_redaction(logger)
        install_log_redaction(logger)
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    finally:
        logger.removeHandler(handler)


def test_exceptions_and_reprs_hide_secrets() -> None:
    error = AgentError(f"SoSecurityException: ticket {TICKET} expired", friendly_text="x")
    assert TICKET not in str(error) and TICKET not in repr(error)
    client = SuperOfficeClient("Cust12345", env="sod", app_token=APP_TOKEN, credentials=StaticToken(TICKET))
    assert TICKET not in repr(client) and APP_TOKEN not in repr(client)
    assert TICKET not in repr(exchange()) and "GetContactEntity" in repr(exchange())
    assert APP_TOKEN not in repr(client.context)


# --- canonical diff ----------------------------------------------------------------------------

DOTNET_REQUEST = f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>
<h:ApplicationToken xmlns:h="{SO}">another-secret</h:ApplicationToken>
<h:Credentials xmlns:h="{SO}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><h:Ticket>7T:other</h:Ticket>
</h:Credentials><a:MessageID xmlns:a="http://www.w3.org/2005/08/addressing">urn:uuid:42</a:MessageID></s:Header>
<s:Body><GetContactEntity xmlns="{SO}"><ContactEntityId>5</ContactEntityId></GetContactEntity></s:Body>
</s:Envelope>"""


def test_equivalent_envelopes_have_no_diff() -> None:
    other = REQUEST.replace(b"ns0:", b"x:").replace(b"xmlns:ns0", b"xmlns:x").replace(TICKET.encode(), b"7T:new")
    assert diff_envelopes(REQUEST, other) == ""
    assert canonical_envelope(REQUEST) == canonical_envelope(other)


def test_diff_shows_real_differences_and_masks_volatile_values() -> None:
    text = diff_envelopes(REQUEST, DOTNET_REQUEST, labels=("python", "dotnet"))
    assert text.startswith("--- python\n+++ dotnet\n")
    assert "+    <wsa:MessageID>{MessageID}</wsa:MessageID>" in text  # present on one side only
    assert "urn:uuid:42" not in text and "another-secret" not in text and TICKET not in text
    assert "ContactEntityId" not in "".join(line for line in text.splitlines() if line[:1] in "+-")
    changed = DOTNET_REQUEST.replace("<ContactEntityId>5<", "<ContactEntityId>6<")
    assert "+      <so:ContactEntityId>6</so:ContactEntityId>" in diff_envelopes(REQUEST, changed)


def test_diff_tells_a_ticket_from_an_access_token_and_checks_signed_token_shape() -> None:
    access = REQUEST.replace(TICKET.encode(), b"8A:Cust12345.token")
    assert "+      <so:Ticket>8A:***</so:Ticket>" in diff_envelopes(REQUEST, access)
    psu = "http://www.superoffice.com/superid/partnersystemuser/0.1"
    signed = f'<A xmlns="{psu}"><SignedSystemToken>App-1.202401011200.{"Q" * 44}==</SignedSystemToken></A>'
    later = signed.replace("202401011200", "202402020800").replace("Q" * 44, "R" * 44)
    assert diff_envelopes(signed, later) == ""
    broken = signed.replace(".202401011200.", ".2024.")
    assert "not token.yyyyMMddHHmm.signature" in diff_envelopes(signed, broken)


def test_diff_without_masks_still_redacts_secrets() -> None:
    text = diff_envelopes(REQUEST, DOTNET_REQUEST, mask_volatile=False)
    assert "urn:uuid:42" in text and "another-secret" not in text
    assert "another-secret" in diff_envelopes(REQUEST, DOTNET_REQUEST, mask_volatile=False, show_secrets=True)


def test_diff_of_non_xml_is_a_clear_error() -> None:
    with pytest.raises(CaptureFormatError, match="b is not XML"):
        diff_envelopes(REQUEST, "{json}")


# --- replay ------------------------------------------------------------------------------------

OK_RESPONSE = f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>
<h:Succeeded xmlns:h="{SO}">true</h:Succeeded></s:Header><s:Body><GetContactEntityResponse xmlns="{SO}">
<Response><ContactId>5</ContactId></Response></GetContactEntityResponse></s:Body></s:Envelope>""".encode()


class FakeServer(BaseAdapter):
    """A requests adapter answering the state endpoint and SOAP posts from a script."""

    def __init__(self, endpoints: list[str], soap_statuses: list[int]) -> None:
        super().__init__()
        self.endpoints = endpoints
        self.soap_statuses = soap_statuses
        self.posts: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.request = request
        response.url = request.url or ""
        if request.method == "GET":
            endpoint = self.endpoints.pop(0) if len(self.endpoints) > 1 else self.endpoints[0]
            response.status_code = 200
            response._content = json.dumps({"ContextIdentifier": "Cust12345", "Endpoint": endpoint,
                                            "State": "Running", "IsRunning": True}).encode()
            response.headers["Content-Type"] = "application/json"
            return response
        self.posts.append(request)
        response.status_code = self.soap_statuses.pop(0)
        response._content = OK_RESPONSE if response.status_code == 200 else b"Wrong subdomain"
        response.headers["Content-Type"] = "text/xml; charset=utf-8"
        return response

    def close(self) -> None:
        pass


def fake_client(server: FakeServer) -> SuperOfficeClient:
    session = requests.Session()
    session.mount("http://", server)
    return SuperOfficeClient("Cust12345", env="http://sandbox.test", app_token="fresh-app-token",
                             credentials=StaticToken("7T:fresh-ticket"), session=session)


def test_replay_sends_a_redacted_capture_with_fresh_credentials_to_the_current_host(tmp_path: Path) -> None:
    path = save_capture([exchange()], tmp_path / "c.json")  # redacted: the ticket in the file is ***
    server = FakeServer(["http://host3.test/Cust12345"], [200])
    replayed = replay(load_capture(path)[0], fake_client(server))
    sent = server.posts[0]
    assert sent.url == "http://host3.test/Cust12345/Remote/Services88/Contact.svc"
    body = sent.body.decode() if isinstance(sent.body, bytes) else str(sent.body)
    assert "<ns0:Ticket>7T:fresh-ticket</ns0:Ticket>" in body and "fresh-app-token" in body
    assert "<ns0:ContactEntityId>5</ns0:ContactEntityId>" in body
    assert sent.headers["SOAPAction"] == HEADERS["SOAPAction"] and "Authorization" not in sent.headers
    assert replayed.status == 200 and not exchange_failed(replayed)


def test_replay_follows_a_421_once() -> None:
    server = FakeServer(["http://old.test/Cust12345", "http://new.test/Cust12345"], [421, 200])
    replay(exchange(), fake_client(server))
    assert [p.url for p in server.posts] == ["http://old.test/Cust12345/Remote/Services88/Contact.svc",
                                             "http://new.test/Cust12345/Remote/Services88/Contact.svc"]


def test_replay_url_sends_partner_service_calls_to_the_environment() -> None:
    client = fake_client(FakeServer(["http://x.test/Cust12345"], []))
    url = "https://sod.superoffice.com/login/services/PartnerSystemUserService.svc"
    assert replay_url(url, client) == "http://sandbox.test/login/services/PartnerSystemUserService.svc"


def test_replay_refuses_truncated_requests_and_signed_tokens_without_a_system_user() -> None:
    client = fake_client(FakeServer(["http://x.test/Cust12345"], [200]))
    truncated = exchange()
    truncated.truncated = True
    with pytest.raises(CaptureFormatError, match="truncated"):
        replay(truncated, client)
    psu = "http://www.superoffice.com/superid/partnersystemuser/0.1"
    signed = Exchange("https://sod.superoffice.com/login/services/PartnerSystemUserService.svc", {},
                      f'<A xmlns="{psu}"><SignedSystemToken>x.202401011200.abc</SignedSystemToken></A>'.encode(),
                      200, {}, b"", 0.1)
    with pytest.raises(ConfigurationError, match="needs a system user"):
        replay(signed, client)
