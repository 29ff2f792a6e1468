"""Archive agent (``Archive.svc``): ``GetArchiveListByColumns`` and ``GetArchiveListByColumns2``.

One engine serves both operations, over the tenant's contacts and persons in SQLite. The first takes
structured parameters (``ArrayOfstring`` columns, ``ArchiveOrderByInfo``, ``ArchiveRestrictionInfo``);
the second takes the same things as strings and parses them (see *String syntax* below).

Providers (matched case-insensitively; the answer's ``EntityName`` is the entity):

* ``Contact``, ``SimpleContact`` -- companies, entity ``contact``.
* ``Person``, ``SimplePerson`` -- persons, entities ``person`` and ``retiredPerson`` (former employees).

Any other provider name fails with ``ExceptionType=ArgumentException`` naming the supported ones.
``Entities`` (optional) limits the answer to the named entities; an unknown entity is an error.

Columns are SuperOffice's names (exact case; a wrong case gets a "did you mean" error) -- see
:data:`CONTACT_COLUMNS` and :data:`PERSON_COLUMNS`, e.g. ``contactId``, ``name``, ``department``,
``orgnr``, ``number``, ``code``, ``category``, ``business``, ``country``, ``associateId``,
``updatedDate``, ``registeredDate``, ``email/emailAddress``, ``postAddress/city`` for contacts and
``personId``, ``contactId``, ``firstName``, ``lastName``, ``fullName``, ``title``, ``position``,
``retired``, ``personUpdatedDate``, ``personRegisteredDate``, ``email/emailAddress``,
``personMobilePhone/formattedNumber`` for persons. On the person providers ``updatedDate``,
``updatedBy``, ``registeredDate`` and ``registeredBy`` are accepted too (sandbox aliases of the
``person...`` columns), so one sync restriction works on both. An unknown column, as a column, a
restriction or a sort key, fails with ``ArgumentException``.

Rows, values and paging:

* ``ColumnData`` holds one ``ArchiveColumnData`` per requested column, keyed by the requested name.
  ``DisplayValue`` is encoded as NetServer's ``CultureDataFormatter`` does: ints ``[I:42]``,
  date/times ``[DT:MM/dd/yyyy HH:mm:ss.0000000]`` (UTC), booleans ``[I:1]``/``[I:0]``; strings,
  list items (category, business, country, position -- their names) and associates (user name;
  ``TooltipHint`` has the full name) are plain. A date never set (``updatedDate`` of a row never
  updated) is an empty string. ``LinkHint`` of id and name columns, and of the item, is
  ``contact_id=N`` / ``person_id=N``.
* ``SortOrder``: ``Name`` plus ``Direction`` ``ASC``/``DESC`` (the string form also accepts
  ``ascending``/``descending``). Strings sort case-insensitively; ties, and lists without a sort
  order, are ordered by primary key, so pages are stable.
* ``Page`` is 0-based, ``PageSize`` rows each; ``PageSize`` 0 (or absent) returns all rows. A
  negative ``Page``/``PageSize`` is an ``ArgumentException``.

Restrictions (``Name``, ``Operator``, ``Values``; ``IsActive=false`` skips a restriction, absent
counts as active). Values may be plain (``42``, ``2024-01-01``, ``2024-01-01T10:00:00Z``) or encoded
(``[I:42]``, ``[DT:01/31/2024 10:00:00]``, ``[D:01/31/2024]``). Date/times without an offset are UTC.
Consecutive restrictions are joined by the first one's ``InterOperator`` (``And`` by default, ``Or``;
``And`` binds tighter). ``InterParenthesis`` and ``SubRestrictions`` are not supported (an
``ArgumentException`` says so). Operators by column type (an operator not listed fails with
``ArgumentException`` listing the supported ones):

* int: ``equals`` ``=``, ``unequals`` ``<>`` ``!=``, ``greater`` ``>``, ``less`` ``<``, ``>=``,
  ``<=``, ``between`` (inclusive), ``oneOf`` ``in``, ``notOneOf``, ``isNull``, ``isNotNull``
* string: ``is`` ``equals`` ``=``, ``isNot`` ``unequals`` ``<>`` ``!=``, ``begins``, ``notBegins``,
  ``contains``, ``notContains``, ``oneOf`` ``in``, ``isNull`` (empty), ``isNotNull`` -- all
  case-insensitive, as SuperOffice's database collation
* date/datetime: ``afterTime`` (at or after), ``beforeTime`` (before), ``dateTime`` (exact), ``>``
  ``<`` ``>=`` ``<=`` ``=``; by calendar day: ``date`` ``equals``, ``from`` (on or after the day),
  ``to`` (on or before), ``after`` (after the day), ``before`` (before the day), ``between`` (both
  days included), ``today``, ``afterToday``, ``beforeToday``; ``isNull``, ``isNotNull``. A date never
  set matches only ``isNull``.
* bool: ``set`` ``equals`` ``=`` (value ``1``/``0``/``true``/``false``), ``unequals`` ``<>``
* list (category, business, country, position; values are ids): ``equals`` ``=``, ``oneOf`` ``in``,
  ``notOneOf``, ``unequals`` ``<>``, ``isNull``, ``isNotNull``
* associate (values are associate ids): ``associateIsOneOf`` ``oneOf`` ``equals`` ``=`` ``in``,
  ``associateIsNotOneOf`` ``notOneOf`` ``unequals`` ``<>``, ``currentAssociate``
* ``getAllRows`` (no effect) and ``getNoRows`` (``1``: no rows) are accepted as restrictions.

Updated-since for a sync job: NetServer stamps ``updatedDate`` on saves of an existing row only; a
new row has ``registeredDate`` and no ``updatedDate``, as in SuperOffice. So ask for
``registeredDate afterTime T or updatedDate afterTime T`` to get both new and changed rows (deleted
rows are simply gone).

String syntax (``GetArchiveListByColumns2``): ``Columns`` and ``Entities`` are comma-separated names;
``SortOrder`` is ``name asc, contactId desc`` (``name:desc`` works too); ``Restrictions`` is
conditions ``column operator value`` joined by ``and``/``or`` with parentheses, e.g.
``updatedDate afterTime '2024-01-01' and (name begins 'Nord' or contactId = 5)``. Values are
quoted with ``'...'`` (``''`` for a quote) or ``"..."``, or bare words/numbers/encoded values; several
values go in parentheses, ``contactId oneOf (1, 2, 3)``; ``between`` takes ``(a, b)`` or
``a and b``. A syntax error is an ``ArgumentException`` that points at the offending position.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from soapkit.sandbox.agents import views
from soapkit.sandbox.agents.records import Row
from soapkit.sandbox.agents.registry import AgentCall, AgentFailure, handles
from soapkit.sandbox.store import Store

SERVICE = "Archive"
ARGUMENT = "ArgumentException"

# --- column types and values ---------------------------------------------------------------------

INT, STRING, DATE, BOOL, LIST, ASSOCIATE, TEXT_ONLY, FLAG = (
    "int", "string", "date", "bool", "list", "associate", "none", "flag")


@dataclass
class Lookups:
    """Everything a row's columns refer to, loaded once per call."""

    lists: dict[tuple[str, int], str]
    countries: dict[int, str]
    associates: dict[int, Row]
    contacts: Mapping[int, Row]
    associate_id: int
    now: dt.datetime


