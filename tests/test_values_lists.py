"""so.mdo_list and so.udf_list: one call per list and cache time, nested ChildItems as lists.

MDO and UserDefinedFieldInfo ship with the 58-agent WSDL set; until then these tests use the reference
WSDLs as a user's wsdl_dirs, against a scripted server that records what it was asked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from soapkit import connect

pytestmark = pytest.mark.usefixtures("driver")  # every test runs on both drivers (tests/both_drivers.py)

NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"
ENVELOPE = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><Succeeded xmlns="' + NS
            + '">true</Succeeded></s:Header><s:Body>{body}</s:Body></s:Envelope>')
GET_LIST = ('<GetListResponse xmlns="' + NS + '"><Response><MDOListItem><Id>1</Id><Name>Customer</Name>'
            '<ChildItems><MDOListItem><Id>11</Id><Name>Key account</Name><ChildItems/></MDOListItem></ChildItems>'
            '</MDOListItem><MDOListItem><Id>2</Id><Name>Prospect</Name></MDOListItem></Response></GetListResponse>')
UDF = ('<GetUserDefinedFieldFromProgIdResponse xmlns="' + NS + '"><Response><UDListDefinitionId>136'
       '</UDListDefinitionId></Response></GetUserDefinedFieldFromProgIdResponse>')


@pytest.fixture()
def server() -> Iterator[tuple[str, list[bytes]]]:
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # the tenant state
            port = self.server.server_address[1]
            state = {"ContextIdentifier": "Cust1", "Endpoint": f"http://127.0.0.1:{port}/Cust1", "State": "Running",
                     "IsRunning": True}
            self._send("application/json", json.dumps(state).encode())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            bodies.append(body)
            answer = UDF if b"GetUserDefinedFieldFromProgId" in body else GET_LIST
            self._send("text/xml; charset=utf-8", ENVELOPE.format(body=answer).encode())

        def _send(self, ctype: str, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", bodies
    httpd.shutdown()
    httpd.server_close()


def test_mdo_list_is_cached_and_nested_items_are_lists(server: tuple[str, list[bytes]],
                                                       reference_wsdl_dir: Any) -> None:
    base, bodies = server
    so = connect("Cust1", env=base, app_token="secret", ticket="7T:t", wsdl_dirs=[reference_wsdl_dir])
    items = so.mdo_list("category")
    assert [i.Name for i in items] == ["Customer", "Prospect"]
    assert [c.Name for c in items[0].ChildItems] == ["Key account"] and items[1].ChildItems == []
    items.clear()
    assert len(so.mdo_list("Category")) == 2 and len(bodies) == 1  # names are case-insensitive
    assert b"<ns0:Name>category</ns0:Name>" in bodies[0] or b">category<" in bodies[0]
    so.lists.clear()
    so.mdo_list("category")
    assert len(bodies) == 2


def test_udf_list_asks_for_the_fields_list_definition(server: tuple[str, list[bytes]],
                                                      reference_wsdl_dir: Any) -> None:
    base, bodies = server
    so = connect("Cust1", env=base, app_token="secret", ticket="7T:t", wsdl_dirs=[reference_wsdl_dir],
                 list_cache_seconds=300)
    assert [i.Id for i in so.udf_list("SuperOffice:7")] == [1, 2]
    so.udf_list("SuperOffice:7")
    assert len(bodies) == 2
    assert b"SuperOffice:7" in bodies[0] and b">Contact<" in bodies[0]
    assert b">udlist<" in bodies[1] and b">136<" in bodies[1]
