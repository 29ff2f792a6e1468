"""Reference tokens: ``soapkit sandbox tokens create|list|revoke`` on a data dir, and the PAT/SAT providers."""

from __future__ import annotations

import datetime as dt
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_oauth_support import client_for, running_sandbox

from soapkit import connect
from soapkit.cli import main
from soapkit.credentials.reference import PersonalAccessToken, ReferenceToken, ServiceAccessToken
from soapkit.errors import ConfigurationError, CredentialRejected
from soapkit.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("driver")  # every test runs on both drivers (tests/both_drivers.py)

@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    yield from running_sandbox(tmp_path_factory, "reference-sandbox")


def _tokens(sb: Sandbox, *words: str) -> int:
    return main(["sandbox", "tokens", *words, "--data-dir", str(sb.data.root)])


def _create(sb: Sandbox, tmp_path: Path, kind: str, *extra: str) -> str:
    target = tmp_path / f"{kind}.txt"
    assert _tokens(sb, "create", "--kind", kind, "-o", str(target), *extra) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    return target.read_text().strip()


def _listing(sb: Sandbox, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["sandbox", "tokens", "list", "--json", "--data-dir", str(sb.data.root)]) == 0
    return list(json.loads(capsys.readouterr().out))


def test_pat_acts_as_its_person_until_revoked(sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              driver: str) -> None:
    report = f"nightly report ({driver})"  # each driver's run makes its own token
    value = _create(sandbox, tmp_path, "pat", "--user", "EVA", "--description", report)
    assert value.startswith(f"8P:{sandbox.context_identifier}.")
    client = client_for(sandbox, PersonalAccessToken(value))
    assert client.ContactAgent.GetContactEntity(1).ContactId == 1
    principal = connect(sandbox.context_identifier, env=sandbox.base_url, app_token=sandbox.config["client_secret"],
                        ticket="7T:unused").SoPrincipalAgent.AuthenticateWithAccessToken(value)
    assert principal.Associate == "EVA"

    entries = _listing(sandbox, capsys)
    entry = next(e for e in entries if e["description"] == report)
    assert entry["kind"] == "pat" and entry["user"] == "EVA" and entry["status"] == "active"
    assert value not in json.dumps(entries) and value[3:] not in json.dumps(entries)

    assert _tokens(sandbox, "revoke", str(entry["id"])) == 0
    with pytest.raises(CredentialRejected):
        client_for(sandbox, PersonalAccessToken(value)).ContactAgent.GetContactEntity(1)
    assert next(e for e in _listing(sandbox, capsys) if e["id"] == entry["id"])["status"] == "revoked"


def test_sat_is_the_system_user_by_default(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert _tokens(sandbox, "create", "--kind", "sat", "--show-secrets") == 0
    value = capsys.readouterr().out.strip()
    assert value.startswith(f"8S:{sandbox.context_identifier}.")
    assert client_for(sandbox, ServiceAccessToken(value)).PersonAgent.GetPersonEntity(2).PersonId == 2
    record = sandbox.backend.credentials.lookup(value)
    assert record is not None and record.associate_id == 1


def test_token_with_an_expiry_stops_working(sandbox: Sandbox, tmp_path: Path) -> None:
    value = _create(sandbox, tmp_path, "pat", "--user", "johan.berg@sandbox.example", "--expires-in", "1")
    client = client_for(sandbox, ReferenceToken(value))
    assert client.ContactAgent.GetContactEntity(1).ContactId == 1
    real = sandbox.settings.clock
    sandbox.settings.clock = lambda: real() + dt.timedelta(days=2)
    try:
        with pytest.raises(CredentialRejected):
            client.ContactAgent.GetContactEntity(1)
    finally:
        sandbox.settings.clock = real


@pytest.mark.parametrize(("words", "message"), [
    (("create", "--kind", "pat", "--show-secrets"), "needs the person"),
    (("create", "--kind", "pat", "--user", "EVA"), "shown only once"),
    (("create", "--kind", "pat", "--user", "NOBODY", "--show-secrets"), "no user"),
    (("revoke", "deadbeef"), "no reference token"),
])
def test_refusals_are_usage_errors(sandbox: Sandbox, capsys: pytest.CaptureFixture[str], words: tuple[str, ...],
                                   message: str) -> None:
    before = len(_listing(sandbox, capsys))
    assert _tokens(sandbox, *words) == 2
    assert message in capsys.readouterr().err
    assert len(_listing(sandbox, capsys)) == before


def test_a_data_dir_without_a_sandbox_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "tokens", "list", "--data-dir", str(tmp_path)]) == 2
    assert "no sandbox in" in capsys.readouterr().err


# --- the providers -------------------------------------------------------------------------------


def test_kinds_keep_persons_and_services_apart(sandbox: Sandbox) -> None:
    context = client_for(sandbox, ServiceAccessToken("8S:Cust12345.x")).context
    personal, service = PersonalAccessToken("8P:Cust12345.same"), ServiceAccessToken("8S:Cust12345.same")
    assert personal.kind == "personal_access_token" and service.kind == "service_access_token"
    assert personal.cache_key(context) != service.cache_key(context)
    assert "personal_access_token" in personal.cache_key(context) and "same" not in personal.cache_key(context)
    assert "8P:Cust12345.same" not in repr(personal)


@pytest.mark.parametrize(("value", "kind"), [("8P:Cust1.x", "sat"), ("8S:Cust1.x", "pat"), ("opaque", None),
                                             ("", None)])
def test_kind_must_be_known_and_agree_with_the_prefix(value: str, kind: str | None) -> None:
    with pytest.raises(ConfigurationError):
        ReferenceToken(value, kind=kind)  # type: ignore[arg-type]


def test_an_unprefixed_token_with_an_explicit_kind_is_accepted() -> None:
    assert ReferenceToken("opaque-token", kind="sat").kind == "service_access_token"


def test_a_rejected_reference_token_is_not_retried(sandbox: Sandbox) -> None:
    credential = PersonalAccessToken("8P:Cust12345.never-issued")
    with pytest.raises(CredentialRejected, match="not valid"):
        client_for(sandbox, credential).ContactAgent.GetContactEntity(1)
    assert credential.fetch_count == 1
