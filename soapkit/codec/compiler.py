"""Decoders and encoders compiled from zeep's parsed schema types, one per type (and decoding mode).

Decoding follows zeep's own parsing rules (strict settings) for the shapes SuperOffice's WSDLs use: a complex
type is one ``xs:sequence`` of elements (``complexContent`` extensions included, as zeep flattens them),
simple types are XSD built-ins and restrictions of them. Anything else, and any document that zeep would read
in a way these rules do not cover (an unknown ``xsi:type``, an unexpected element, a value that does not parse,
text mixed with elements, ...), raises :class:`CodecFallback` so that the caller hands the answer to zeep.

Two decoding modes: ``shaped`` (a response body as soapkit's value layer gives it: empty string elements read
as ``""``, list wrappers as Python lists at every depth) and ``raw`` (zeep's values as they are: SOAP headers).
Encoding writes the same elements, in the same order, with the same lxml calls as zeep's ``render``.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from lxml import etree
from zeep.xsd import ComplexType
from zeep.xsd.elements import Element
from zeep.xsd.elements.indicators import Sequence
from zeep.xsd.types.any import AnyType
from zeep.xsd.types.builtins import Boolean, DateTime, Integer, Long, String
from zeep.xsd.types.simple import AnySimpleType
from zeep.xsd.valueobjects import AnyObject, CompoundValue

from soapkit.errors import SoapkitError
from soapkit.values.schema import list_item

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI}}}type"
XSI_NIL = f"{{{XSI}}}nil"


class CodecFallback(SoapkitError):
    """The compiled codec cannot handle this message exactly as zeep would: use zeep for it.

    Raised by :meth:`~soapkit.codec.OperationCodec.encode` and :meth:`~soapkit.codec.OperationCodec.decode`
    and meant to be caught by the caller (the client falls back to zeep); ``reason`` says why.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"The compiled codec hands this message to zeep: {reason}.")
        self.reason = reason


def _localname(tag: str) -> str:
    return tag.rpartition("}")[2]


# --- decoding --------------------------------------------------------------------------------------------

_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def _generic_leaf(xsd_type: Any) -> Callable[[str], Any]:
    convert = xsd_type.pythonvalue

    def leaf(text: str) -> Any:
        try:
            return convert(text)
        except (TypeError, ValueError, ArithmeticError) as error:  # zeep logs these and reads None
            raise CodecFallback(f"{text[:40]!r} is not a valid {type(xsd_type).__name__}") from error

    return leaf


def _text_converter(xsd_type: Any) -> Callable[[str], Any]:
    """The function turning an element's text into zeep's Python value for a simple type."""
    kind = type(xsd_type)
    generic = _generic_leaf(xsd_type)
    if kind.pythonvalue is String.pythonvalue:
        return str
    if kind.pythonvalue in (Integer.pythonvalue, Long.pythonvalue):
        def integer(text: str) -> Any:
            try:
                return int(text)
            except ValueError:
                return generic(text)
        return integer
    if kind.pythonvalue is Boolean.pythonvalue:
        def boolean(text: str) -> Any:
            if text == "true":
                return True
            if text == "false":
                return False
            return generic(text)
        return boolean
    if kind.pythonvalue is DateTime.pythonvalue:
        def datetime(text: str) -> Any:
            if len(text) == 19 and _DATETIME.fullmatch(text):
                try:
                    return dt.datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]),
                                       int(text[11:13]), int(text[14:16]), int(text[17:19]))
                except ValueError:
                    pass
            return generic(text)
        return datetime
    return generic


def sequence_shape(xsd_type: Any, label: str) -> tuple[Any, list[tuple[str, Any]]] | str | None:
    """A complex type's content as both compilers handle it: ``(sequence, [(name, element), ...])`` for one
    non-repeated ``xs:sequence`` of elements, None for no content at all, or the reason it is not handled
    (attributes, choices, groups, a repeated sequence, something other than elements in it)."""
    if xsd_type.attributes:
        return f"{label} has attributes"
    nested = xsd_type.elements_nested
    if not nested:
        return None
    if len(nested) != 1 or type(nested[0][1]) is not Sequence:
        return f"{label} is not one xs:sequence"
    sequence = nested[0][1]
    if sequence.accepts_multiple:
        return f"{label} has a repeated sequence"
    elements = list(sequence.elements)
    if any(not isinstance(element, Element) for _, element in elements):
        return f"{label} has something other than elements in its sequence"
    return sequence, elements


