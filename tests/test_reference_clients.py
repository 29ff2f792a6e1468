"""Clients we did not write, on SuperOffice's *reference* WSDLs, against the whole sandbox (issue 11, item 5).

zeep in strict mode, built from the published WSDLs (``reference_wsdl_dir``; skipped where absent) and
re-pointed at the sandbox, drives every entity family's four verbs (``CreateDefault{X}Entity`` ->
``Save{X}Entity`` -> ``Get{X}Entity`` -> ``Delete{X}Entity``; a saved value must read back equal) plus one
operation of every other agent, each answer parsed strictly. suds, a different SOAP stack, does the same for
a sample of families. Nothing here uses soapkit's client or catalog to build a request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zeep
from zeep import helpers

from soapkit.catalog import PARTNER_SERVICE, default_catalog
from soapkit.headers import SuperOfficeHeaders
from soapkit.sandbox import Sandbox
from soapkit.sandbox.agents import entities
from soapkit.sandbox.agents.generic import GenericAgents

pytestmark = pytest.mark.reference

NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"
STAMP = dt.datetime(2024, 5, 17, 9, 30)


def _families() -> list[entities.EntityFamily]:
    catalog = default_catalog()
    generic = GenericAgents(catalog)
    return [family for service in catalog.services() if service != PARTNER_SERVICE
            for family in generic.families(service).values() if set(family.operations) == set(entities.VERBS)]


FAMILIES = _families()


class Reference:
    """Strict zeep clients on the reference WSDLs, one per agent, sending to the sandbox."""

    def __init__(self, sandbox: Sandbox, folder: Path) -> None:
        self.sandbox, self.folder = sandbox, folder
        self.ticket = sandbox.issue_ticket()
        self._services: dict[str, Any] = {}
        self.calls: list[tuple[str, str]] = []

    def client(self, agent: str) -> Any:
        if agent not in self._services:
            plugin = SuperOfficeHeaders(self.sandbox.config["client_secret"], ticket=lambda: self.ticket)
            client = zeep.Client(str(self.folder / "Services88" / f"{agent}.wsdl"),
                                 settings=zeep.Settings(strict=True), plugins=[plugin])
            self._services[agent] = client.create_service(f"{{{NS}}}BasicHttpBinding_{agent}",
                                                          f"{self.sandbox.config['netserver_url']}{agent}.svc")
        return self._services[agent]

    def operations(self, agent: str) -> list[str]:
        return sorted(self.client(agent)._binding._operations)

    def call(self, agent: str, operation: str, *args: Any, **kwargs: Any) -> Any:
        """The strictly parsed answer; zeep raises on an HTTP error or an answer that does not parse."""
        self.calls.append((agent, operation))
        return getattr(self.client(agent), operation)(*args, **kwargs)


@pytest.fixture(scope="module")
def reference(own_sandbox: Sandbox, reference_wsdl_dir: Path) -> Iterator[Reference]:
    yield Reference(own_sandbox, reference_wsdl_dir)


def plain(value: Any) -> Any:
    return helpers.serialize_object(value, dict)


# Contact and Person are hand-written agents that keep system fields (UpdatedDate, DbiKey, ...) to themselves:
# only these of their members are the client's to set.
HAND_WRITTEN_EDITABLE = {"Contact.Contact": ("Name", "Department", "OrgNr"),
                         "Person.Person": ("Firstname", "Lastname", "Title")}


def _fill(family: entities.EntityFamily, entity: Any) -> dict[str, Any]:
    """Give every string member and the first dateTime member of ``entity`` a value (not the members the store
    stamps); returns those values."""
    given: dict[str, Any] = {}
    editable = HAND_WRITTEN_EDITABLE.get(family.key)
    for member, element in family.entity_type.elements:
        name = getattr(element.type, "name", None)
        if (editable is not None and member not in editable) or member in entities.STAMPED:
            continue  # the store fills in who and when itself
        if name == "string" and element.max_occurs == 1:
            given[member] = f"{family.name} {member}"
        elif name == "dateTime" and not any(isinstance(v, dt.datetime) for v in given.values()):
            given[member] = STAMP
    for member, value in given.items():
        setattr(entity, member, value)
    return given


def _four_verbs(reference: Reference, family: entities.EntityFamily) -> None:
    agent, ops = family.service, family.operations
    available = set(reference.operations(agent))
    if not set(ops.values()) <= available:
        pytest.skip(f"{family.key}: the reference WSDL lacks {sorted(set(ops.values()) - available)}")
    created = reference.call(agent, ops["CreateDefault"])
    assert created.header.Succeeded, (family.key, created.header.ExceptionInfo)
    entity = created.body.Response
    assert getattr(entity, family.id_member) == 0
    given = _fill(family, entity)
    saved = reference.call(agent, ops["Save"], entity)
    assert saved.header.Succeeded, (family.key, saved.header.ExceptionInfo)
    stored = plain(saved.body.Response)
    entity_id = stored[family.id_member]
    assert entity_id > 0, family.key
    assert {member: stored[member] for member in given} == given, family.key
    read = reference.call(agent, ops["Get"], entity_id)
    assert read.header.Succeeded and plain(read.body.Response) == stored, family.key
    deleted = reference.call(agent, ops["Delete"], entity_id)
    assert deleted.header.Succeeded, (family.key, deleted.header.ExceptionInfo)
    gone = reference.call(agent, ops["Get"], entity_id)
    assert gone.header.Succeeded and getattr(gone.body.Response, family.id_member, None) in (None, 0), family.key


def test_entity_families_and_every_agent_through_strict_zeep_on_the_reference_wsdls(reference: Reference) -> None:
    assert len(FAMILIES) >= 30 and {"Contact.Contact", "Person.Person"} <= {f.key for f in FAMILIES}
    skipped = []
    for family in FAMILIES:
        try:
            _four_verbs(reference, family)
        except pytest.skip.Exception as why:
            skipped.append(str(why))
    assert len(skipped) <= 3, skipped
    # One more operation of every other agent: the first one without parameters, else the first one; an
    # operation the sandbox does not emulate answers Succeeded=false, which must parse just as strictly.
    covered = {agent for agent, _ in reference.calls}
    agents = sorted(path.stem for path in (reference.folder / "Services88").glob("*.wsdl"))
    for agent in agents:
        if agent in covered or agent not in default_catalog().services():
            continue
        client, names = reference.client(agent), reference.operations(agent)
        bare = [name for name in names if not client._binding._operations[name].input.body.type.elements]
        answer = reference.call(agent, (bare or names)[0])
        assert answer.header.Succeeded in (True, False), (agent, answer.header)
        if answer.header.Succeeded is False:
            assert answer.header.ExceptionInfo.ExceptionType != "SandboxInternalError", (agent, answer.header)
    operations, agents_called = set(reference.calls), {agent for agent, _ in reference.calls}
    assert len(operations) >= 100 and len(agents_called) >= 30, (len(operations), len(agents_called))


# --- suds, a second SOAP stack, on a sample of the families ---------------------------------------

SUDS_SAMPLE = [family for family in FAMILIES if family.key not in HAND_WRITTEN_EDITABLE][::3][:10]


def test_suds_drives_a_sample_of_entity_families_on_the_reference_wsdls(own_sandbox: Sandbox,
                                                                       reference_wsdl_dir: Path) -> None:
    suds_client = pytest.importorskip("suds.client", reason="suds-community is part of the [test] extra")
    from suds.cache import NoCache

    assert len(SUDS_SAMPLE) == 10
    ticket = own_sandbox.issue_ticket()
    for family in SUDS_SAMPLE:
        agent, ops = family.service, family.operations
        client = suds_client.Client((reference_wsdl_dir / "Services88" / f"{agent}.wsdl").as_uri(), cache=NoCache(),
                                    location=f"{own_sandbox.config['netserver_url']}{agent}.svc", timeout=10)
        credentials = client.factory.create("Credentials")
        credentials.Ticket = ticket
        client.set_options(soapheaders={"ApplicationToken": own_sandbox.config["client_secret"],
                                        "Credentials": credentials})
        service = client.service
        entity = getattr(service, ops["CreateDefault"])()
        assert getattr(entity, family.id_member) == 0, family.key
        text = next(member for member, element in family.entity_type.elements
                    if getattr(element.type, "name", None) == "string" and element.max_occurs == 1)
        setattr(entity, text, f"suds {family.name}")
        saved = getattr(service, ops["Save"])(entity)
        entity_id = getattr(saved, family.id_member)
        assert entity_id > 0 and getattr(saved, text) == f"suds {family.name}", family.key
        read = getattr(service, ops["Get"])(entity_id)
        assert getattr(read, family.id_member) == entity_id and getattr(read, text) == f"suds {family.name}"
        getattr(service, ops["Delete"])(entity_id)
        assert getattr(getattr(service, ops["Get"])(entity_id), family.id_member, None) in (None, 0), family.key
