"""Regional headers: REST's ``SO-TimeZone``, ``SO-Language`` (over ``Accept-Language``) and ``SO-Culture``, and
the SOAP ``TimeZone`` header (``SoTimeZoneLocationCode`` or ``SoTimeZoneId``), which converts as ``SO-TimeZone``.

What SuperOffice documents, and what the sandbox does with it:

* **Time zone.** Data is stored in the tenant's *base* time zone (the sandbox's is UTC) and travels without an
  offset. ``SO-TimeZone: NO`` asks for another zone: naive date-times in the request are read as wall time of
  that zone (and converted to the base zone before a handler sees them), and every date-time of the answer is
  converted from the base zone to that zone's wall time (still written without an offset). A date-time that
  carries an offset (``...Z``, ``+02:00``) means that moment whatever the header says, and is stored as the
  base zone's wall time (with or without the header). ``0001-01-01T00:00:00``
  (.NET's ``DateTime.MinValue``, SuperOffice's "no date") is left as it is. Zones are SuperOffice's codes
  (:data:`TIME_ZONES`: ``UTC``, ``NO``, ``DK``, ``US-NY`` ...; case-insensitive) or IANA names
  (``Europe/Oslo``); anything else is refused with HTTP 400 naming the header, never ignored.
* **Language.** A multi-language text (``NO:"Leverandør";US:"Supplier"``) in the answer is replaced by the text
  of the requested language: ``SO-Language`` if sent, else the first language of ``Accept-Language``.
  Without either, or with ``SO-Language: *`` / ``x``, such texts are returned unchanged, as SuperOffice does.
  A language without a text of its own gets the first text of the value.
* **Culture.** ``SO-Culture`` (``nb-NO``) chooses number and date formatting. Everything the sandbox answers is
  culture-neutral (JSON numbers, ISO 8601 dates, Archive values encoded as ``[I:42]``/``[DT:...]``), as
  SuperOffice's REST answers are, so no answer changes; a malformed culture name is refused with HTTP 400.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from zeep.xsd.valueobjects import CompoundValue

#: SuperOffice's time zone codes (country, or country-region) and the IANA zone with the same rules.
TIME_ZONES: dict[str, str] = {
    "UTC": "UTC", "GMT": "UTC",
    "NO": "Europe/Oslo", "SE": "Europe/Stockholm", "DK": "Europe/Copenhagen", "FI": "Europe/Helsinki",
    "DE": "Europe/Berlin", "NL": "Europe/Amsterdam", "BE": "Europe/Brussels", "FR": "Europe/Paris",
    "ES": "Europe/Madrid", "IT": "Europe/Rome", "CH": "Europe/Zurich", "AT": "Europe/Vienna",
    "PL": "Europe/Warsaw", "GB": "Europe/London", "IE": "Europe/Dublin", "PT": "Europe/Lisbon",
    "US-NY": "America/New_York", "US-IL": "America/Chicago", "US-CO": "America/Denver",
    "US-AZ": "America/Phoenix", "US-CA": "America/Los_Angeles", "US-AK": "America/Anchorage",
    "US-HI": "Pacific/Honolulu", "CA-QC": "America/Toronto", "CA-BC": "America/Vancouver",
    "BR-SP": "America/Sao_Paulo", "AU-ACT": "Australia/Sydney", "AU-NSW": "Australia/Sydney",
    "AU-WA": "Australia/Perth", "NZ": "Pacific/Auckland", "JP": "Asia/Tokyo", "CN": "Asia/Shanghai",
    "IN": "Asia/Kolkata", "BD": "Asia/Dhaka", "SG": "Asia/Singapore", "AE": "Asia/Dubai", "ZA": "Africa/Johannesburg",
}

#: SuperOffice's numeric time zone ids (``TimeZone/SoTimeZoneId`` of the SOAP header) -> their codes, where known
TIME_ZONE_IDS: dict[int, str] = {1: "UTC", 36: "AU-ACT", 50: "BD", 114: "CA-QC", 140: "DK", 156: "FR", 261: "NO",
                                 425: "US-CA", 433: "US-HI", 460: "US-NY"}

#: the base time zone the sandbox stores date-times in
BASE_ZONE = dt.timezone.utc

#: a language -> the prefixes SuperOffice's multi-language texts use for it, best first
LANGUAGE_PREFIXES: dict[str, tuple[str, ...]] = {
    "en": ("US", "GB", "EN", "UK"), "nb": ("NO", "NB"), "nn": ("NO", "NN"), "no": ("NO",),
    "sv": ("SE", "SV", "SW"), "da": ("DK", "DA"), "de": ("DE", "GE"), "nl": ("NL", "DU"), "fr": ("FR",),
    "fi": ("FI",), "es": ("ES", "SP"), "it": ("IT",), "pl": ("PL",), "pt": ("PT", "BR"),
}

NO_TRANSLATION = frozenset({"*", "x"})
_CULTURE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_MULTI_LANGUAGE = re.compile(r'([A-Z]{2,3}):"((?:[^"]|"")*)";?')
_ACCEPT_SEPARATORS = re.compile(r"[,;]")
_MIN_VALUE = dt.datetime(1, 1, 1)


class RegionalHeaderError(ValueError):
    """A regional header the sandbox cannot honour: answered HTTP 400 naming the header."""

    def __init__(self, header: str, message: str) -> None:
        self.header = header
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Regional:
    """What a REST request's regional headers ask for (``None``: the defaults, nothing changes)."""

    zone: dt.tzinfo | None = None
    language: str | None = None
    culture: str | None = None

    @classmethod
    def from_headers(cls, header: Callable[[str], str | None]) -> Regional:
        return cls(zone=time_zone(header("so-timezone")),
                   language=language(header("so-language"), header("accept-language")),
                   culture=culture(header("so-culture")))

    def request_values(self, params: dict[str, Any]) -> dict[str, Any]:
        """The request's parameters in the base zone: naive date-times are wall time of the asked zone (of the
        base zone when none is asked), date-times with an offset are that moment."""
        zone = self.zone or BASE_ZONE
        converted: dict[str, Any] = convert(params, lambda value: _to_base(value, zone))
        return converted

    def answer_values(self, value: Any) -> Any:
        """The answer (zeep objects, before :func:`soapkit.plain`) in the asked zone and language."""
        zone, wanted = self.zone, self.language
        if zone is not None:
            value = convert(value, lambda moment: _from_base(moment, zone))
        if wanted is not None:
            value = convert(value, lambda text: translate(text, wanted), kind=str)
        return value