class LeafDecoder:
    """An element of a simple type."""

    __slots__ = ("convert", "empty", "name")

    def __init__(self, xsd_type: Any, shaped: bool) -> None:
        self.convert = _text_converter(xsd_type)
        # soapkit's EmptyStrings: an empty, non-nil element of a string type reads as "" (answers' bodies only)
        self.empty = shaped and isinstance(xsd_type, String)
        self.name = type(xsd_type).__name__

    def decode(self, node: Any) -> Any:
        if node.attrib and node.get(XSI_TYPE) is not None:
            raise CodecFallback(f"xsi:type on a {self.name} element")
        return self.decode_text(node)

    def decode_text(self, node: Any) -> Any:
        if len(node):
            raise CodecFallback(f"child elements in a {self.name} element")
        text = node.text
        if text is None:
            if self.empty and node.get(XSI_NIL) not in ("true", "1"):
                return self.convert("")
            return None
        return self.convert(text)


class Unsupported:
    """A type the compiler does not handle: any element of it goes to zeep."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def decode(self, node: Any, allow_none: bool = True) -> Any:
        raise CodecFallback(self.reason)

    def decode_body(self, node: Any, attributes: bool, allow_none: bool = True) -> Any:
        raise CodecFallback(self.reason)


class Field:
    __slots__ = ("decoder", "local", "many", "max", "name", "required", "tag", "wrapper_in_list")

    def __init__(self, name: str, element: Any, decoder: Any, wrapper_in_list: bool) -> None:
        self.tag = element.qname.text
        self.local = element.qname.localname
        self.name = name
        self.many = element.accepts_multiple
        limit = element.max_occurs
        self.max = None if limit == "unbounded" else int(limit)
        self.required = not element.is_optional
        self.decoder = decoder
        self.wrapper_in_list = wrapper_in_list


class ComplexDecoder:
    """An element of a complex type (one sequence of elements): a zeep object of the type, or None."""

    __slots__ = (
        "derived",
        "empty",
        "fields",
        "fresh_lists",
        "label",
        "nested_wrapper",
        "registry",
        "shaped",
        "template",
        "value_class",
        "wrapper_item",
        "xsd_type",
    )

    def __init__(self, xsd_type: Any, registry: DecoderRegistry, shaped: bool) -> None:
        self.xsd_type = xsd_type
        self.registry = registry
        self.shaped = shaped
        self.label = str(getattr(getattr(xsd_type, "qname", None), "localname", None) or "an anonymous type")
        self.fields: list[Field] = []
        self.template: OrderedDict[str, Any] = OrderedDict()
        self.fresh_lists: tuple[str, ...] = ()
        self.value_class: Any = None
        self.empty = False
        self.wrapper_item: tuple[str, Any] | None = None
        self.nested_wrapper = False
        #: what other readers derive from this decoder (soapkit.codec.archive's plans), kept and dropped with it
        self.derived: dict[str, Any] = {}

    def compile(self) -> str | None:
        """Fill in the fields; the reason the type is not supported, or None."""
        xsd_type = self.xsd_type
        shape = sequence_shape(xsd_type, self.label)
        if isinstance(shape, str):
            return shape
        if shape is None:
            self.empty = True
            return None
        sequence, elements = shape
        if sequence.min_occurs != 1:
            return f"{self.label} has an optional sequence"
        if not elements:
            return f"{self.label} has an empty sequence"
        item = list_item(xsd_type) if self.shaped else None
        self.wrapper_item = item
        if item is not None:
            self.nested_wrapper = list_item(item[1].type) is not None
        fresh = []
        for name, element in elements:
            decoder = self.registry.for_type(element.type)
            wrapper_field = self.shaped and list_item(element.type) is not None
            self.fields.append(Field(name, element, decoder, wrapper_field and self.nested_wrapper))
            if element.accepts_multiple or (wrapper_field and item is None):
                fresh.append(name)  # a list (shape: a wrapper field is never None)
            self.template[name] = element.default_value if not element.accepts_multiple else None
        self.fresh_lists = tuple(fresh)
        self.value_class = xsd_type._value_class
        return None

    def decode(self, node: Any, allow_none: bool = True) -> Any:
        attributes = bool(node.attrib)
        if attributes:
            declared = node.get(XSI_TYPE)
            if declared is not None:
                actual = self.registry.instance_type(declared, node, self)
                if actual is not self:
                    return actual.decode_body(node, True, allow_none)
        return self.decode_body(node, attributes, allow_none)

    def decode_body(self, node: Any, attributes: bool, allow_none: bool = True) -> Any:
        if self.empty:
            return None
        children = list(node)
        count = len(children)
        if not count and not attributes and allow_none:
            return None
        if count and attributes and node.get(XSI_NIL) in ("true", "1"):
            raise CodecFallback(f"a nil {self.label} element with content")
        values = OrderedDict(self.template)
        for name in self.fresh_lists:
            values[name] = []
        index = 0
        for field in self.fields:
            if index == count:
                break
            child = children[index]
            tag = child.tag
            if tag == field.tag:
                decoder = field.decoder
                if field.many:
                    items = values[field.name]
                    while True:
                        value = decoder.decode(child)
                        if value is None and field.wrapper_in_list:
                            value = []
                        items.append(value)
                        index += 1
                        if index == count:
                            break
                        child = children[index]
                        if child.tag != tag:
                            break
                    if field.max is not None and len(items) > field.max:
                        raise CodecFallback(f"{field.name} repeated more than maxOccurs in {self.label}")
                else:
                    value = decoder.decode(child)
                    if value is not None or field.name not in self.fresh_lists:
                        values[field.name] = value
                    index += 1
            elif not isinstance(tag, str):
                raise CodecFallback(f"a processing instruction or entity in {self.label}")
            elif field.required or _localname(tag) == field.local:
                raise CodecFallback(f"unexpected element {tag} in {self.label}")
        if index != count:
            raise CodecFallback(f"unexpected element {children[index].tag} in {self.label}")
        if self.wrapper_item is not None:
            return values[self.wrapper_item[0]]
        value = self.value_class.__new__(self.value_class)
        value.__values__ = values
        return value


class _Registry:
    """Compiled readers or writers by zeep type, built under a lock and read without one.

    A type's entry is built together with the entries of the types it contains (stored before their members,
    so that recursive types refer to themselves), and other threads must never see one of them half built: a
    complex writer without its members yet writes an empty element, and a request would silently lose its
    content. So entries being built sit in ``_building``, seen only by the building thread (which holds the
    lock), and are published into ``_by_type`` together when the outermost build is complete.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._by_type: dict[int, Any] = {}
        self._building: dict[int, Any] = {}
        self._keep: list[Any] = []  # the types whose ids key _by_type stay alive as long as the registry

    def for_type(self, xsd_type: Any) -> Any:
        found = self._by_type.get(id(xsd_type))
        if found is not None:
            return found
        with self._lock:
            found = self._by_type.get(id(xsd_type))
            if found is None:
                found = self._building.get(id(xsd_type))
            if found is not None:
                return found
            outermost = not self._building
            try:
                found = self._build(xsd_type)
            except BaseException:
                if outermost:
                    self._building.clear()
                raise
            if outermost:
                self._by_type.update(self._building)
                self._building.clear()
            return found

    def _build(self, xsd_type: Any) -> Any:
        """A complex type's entry is stored before its members are compiled (recursive types refer to it), and
        replaced by the unsupported kind when they cannot be; any other type's entry is made at once."""
        if not isinstance(xsd_type, ComplexType):
            found = self._simple(xsd_type)
            self._store(xsd_type, found)
            return found
        entry = self._complex(xsd_type)
        self._store(xsd_type, entry)
        reason = self._compile(entry, xsd_type)
        if reason is None:
            return entry
        found = self._unsupported(reason)
        self._store(xsd_type, found)
        return found

    def _simple(self, xsd_type: Any) -> Any:
        raise NotImplementedError

    def _complex(self, xsd_type: Any) -> Any:
        raise NotImplementedError

    def _compile(self, entry: Any, xsd_type: Any) -> str | None:
        raise NotImplementedError

    def _unsupported(self, reason: str) -> Any:
        raise NotImplementedError

    def _store(self, xsd_type: Any, entry: Any) -> None:
        self._building[id(xsd_type)] = entry
        self._keep.append(xsd_type)


