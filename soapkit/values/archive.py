"""Archive values and queries: ``[I:123]`` -> 123, Python restrictions -> ``ArchiveRestrictionInfo``, paging.

:class:`ArchiveQuery` is pure (it builds each page's request and decodes each page's answer, no I/O); the
sync iterator :class:`ArchiveRows` is a short loop over it, and an async twin can be another short loop.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import enum
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from soapkit.errors import ConfigurationError, InvalidValue

# one marker, a colon, anything but "]" -- linear time, no nested quantifiers
_ENCODED = re.compile(r"\[(DT|[IFMDTB]):([^\]]*)\]")
_CULTURE_PAIR = re.compile(r'([A-Za-z]{2,3}):"([^"]*)";')
_FRACTION = re.compile(r"\.(\d{1,7})$")


class MultiLanguageText(str):
    """A culture-tagged list name (``US:"Legal";NO:"Lovlig";``): the text of the first culture, with
    every culture's text in :attr:`translations` (``{"US": "Legal", "NO": "Lovlig"}``)."""

    translations: dict[str, str]

    def __new__(cls, translations: dict[str, str], preferred: str | None = None) -> MultiLanguageText:
        chosen = _pick(translations, preferred)
        text = super().__new__(cls, chosen)
        text.translations = dict(translations)
        return text

    def __reduce__(self) -> tuple[Any, ...]:  # copy and pickle keep the translations and the chosen text
        return (_rebuild, (str(self), self.translations))

    def in_culture(self, culture: str) -> str | None:
        """The text for a culture code (``NO``), case-insensitive; None when the list has none."""
        return {k.upper(): v for k, v in self.translations.items()}.get(culture.upper())


def _rebuild(text: str, translations: dict[str, str]) -> MultiLanguageText:
    chosen = next((culture for culture, value in translations.items() if value == text), None)
    return MultiLanguageText(translations, chosen)


def _pick(translations: dict[str, str], preferred: str | None) -> str:
    if preferred:
        for culture, text in translations.items():
            if culture.upper() == preferred.upper():
                return text
    return next(iter(translations.values()), "")


def decode_value(text: Any, *, culture: str | None = None) -> Any:
    """An Archive ``DisplayValue`` as a Python value (see docs/values.md for the table).

    ``[I:..]`` int, ``[F:..]`` float, ``[M:..]`` Decimal, ``[D:..]`` date, ``[DT:..]`` datetime (naive, as the
    server wrote it), ``[T:..]`` time, ``[B:..]`` bytes (base64), culture-tagged names
    :class:`MultiLanguageText`; anything else (plain strings, a value that does not parse) is returned as is.
    """
    if not isinstance(text, str):
        return text
    match = _ENCODED.fullmatch(text.strip())
    if match is not None:
        decoder = _DECODERS[match.group(1)]
        try:
            return decoder(match.group(2).strip())
        except (ValueError, decimal.InvalidOperation, binascii.Error):
            return text
    if text.endswith(";") and _CULTURE_PAIR.match(text):
        pairs = _CULTURE_PAIR.findall(text)
        if "".join(f'{c}:"{t}";' for c, t in pairs) == text:
            return MultiLanguageText(dict(pairs), culture)
    return text


# NetServer's usual layout (month/day/year, 24 h): read without strptime, which costs more than the rest of a row
_US_DATETIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{1,2})(?::(\d{1,2}))?")


def _datetime(text: str) -> dt.datetime:
    fraction = _FRACTION.search(text)
    micro = 0
    if fraction is not None:
        micro = int((fraction.group(1) + "000000")[:6])
        text = text[: fraction.start()]
    usual = _US_DATETIME.fullmatch(text)
    if usual is not None:
        month, day, year, hour, minute, second = usual.groups()
        return dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro)
    for layout in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, layout).replace(microsecond=micro)
        except ValueError:
            continue
    raise ValueError(text)


def _date(text: str) -> dt.date:
    for layout in ("%d.%m.%Y", "%m/%d/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, layout).date()
        except ValueError:
            continue
    raise ValueError(text)


def _time(text: str) -> dt.time:
    for layout in ("%H:%M", "%H:%M:%S"):
        try:
            return dt.datetime.strptime(text, layout).time()
        except ValueError:
            continue
    raise ValueError(text)


_DECODERS: dict[str, Callable[[str], Any]] = {
    "I": int, "F": float, "M": decimal.Decimal, "D": _date, "DT": _datetime, "T": _time,
    "B": lambda text: base64.b64decode(text, validate=True),
}


def encode_value(value: Any) -> str:
    """A Python value the way Archive restrictions write it: 10 -> ``[I:10]``, a datetime -> ``[DT:..]``."""
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bool):
        return f"[I:{int(value)}]"
    if isinstance(value, int):
        return f"[I:{value}]"
    if isinstance(value, float):
        return f"[F:{value!r}]"
    if isinstance(value, decimal.Decimal):
        return f"[M:{value}]"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return f"[DT:{value:%m/%d/%Y %H:%M:%S}]"
    if isinstance(value, dt.date):
        return f"[D:{value:%d.%m.%Y}]"
    if isinstance(value, dt.time):
        return f"[T:{value:%H:%M:%S}]" if value.second else f"[T:{value:%H:%M}]"
    if isinstance(value, (bytes, bytearray)):
        return f"[B:{base64.b64encode(bytes(value)).decode('ascii')}]"
    if isinstance(value, str):
        return value
    raise InvalidValue(f"An Archive restriction value cannot be {type(value).__name__} ({value!r:.40}).",
                       expected="str, int, float, Decimal, bool, date, datetime, time or bytes")