def time_zone(text: str | None) -> dt.tzinfo | None:
    """The zone ``SO-TimeZone`` names: a SuperOffice code (``NO``, ``US-NY``) or an IANA name; ``None`` if unset."""
    name = (text or "").strip()
    if not name:
        return None
    code = TIME_ZONES.get(name.upper())
    if code is not None:
        try:
            return ZoneInfo(code)
        except ZoneInfoNotFoundError:
            raise RegionalHeaderError("SO-TimeZone", f"SO-TimeZone {name!r} is {code}, but the machine running "
                                      "the sandbox has no time zone database: install the tzdata package "
                                      "(pip install tzdata) or the system's tzdata.") from None
    if "/" in name and ".." not in name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise RegionalHeaderError("SO-TimeZone", f"SO-TimeZone {name!r} is not a time zone this sandbox knows: send a "
                              f"SuperOffice time zone code ({', '.join(sorted(TIME_ZONES))}) or an IANA name "
                              "such as Europe/Oslo.")


def soap_time_zone(location_code: str | None, zone_id: str | None) -> dt.tzinfo | None:
    """The zone of the SOAP ``TimeZone`` header: its ``SoTimeZoneLocationCode`` (``NO``), else its
    ``SoTimeZoneId`` (261); ``None`` when neither is set (``0`` is unset)."""
    if (location_code or "").strip():
        return time_zone(location_code)
    text = (zone_id or "").strip()
    if not text or text == "0":
        return None
    code = TIME_ZONE_IDS.get(int(text)) if text.isdigit() else None
    if code is None:
        raise RegionalHeaderError("TimeZone", f"TimeZone/SoTimeZoneId {text} is not a time zone id this sandbox "
                                  f"knows ({', '.join(f'{k} {v}' for k, v in TIME_ZONE_IDS.items())}): send "
                                  "SoTimeZoneLocationCode (NO, US-NY, ...) instead.")
    return time_zone(code)


