"""Archive pages read straight from lxml into :class:`~soapkit.values.archive.ArchiveRow` objects.

``so.archive(...)`` needs rows, not the ``ArchiveListItem`` value objects the codec builds for an ordinary call
and :func:`~soapkit.values.archive.decode_row` then takes apart again. :class:`ArchivePageReader` goes from the
answer's elements to rows in one walk. It follows the compiled decoders' own rules: element names, their order
and every leaf's reading come from the decoders the codec compiled from the schema (the members a row is made
of are named once, in :mod:`soapkit.values.archive`), and it gives exactly the rows that the codec's decoding
followed by ``decode_row`` gives. Anything it does not read that way (an attribute, an
``xsi:type``, an element out of order, a pair without a key, ...) raises :class:`CodecFallback`, and the answer
is decoded the ordinary way (``tests/test_codec_archive.py`` holds the two to the same rows).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from soapkit.codec.compiler import XSI_NIL, CodecFallback, ComplexDecoder, LeafDecoder
from soapkit.values.archive import (
    CELLS_MEMBER,
    DISPLAY_MEMBER,
    ROW_MEMBERS,
    ArchivePage,
    ArchiveRow,
    decode_value,
)

# what the member at a position of an ArchiveListItem (or ArchiveColumnData) is
_SKIP, _ATTRIBUTE, _CELLS, _CELL_VALUE = range(4)


def _complex(decoder: Any, what: str) -> ComplexDecoder:
    if not isinstance(decoder, ComplexDecoder) or decoder.empty:
        raise CodecFallback(f"{what} is not a sequence the codec compiled")
    return decoder


def _only_optional(decoder: ComplexDecoder) -> None:
    if any(field.required or field.many for field in decoder.fields):
        raise CodecFallback(f"{decoder.label} has required or repeated members")


def _list_of(decoder: ComplexDecoder, what: str) -> tuple[str, ComplexDecoder]:
    """The item tag and decoder of a list wrapper (``ArrayOfArchiveListItem``, ``ColumnDataDictionary``)."""
    if decoder.wrapper_item is None or len(decoder.fields) != 1 or decoder.nested_wrapper:
        raise CodecFallback(f"{what} is not a list wrapper")
    field = decoder.fields[0]
    return field.tag, _complex(field.decoder, f"an item of {what}")


class _Plan:
    """What the walk needs to know about one operation's answer, taken from its compiled decoders."""

    def __init__(self, wrapper: Any) -> None:
        wrapper = _complex(wrapper, "the answer's wrapper")
        if wrapper.wrapper_item is not None or [field.name for field in wrapper.fields] != ["Response"]:
            raise CodecFallback("the answer's wrapper does not hold one Response")
        response = wrapper.fields[0]
        self.response_tag = response.tag
        self.item_tag, item = _list_of(_complex(response.decoder, "Response"), "Response")
        _only_optional(item)
        names = [field.name for field in item.fields]
        if CELLS_MEMBER not in names or any(name not in names for name in ROW_MEMBERS):
            raise CodecFallback(f"{item.label} lacks the members of an Archive row")
        self.item_positions: dict[str, int] = {field.tag: index for index, field in enumerate(item.fields)}
        self.item_kinds = [(_CELLS if field.name == CELLS_MEMBER else _ATTRIBUTE if field.name in ROW_MEMBERS
                            else _SKIP) for field in item.fields]
        self.item_decoders = [field.decoder for field in item.fields]
        self.item_names = [ROW_MEMBERS.get(field.name) for field in item.fields]
        for field in item.fields:
            if field.name in ROW_MEMBERS and not isinstance(field.decoder, LeafDecoder):
                raise CodecFallback(f"{item.label}.{field.name} is not a simple type")
        self.defaults = {attribute: item.template[name] for name, attribute in ROW_MEMBERS.items()}
        columns = next(field for field in item.fields if field.name == CELLS_MEMBER)
        self.pair_tag, pair = _list_of(_complex(columns.decoder, CELLS_MEMBER), CELLS_MEMBER)
        if [field.name for field in pair.fields] != ["Key", "Value"] or not all(
                field.required and not field.many for field in pair.fields):
            raise CodecFallback(f"{pair.label} is not a Key/Value pair")
        key, value = pair.fields
        if not isinstance(key.decoder, LeafDecoder):
            raise CodecFallback(f"{pair.label}.Key is not a simple type")
        self.key_tag, self.key_decoder = key.tag, key.decoder
        self.value_tag = value.tag
        cell = _complex(value.decoder, f"{pair.label}.Value")
        _only_optional(cell)
        if DISPLAY_MEMBER not in [field.name for field in cell.fields]:
            raise CodecFallback(f"{cell.label} has no {DISPLAY_MEMBER}")
        self.cell_positions = {field.tag: index for index, field in enumerate(cell.fields)}
        self.cell_kinds = [_CELL_VALUE if field.name == DISPLAY_MEMBER else _SKIP for field in cell.fields]
        self.cell_decoders = [field.decoder for field in cell.fields]
        for field in cell.fields:
            if not isinstance(field.decoder, LeafDecoder):
                raise CodecFallback(f"{cell.label}.{field.name} is not a simple type")
        self.display_default = cell.template[DISPLAY_MEMBER]


