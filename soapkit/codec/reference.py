"""Today's zeep path for one operation, as the client runs it: the reference the compiled codec is held to
(differential tests, benchmarks) and the fallback a caller can use for one message.

:func:`zeep_request` builds the request through a zeep client with soapkit's plugins (SuperOfficeHeaders,
EmptyStrings); :func:`zeep_reply` reads an answer through zeep's binding exactly as a call does (parse,
ingress plugins, fault handling, deserialisation) and applies soapkit's ``unwrap`` shaping.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Any

import requests
import zeep
from lxml import etree

from soapkit.catalog import ZEEP_SETTINGS, ServiceDescription
from soapkit.codec import DecodedReply
from soapkit.headers import HeaderValues, ResponseParts, write_headers
from soapkit.values.empty_strings import EmptyStrings
from soapkit.values.outputs import shape

_ADDRESS = "http://127.0.0.1:9/reference.svc"
_clients: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], Any]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


class _GivenValues(HeaderValues):
    """Header values read from a mapping (a header absent from it, or None, is not written)."""

    def __init__(self, headers: Mapping[str, Any]) -> None:
        super().__init__(application_token_optional=True)
        object.__setattr__(self, "_given", dict(headers))

    def value(self, name: str) -> Any:
        return self._given.get(name)  # type: ignore[attr-defined]


class _GivenHeaders(ResponseParts):
    """soapkit's header writer and response-part reader, as the client applies them, for given values."""

    def __init__(self, headers: Mapping[str, Any]) -> None:
        self._values = _GivenValues(headers)

    def egress(self, envelope: etree._Element, http_headers: dict[str, str], operation: Any,
               binding_options: Any) -> tuple[etree._Element, dict[str, str]]:
        return write_headers(envelope, operation.input.header, self._values), http_headers


def _proxy(description: ServiceDescription, operation: str, headers: Mapping[str, Any]) -> tuple[Any, Any]:
    key = (operation, repr(sorted(headers.items())))
    with _lock:
        per_description = _clients.setdefault(description, {})
        found = per_description.get(key)
    if found is None:
        client = zeep.Client(description.document(operation), plugins=[_GivenHeaders(headers), EmptyStrings()],
                             settings=ZEEP_SETTINGS)
        found = (client, client.create_service(description.binding_name, _ADDRESS))
        with _lock:
            per_description[key] = found
    return found


def zeep_request(description: ServiceDescription, operation: str, values: Mapping[str, Any],
                 headers: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The bytes and HTTP headers today's client posts for ``values`` (bound keyword arguments)."""
    client, proxy = _proxy(description, operation, headers)
    envelope, http_headers = proxy._binding._create(operation, (), dict(values), client=client)
    return bytes(etree.tostring(envelope, pretty_print=False, xml_declaration=True, encoding="utf-8")), dict(
        http_headers)


def zeep_reply(description: ServiceDescription, operation: str, content: bytes, status: int = 200) -> DecodedReply:
    """An answer read as today's client reads it (zeep's exceptions propagate, as they do in a call)."""
    client, proxy = _proxy(description, operation, {})
    response = requests.Response()
    response.status_code = status
    response._content = content
    response.headers["Content-Type"] = "text/xml; charset=utf-8"
    binding = proxy._binding
    result = binding.process_reply(client, binding.get(operation), response)
    header = getattr(result, "header", None) if _has(result, "header") else None
    body = shape(result.body if _has(result, "body") else result)
    return DecodedReply(header, body, body["Response"] if _has(body, "Response") else body)


def _has(value: Any, name: str) -> bool:
    try:
        return name in value
    except TypeError:
        return False
