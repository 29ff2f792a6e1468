"""The zeep plugin that writes SuperOffice's SOAP headers.

It writes exactly the headers the operation's binding declares, in the declared order:
``ApplicationToken`` + ``ContextIdentifier`` for PartnerSystemUserService; ``ApplicationToken`` +
``Credentials/Ticket`` (+ ``TimeZone`` when configured) for NetServer agents. ``Ticket`` takes a ``7T:``
system-user ticket or an ``8A:`` access token alike, so one generated proxy serves both.

WS-Addressing: the WSDLs carry ``wsaw:Action``, so zeep adds ``wsa:Action``, ``wsa:MessageID`` and
``wsa:To``. SuperOffice's own clients send none and the servers ignore them, so this plugin removes them
by default (smaller envelopes, nothing volatile to mask when diffing with .NET captures). Pass
``ws_addressing=True`` to keep them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from lxml import etree
from zeep import Plugin

from soapkit.errors import ConfigurationError

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
WSA_NAMESPACES = frozenset({"http://www.w3.org/2005/08/addressing", "http://schemas.xmlsoap.org/ws/2004/08/addressing"})


@dataclass(frozen=True)
class TimeZoneHeader:
    """The optional NetServer ``TimeZone`` header: a SuperOffice time zone id and/or location code."""

    so_time_zone_id: int | None = None
    so_time_zone_location_code: str | None = None

    def as_value(self) -> dict[str, Any]:
        return {"SoTimeZoneId": self.so_time_zone_id, "SoTimeZoneLocationCode": self.so_time_zone_location_code}


@dataclass(frozen=True, repr=False)
class HeaderValues:
    """The values of SuperOffice's request headers for one request. Written by :func:`write_headers`."""

    application_token: str | None = None
    ticket: str | None = None
    context_identifier: str | None = None
    time_zone: TimeZoneHeader | None = None
    ws_addressing: bool = False
    #: onsite NetServer does not check ApplicationToken: without one, the header is left out
    application_token_optional: bool = False

    def __repr__(self) -> str:
        return f"HeaderValues(application_token=***, ticket=***, context_identifier={self.context_identifier!r})"

    def value(self, name: str) -> Any:
        if name == "ApplicationToken":
            if not self.application_token:
                if self.application_token_optional:
                    return None
                raise ConfigurationError(
                    "This operation needs the ApplicationToken header, but no application token was given.",
                    hint="Pass app_token= (your application's client secret) or set SOAPKIT_APP_TOKEN.",
                )
            return self.application_token
        if name == "ContextIdentifier":
            if not self.context_identifier:
                raise ConfigurationError("This operation needs a ContextIdentifier (e.g. Cust12345).")
            return self.context_identifier
        if name == "Credentials":
            if not self.ticket:
                raise ConfigurationError("This operation needs Credentials, but no credential was given.")
            return {"Ticket": self.ticket}
        if name == "TimeZone":
            return self.time_zone.as_value() if self.time_zone else None
        return None


def write_headers(envelope: etree._Element, declared: Any, values: HeaderValues) -> etree._Element:
    """Write the headers the operation declares (``declared``: zeep's input header), in the declared order,
    into ``envelope``; drop WS-Addressing headers unless ``values.ws_addressing``. Headers already present
    (given explicitly through zeep's ``_soapheaders``) are left as they are."""
    header = envelope.find(f"{{{SOAP11_ENV}}}Header")
    if not values.ws_addressing and header is not None:
        for child in list(header):
            if isinstance(child.tag, str) and etree.QName(child).namespace in WSA_NAMESPACES:
                header.remove(child)
    if declared is not None and declared.type.elements:
        if header is None:
            header = etree.Element(f"{{{SOAP11_ENV}}}Header")
            envelope.insert(0, header)
        present = {child.tag for child in header}
        for name, element in declared.type.elements:
            if element.qname.text in present:
                continue  # given explicitly by the caller (_soapheaders): theirs wins
            value = values.value(name)
            if value is not None:
                element.render(header, value)
    if header is not None and len(header) == 0:
        envelope.remove(header)
    etree.cleanup_namespaces(envelope)
    return envelope


class ResponseParts(Plugin):
    """Drop nil parts of the response wrapper (``<Response xsi:nil="true"/>``).

    zeep reads a nil complex element as an object whose fields are all None; an absent optional
    part reads as None, which is what "no such entity" means to a caller.
    """

    def ingress(self, envelope: etree._Element, http_headers: dict[str, str], operation: Any):
        body = envelope.find(f"{{{SOAP11_ENV}}}Body")
        if body is not None:
            for wrapper in body:
                for part in list(wrapper):
                    if part.get(XSI_NIL) == "true":
                        wrapper.remove(part)
        return envelope, http_headers


class SuperOfficeHeaders(ResponseParts):
    """A zeep plugin for your own zeep clients: writes the headers an operation declares from the values
    it is handed (it never contacts a server). ``ticket`` is a ticket or access token, or a function
    returning one for each request (yours to make; soapkit's own calls hand plain values)."""

    def __init__(
        self,
        application_token: str | None,
        *,
        ticket: str | Callable[[], str] | None = None,
        context_identifier: str | None = None,
        time_zone: TimeZoneHeader | None = None,
        ws_addressing: bool = False,
        application_token_optional: bool = False,
    ) -> None:
        self._ticket = ticket
        self._values = HeaderValues(application_token, None, context_identifier, time_zone, ws_addressing,
                                    application_token_optional)
        self.ws_addressing = ws_addressing

    def __repr__(self) -> str:
        return f"SuperOfficeHeaders(application_token=***, context_identifier={self._values.context_identifier!r})"

    def egress(self, envelope: etree._Element, http_headers: dict[str, str], operation: Any, binding_options: Any):
        ticket = self._ticket() if callable(self._ticket) else self._ticket
        values = replace(self._values, ticket=ticket, ws_addressing=self.ws_addressing)
        return write_headers(envelope, operation.input.header, values), http_headers
