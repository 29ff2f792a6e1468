"""Hostile JSON from the network (tenant state, JWKS, the REST ticket exchange) and hostile text reaching the
sandbox's request log and fault rules: typed errors with hints, bounded time."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
import requests
from hostile_server import HostileServer, fixed, hostile_server

from soapkit.credentials.jwt_validation import JwksCache
from soapkit.errors import CredentialError, SoapkitError, TenantError
from soapkit.tenant import Environment, TenantDirectory

DEEP = b"[" * 100_000 + b"]" * 100_000
BODIES = {"100,000-deep": DEEP, "a list": b"[1, 2]", "not UTF-8": b'{"a": "\xff"}', "not JSON": b"<html>",
          "wrong types": json.dumps({"Endpoint": ["x"], "ContextIdentifier": {"a": 1}, "keys": "nope"}).encode()}


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with hostile_server() as running:
        yield running


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", list(BODIES))
def test_a_hostile_tenant_state_is_a_tenant_error(server: HostileServer, name: str) -> None:
    server.get_answer = fixed(BODIES[name], content_type="application/json")
    try:
        with pytest.raises(TenantError) as refused:
            TenantDirectory(Environment.resolve(server.url), requests.Session()).locate("Cust1")
    finally:
        server.get_answer = None
    assert refused.value.hint


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", list(BODIES))
def test_a_hostile_jwks_is_a_credential_error(server: HostileServer, name: str) -> None:
    server.get_answer = fixed(BODIES[name], content_type="application/json")
    try:
        with pytest.raises(CredentialError) as refused:
            JwksCache(server.url + "/login/.well-known/jwks").key("ABC")
    finally:
        server.get_answer = None
    assert refused.value.hint


@pytest.mark.timeout(20)
def test_a_jwks_with_malformed_entries_keeps_only_usable_keys(server: HostileServer) -> None:
    entries = [{"kty": "RSA", "kid": {"x": 1}}, {"kty": "RSA", "kid": "K" * 500, "n": "AQAB", "e": "AQAB"},
               {"kty": "RSA", "kid": "broken", "n": "!!", "e": "??"}, "not an object", 42]
    server.get_answer = fixed(json.dumps({"keys": entries}).encode(), content_type="application/json")
    try:
        with pytest.raises(CredentialError, match="No key with kid"):
            JwksCache(server.url + "/jwks").key("broken")
    finally:
        server.get_answer = None


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", list(BODIES))
def test_a_hostile_rest_exchange_answer_is_a_typed_error(server: HostileServer, name: str) -> None:
    from soapkit import connect
    from soapkit.credentials.system_user import exchange_signed_token

    server.answer = fixed(BODIES[name], content_type="application/json")
    context = connect("Cust1", env=server.url, app_token="app-secret", ticket="7T:unused").context
    with pytest.raises(SoapkitError) as refused:
        exchange_signed_token(context, "App-token.202601011200.sig", method="rest")
    assert refused.value.hint


# --- the sandbox's log and fault rules -----------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from test_oauth_support import running_sandbox

    yield from running_sandbox(tmp_path_factory, "hostile-json-sandbox")


@pytest.mark.timeout(20)
def test_a_60_kb_path_is_logged_cut_and_quickly(sandbox: object, caplog: pytest.LogCaptureFixture) -> None:
    from soapkit.sandbox.requestlog import MAX_FIELD_CHARS

    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="soapkit.sandbox.requests"):
        response = requests.get(sandbox.base_url + "/" + "A" * 60_000, timeout=15)  # type: ignore[attr-defined]
    assert response.status_code in (404, 414, 431) and time.monotonic() - started < 5
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "soapkit.sandbox.requests"]
    assert records and all(len(r["path"]) <= MAX_FIELD_CHARS + 40 for r in records)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|a)*$", ".*.*.*x", r"(x)\1", "(?=a)a", "a" * 500])
def test_fault_rule_patterns_that_could_freeze_the_sandbox_are_refused(sandbox: object, pattern: str) -> None:
    response = requests.post(sandbox.base_url + "/_sandbox/admin/faults", timeout=10,  # type: ignore[attr-defined]
                             headers={"X-Sandbox-Admin-Token": sandbox.admin_token},  # type: ignore[attr-defined]
                             json={"fault": "status=503", "path": pattern})
    assert response.status_code == 400, response.text
    started = time.monotonic()
    requests.get(sandbox.base_url + "/Remote/" + "a" * 5000 + "!", timeout=10)  # type: ignore[attr-defined]
    assert time.monotonic() - started < 5


def test_a_deeply_nested_capture_file_is_a_capture_format_error() -> None:
    from soapkit.cli._captures import is_capture
    from soapkit.debug import parse_capture
    from soapkit.errors import CaptureFormatError

    deep = '{"a":' + "[" * 50_000 + "]" * 50_000 + "}"
    assert is_capture(deep)
    with pytest.raises(CaptureFormatError, match="nested too deeply"):
        parse_capture(deep)


def test_deep_nesting_is_refused_before_parsing_in_one_pass() -> None:
    from soapkit.flow import Headers, HttpResponse
    from soapkit.http import MAX_JSON_DEPTH, json_object, too_deep

    def answer(body: bytes) -> HttpResponse:
        return HttpResponse(200, Headers({"Content-Type": "application/json"}), body)

    assert too_deep(DEEP) and json_object(answer(DEEP)) is None  # no RecursionError is ever raised
    fine = b'{"a": ' + b"[" * (MAX_JSON_DEPTH - 1) + b"1" + b"]" * (MAX_JSON_DEPTH - 1) + b"}"
    assert json_object(answer(fine)) is not None
    brackets_in_text = json.dumps({"text": "[" * 10_000 + '\\"{' * 100}).encode()
    assert not too_deep(brackets_in_text) and json_object(answer(brackets_in_text)) == json.loads(brackets_in_text)
