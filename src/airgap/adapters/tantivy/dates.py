"""Dates the way Elasticsearch reads and writes them, in epoch milliseconds (UTC).

The embedded engine keeps every ``date`` field as a 64-bit count of milliseconds since the
epoch, which is also Elasticsearch's resolution. This module parses the values found in
documents and queries — ISO 8601 (``strict_date_optional_time``), epoch millis, the common
named formats and simple Java-style patterns such as ``yyyy-MM-dd HH:mm`` — evaluates date
math (``now-7d/d``, ``2024-01-01||+1M``) with Elasticsearch's rounding rules, and formats
milliseconds back (``2024-01-01T00:00:00.000Z``). A format it cannot honour raises
:class:`DateFormatError` rather than guessing.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

__all__ = [
    "DEFAULT_FORMATS",
    "DateFormatError",
    "DateFormats",
    "format_millis",
    "parse_time_zone",
]

DEFAULT_FORMATS = "strict_date_optional_time||epoch_millis"
MILLIS_PER_UNIT = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
}
_MIN_MILLIS = -(2**63) // 1000
_MAX_MILLIS = (2**63 - 1) // 1000


class DateFormatError(ValueError):
    """A value does not parse with the field's formats, or a format is not supported."""


# ---------------------------------------------------------------------------------------------
# Time zones
# ---------------------------------------------------------------------------------------------

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})?$")


def parse_time_zone(name: str) -> tzinfo:
    """An ISO offset (``+01:00``), ``Z``/``UTC``, or an IANA zone id (``Europe/Berlin``)."""
    if name in {"Z", "UTC", "utc", "GMT", "Etc/UTC", "Etc/GMT", "UCT"}:
        return UTC
    match = _OFFSET.match(name)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        minutes = int(match.group(2)) * 60 + int(match.group(3) or 0)
        if minutes > 18 * 60:
            raise DateFormatError(f"time zone offset out of range: {name}")
        return UTC if minutes == 0 else _fixed(sign * minutes)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise DateFormatError(f"unknown time zone: {name}") from error


def _fixed(minutes: int) -> tzinfo:
    return timezone(timedelta(minutes=minutes))


def is_utc(zone: tzinfo) -> bool:
    """True when the zone never differs from UTC (checked in winter and summer)."""
    if zone is UTC:
        return True
    return all(zone.utcoffset(datetime(2000, month, 1)) == timedelta(0) for month in (1, 7))


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class _Parsed:
    """A parsed date; ``fields`` says which components the text carried."""

    year: int
    month: int = 1
    day: int = 1
    hour: int | None = None
    minute: int | None = None
    second: int | None = None
    millis: int | None = None
    offset_minutes: int | None = None

    def to_millis(self, zone: tzinfo, *, round_up: bool) -> int:
        # Missing time components are filled like Elasticsearch does for range bounds that
        # round up (gt, lte): with their largest value; otherwise with zero.
        hour = self.hour if self.hour is not None else (23 if round_up else 0)
        minute = self.minute if self.minute is not None else (59 if round_up else 0)
        second = self.second if self.second is not None else (59 if round_up else 0)
        millis = self.millis if self.millis is not None else (999 if round_up else 0)
        try:
            naive = datetime(self.year, self.month, self.day, hour, minute, second)
        except ValueError as error:
            raise DateFormatError(str(error)) from error
        if self.offset_minutes is not None:
            epoch_seconds = calendar.timegm(naive.timetuple()) - self.offset_minutes * 60
        else:
            epoch_seconds = int(naive.replace(tzinfo=zone).timestamp())
        return epoch_seconds * 1000 + millis


_ISO = re.compile(
    r"^(?P<year>[+-]?\d{4,9})"
    r"(?:-(?P<month>\d{2})"
    r"(?:-(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2})"
    r"(?::(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})"
    r"(?:[.,](?P<fraction>\d{1,9}))?)?)?"
    r"(?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?)?)?$"
)


def _offset_minutes(text: str | None) -> int | None:
    if text is None:
        return None
    if text in {"Z", "z"}:
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:4] or 0))


def _parse_iso(text: str) -> _Parsed | None:
    match = _ISO.match(text)
    if match is None:
        return None
    groups = match.groupdict()
    fraction = groups["fraction"]
    return _Parsed(
        year=int(groups["year"]),
        month=int(groups["month"] or 1),
        day=int(groups["day"] or 1),
        hour=_optional_int(groups["hour"]),
        minute=_optional_int(groups["minute"]),
        second=_optional_int(groups["second"]),
        millis=int((fraction + "00")[:3]) if fraction else None,
        offset_minutes=_offset_minutes(groups["zone"]),
    )


