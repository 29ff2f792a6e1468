"""soapkit.sandbox.render writes exactly the bytes zeep writes, or hands the response to zeep.

The whole suite runs with SOAPKIT_SANDBOX_CHECK_RENDER=1 (tests/conftest.py), so every response a test
provokes is compared; here the writer meets values generated from the schema for every response of the
agents the sandbox implements by hand, and the cases it must leave to zeep.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from lxml import etree
from zeep.xsd import ComplexType, Nil
from zeep.xsd.types import builtins

from soapkit.catalog import Catalog
from soapkit.sandbox import render, soap

SERVICES = ("Contact", "Person", "Archive", "Appointment")


def _sample(xsd_type: Any, depth: int, variant: str) -> Any:
    """A value of ``xsd_type``: every element filled (``full``), required ones only (``sparse``), or nil
    wherever the schema allows it (``nil``)."""
    if isinstance(xsd_type, ComplexType):
        if depth > 3:
            return None
        value: dict[str, Any] = {}
        for name, element in xsd_type.elements:
            if variant == "sparse" and element.is_optional:
                continue
            if variant == "nil" and element.nillable and depth > 0:
                value[name] = Nil
                continue
            item = _sample(element.type, depth + 1, variant)
            value[name] = [item, item] if element.accepts_multiple and item is not None else item
        return value
    samples: list[tuple[type, Any]] = [
        (builtins.Boolean, True), (builtins.DateTime, dt.datetime(2024, 5, 1, 12, 30, 15)),
        (builtins.Date, dt.date(2024, 5, 1)), (builtins.Integer, 42), (builtins.Decimal, decimal.Decimal("1.25")),
        (builtins.Double, 2.5), (builtins.Float, 1.5), (builtins.Base64Binary, b"bytes"),
        (builtins.Duration, dt.timedelta(hours=1)), (builtins.String, "text with <&> and ÆØÅ"),
    ]
    for kind, sample in samples:
        if isinstance(xsd_type, kind):
            return sample
    return "text"


def _operations() -> list[tuple[str, str]]:
    catalog = Catalog()
    return [(service, name) for service in SERVICES for name in catalog.describe(service).operation_names]


def _output(service: str, name: str) -> Any:
    return Catalog().describe(service).operation(name)


def _zeep_bytes(operation: Any, body: dict[str, Any], headers: dict[str, Any] | None) -> bytes:
    kwargs = dict(body)
    if headers:
        kwargs["_soapheaders"] = headers
    return etree.tostring(soap.wcf_prefixes(operation.output.serialize(**kwargs).content), encoding="utf-8")


def _fast_bytes(operation: Any, body: dict[str, Any], headers: dict[str, Any] | None) -> bytes:
    envelope = render.render_message(operation.output, body, headers)
    return etree.tostring(soap.wcf_prefixes(envelope), encoding="utf-8")


def _body_and_headers(operation: Any, variant: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = _sample(operation.output.body.type, 0, variant) or {}
    return body, {"Succeeded": True}


@pytest.mark.parametrize("variant", ["full", "sparse", "nil"])
def test_every_response_of_the_hand_written_agents_is_written_like_zeep(variant: str) -> None:
    written = fallbacks = 0
    for service, name in _operations():
        operation = _output(service, name)
        body, headers = _body_and_headers(operation, variant)
        try:
            fast = _fast_bytes(operation, body, headers)
        except render.Unsupported:
            fallbacks += 1
            continue
        assert fast == _zeep_bytes(operation, body, headers), f"{service}.{name} ({variant})"
        written += 1
    assert written > 10 * fallbacks, (written, fallbacks)  # the shortcut covers the data contracts


def test_nil_in_a_header_is_left_to_zeep() -> None:
    # zeep deep-copies header values, and a copy of Nil is not Nil: its output is its own to reproduce
    operation = _output("Contact", "GetContactEntity")
    headers = {"Succeeded": False, "ExceptionInfo": Nil}
    with pytest.raises(render.Unsupported):
        render.render_message(operation.output, {}, headers)
    assert soap.serialize_response(operation, {}, headers) == _zeep_bytes(operation, {}, headers)


def test_empty_arrays_and_missing_values() -> None:
    operation = _output("Contact", "GetContactEntity")
    for body in ({}, {"Response": None}, {"Response": Nil}, {"Response": {"Persons": {"Person": []}}},
                 {"Response": {"Emails": {"EntityElement": []}, "Name": ""}},
                 {"Response": {"ContactId": 0, "Persons": None, "Phones": Nil}}):
        assert _fast_bytes(operation, body, None) == _zeep_bytes(operation, body, None), body


@pytest.mark.parametrize("body", [
    {"Response": {"NoSuchField": 1}},                     # zeep: TypeError
    {"Nope": 1},
    {"Response": {"Persons": {"PersonId": 1}}},           # a single value for a repeated element
    {"Response": {"Persons": [None]}},
    {"Response": "not a ContactEntity"},
    {"Response": {"Name": ["a", "list"]}},
    {"Response": {"Persons": []}},                        # a list for an ArrayOf element (zeep's own reading)
    {"Response": {"Emails": {"EntityElement": [{"Value": "a@b.example"}, Nil]}}},  # zeep: Nil -> TableRight
])
def test_what_zeep_would_judge_is_left_to_zeep(body: dict[str, Any]) -> None:
    operation = _output("Contact", "GetContactEntity")
    with pytest.raises(render.Unsupported):
        render.render_message(operation.output, body, None)
    try:
        expected: bytes | type[BaseException] = _zeep_bytes(operation, body, None)
    except Exception as error:  # what the sandbox's handler sees, shortcut or not
        expected = type(error)
    try:
        got: bytes | type[BaseException] = soap.serialize_response(operation, body)
    except Exception as error:
        got = type(error)
    assert got == expected


def test_zeep_value_objects_are_written_by_zeep() -> None:
    operation = _output("Contact", "GetContactEntity")
    value = operation.output.body.type.elements[0][1].type(Name="From zeep")
    with pytest.raises(render.Unsupported):
        render.render_message(operation.output, {"Response": value}, None)
    assert b"From zeep" in soap.serialize_response(operation, {"Response": value})


def test_the_check_mode_fails_loudly_on_a_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    operation = _output("Contact", "GetContactEntity")
    real = render.render_message

    def wrong(*args: Any) -> Any:
        envelope = real(*args)
        etree.SubElement(envelope, "Extra")
        return envelope

    monkeypatch.setattr(render, "render_message", wrong)
    monkeypatch.setattr(soap, "_CHECK_RENDER", True)
    with pytest.raises(AssertionError, match="unlike zeep"):
        soap.serialize_response(operation, {"Response": {"Name": "x"}})


def test_zeep_only_switch_bypasses_the_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    operation = _output("Contact", "GetContactEntity")
    monkeypatch.setattr(soap, "_ZEEP_ONLY", True)
    monkeypatch.setattr(render, "render_message", lambda *args: pytest.fail("the writer was used"))
    assert b"Acme" in soap.serialize_response(operation, {"Response": {"Name": "Acme"}})