Getter = Callable[[Lookups, Row], Any]


class _ContactNames(Mapping[int, Row]):
    """The tenant's companies by id (``contact_id``, ``name``), read on first use: only a Person column that
    shows the company's name needs them, and reading them all costs a page of a big tenant ~10 ms."""

    def __init__(self, store: Store, ctx: str) -> None:
        self._store, self._ctx = store, ctx
        self._rows: dict[int, Row] | None = None

    def _loaded(self) -> dict[int, Row]:
        if self._rows is None:
            self._rows = {r["contact_id"]: r for r in self._store.all(
                "SELECT contact_id, name FROM contact WHERE ctx = ?", (self._ctx,))}
        return self._rows

    def __getitem__(self, key: int) -> Row:
        return self._loaded()[key]

    def __iter__(self) -> Iterator[int]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    value: Getter
    orderable: bool = True
    restrictable: bool = True
    link: str | None = None  # "contact" or "person": the LinkHint of this column


def _field(name: str) -> Getter:
    return lambda _lookups, row: row[name]


def _text(name: str) -> Getter:
    return lambda _lookups, row: row[name] or ""


def _first(name: str) -> Getter:
    return lambda _lookups, row: views.first_value(row[name])


def _address(kind: str, key: str) -> Getter:
    return lambda _lookups, row: str(views.address_parts(row["address"])[kind].get(key) or "")


def _date(name: str) -> Getter:
    def get(_lookups: Lookups, row: Row) -> dt.datetime | None:
        text = row[name]
        return views.parse_date(text) if text else None
    return get


def _flag(name: str) -> Getter:
    return lambda _lookups, row: bool(row[name])


def _restriction_only(name: str) -> Column:
    return Column(name, FLAG, lambda _lookups, _row: None, orderable=False)


CONTACT_COLUMNS: dict[str, Column] = {c.name: c for c in [
    _restriction_only("getAllRows"), _restriction_only("getNoRows"),
    Column("contactId", INT, _field("contact_id"), link="contact"),
    Column("name", STRING, _text("name"), link="contact"),
    Column("department", STRING, _text("department")),
    Column("nameDepartment", STRING, lambda _lookups, row: views.contact_full_name(row), restrictable=False,
           link="contact"),
    Column("orgnr", STRING, _text("org_nr")),
    Column("number", STRING, _text("number1")),
    Column("code", STRING, _text("number2")),
    Column("associateId", ASSOCIATE, _field("associate_id")),
    Column("category", LIST, _field("category_id")),
    Column("business", LIST, _field("business_id")),
    Column("country", LIST, _field("country_id")),
    Column("countryId", INT, lambda _lookups, row: row["country_id"] or 0),
    Column("stop", BOOL, _flag("xstop")),
    Column("contactNoMail", BOOL, _flag("no_mailing")),
    Column("updatedDate", DATE, _date("updated_at")),
    Column("updatedBy", ASSOCIATE, _field("updated_by")),
    Column("registeredDate", DATE, _date("created_at")),
    Column("registeredBy", ASSOCIATE, _field("created_by")),
    Column("email/emailAddress", STRING, _first("emails")),
    Column("url/URLAddress", STRING, _first("urls")),
    Column("contactPhone/formattedNumber", STRING, _first("phones"), orderable=False),
    Column("contactFax/formattedNumber", STRING, _first("faxes"), orderable=False),
    *[Column(f"{prefix}/{key}", STRING, _address(kind, field_name))
      for prefix, kind in (("postAddress", "postal"), ("streetAddress", "street"))
      for key, field_name in (("line1", "Address1"), ("line2", "Address2"), ("line3", "Address3"),
                              ("city", "City"), ("zip", "Zipcode"), ("county", "County"), ("state", "State"))],
]}


