"""Fifty clients at once: each exchanges a signed token and calls agents over its own connection."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
import zeep
from lxml import etree

from soapkit.credentials.jwt_validation import JwksCache, claim, validate_system_user_jwt
from soapkit.credentials.signing import sign_system_token
from soapkit.sandbox import Sandbox

CLIENTS = 50
NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"


def test_fifty_concurrent_clients(sandbox: Sandbox) -> None:
    config = sandbox.config
    signed = sign_system_token(config["system_user_token"], config["private_key_pem"])
    url = f"{config['netserver_url']}Contact.svc"
    factory = zeep.Client(url + "?wsdl")
    jwks = JwksCache(config["jwks_url"])
    start = threading.Barrier(CLIENTS, timeout=30)

    def one_client(index: int) -> tuple[int, str]:
        with requests.Session() as session:
            start.wait()
            state = session.get(config["state_url"], timeout=30)
            assert state.status_code == 200
            answer = session.post(config["partner_rest_url"], timeout=30, json={
                "SignedSystemToken": signed, "ApplicationToken": config["client_secret"],
                "ContextIdentifier": config["context_identifier"], "ReturnTokenType": "Jwt"}).json()
            assert answer["IsSuccessful"], answer["ErrorMessage"]
            ticket = str(validate_system_user_jwt(answer["Token"], jwks)[claim("ticket")])
            contact_id = index % 5 + 1
            envelope = factory.create_message(
                factory.service, "GetContactEntity", contact_id,
                _soapheaders={"ApplicationToken": config["client_secret"], "Credentials": {"Ticket": ticket}})
            names = set()
            for _ in range(3):
                response = session.post(url, data=etree.tostring(envelope), timeout=30, headers={
                    "Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}/Contact/GetContactEntity"'})
                assert response.status_code == 200
                document = etree.fromstring(response.content)
                assert document.findtext(f".//{{{NS}}}Succeeded") == "true"
                names.add(document.findtext(f".//{{{NS}}}Response/{{{NS}}}Name"))
            assert len(names) == 1
            return contact_id, names.pop() or ""

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(one_client, range(CLIENTS), timeout=60))
    assert len(results) == CLIENTS
    by_contact: dict[int, set[str]] = {}
    for contact_id, name in results:
        by_contact.setdefault(contact_id, set()).add(name)
    assert all(len(names) == 1 for names in by_contact.values())
    assert len(by_contact) == 5


def test_stop_ends_the_threads_of_idle_keep_alive_connections(tmp_path) -> None:
    sb = Sandbox(tmp_path, port=0).start()
    name = f"soapkit-sandbox-{sb.base_url.rsplit(':', 1)[1]}-connection"
    sessions = [requests.Session() for _ in range(5)]
    for session in sessions:
        assert session.get(sb.config["state_url"], timeout=10).status_code == 200

    def connection_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == name]

    assert len(connection_threads()) == 5  # kept alive, idle
    sb.stop()
    for thread in connection_threads():
        thread.join(timeout=5)
    assert connection_threads() == []
    for session in sessions:
        session.close()


def test_sixty_four_clients_read_write_and_page_at_once(sandbox: Sandbox) -> None:
    """64 soapkit clients at the same moment, each on its own connection: reads, a save and an Archive page
    each; nothing fails, every save gets its own id and reads back as written."""
    import soapkit

    clients = 64
    config = sandbox.config
    ticket = sandbox.issue_ticket()
    start = threading.Barrier(clients, timeout=60)

    def one_client(index: int) -> tuple[int, int, int]:
        with soapkit.connect(config["context_identifier"], env=config["base_url"], app_token=config["client_secret"],
                             ticket=ticket) as so:
            start.wait()
            assert so.ContactAgent.GetContactEntity(index % 5 + 1)["ContactId"] == index % 5 + 1
            saved = so.ContactAgent.SaveContactEntity({"ContactId": 0, "Name": f"Concurrent {index}"})
            page = so.ArchiveAgent.GetArchiveListByColumns(
                ProviderName="Contact", Columns={"string": ["contactId", "name"]},
                SortOrder={"ArchiveOrderByInfo": []}, Restriction={"ArchiveRestrictionInfo": []},
                Entities={"string": []}, Page=0, PageSize=5)
            again = so.ContactAgent.GetContactEntity(saved["ContactId"])
            assert again["Name"] == f"Concurrent {index}"
            return index, saved["ContactId"], len(page)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(one_client, range(clients)))
    assert [index for index, _, _ in results] == list(range(clients))
    assert len({contact_id for _, contact_id, _ in results}) == clients
    assert all(rows == 5 for _, _, rows in results)