class DecoderRegistry(_Registry):
    """Decoders by type for one mode (thread-safe: built under a lock, published whole, read without one)."""

    def __init__(self, schema: Any, shaped: bool) -> None:
        super().__init__()
        self.schema = schema
        self.shaped = shaped
        self._instance_types: dict[tuple[int, str, str], Any] = {}

    def _simple(self, xsd_type: Any) -> Any:
        if isinstance(xsd_type, AnySimpleType):
            return LeafDecoder(xsd_type, self.shaped)
        if type(xsd_type) is AnyType:
            return AnyDecoder(self)
        return Unsupported(f"an element of type {type(xsd_type).__name__}")

    def _complex(self, xsd_type: Any) -> ComplexDecoder:
        return ComplexDecoder(xsd_type, self, self.shaped)

    def _compile(self, entry: Any, xsd_type: Any) -> str | None:
        if getattr(xsd_type, "_array_type", None):
            return "a SOAP-encoded array type"
        reason: str | None = entry.compile()
        return reason

    def _unsupported(self, reason: str) -> Any:
        return Unsupported(reason)

    def keep(self, xsd_type: Any) -> None:
        with self._lock:
            self._keep.append(xsd_type)

    def instance_type(self, declared: str, node: Any, default: Any) -> Any:
        """The decoder of the complex type an ``xsi:type`` names (fallback for one zeep does not know)."""
        key = (id(default), node.nsmap.get(declared.partition(":")[0]) or "", declared)
        found = self._instance_types.get(key)
        if found is None:
            xsd_type = self.named_type(declared, node)
            if not isinstance(xsd_type, ComplexType):
                raise CodecFallback(f"xsi:type {declared!r} is not a complex type")
            found = self.for_type(xsd_type)
            with self._lock:
                self._instance_types[key] = found
        return found

    def named_type(self, declared: str, node: Any) -> Any:
        """The zeep type an ``xsi:type`` value names; CodecFallback for anything but ``prefix:name`` with a
        declared prefix and a type the schema has (zeep reads the others in ways of its own)."""
        if not _PREFIXED.fullmatch(declared):
            raise CodecFallback(f"xsi:type {declared[:60]!r} is not a prefixed name")
        prefix, _, local = declared.partition(":")
        namespace = node.nsmap.get(prefix)
        if not namespace or prefix == "xml":
            raise CodecFallback(f"xsi:type {declared!r} has an undeclared prefix")
        try:
            xsd_type = self.schema.get_type(f"{{{namespace}}}{local}")
        except Exception as error:  # zeep raises LookupError and others for unknown names
            raise CodecFallback(f"unknown xsi:type {declared!r}") from error
        if xsd_type is None:
            raise CodecFallback(f"unknown xsi:type {declared!r}")
        return xsd_type