# --- restrictions and order ----------------------------------------------------------------------

Restriction = Union[tuple[Any, ...], dict[str, Any], str]  # noqa: UP007 (a runtime alias on 3.10)


def restriction_infos(restrictions: Iterable[Restriction]) -> list[dict[str, Any]]:
    """Python restrictions as ``ArchiveRestrictionInfo`` dicts.

    Each is ``(column, operator, *values)`` (one list or tuple value stands for several values), or an
    ``ArchiveRestrictionInfo`` dict as is; the words ``"and"``/``"or"`` between two join them (``And`` is
    the default).
    """
    infos: list[dict[str, Any]] = []
    for position, item in enumerate(restrictions):
        if isinstance(item, str):
            joiner = item.strip().lower()
            if joiner not in ("and", "or") or not infos:
                raise InvalidValue(f"Restriction {position}: {item!r} is not a restriction; write (column, operator, "
                                   "value...) and put 'and' or 'or' only between two restrictions.",
                                   path=f"restrictions[{position}]")
            infos[-1]["InterOperator"] = joiner.capitalize()
        elif isinstance(item, dict):
            infos.append(dict(item))
        elif isinstance(item, tuple) and len(item) >= 2 and all(isinstance(x, str) for x in item[:2]):
            values = item[2:]
            if len(values) == 1 and isinstance(values[0], (list, tuple, set, frozenset)):
                values = tuple(values[0])
            infos.append({"Name": item[0], "Operator": item[1], "Values": [encode_value(v) for v in values],
                          "IsActive": True})
        else:
            raise InvalidValue(f"Restriction {position} ({item!r:.60}) should be (column, operator, value...), "
                               "e.g. ('name', 'begins', 'Acme').", path=f"restrictions[{position}]")
    return infos


def order_infos(order: Iterable[str | tuple[str, str]]) -> list[dict[str, str]]:
    """``"name"``, ``"-name"``, ``"name desc"`` or ``("name", "desc")`` as ``ArchiveOrderByInfo`` dicts."""
    infos = []
    for item in order:
        if isinstance(item, tuple):
            name, direction = item[0], item[1] if len(item) > 1 else "ASC"
        else:
            words = item.split()
            name, direction = (words[0], words[1]) if len(words) == 2 else (item.strip(), "ASC")
            if name.startswith("-"):
                name, direction = name[1:], "DESC"
        infos.append({"Name": name, "Direction": "DESC" if direction.upper().startswith("DESC") else "ASC"})
    return infos


# --- rows and pages ------------------------------------------------------------------------------


class ArchiveRow(dict[str, Any]):
    """One Archive row: ``{column: decoded value}``, plus the row's ``primary_key``, ``entity_name``,
    ``link_hint``, ``style_hint`` and the ``page`` it came from."""

    primary_key: int | None
    entity_name: str | None
    link_hint: str | None
    style_hint: str | None
    page: int

    def __repr__(self) -> str:
        return f"ArchiveRow({self.entity_name} {self.primary_key}, {dict.__repr__(self)})"


class ArchivePage(list[ArchiveRow]):
    """One page's rows, already read from the answer (by :class:`soapkit.codec.archive.ArchivePageReader`,
    straight from its XML): :meth:`ArchiveQuery.rows` takes them as they are."""


#: The members of an ``ArchiveListItem`` a row keeps, and the :class:`ArchiveRow` attributes they become.
ROW_MEMBERS = {"PrimaryKey": "primary_key", "EntityName": "entity_name", "LinkHint": "link_hint",
               "StyleHint": "style_hint"}
#: The member holding a row's cells (``Key``/``Value`` pairs), and the member of a cell that is its value.
CELLS_MEMBER, DISPLAY_MEMBER = "ColumnData", "DisplayValue"


def decode_row(item: Any, page: int = 0, *, culture: str | None = None) -> ArchiveRow:
    """An ``ArchiveListItem`` (as soapkit returns it) as an :class:`ArchiveRow` of decoded values."""
    row = ArchiveRow()
    for pair in _get(item, CELLS_MEMBER) or []:
        cell = _get(pair, "Value")
        row[_get(pair, "Key")] = decode_value(_get(cell, DISPLAY_MEMBER), culture=culture) if cell is not None \
            else None
    for member, attribute in ROW_MEMBERS.items():
        setattr(row, attribute, _get(item, member))
    row.page = page
    return row