_plans_lock = threading.Lock()


def _plan(wrapper: Any) -> _Plan:
    """The plan for an answer wrapper's compiled decoder, kept on that decoder (and so dropped with it)."""
    derived = getattr(wrapper, "derived", None)
    if not isinstance(derived, dict):
        raise CodecFallback("the answer's wrapper is not a sequence the codec compiled")
    found = derived.get(__name__)
    if found is None:
        try:
            found = _Plan(wrapper)
        except CodecFallback as unsupported:
            found = unsupported
        with _plans_lock:
            found = derived.setdefault(__name__, found)
    if isinstance(found, CodecFallback):
        raise found
    return found


def _in_sequence(node: Any, positions: dict[str, int], label: str) -> Iterator[tuple[int, Any]]:
    """``node``'s children with their member's position, each member at most once and in the sequence's order
    (all of them optional): what the compiled decoder accepts; anything else is handed back."""
    last = -1
    for child in node:
        position = positions.get(child.tag)
        if position is None or position <= last:
            raise CodecFallback(f"an element out of the {label} sequence")
        last = position
        yield position, child


class ArchivePageReader:
    """Reads one page of an Archive answer as rows (``page`` and ``culture`` as :func:`decode_row` takes
    them); given to :meth:`OperationCodec.decode <soapkit.codec.OperationCodec.decode>` as its ``reader``."""

    __slots__ = ("culture", "page")

    def __init__(self, page: int, culture: str | None = None) -> None:
        self.page = page
        self.culture = culture

    def __call__(self, wrapper: Any, wrapper_decoder: Any) -> ArchivePage:
        plan = _plan(wrapper_decoder)
        if wrapper.attrib:
            raise CodecFallback("attributes on the answer's wrapper")
        rows = ArchivePage()
        parts = list(wrapper)
        if not parts:
            return rows
        if len(parts) != 1 or parts[0].tag != plan.response_tag:
            raise CodecFallback("the answer's wrapper holds more than its Response")
        response = parts[0]
        if response.attrib:
            raise CodecFallback("attributes on the Response")
        item_tag, page, culture = plan.item_tag, self.page, self.culture
        for item in response:
            if item.tag != item_tag or item.attrib:
                raise CodecFallback("an Archive row that is not a plain ArchiveListItem")
            rows.append(self._row(plan, item, page, culture))
        return rows

    def _row(self, plan: _Plan, item: Any, page: int, culture: str | None) -> ArchiveRow:
        row = ArchiveRow()
        attributes = dict(plan.defaults)
        kinds, decoders, names = plan.item_kinds, plan.item_decoders, plan.item_names
        for position, child in _in_sequence(item, plan.item_positions, "ArchiveListItem"):
            kind = kinds[position]
            if kind == _ATTRIBUTE:
                attributes[names[position]] = decoders[position].decode(child)  # type: ignore[index]
            elif kind == _CELLS:
                self._cells(plan, child, row, culture)
            else:
                decoders[position].decode(child)  # read, so that what the codec refuses is refused here too
        for attribute, value in attributes.items():
            setattr(row, attribute, value)
        row.page = page
        return row

    def _cells(self, plan: _Plan, columns: Any, row: ArchiveRow, culture: str | None) -> None:
        if columns.attrib:
            raise CodecFallback("attributes on ColumnData")
        pair_tag, key_tag, value_tag, key_decoder = plan.pair_tag, plan.key_tag, plan.value_tag, plan.key_decoder
        for pair in columns:
            if pair.tag != pair_tag or pair.attrib:
                raise CodecFallback("a ColumnData entry that is not a plain pair")
            members = list(pair)
            if not members or len(members) > 2 or members[0].tag != key_tag:
                raise CodecFallback("a ColumnData pair without its Key first")
            key = key_decoder.decode(members[0])
            if len(members) == 1:
                row[key] = None
                continue
            cell = members[1]
            if cell.tag != value_tag:
                raise CodecFallback("a ColumnData pair with something other than a Value")
            row[key] = decode_value(self._display(plan, cell), culture=culture) if self._present(cell) else None

    @staticmethod
    def _present(cell: Any) -> bool:
        """Whether the codec would read the Value as an object (not None): it has members or attributes."""
        if cell.attrib:
            if len(cell.attrib) != 1 or cell.get(XSI_NIL) is None:
                raise CodecFallback("attributes other than xsi:nil on a ColumnData Value")
            if len(cell):
                raise CodecFallback("a nil ColumnData Value with content")
            return True
        return len(cell) > 0

    @staticmethod
    def _display(plan: _Plan, cell: Any) -> Any:
        display = plan.display_default
        kinds, decoders = plan.cell_kinds, plan.cell_decoders
        for position, child in _in_sequence(cell, plan.cell_positions, "ArchiveColumnData"):
            value = decoders[position].decode(child)
            if kinds[position] == _CELL_VALUE:
                display = value
        return display