def _optional_int(text: str | None) -> int | None:
    return int(text) if text is not None else None


# Java-style pattern letters we honour, with the regex that reads them.
_PATTERN_TOKENS: dict[str, tuple[str, str]] = {
    "yyyy": ("year", r"(?P<year>[+-]?\d{4,9})"),
    "uuuu": ("year", r"(?P<year>[+-]?\d{4,9})"),
    "MM": ("month", r"(?P<month>\d{2})"),
    "dd": ("day", r"(?P<day>\d{2})"),
    "HH": ("hour", r"(?P<hour>\d{2})"),
    "mm": ("minute", r"(?P<minute>\d{2})"),
    "ss": ("second", r"(?P<second>\d{2})"),
    "SSS": ("fraction", r"(?P<fraction>\d{3})"),
    "XXX": ("zone", r"(?P<zone>Z|[+-]\d{2}:\d{2})"),
    "XX": ("zone", r"(?P<zone>Z|[+-]\d{4})"),
    "Z": ("zone", r"(?P<zone>[+-]\d{4})"),
}
_LITERAL_CHARACTERS = set(" -/:.,_T")


@attrs.frozen
class _Pattern:
    """A Java-style date pattern restricted to fixed-width numeric fields and literals."""

    source: str
    regex: re.Pattern[str]
    parts: tuple[tuple[str, str], ...]  # ("token", name) or ("literal", text)

    @classmethod
    def compile(cls, source: str) -> _Pattern:
        parts: list[tuple[str, str]] = []
        regex = ["^"]
        seen: set[str] = set()
        i = 0
        while i < len(source):
            if source[i] == "'":
                end = source.find("'", i + 1)
                if end < 0:
                    raise DateFormatError(f"unterminated quote in date format {source!r}")
                literal = source[i + 1 : end] or "'"
                parts.append(("literal", literal))
                regex.append(re.escape(literal))
                i = end + 1
                continue
            for token in sorted(_PATTERN_TOKENS, key=len, reverse=True):
                if source.startswith(token, i):
                    name, pattern = _PATTERN_TOKENS[token]
                    if name in seen:
                        raise DateFormatError(f"date format {source!r} repeats {token}")
                    seen.add(name)
                    parts.append(("token", token))
                    regex.append(pattern)
                    i += len(token)
                    break
            else:
                char = source[i]
                if char not in _LITERAL_CHARACTERS:
                    raise DateFormatError(
                        f"date format {source!r} is unsupported by the embedded backend "
                        f"(pattern letter {char!r})"
                    )
                parts.append(("literal", char))
                regex.append(re.escape(char))
                i += 1
        if "year" not in seen:
            raise DateFormatError(f"date format {source!r} has no year")
        regex.append("$")
        return cls(source=source, regex=re.compile("".join(regex)), parts=tuple(parts))

    def parse(self, text: str) -> _Parsed | None:
        match = self.regex.match(text)
        if match is None:
            return None
        groups = match.groupdict()
        fraction = groups.get("fraction")
        return _Parsed(
            year=int(groups["year"]),
            month=int(groups.get("month") or 1),
            day=int(groups.get("day") or 1),
            hour=_optional_int(groups.get("hour")),
            minute=_optional_int(groups.get("minute")),
            second=_optional_int(groups.get("second")),
            millis=int(fraction) if fraction else None,
            offset_minutes=_offset_minutes(groups.get("zone")),
        )

    def format(self, moment: datetime) -> str:
        out: list[str] = []
        for kind, text in self.parts:
            if kind == "literal":
                out.append(text)
            elif text in {"yyyy", "uuuu"}:
                out.append(f"{moment.year:04d}")
            elif text == "MM":
                out.append(f"{moment.month:02d}")
            elif text == "dd":
                out.append(f"{moment.day:02d}")
            elif text == "HH":
                out.append(f"{moment.hour:02d}")
            elif text == "mm":
                out.append(f"{moment.minute:02d}")
            elif text == "ss":
                out.append(f"{moment.second:02d}")
            elif text == "SSS":
                out.append(f"{moment.microsecond // 1000:03d}")
            else:
                out.append(_format_offset(moment, colon=text == "XXX"))
        return "".join(out)


def _format_offset(moment: datetime, *, colon: bool) -> str:
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "Z"
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}" if colon else f"{sign}{hours:02d}{rest:02d}"