_PREFIXED = re.compile(r"[A-Za-z_][\w.\-]*:[A-Za-z_][\w.\-]*")


class AnyDecoder:
    """An element of ``xs:anyType``: read by its ``xsi:type`` (a built-in or a complex type), or its text."""

    __slots__ = ("leaves", "registry")

    def __init__(self, registry: DecoderRegistry) -> None:
        self.registry = registry
        self.leaves: dict[int, LeafDecoder] = {}

    def decode(self, node: Any, allow_none: bool = True) -> Any:
        declared = node.get(XSI_TYPE)
        if declared is None:
            if node.get(XSI_NIL) == "true":
                return None
            if len(node):
                raise CodecFallback("child elements in an xs:anyType element without xsi:type")
            return node.text
        xsd_type = self.registry.named_type(declared, node)
        if isinstance(xsd_type, ComplexType):
            return self.registry.for_type(xsd_type).decode_body(node, True, allow_none)
        if type(xsd_type) is AnyType:
            if node.get(XSI_NIL) == "true" or len(node):
                raise CodecFallback("an xs:anyType element typed xs:anyType with nil or children")
            return node.text or None
        if not isinstance(xsd_type, AnySimpleType):
            raise CodecFallback(f"xsi:type {declared!r} is not a type the codec reads")
        leaf = self.leaves.get(id(xsd_type))
        if leaf is None:
            leaf = self.leaves.setdefault(id(xsd_type), LeafDecoder(xsd_type, self.registry.shaped))
            self.registry.keep(xsd_type)
        return leaf.decode_text(node)


# --- encoding --------------------------------------------------------------------------------------------