def _contact_name(lookups: Lookups, row: Row) -> str:
    contact = lookups.contacts.get(row["contact_id"] or 0)
    return str(contact["name"]) if contact else ""


PERSON_COLUMNS: dict[str, Column] = {c.name: c for c in [
    _restriction_only("getAllRows"), _restriction_only("getNoRows"),
    Column("personId", INT, _field("person_id"), link="person"),
    Column("firstName", STRING, _text("firstname")),
    Column("lastName", STRING, _text("lastname")),
    Column("middleName", STRING, _text("middlename")),
    Column("fullName", STRING, lambda _lookups, row: views.person_full_name(row), link="person"),
    Column("contactId", INT, lambda _lookups, row: row["contact_id"] or 0, link="contact"),
    Column("mrMrs", STRING, _text("mrmrs")),
    Column("position", LIST, _field("position_id")),
    Column("personNumber", STRING, _text("person_number")),
    Column("title", STRING, _text("title")),
    Column("personCountry", LIST, _field("country_id")),
    Column("personCountryId", INT, lambda _lookups, row: row["country_id"] or 0),
    Column("personNoMail", BOOL, _flag("no_mailing")),
    Column("rank", INT, lambda _lookups, row: row["rank"] or 0),
    Column("retired", BOOL, _flag("retired")),
    Column("birthdate", DATE, _date("birth_date"), orderable=False, restrictable=False),
    Column("kanaFirstName", STRING, _text("kanafname")),
    Column("kanaLastName", STRING, _text("kanalname")),
    Column("personUpdatedBy", ASSOCIATE, _field("updated_by")),
    Column("personUpdatedDate", DATE, _date("updated_at")),
    Column("personRegisteredBy", ASSOCIATE, _field("created_by")),
    Column("personRegisteredDate", DATE, _date("created_at")),
    Column("personAssociateId", ASSOCIATE, _field("associate_id")),
    Column("personCategory", LIST, _field("category_id")),
    Column("personBusiness", LIST, _field("business_id")),
    Column("hasCompany", BOOL, lambda _lookups, row: bool(row["contact_id"])),
    Column("email/emailAddress", STRING, _first("emails")),
    Column("personUrl/URLAddress", STRING, _first("urls")),
    Column("personDirectPhone/formattedNumber", STRING, _first("office_phones"), orderable=False),
    Column("personMobilePhone/formattedNumber", STRING, _first("mobile_phones"), orderable=False),
    Column("personPrivate/formattedNumber", STRING, _first("private_phones"), orderable=False),
    Column("personDirectFax/formattedNumber", STRING, _first("faxes"), orderable=False),
    *[Column(f"personAddress/{key}", STRING, _address("postal", field_name))
      for key, field_name in (("line1", "Address1"), ("line2", "Address2"), ("line3", "Address3"),
                              ("city", "City"), ("zip", "Zipcode"), ("county", "County"), ("state", "State"))],
    # sandbox aliases, so one updated-since restriction works for contacts and persons
    Column("updatedDate", DATE, _date("updated_at")),
    Column("updatedBy", ASSOCIATE, _field("updated_by")),
    Column("registeredDate", DATE, _date("created_at")),
    Column("registeredBy", ASSOCIATE, _field("created_by")),
    Column("contactName", STRING, _contact_name),
]}


@dataclass(frozen=True)
class Provider:
    name: str
    table: str
    key: str
    columns: dict[str, Column]
    entities: tuple[str, ...]
    key_column: str  # the column showing ``key``: ordering by it ascending is the table's own order

    def entity(self, row: Row) -> str:
        if self.table == "person":
            return "retiredPerson" if row["retired"] else "person"
        return "contact"


_CONTACT = Provider("Contact", "contact", "contact_id", CONTACT_COLUMNS, ("contact",), "contactId")
_PERSON = Provider("Person", "person", "person_id", PERSON_COLUMNS, ("person", "retiredPerson"), "personId")
PROVIDERS: dict[str, Provider] = {
    "contact": _CONTACT, "simplecontact": _CONTACT, "person": _PERSON, "simpleperson": _PERSON,
}
PROVIDER_NAMES = ("Contact", "SimpleContact", "Person", "SimplePerson")