# Named formats (Elasticsearch built-ins) mapped to an ISO reader or a pattern.
_ISO_NAMES = frozenset(
    {"strict_date_optional_time", "date_optional_time", "strict_date_optional_time_nanos"}
)
_NAMED_PATTERNS = {
    "strict_date": "yyyy-MM-dd",
    "date": "yyyy-MM-dd",
    "basic_date": "yyyyMMdd",
    "strict_date_time": "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
    "date_time": "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
    "strict_date_time_no_millis": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "date_time_no_millis": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "strict_date_hour_minute_second": "yyyy-MM-dd'T'HH:mm:ss",
    "date_hour_minute_second": "yyyy-MM-dd'T'HH:mm:ss",
    "strict_date_hour_minute_second_millis": "yyyy-MM-dd'T'HH:mm:ss.SSS",
    "date_hour_minute_second_millis": "yyyy-MM-dd'T'HH:mm:ss.SSS",
    "strict_date_hour_minute": "yyyy-MM-dd'T'HH:mm",
    "date_hour_minute": "yyyy-MM-dd'T'HH:mm",
    "strict_year_month_day": "yyyy-MM-dd",
    "year_month_day": "yyyy-MM-dd",
    "strict_year_month": "yyyy-MM",
    "year_month": "yyyy-MM",
    "strict_year": "yyyy",
    "year": "yyyy",
}


@attrs.frozen
class _Format:
    """One alternative of a ``||``-separated format list."""

    name: str
    pattern: _Pattern | None = None  # None for the ISO reader and the epoch formats

    def parse(self, text: str) -> _Parsed | int | None:
        """A parsed date, epoch millis, or None when the text does not fit."""
        if self.name == "epoch_millis":
            return _epoch(text, 1)
        if self.name == "epoch_second":
            return _epoch(text, 1000)
        if self.pattern is not None:
            return self.pattern.parse(text)
        return _parse_iso(text)

    def format(self, millis: int, zone: tzinfo) -> str:
        if self.name == "epoch_millis":
            return str(millis)
        if self.name == "epoch_second":
            return str(millis // 1000)
        moment = _to_local(millis, zone)
        if self.pattern is not None:
            return self.pattern.format(moment)
        text = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}"
        return text + _format_offset(moment, colon=True)


_EPOCH = re.compile(r"^-?\d{1,19}(?:\.\d+)?$")


def _epoch(text: str, scale: int) -> int | None:
    if not _EPOCH.match(text):
        return None
    return int(float(text) * scale) if "." in text else int(text) * scale


@attrs.frozen
class DateFormats:
    """A field's (or a query's) ``format``: alternatives separated by ``||``."""

    formats: tuple[_Format, ...]

    @classmethod
    def parse(cls, spec: str | None) -> DateFormats:
        """Compile a format list; raises :class:`DateFormatError` for unsupported ones."""
        text = spec or DEFAULT_FORMATS
        out: list[_Format] = []
        for raw in text.split("||"):
            name = raw.strip()
            if not name:
                raise DateFormatError(f"empty date format in {text!r}")
            if name in _ISO_NAMES or name in {"epoch_millis", "epoch_second"}:
                out.append(_Format(name))
            elif name in _NAMED_PATTERNS:
                out.append(_Format(name, _Pattern.compile(_NAMED_PATTERNS[name])))
            else:
                try:
                    out.append(_Format(name, _Pattern.compile(name)))
                except DateFormatError:
                    if re.fullmatch(r"[a-z_]+", name):
                        raise DateFormatError(
                            f"date format {name!r} is unsupported by the embedded backend"
                        ) from None
                    raise
        return cls(tuple(out))

    def to_millis(self, value: object, zone: tzinfo = UTC, *, round_up: bool = False) -> int:
        """Epoch millis of a document or query value (a string, or a number of millis)."""
        if isinstance(value, bool):
            raise DateFormatError(f"failed to parse date field [{value}]")
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=zone)
            return _checked(_from_local(moment))
        if isinstance(value, int | float):
            # Elasticsearch reads a JSON number as epoch millis (seconds for epoch_second).
            scale = 1000 if self.formats[0].name == "epoch_second" else 1
            return _checked(int(value * scale))
        if not isinstance(value, str):
            raise DateFormatError(f"failed to parse date field [{value!r}]")
        text = value.strip()
        for fmt in self.formats:
            parsed = fmt.parse(text)
            if parsed is None:
                continue
            if isinstance(parsed, int):
                return _checked(parsed)
            return _checked(parsed.to_millis(zone, round_up=round_up))
        names = "||".join(f.name for f in self.formats)
        raise DateFormatError(f"failed to parse date field [{value}] with format [{names}]")

    def format(self, millis: int, zone: tzinfo = UTC) -> str:
        """``millis`` rendered in the first format (as Elasticsearch renders ``*_as_string``)."""
        return self.formats[0].format(millis, zone)


