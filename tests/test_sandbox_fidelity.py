"""Clients the sandbox did not write: zeep in strict mode on SuperOffice's *real* published WSDLs.

For every operation soapkit ships, a zeep client built from the reference WSDL (not the project's own,
not the sandbox's ``?wsdl``) calls the sandbox and must deserialise the answer: success answers, and the
``Succeeded=false``/``ExceptionInfo`` answers. zeep's WS-Addressing headers are kept on purpose: the
sandbox must ignore them as SuperOffice does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import zeep

from soapkit.catalog import default_catalog
from soapkit.credentials.signing import sign_system_token
from soapkit.headers import SuperOfficeHeaders
from soapkit.sandbox import Sandbox
from soapkit.sandbox.agents.registry import implemented

pytestmark = pytest.mark.reference

NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"
PARTNER_NS = "http://www.superoffice.com/superid/partnersystemuser/0.1"
AGENTS = ("Contact", "Person", "SoPrincipal")


class RealClients:
    """Strict zeep clients on the reference WSDLs, re-pointed at the sandbox."""

    def __init__(self, sandbox: Sandbox, folder: Path) -> None:
        self.sandbox = sandbox
        self.folder = folder
        self.ticket = sandbox.issue_ticket()
        self._clients: dict[tuple[str, str], Any] = {}

    def service(self, name: str, *, ticket: str | None = None, app_token: str | None = None,
                onsite: bool = False) -> Any:
        key = (name, f"{ticket}|{app_token}|{onsite}")
        if key not in self._clients:
            plugin = SuperOfficeHeaders(app_token or self.sandbox.config["client_secret"],
                                        ticket=lambda: ticket or self.ticket, ws_addressing=True)
            client = zeep.Client(str(self.folder / "Services88" / f"{name}.wsdl"),
                                 settings=zeep.Settings(strict=True), plugins=[plugin])
            folder = self.sandbox.config["onsite"]["services_url"] if onsite else self.sandbox.config["netserver_url"]
            url = f"{folder}{name}.svc"
            self._clients[key] = client.create_service(f"{{{NS}}}BasicHttpBinding_{name}", url)
        return self._clients[key]


@pytest.fixture(scope="module")
def real(sandbox: Sandbox, reference_wsdl_dir: Path) -> RealClients:
    return RealClients(sandbox, reference_wsdl_dir)


def _new_contact(real: RealClients) -> int:
    contact = real.service("Contact")
    entity = contact.CreateDefaultContactEntity().body.Response
    entity.Name = "Fidelity AS"
    return int(contact.SaveContactEntity(entity).body.Response.ContactId)


def _new_person(real: RealClients) -> int:
    person = real.service("Person")
    entity = person.CreateDefaultPersonEntity().body.Response
    entity.Firstname, entity.Lastname = "Fiona", "Fidelity"
    entity.Contact = {"ContactId": 1}
    return int(person.SavePersonEntity(entity).body.Response.PersonId)


def _save_contact(real: RealClients) -> Any:
    contact = real.service("Contact")
    entity = contact.GetContactEntity(2).body.Response
    entity.Description = "saved by a strict client on the real WSDL"
    return contact.SaveContactEntity(entity)


def _save_person(real: RealClients) -> Any:
    person = real.service("Person")
    entity = person.GetPersonEntity(3).body.Response
    entity.Title = "Saved Strictly"
    return person.SavePersonEntity(entity)


# operation -> how to call it with a real client; each returns the zeep result (body + header)
CASES: dict[tuple[str, str], Callable[[RealClients], Any]] = {
    ("Contact", "GetContactEntity"): lambda r: r.service("Contact").GetContactEntity(1),
    ("Contact", "SaveContactEntity"): _save_contact,
    ("Contact", "CreateDefaultContactEntity"): lambda r: r.service("Contact").CreateDefaultContactEntity(),
    ("Contact", "DeleteContactEntity"): lambda r: r.service("Contact").DeleteContactEntity(_new_contact(r)),
    ("Contact", "GetContact"): lambda r: r.service("Contact").GetContact(1),
    ("Contact", "GetContactList"): lambda r: r.service("Contact").GetContactList({"int": [1, 2, 3]}),
    ("Contact", "GetPersons"): lambda r: r.service("Contact").GetPersons(1),
    ("Contact", "GetMyContact"): lambda r: r.service("Contact").GetMyContact(),
    ("Person", "GetPersonEntity"): lambda r: r.service("Person").GetPersonEntity(1),
    ("Person", "SavePersonEntity"): _save_person,
    ("Person", "CreateDefaultPersonEntity"): lambda r: r.service("Person").CreateDefaultPersonEntity(),
    ("Person", "DeletePersonEntity"): lambda r: r.service("Person").DeletePersonEntity(_new_person(r)),
    ("Person", "GetPerson"): lambda r: r.service("Person").GetPerson(1),
    ("Person", "GetPersonList"): lambda r: r.service("Person").GetPersonList({"int": [1, 2, 3]}),
    ("Person", "GetPersonsFromContact"): lambda r: r.service("Person").GetPersonsFromContact(2),
    ("SoPrincipal", "AuthenticateWithAccessToken"):
        lambda r: r.service("SoPrincipal").AuthenticateWithAccessToken(r.ticket),
    ("SoPrincipal", "AuthenticateUsernamePassword"):
        lambda r: r.service("SoPrincipal", onsite=True).AuthenticateUsernamePassword(
            r.sandbox.config["onsite"]["user"], r.sandbox.config["onsite"]["password"]),
    ("SoPrincipal", "GetSystemInfo"): lambda r: r.service("SoPrincipal").GetSystemInfo(),
    ("SoPrincipal", "AuthenticateImplicit"): lambda r: r.service("SoPrincipal", onsite=True).AuthenticateImplicit(),
}

# Every operation the sandbox emulates for these agents (the rest answer NotImplementedException).
EMULATED = sorted(key for service in AGENTS for key in implemented(service))


def test_every_emulated_operation_has_a_fidelity_case() -> None:
    assert sorted(CASES) == EMULATED


def test_emulated_operations_are_operations_of_the_shipped_contract() -> None:
    for service, operation in EMULATED:
        assert operation in default_catalog().describe(service).operation_names


@pytest.mark.parametrize(("service", "operation"), EMULATED, ids=[f"{s}.{o}" for s, o in EMULATED])
def test_success_answers_parse_strictly_with_the_real_wsdl(real: RealClients, service: str, operation: str) -> None:
    result = CASES[(service, operation)](real)
    assert result.header.Succeeded is True
    assert result.header.ExceptionInfo is None
    body = result.body
    if operation.startswith("Delete"):
        return
    values = [value for value in body.__values__.values() if value is not None]
    assert values, f"{service}.{operation} answered an empty body"


def test_list_answers_carry_their_items(real: RealClients) -> None:
    contacts = real.service("Contact").GetContactList({"int": [1, 2, 3]}).body.Response.Contact
    assert [c.ContactId for c in contacts] == [1, 2, 3]
    persons = real.service("Person").GetPersonsFromContact(2).body.Response.Person
    assert len(persons) == 2 and all(p.ContactId == 2 for p in persons)
    entity = real.service("Contact").GetContactEntity(1).body.Response
    assert entity.Persons.Person and entity.Address.Street.AtypeIdx == "ContactStreetAddress"


@pytest.mark.parametrize("service", ["Contact", "Person"])
def test_failure_answers_parse_strictly_with_the_real_wsdl(real: RealClients, service: str) -> None:
    proxy = real.service(service, ticket="7T:bm90IGEgdGlja2V0")
    result = getattr(proxy, f"Get{service}Entity")(1)
    assert result.header.Succeeded is False
    assert result.header.ExceptionInfo.ExceptionType == "CredentialsInvalidException"
    missing = getattr(real.service(service), f"Get{service}Entity")(987654)
    assert missing.header.Succeeded is True


def test_soprincipal_failure_parses_strictly(real: RealClients) -> None:
    refused = real.service("SoPrincipal", app_token="not-a-secret").GetSystemInfo()
    assert refused.header.Succeeded is False
    assert refused.header.ExceptionInfo.ExceptionType == "ApplicationTokenInvalidException"
    unknown = real.service("SoPrincipal").AuthenticateWithAccessToken("7T:bm9wZQ==")
    assert unknown.header.Succeeded is True and unknown.body.AuthenticationSucceeded is False


def test_validation_failure_parses_strictly(real: RealClients) -> None:
    contact = real.service("Contact")
    entity = contact.CreateDefaultContactEntity().body.Response
    result = contact.SaveContactEntity(entity)
    assert result.header.Succeeded is False and result.header.ExceptionInfo.ExceptionType == "ValidationException"


@pytest.mark.parametrize("good", [True, False], ids=["success", "failure"])
def test_partner_service_answers_parse_strictly_with_the_real_wsdl(sandbox: Sandbox, reference_wsdl_dir: Path,
                                                                   good: bool) -> None:
    config = sandbox.config
    plugin = SuperOfficeHeaders(config["client_secret"], context_identifier=config["context_identifier"],
                                ws_addressing=True)
    client = zeep.Client(str(reference_wsdl_dir / "PartnerSystemUserService.wsdl"),
                         settings=zeep.Settings(strict=True), plugins=[plugin])
    service = client.create_service(f"{{{PARTNER_NS}}}BasicHttpBinding_IPartnerSystemUserService",
                                    config["partner_service_url"])
    token = config["system_user_token"] if good else "somebody else-123"
    answer = service.Authenticate(SignedSystemToken=sign_system_token(token, config["private_key_pem"]),
                                  ReturnTokenType="Jwt")
    assert answer.IsSuccessful is good
    assert (answer.Token is not None) is good
    assert (answer.ErrorMessage is None) is good


def test_onsite_sign_in_answers_a_ticket_and_the_principal(real: RealClients) -> None:
    onsite = real.sandbox.config["onsite"]
    principal = real.service("SoPrincipal", onsite=True)
    body = principal.AuthenticateUsernamePassword(onsite["user"], onsite["password"]).body
    assert body.AuthenticationSucceeded is True and body.Credentials.Ticket.startswith("7T:")
    assert body.Response.AssociateId == 2 and body.Response.Associate == onsite["user"]
    wrong = principal.AuthenticateUsernamePassword(onsite["user"], "wrong").body
    assert wrong.AuthenticationSucceeded is False and wrong.Credentials is None
