"""The compiled codec on the sandbox's real answers: every shipped agent operation is called over HTTP with a
request the codec wrote (checked byte for byte against zeep's), and the answer is read both ways."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from test_codec_differential import same

from soapkit.catalog import PARTNER_SERVICE, Catalog, default_catalog
from soapkit.codec import CodecFallback, compiled
from soapkit.codec.reference import zeep_reply, zeep_request
from soapkit.sandbox import Sandbox
from soapkit.sandbox.agents import schema
from soapkit.values.schema import builtin_name


@pytest.fixture(scope="module")
def session(own_sandbox: Sandbox) -> Iterator[tuple[Sandbox, str, requests.Session]]:
    with requests.Session() as http:
        yield own_sandbox, own_sandbox.issue_ticket(), http


def calls(catalog: Catalog) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for service in catalog.services():
        if service == PARTNER_SERVICE:
            continue
        described = catalog.describe(service)
        enumerations = schema.enumerations(described.path)
        for name in described.operation_names:
            operation = described.operation(name)
            yield service, name, schema.default_parameters(operation, enumerations)
            parameters = list(operation.input.body.type.elements) if operation.input.body is not None else []
            if (name.startswith("Get") and name.endswith("Entity") and len(parameters) == 1
                    and builtin_name(parameters[0][1].type) == "int"):
                for entity_id in (1, 2, 3):  # the seed data: populated entities, lists, nested carriers
                    yield service, name, {parameters[0][0]: entity_id}


def test_every_sandbox_answer_reads_exactly_as_zeep_reads_it(session: tuple[Sandbox, str, requests.Session]) -> None:
    sandbox, ticket, http = session
    catalog = default_catalog()
    headers = {"ApplicationToken": sandbox.config["client_secret"], "Credentials": {"Ticket": ticket}}
    outcomes: Counter[str] = Counter()
    sizes = 0
    for service, name, values in calls(catalog):
        described = catalog.describe(service)
        codec = compiled(described, name)
        body = codec.encode(values, headers)
        assert body == zeep_request(described, name, values, headers)[0], f"{service}.{name}"
        response = http.post(f"{sandbox.config['netserver_url']}{service}.svc", data=body,
                             headers=codec.http_headers, timeout=30)
        try:
            mine = codec.decode(response.content, response.status_code)
        except CodecFallback as fallback:
            outcomes[f"fallback: {fallback.reason}"] += 1
            continue
        theirs = zeep_reply(described, name, response.content, response.status_code)
        assert same(mine, theirs), f"{service}.{name}: {response.content[:500]!r}"
        outcomes["succeeded" if mine.header.Succeeded else "failed"] += 1
        sizes += len(response.content)
    assert set(outcomes) <= {"succeeded", "failed"}, outcomes
    # the sandbox emulates a part of the contract: the rest answers Succeeded=false with ExceptionInfo (read too)
    assert outcomes["succeeded"] >= 300 and sum(outcomes.values()) > 1964
    assert sizes > 1_000_000