def _checked(millis: int) -> int:
    if not _MIN_MILLIS <= millis <= _MAX_MILLIS:
        raise DateFormatError(f"date out of range: {millis} ms")
    return millis


DEFAULT = DateFormats.parse(DEFAULT_FORMATS)


def format_millis(millis: int | float, formats: DateFormats = DEFAULT, zone: tzinfo = UTC) -> str:
    """``millis`` as Elasticsearch's default ``*_as_string`` (``2024-01-01T00:00:00.000Z``)."""
    return formats.format(int(millis), zone)


# ---------------------------------------------------------------------------------------------
# Date math
# ---------------------------------------------------------------------------------------------

_MATH_OP = re.compile(r"([+-])(\d+)([yMwdhHms])|/([yMwdhHms])")


def _shift(moment: datetime, amount: int, unit: str) -> datetime:
    if unit == "y":
        return _add_months(moment, 12 * amount)
    if unit == "M":
        return _add_months(moment, amount)
    if unit == "w":
        return moment + timedelta(weeks=amount)
    if unit == "d":
        return moment + timedelta(days=amount)
    if unit in {"h", "H"}:
        return moment + timedelta(hours=amount)
    if unit == "m":
        return moment + timedelta(minutes=amount)
    return moment + timedelta(seconds=amount)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def floor_to_unit(moment: datetime, unit: str) -> datetime:
    """The start of the calendar ``unit`` (y, M, w, d, h/H, m, s) holding ``moment``."""
    if unit == "y":
        return moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "M":
        return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "w":
        start = moment - timedelta(days=moment.weekday())
        return start.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "d":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit in {"h", "H"}:
        return moment.replace(minute=0, second=0, microsecond=0)
    if unit == "m":
        return moment.replace(second=0, microsecond=0)
    return moment.replace(microsecond=0)


def _to_local(millis: int, zone: tzinfo) -> datetime:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)).astimezone(zone)


def _from_local(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def resolve_date(
    value: object,
    formats: DateFormats,
    zone: tzinfo,
    *,
    now_millis: Callable[[], int],
    round_up: bool,
) -> int:
    """Epoch millis of a range bound: a date, ``now``, or date math (``now-1d/d``,
    ``2024-01-01||+1M/M``). ``round_up`` (for ``gt`` and ``lte``) rounds to the last
    millisecond of a rounding unit and fills missing time components with their maximum."""
    if not isinstance(value, str):
        return formats.to_millis(value, zone, round_up=round_up)
    text = value.strip()
    if text.startswith("now"):
        anchor = now_millis()
        math = text[3:]
    elif "||" in text:
        anchor_text, _, math = text.partition("||")
        anchor = formats.to_millis(anchor_text, zone, round_up=round_up and not math)
    else:
        return formats.to_millis(text, zone, round_up=round_up)
    if not math:
        return anchor
    moment = _to_local(anchor, zone)
    position = 0
    while position < len(math):
        match = _MATH_OP.match(math, position)
        if match is None:
            raise DateFormatError(f"invalid date math [{value}]")
        position = match.end()
        if match.group(4):
            unit = match.group(4)
            start = floor_to_unit(moment, unit)
            if round_up:
                return _from_local(_shift(start, 1, unit)) - 1
            moment = start
            if position != len(math):
                raise DateFormatError(f"rounding must come last in date math [{value}]")
        else:
            amount = int(match.group(2))
            moment = _shift(moment, amount if match.group(1) == "+" else -amount, match.group(3))
    return _from_local(moment)


def calendar_boundaries(
    start_millis: int, end_millis: int, unit: str, zone: tzinfo, *, limit: int
) -> list[int]:
    """Bucket starts of calendar ``unit`` (M, q, y) covering ``start..end`` in ``zone``,
    plus the start of the bucket after the last one."""
    step = {"M": 1, "q": 3, "y": 12}[unit]
    moment = _to_local(start_millis, zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    month_index = moment.month - 1
    moment = moment.replace(month=month_index - month_index % step + 1)
    if unit == "y":
        moment = moment.replace(month=1)
    starts: list[int] = []
    while True:
        millis = _from_local(moment)
        starts.append(millis)
        if millis > end_millis:
            return starts
        if len(starts) > limit:
            raise DateFormatError(f"more than {limit} date_histogram buckets")
        moment = _add_months(moment, step)