def provider_for(name: str | None) -> Provider:
    provider = PROVIDERS.get((name or "").strip().lower())
    if provider is None:
        raise AgentFailure(ARGUMENT, f"Unknown archive provider {name!r}: the sandbox supports "
                           f"{', '.join(PROVIDER_NAMES)} (case-insensitive).")
    return provider


def column_for(provider: Provider, name: str, use: str) -> Column:
    column = provider.columns.get(name)
    if column is not None:
        return column
    hint = ""
    near = [known for known in provider.columns if known.lower() == name.lower()]
    if near:
        hint = f" Did you mean {near[0]!r}? Column names are case-sensitive."
    elif name in ("createdDate", "personCreatedDate"):
        hint = " SuperOffice calls the creation date 'registeredDate' (persons: 'personRegisteredDate')."
    raise AgentFailure(ARGUMENT, f"Unknown {use} {name!r} for archive provider {provider.name}.{hint} "
                       f"Supported columns: {', '.join(c for c in provider.columns if not c.startswith('get'))}.")


# --- encoded values ------------------------------------------------------------------------------

_ENCODED = re.compile(r"^\[(?P<marker>[A-Z]+):(?P<value>.*)\]$", re.S)


def _decode(text: str) -> tuple[str | None, str]:
    match = _ENCODED.match(text.strip())
    if match:
        return match["marker"], match["value"].strip()
    return None, text.strip()


def _bad_value(column: Column, text: str, expected: str) -> AgentFailure:
    return AgentFailure(ARGUMENT, f"Restriction on {column.name!r}: {text!r} is not {expected}.")


def parse_int(column: Column, text: str) -> int:
    _, value = _decode(text)
    try:
        return int(value)
    except ValueError:
        raise _bad_value(column, text, "an integer (e.g. 42 or [I:42])") from None


def parse_bool(column: Column, text: str) -> bool:
    _, value = _decode(text)
    lowered = value.lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no", ""):
        return False
    raise _bad_value(column, text, "a boolean (1/0/true/false)")