class ElementEncoder:
    """Writes one element's value(s) exactly as zeep's ``Element.render`` does."""

    __slots__ = (
        "_type",
        "many",
        "max",
        "min",
        "name",
        "nillable",
        "optional",
        "qname",
        "registry",
        "xsd_type",
    )

    def __init__(self, element: Any, registry: EncoderRegistry) -> None:
        self.qname = element.qname
        self.name = element.name
        self.many = element.accepts_multiple
        self.optional = element.is_optional
        self.nillable = element.nillable
        self.min = element.min_occurs
        self.max = None if element.max_occurs == "unbounded" else int(element.max_occurs)
        self.registry = registry
        self.xsd_type = element.type
        self._type: Any = None

    def render(self, parent: Any, value: Any) -> None:
        if self.many and isinstance(value, list):
            if len(value) < self.min or (self.max is not None and len(value) > self.max):
                raise CodecFallback(f"{self.name} has a number of items outside minOccurs/maxOccurs")
            for item in value:
                self.item(parent, item)
        else:
            self.item(parent, value)

    def item(self, parent: Any, value: Any) -> None:
        if value is None:
            if self.optional:
                return
            if not self.nillable:
                raise CodecFallback(f"the required element {self.name} has no value")
            etree.SubElement(parent, self.qname).set(XSI_NIL, "true")
            return
        node = etree.SubElement(parent, self.qname)
        encoder = self._type
        if encoder is None:
            encoder = self._type = self.registry.for_type(self.xsd_type)
        actual = getattr(value, "_xsd_type", None) if isinstance(value, CompoundValue) else None
        if actual is not None and actual is not self.xsd_type:
            self.registry.for_type(actual).render(node, value, actual)
        else:
            encoder.render(node, value, None)


class SimpleEncoder:
    __slots__ = ("name", "xmlvalue")

    def __init__(self, xsd_type: Any) -> None:
        self.xmlvalue = xsd_type.xmlvalue
        self.name = type(xsd_type).__name__

    def render(self, node: Any, value: Any, _instance: Any) -> None:
        if isinstance(value, (dict, CompoundValue)):
            raise CodecFallback(f"a complex value for a {self.name} element")
        try:
            node.text = self.xmlvalue(value)
        except (TypeError, ValueError) as error:
            raise CodecFallback(f"{type(value).__name__} value for a {self.name} element") from error


class AnyEncoder(SimpleEncoder):
    """An ``xs:anyType`` element given a scalar: zeep writes its text (typed by the value) and no xsi:type; a
    zeep object of a complex type is written by :class:`ElementEncoder` with its xsi:type, as zeep does."""

    __slots__ = ()

    def render(self, node: Any, value: Any, _instance: Any) -> None:
        if isinstance(value, (dict, list, tuple, CompoundValue, AnyObject)):
            raise CodecFallback(f"a {type(value).__name__} value for an xs:anyType element")
        super().render(node, value, _instance)


class ComplexEncoder:
    __slots__ = ("empty", "fields", "label", "qname")

    def __init__(self, xsd_type: Any) -> None:
        self.fields: list[tuple[str, ElementEncoder]] = []
        self.qname = xsd_type.qname
        self.label = str(getattr(self.qname, "localname", None) or "an anonymous type")
        self.empty = False

    def render(self, node: Any, value: Any, instance: Any) -> None:
        if not self.empty:
            if not isinstance(value, (dict, CompoundValue)):
                raise CodecFallback(f"{type(value).__name__} value for {self.label}")
            for name, field in self.fields:
                field_value = value[name] if name in value else None  # noqa: SIM401 (zeep objects have no .get)
                if field_value is None and field.optional:
                    continue
                field.render(node, field_value)
        if instance is not None:  # zeep's order: its xsd name, then its qname (which wins)
            if instance._xsd_name:
                node.set(XSI_TYPE, instance._xsd_name)
            if instance.qname:
                node.set(XSI_TYPE, instance.qname)


class EncoderRegistry(_Registry):
    """Encoders by type (thread-safe: built under a lock, published whole, read without one)."""

    def _simple(self, xsd_type: Any) -> Any:
        if isinstance(xsd_type, AnySimpleType):
            return SimpleEncoder(xsd_type)
        if type(xsd_type) is AnyType:
            return AnyEncoder(xsd_type)
        return _unsupported_render(f"an element of type {type(xsd_type).__name__}")

    def _complex(self, xsd_type: Any) -> ComplexEncoder:
        return ComplexEncoder(xsd_type)

    def _unsupported(self, reason: str) -> Any:
        return _unsupported_render(reason)

    def _compile(self, encoder: Any, xsd_type: Any) -> str | None:
        if getattr(xsd_type, "_array_type", None):
            return "a SOAP-encoded array type"
        shape = sequence_shape(xsd_type, encoder.label)
        if isinstance(shape, str):
            return shape
        if shape is None:
            encoder.empty = True
            return None
        _, elements = shape
        encoder.fields = [(name, ElementEncoder(element, self)) for name, element in elements]
        return None


class _UnsupportedEncoder:
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def render(self, node: Any, value: Any, instance: Any) -> None:
        raise CodecFallback(self.reason)


def _unsupported_render(reason: str) -> _UnsupportedEncoder:
    return _UnsupportedEncoder(reason)