def language(so_language: str | None, accept_language: str | None) -> str | None:
    """The language to translate multi-language texts to (lower case), or ``None`` for no translation."""
    chosen = (so_language or "").strip()
    if chosen:
        if chosen.lower() in NO_TRANSLATION:
            return None
        if not _CULTURE.match(chosen):
            raise RegionalHeaderError("SO-Language", f"SO-Language {chosen!r} is not a language name: send one "
                                      "such as en, nb-NO or sv (or * for untranslated texts).")
        return chosen.lower().replace("_", "-")
    for part in _ACCEPT_SEPARATORS.split(accept_language or ""):
        candidate = part.strip()
        if _CULTURE.match(candidate):  # skips q=0.8 and *
            return candidate.lower().replace("_", "-")
    return None


def culture(text: str | None) -> str | None:
    """``SO-Culture``, checked (``nb-NO``); ``None`` if unset."""
    name = (text or "").strip()
    if not name:
        return None
    if not _CULTURE.match(name):
        raise RegionalHeaderError("SO-Culture", f"SO-Culture {name!r} is not a culture name: send one such as "
                                  "nb-NO, en-US or sv-SE.")
    return name


def translate(text: str, wanted: str) -> str:
    """A multi-language text (``NO:"Lovlig";US:"Legal"``) as the text of language ``wanted``; other text as is."""
    if ':"' not in text:
        return text
    pairs = [(match.group(1), match.group(2).replace('""', '"')) for match in _MULTI_LANGUAGE.finditer(text)]
    if not pairs or "".join(m.group(0) for m in _MULTI_LANGUAGE.finditer(text)) != text.strip():
        return text  # not wholly a multi-language text
    texts = dict(pairs)
    base, _, region = wanted.partition("-")
    for prefix in (*LANGUAGE_PREFIXES.get(base, ()), region.upper(), base.upper()):
        if prefix and prefix in texts:
            return texts[prefix]
    return pairs[0][1]


def convert(value: Any, change: Callable[[Any], Any], *, kind: type = dt.datetime) -> Any:
    """``value`` with every ``kind`` inside (dicts, lists, zeep objects) replaced by ``change(it)``."""
    if isinstance(value, kind):
        return change(value)
    if isinstance(value, CompoundValue):
        values = value.__values__
        for name, child in values.items():
            values[name] = convert(child, change, kind=kind)
        return value
    if isinstance(value, dict):
        return {name: convert(child, change, kind=kind) for name, child in value.items()}
    if isinstance(value, list):
        return [convert(child, change, kind=kind) for child in value]
    return value


def _to_base(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    if value.replace(tzinfo=None) == _MIN_VALUE:
        return value.replace(tzinfo=None)
    moment = value if value.tzinfo is not None else value.replace(tzinfo=zone)  # an offset names the moment
    try:
        return moment.astimezone(BASE_ZONE).replace(tzinfo=None)
    except OverflowError:
        return value


def _from_base(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    if value.replace(tzinfo=None) == _MIN_VALUE:
        return value
    moment = value if value.tzinfo is not None else value.replace(tzinfo=BASE_ZONE)
    try:
        return moment.astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        return value