_DATE_FORMATS = ("%m/%d/%Y %H:%M:%S.%f", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%d.%m.%Y")


def parse_datetime(column: Column, text: str) -> dt.datetime:
    """A restriction value as a naive UTC datetime (ISO 8601 or CultureDataFormatter encoding)."""
    _, value = _decode(text)
    if value.endswith("0000000") and "." in value:  # .NET's 7 fraction digits: more than %f accepts
        value = value[: value.rindex(".")]
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        for layout in _DATE_FORMATS:
            try:
                parsed = dt.datetime.strptime(value, layout)
                break
            except ValueError:
                continue
        else:
            raise _bad_value(column, text, "a date (2024-01-31, 2024-01-31T10:00:00Z, [DT:01/31/2024 10:00:00] "
                             "or [D:01/31/2024])") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


def display(column: Column, value: Any, lookups: Lookups) -> tuple[str, str]:
    """(DisplayValue, TooltipHint) of a column value."""
    if column.kind == INT:
        return f"[I:{int(value or 0)}]", ""
    if column.kind == BOOL:
        return f"[I:{1 if value else 0}]", ""
    if column.kind == DATE:
        return (f"[DT:{value:%m/%d/%Y %H:%M:%S}.0000000]" if value else ""), ""
    if column.kind == LIST:
        return _list_label(column, value, lookups), ""
    if column.kind == ASSOCIATE:
        associate = lookups.associates.get(value or 0)
        return (associate["user_name"], associate["full_name"]) if associate else ("", "")
    return str(value or ""), ""


def _list_name(column: Column) -> str:
    lowered = column.name.lower()
    for name in ("category", "business", "position", "country"):
        if name in lowered:
            return name
    return column.name


def _list_label(column: Column, value: Any, lookups: Lookups) -> str:
    if not value:
        return ""
    name = _list_name(column)
    if name == "country":
        return lookups.countries.get(int(value), "")
    return lookups.lists.get((name, int(value)), "")


def sort_key(column: Column, value: Any, lookups: Lookups) -> tuple[int, Any]:
    """Empty values first (ascending), then by value; strings and labels case-insensitively."""
    if column.kind in (LIST, ASSOCIATE):
        label = display(column, value, lookups)[0]
        return (1 if label else 0, label.lower())
    if column.kind == DATE:
        return (1, value) if value else (0, dt.datetime.min)
    if column.kind == STRING:
        return (1 if value else 0, str(value or "").lower())
    if column.kind in (INT, BOOL):
        return (1, int(value or 0))
    return (0, 0)


# --- restrictions --------------------------------------------------------------------------------

Predicate = Callable[[Lookups, Row], bool]

OPERATORS: dict[str, tuple[str, ...]] = {
    INT: ("equals", "=", "unequals", "<>", "!=", "greater", ">", "less", "<", ">=", "<=", "between", "oneOf", "in",
          "notOneOf", "isNull", "isNotNull"),
    STRING: ("is", "equals", "=", "isNot", "unequals", "<>", "!=", "begins", "notBegins", "contains", "notContains",
             "oneOf", "in", "isNull", "isNotNull"),
    DATE: ("afterTime", "beforeTime", "dateTime", ">", "<", ">=", "<=", "=", "date", "equals", "from", "to", "after",
           "before", "between", "today", "afterToday", "beforeToday", "isNull", "isNotNull"),
    BOOL: ("set", "equals", "=", "unequals", "<>", "!="),
    LIST: ("equals", "=", "oneOf", "in", "notOneOf", "unequals", "<>", "!=", "isNull", "isNotNull"),
    ASSOCIATE: ("associateIsOneOf", "oneOf", "equals", "=", "in", "associateIsNotOneOf", "notOneOf", "unequals",
                "<>", "!=", "currentAssociate"),
    FLAG: ("set", "equals", "="),
}
_NO_VALUES = {"isNull", "isNotNull", "today", "afterToday", "beforeToday", "currentAssociate"}
_ONE_DAY = dt.timedelta(days=1)


def _need(column: Column, operator: str, values: Sequence[str], count: int | None) -> None:
    if count is None:
        if not values:
            raise AgentFailure(ARGUMENT, f"Restriction {column.name} {operator} needs at least one value.")
    elif len(values) != count:
        raise AgentFailure(ARGUMENT, f"Restriction {column.name} {operator} needs {count} value(s), got "
                           f"{len(values)}: {list(values)!r}.")


def _day(value: dt.datetime) -> dt.datetime:
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def condition(column: Column, operator: str, values: Sequence[str], *, now: dt.datetime,
              associate_id: int) -> Predicate:
    """The predicate of one restriction (``ArgumentException`` for what it cannot evaluate)."""
    if not column.restrictable:
        raise AgentFailure(ARGUMENT, f"Column {column.name!r} cannot be used in a restriction.")
    allowed = OPERATORS[column.kind]
    op = next((known for known in allowed if known.lower() == operator.strip().lower()), None)
    if op is None:
        raise AgentFailure(ARGUMENT, f"Operator {operator!r} is not supported for {column.name!r} (a {column.kind} "
                           f"column) by the sandbox. Supported: {', '.join(allowed)}.")
    values = [v for v in values if v is not None]
    if op in _NO_VALUES and values:
        raise AgentFailure(ARGUMENT, f"Restriction {column.name} {op} takes no values, got {values!r}.")
    get = column.value

    if column.kind == FLAG:
        _need(column, op, values, 1)
        wanted = parse_bool(column, values[0])
        empty = column.name == "getNoRows" and wanted
        return lambda _lookups, _row: not empty

    if op in ("isNull", "isNotNull"):
        def is_null(lookups: Lookups, row: Row) -> bool:
            return not get(lookups, row)
        if op == "isNull":
            return is_null
        return lambda lookups, row: not is_null(lookups, row)

    if column.kind == BOOL:
        _need(column, op, values, 1)
        flag = parse_bool(column, values[0])
        if op in ("unequals", "<>", "!="):
            return lambda lookups, row: bool(get(lookups, row)) != flag
        return lambda lookups, row: bool(get(lookups, row)) == flag

    if column.kind == STRING:
        return _string_condition(column, op, values)

    if column.kind == DATE:
        return _date_condition(column, op, values, now)

    if column.kind == ASSOCIATE and op == "currentAssociate":
        return lambda lookups, row: int(get(lookups, row) or 0) == associate_id

    # int, list and associate: integers
    numbers = [parse_int(column, v) for v in values]
    if op in ("oneOf", "in", "associateIsOneOf") or (op in ("equals", "=") and len(numbers) > 1):
        _need(column, op, values, None)
        members = set(numbers)
        return lambda lookups, row: int(get(lookups, row) or 0) in members
    if op in ("notOneOf", "associateIsNotOneOf") or (op in ("unequals", "<>", "!=") and len(numbers) > 1):
        _need(column, op, values, None)
        members = set(numbers)
        return lambda lookups, row: int(get(lookups, row) or 0) not in members
    if op == "between":
        _need(column, op, values, 2)
        low, high = numbers
        return lambda lookups, row: low <= int(get(lookups, row) or 0) <= high
    _need(column, op, values, 1)
    number = numbers[0]
    compare: dict[str, Callable[[int], bool]] = {
        "equals": lambda v: v == number, "=": lambda v: v == number,
        "unequals": lambda v: v != number, "<>": lambda v: v != number, "!=": lambda v: v != number,
        "greater": lambda v: v > number, ">": lambda v: v > number, ">=": lambda v: v >= number,
        "less": lambda v: v < number, "<": lambda v: v < number, "<=": lambda v: v <= number,
    }
    test = compare[op]
    return lambda lookups, row: test(int(get(lookups, row) or 0))


def _string_condition(column: Column, op: str, values: Sequence[str]) -> Predicate:
    get = column.value
    wanted = [v.lower() for v in values]

    def text(lookups: Lookups, row: Row) -> str:
        return str(get(lookups, row) or "").lower()

    if op in ("oneOf", "in"):
        _need(column, op, values, None)
        members = set(wanted)
        return lambda lookups, row: text(lookups, row) in members
    _need(column, op, values, 1)
    needle = wanted[0]
    tests: dict[str, Callable[[str], bool]] = {
        "is": lambda v: v == needle, "equals": lambda v: v == needle, "=": lambda v: v == needle,
        "isNot": lambda v: v != needle, "unequals": lambda v: v != needle, "<>": lambda v: v != needle,
        "!=": lambda v: v != needle,
        "begins": lambda v: v.startswith(needle), "notBegins": lambda v: not v.startswith(needle),
        "contains": lambda v: needle in v, "notContains": lambda v: needle not in v,
    }
    test = tests[op]
    return lambda lookups, row: test(text(lookups, row))


def _date_condition(column: Column, op: str, values: Sequence[str], now: dt.datetime) -> Predicate:
    get = column.value
    today = _day(now.astimezone(dt.timezone.utc).replace(tzinfo=None))
    low: dt.datetime | None
    high: dt.datetime | None  # the range [low, high) a value must fall in
    if op in ("today", "afterToday", "beforeToday"):
        low, high = {"today": (today, today + _ONE_DAY), "afterToday": (today + _ONE_DAY, None),
                     "beforeToday": (None, today)}[op]
    elif op == "between":
        _need(column, op, values, 2)
        first, last = (parse_datetime(column, v) for v in values)
        low, high = _day(first), _day(last) + _ONE_DAY
    else:
        _need(column, op, values, 1)
        moment = parse_datetime(column, values[0])
        day = _day(moment)
        ranges: dict[str, tuple[dt.datetime | None, dt.datetime | None]] = {
            "afterTime": (moment, None), ">=": (moment, None),
            ">": (moment + dt.timedelta(microseconds=1), None),
            "beforeTime": (None, moment), "<": (None, moment),
            "<=": (None, moment + dt.timedelta(microseconds=1)),
            "dateTime": (moment, moment + dt.timedelta(microseconds=1)),
            "=": (moment, moment + dt.timedelta(microseconds=1)),
            "date": (day, day + _ONE_DAY), "equals": (day, day + _ONE_DAY),
            "from": (day, None), "to": (None, day + _ONE_DAY),
            "after": (day + _ONE_DAY, None), "before": (None, day),
        }
        low, high = ranges[op]

    def test(lookups: Lookups, row: Row) -> bool:
        value = get(lookups, row)
        if value is None:
            return False
        return (low is None or value >= low) and (high is None or value < high)

    return test


# --- restriction expressions ---------------------------------------------------------------------

@dataclass
class Condition:
    name: str
    operator: str
    values: list[str]


@dataclass
class Group:
    kind: str  # "and" / "or"
    parts: list[Expression] = field(default_factory=list)


Expression = Condition | Group


def compile_expression(provider: Provider, expression: Expression | None, *, now: dt.datetime,
                       associate_id: int) -> Predicate:
    if expression is None:
        return lambda _lookups, _row: True
    if isinstance(expression, Condition):
        column = column_for(provider, expression.name, "restriction column")
        return condition(column, expression.operator, expression.values, now=now, associate_id=associate_id)
    parts = [compile_expression(provider, part, now=now, associate_id=associate_id) for part in expression.parts]
    if expression.kind == "or":
        return lambda lookups, row: any(part(lookups, row) for part in parts)
    return lambda lookups, row: all(part(lookups, row) for part in parts)


def _combine(items: list[tuple[Expression, str]]) -> Expression | None:
    """Join ``(expression, operator to the next)`` pairs; ``and`` binds tighter than ``or``."""
    if not items:
        return None
    alternatives: list[Expression] = []
    current: list[Expression] = []
    for index, (expression, joiner) in enumerate(items):
        current.append(expression)
        if joiner == "or" or index == len(items) - 1:
            alternatives.append(current[0] if len(current) == 1 else Group("and", current))
            current = []
    return alternatives[0] if len(alternatives) == 1 else Group("or", alternatives)


def restrictions_from_infos(infos: Sequence[Any]) -> Expression | None:
    """``ArchiveRestrictionInfo`` dicts (as zeep gives them) -> one expression."""
    items: list[tuple[Expression, str]] = []
    for info in infos:
        if not isinstance(info, dict):
            continue
        if info.get("IsActive") is False:
            continue
        name = str(info.get("Name") or "").strip()
        if not name:
            raise AgentFailure(ARGUMENT, "An ArchiveRestrictionInfo has no Name.")
        if info.get("InterParenthesis"):
            raise AgentFailure(ARGUMENT, f"Restriction {name!r}: InterParenthesis is not supported by the sandbox; "
                               "use InterOperator (And/Or) or GetArchiveListByColumns2 with parentheses.")
        subs = (info.get("SubRestrictions") or {}).get("ArchiveRestrictionInfo") or []
        if subs:
            raise AgentFailure(ARGUMENT, f"Restriction {name!r}: SubRestrictions are not supported by the sandbox.")
        # an empty <string/> arrives as None: it is the empty string
        values = ["" if v is None else str(v) for v in ((info.get("Values") or {}).get("string") or [])]
        joiner = str(info.get("InterOperator") or "And").lower()
        items.append((Condition(name, str(info.get("Operator") or "").strip(), values), joiner))
    return _combine(items)


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<quoted>'(?:[^']|'')*'|"[^"]*")
  | (?P<encoded>\[[A-Za-z]+:[^\]]*\])
  | (?P<punct>[(),])
  | (?P<symbol><=|>=|<>|!=|=|<|>)
  | (?P<word>[^\s(),'"=<>!\[]+)
""", re.X)


@dataclass
class Token:
    kind: str  # quoted, encoded, punct, symbol, word
    text: str
    position: int

    @property
    def value(self) -> str:
        if self.kind == "quoted":
            inner = self.text[1:-1]
            return inner.replace("''", "'") if self.text[0] == "'" else inner
        return self.text

    def keyword(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise AgentFailure(ARGUMENT, f"Restriction syntax error at position {position}: unexpected "
                               f"{text[position:position + 20]!r} in {text!r}.")
        kind = match.lastgroup or "word"
        if kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    return tokens


class _Parser:
    """``expr := term (or term)*; term := factor (and factor)*; factor := '(' expr ')' | condition``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self, offset: int = 0) -> Token | None:
        at = self.index + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise self.error("unexpected end")
        self.index += 1
        return token

    def error(self, what: str, token: Token | None = None) -> AgentFailure:
        where = f"position {token.position}" if token else "the end"
        return AgentFailure(ARGUMENT, f"Restriction syntax error at {where}: {what} in {self.text!r}.")

    def parse(self) -> Expression | None:
        if not self.tokens:
            return None
        expression = self.expression()
        if self.peek() is not None:
            raise self.error("expected 'and', 'or' or the end", self.peek())
        return expression

    def expression(self) -> Expression:
        parts = [self.term()]
        while (token := self.peek()) is not None and token.keyword("or"):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Group("or", parts)

    def term(self) -> Expression:
        parts = [self.factor()]
        while (token := self.peek()) is not None and token.keyword("and"):
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else Group("and", parts)

    def factor(self) -> Expression:
        token = self.take()
        if token.kind == "punct" and token.text == "(":
            inner = self.expression()
            closing = self.peek()
            if closing is None or closing.text != ")":
                raise self.error("expected ')'", closing)
            self.take()
            return inner
        if token.kind != "word":
            raise self.error(f"expected a column name, found {token.text!r}", token)
        operator = self.peek()
        if operator is None or operator.kind not in ("word", "symbol"):
            raise self.error(f"expected an operator after {token.text!r}", operator)
        self.take()
        return Condition(token.text, operator.text, self.values(operator.text))

    def values(self, operator: str) -> list[str]:
        token = self.peek()
        if token is not None and token.kind == "punct" and token.text == "(":
            self.take()
            values: list[str] = []
            while True:
                item = self.take()
                if item.kind == "punct":
                    raise self.error(f"expected a value, found {item.text!r}", item)
                values.append(item.value)
                separator = self.take()
                if separator.text == ")":
                    return values
                if separator.text != ",":
                    raise self.error("expected ',' or ')'", separator)
        values = []
        while (token := self.peek()) is not None and token.kind in ("quoted", "encoded", "word") \
                and not token.keyword("and", "or"):
            values.append(self.take().value)
        # "between a and b"
        if operator.lower() == "between" and len(values) == 1 and (token := self.peek()) is not None \
                and token.keyword("and") and (following := self.peek(1)) is not None \
                and following.kind in ("quoted", "encoded", "word"):
            self.take()
            values.append(self.take().value)
        return values


def parse_restrictions(text: str | None) -> Expression | None:
    return _Parser(text or "").parse()


def split_names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


_DIRECTION = re.compile(r"^(?P<name>.*?)(?:[\s:]+(?P<direction>asc|ascending|desc|descending))?$", re.I)


def parse_sort_order(text: str | None) -> list[tuple[str, bool]]:
    """``"name asc, contactId desc"`` -> ``[("name", False), ("contactId", True)]`` (True: descending)."""
    result = []
    for part in split_names(text):
        match = _DIRECTION.match(part)
        assert match is not None  # the pattern matches any string
        direction = (match["direction"] or "asc").lower()
        result.append((match["name"].strip(), direction.startswith("desc")))
    return result


# --- the engine ----------------------------------------------------------------------------------

@dataclass
class Query:
    provider: str | None
    columns: list[str]
    sort: list[tuple[str, bool]]
    restriction: Expression | None
    entities: list[str]
    page: int
    page_size: int


def _lookups(call: AgentCall) -> Lookups:
    store = call.crm.store
    return Lookups(
        lists={(r["list_name"], r["id"]): r["value"] for r in store.all("SELECT list_name, id, value FROM list_item")},
        countries={r["country_id"]: r["name"] for r in store.all("SELECT country_id, name FROM country")},
        associates={r["associate_id"]: r for r in store.all("SELECT * FROM associate WHERE ctx = ?", (call.ctx,))},
        contacts=_ContactNames(store, call.ctx),
        associate_id=call.associate_id, now=call.now,
    )


def run(call: AgentCall, query: Query) -> dict[str, Any]:
    provider = provider_for(query.provider)
    if query.page < 0 or query.page_size < 0:
        raise AgentFailure(ARGUMENT, f"Page ({query.page}) and PageSize ({query.page_size}) must not be negative; "
                           "Page is 0-based, PageSize 0 means all rows.")
    columns = [column_for(provider, name, "column") for name in query.columns]
    for column in columns:
        if column.kind == FLAG:
            raise AgentFailure(ARGUMENT, f"{column.name!r} is a restriction, not a column.")
    sort = []
    for name, descending in query.sort:
        column = column_for(provider, name, "sort column")
        if not column.orderable:
            raise AgentFailure(ARGUMENT, f"Archive provider {provider.name} cannot order by {name!r}.")
        sort.append((column, descending))
    entities = set()
    for entity in query.entities:
        known = next((e for e in provider.entities if e.lower() == entity.lower()), None)
        if known is None:
            raise AgentFailure(ARGUMENT, f"Unknown entity {entity!r} for archive provider {provider.name}; "
                               f"it has {', '.join(provider.entities)}.")
        entities.add(known)
    predicate = compile_expression(provider, query.restriction, now=call.now, associate_id=call.associate_id)

    lookups = _lookups(call)
    table, key = provider.table, provider.key
    if not entities and query.restriction is None and all(
            column.name == provider.key_column and not descending for column, descending in sort):
        rows = _page_in_key_order(call, provider, query)
    else:
        rows = call.crm.store.all(f"SELECT * FROM {table} WHERE ctx = ? ORDER BY {key}", (call.ctx,))  # noqa: S608
        rows = [row for row in rows if (not entities or provider.entity(row) in entities)
                and predicate(lookups, row)]
        for column, descending in reversed(sort):  # stable sorts, last key first
            rows.sort(key=_sorter(column, lookups), reverse=descending)
        if query.page_size:
            rows = rows[query.page * query.page_size:(query.page + 1) * query.page_size]

    items = []
    for row in rows:
        link = _link(provider.table, row)
        data = []
        for name, column in zip(query.columns, columns, strict=True):
            shown, tooltip = display(column, column.value(lookups, row), lookups)
            column_link = "" if column.link is None else (
                f"contact_id={row['contact_id']}" if column.link == "contact" else link)
            data.append({"Key": name, "Value": {"DisplayValue": shown, "TooltipHint": tooltip,
                                                "LinkHint": column_link}})
        items.append({"EntityName": provider.entity(row), "PrimaryKey": row[key],
                      "ColumnData": {"ColumnDataKeyValuePair": data}, "LinkHint": link, "StyleHint": ""})
    return {"Response": {"ArchiveListItem": items}}


def _page_in_key_order(call: AgentCall, provider: Provider, query: Query) -> list[Row]:
    """The page of an unrestricted query in primary-key order (the export case) straight from SQLite: the same
    rows as filtering and slicing every row in Python, without reading the rows of the other pages."""
    sql = f"SELECT * FROM {provider.table} WHERE ctx = ? ORDER BY {provider.key}"  # noqa: S608
    if not query.page_size:
        return call.crm.store.all(sql, (call.ctx,))
    return call.crm.store.all(f"{sql} LIMIT ? OFFSET ?", (call.ctx, query.page_size, query.page * query.page_size))


def _sorter(column: Column, lookups: Lookups) -> Callable[[Row], tuple[int, Any]]:
    return lambda row: sort_key(column, column.value(lookups, row), lookups)


def _link(table: str, row: Row) -> str:
    return f"contact_id={row['contact_id']}" if table == "contact" else f"person_id={row['person_id']}"


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        raise AgentFailure(ARGUMENT, f"{value!r} is not an integer.") from None


@handles(SERVICE, "GetArchiveListByColumns")
def get_archive_list_by_columns(call: AgentCall) -> dict[str, Any]:
    sort_infos = (call.param("SortOrder", {}) or {}).get("ArchiveOrderByInfo") or []
    sort = [(str(info.get("Name") or "").strip(), str(info.get("Direction") or "ASC").upper().startswith("DESC"))
            for info in sort_infos if isinstance(info, dict)]
    restriction_infos = (call.param("Restriction", {}) or {}).get("ArchiveRestrictionInfo") or []
    query = Query(
        provider=call.param("ProviderName"),
        columns=[str(c).strip() for c in ((call.param("Columns", {}) or {}).get("string") or []) if c],
        sort=sort, restriction=restrictions_from_infos(restriction_infos),
        entities=[str(e).strip() for e in ((call.param("Entities", {}) or {}).get("string") or []) if e],
        page=_int(call.param("Page", 0)), page_size=_int(call.param("PageSize", 0)),
    )
    return run(call, query)


@handles(SERVICE, "GetArchiveListByColumns2")
def get_archive_list_by_columns2(call: AgentCall) -> dict[str, Any]:
    query = Query(
        provider=call.param("ProviderName"), columns=split_names(call.param("Columns")),
        sort=parse_sort_order(call.param("SortOrder")), restriction=parse_restrictions(call.param("Restrictions")),
        entities=split_names(call.param("Entities")),
        page=_int(call.param("Page", 0)), page_size=_int(call.param("PageSize", 0)),
    )
    return run(call, query)