def _get(value: Any, name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get(name)
    try:  # a zeep value object: read its dict, past its (slow) attribute hook
        fields = object.__getattribute__(value, "__values__")
    except AttributeError:
        return getattr(value, name, None)
    return fields.get(name) if isinstance(fields, dict) else getattr(value, name, None)


@dataclass(frozen=True)
class ArchiveQuery:
    """What to ask ``GetArchiveListByColumns`` for, page by page (no I/O)."""

    provider: str
    columns: Sequence[str]
    restrictions: Sequence[Restriction] = ()
    order: Sequence[str | tuple[str, str]] = ()
    entities: Sequence[str] = ()
    page_size: int = 1000
    culture: str | None = None
    _infos: list[dict[str, Any]] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.columns, str):
            raise ConfigurationError("columns must be a list of column names, not one string.",
                                     hint='so.archive("Contact", ["contactId", "name"])')
        if self.page_size < 1:
            raise ConfigurationError(f"page_size must be at least 1, not {self.page_size}.",
                                     hint="SuperOffice recommends pages of 1000 rows.")
        self._infos.extend(restriction_infos(self.restrictions))

    def request(self, page: int) -> dict[str, Any]:
        """The keyword arguments of ``ArchiveAgent.GetArchiveListByColumns`` for a 0-based page."""
        return {"ProviderName": self.provider, "Columns": list(self.columns), "SortOrder": order_infos(self.order),
                "Restriction": self._infos, "Entities": list(self.entities), "Page": page,
                "PageSize": self.page_size}

    def rows(self, result: Any, page: int) -> list[ArchiveRow]:
        """A page's rows from ``GetArchiveListByColumns``'s answer: its ``ArchiveListItem`` values (zeep's or
        the codec's) decoded, or an :class:`ArchivePage` read straight from the XML as it is."""
        if isinstance(result, ArchivePage):
            return result
        return [decode_row(item, page, culture=self.culture) for item in result or []]

    def is_last(self, rows: list[ArchiveRow]) -> bool:
        return len(rows) < self.page_size


def progress_bar(enabled: bool, description: str, total: int | None = None) -> Any:
    """A tqdm bar when asked for (``pip install soapkit[progress]``), else None."""
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        raise ConfigurationError("progress=True needs tqdm, which is not installed.",
                                 hint="pip install 'soapkit[progress]' (or pip install tqdm).") from None
    return tqdm(desc=description, unit=" rows", total=total)


class ArchiveRows(Iterator[ArchiveRow]):
    """Rows of an Archive query, fetched a page at a time as they are read.

    :attr:`page` is the page being read: after an interruption, ``start_page=rows.page`` resumes there.
    """

    def __init__(self, fetch: Callable[..., Any], query: ArchiveQuery, *, start_page: int = 0,
                 progress: bool = False, total: int | None = None) -> None:
        if start_page < 0:
            raise ConfigurationError(f"start_page is 0-based and cannot be {start_page}.")
        self.query = query
        self.page = start_page
        self.rows_read = 0
        self._fetch = fetch
        self._bar = progress_bar(progress, f"{query.provider} archive", total)
        self._pending: Iterator[ArchiveRow] = iter(())
        self._started = False
        self._done = False

    def __iter__(self) -> ArchiveRows:
        return self

    def __next__(self) -> ArchiveRow:
        while True:
            row = self._pending_row()
            if row is not None:
                return row
            if self._done:
                self.close()
                raise StopIteration
            self._take_page(self._fetch(**self._next_request()))

    def _pending_row(self) -> ArchiveRow | None:
        row = next(self._pending, None)
        if row is not None:
            self.rows_read += 1
            if self._bar is not None:
                self._bar.update(1)
        return row

    def _next_request(self) -> dict[str, Any]:
        if self._started:
            self.page += 1
        self._started = True
        return self.query.request(self.page)

    def _take_page(self, answer: Any) -> None:
        rows = self.query.rows(answer, self.page)
        self._done = self.query.is_last(rows)
        self._pending = iter(rows)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class AsyncArchiveRows(ArchiveRows, AsyncIterator[ArchiveRow]):
    """:class:`ArchiveRows` of the async client: ``async for row in so.archive(...)`` (same pages, same rows)."""

    def __next__(self) -> ArchiveRow:
        raise TypeError("Rows of the async client are read with `async for row in so.archive(...)`.")

    def __aiter__(self) -> AsyncArchiveRows:
        return self

    async def __anext__(self) -> ArchiveRow:
        while True:
            row = self._pending_row()
            if row is not None:
                return row
            if self._done:
                self.close()
                raise StopAsyncIteration
            self._take_page(await self._fetch(**self._next_request()))
