"""Dates as Elasticsearch reads and writes them: formats, date math and rounding."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from airgap.adapters.tantivy.aggregations import java_double
from airgap.adapters.tantivy.dates import (
    DateFormatError,
    DateFormats,
    format_millis,
    parse_time_zone,
    resolve_date,
)
from airgap.adapters.tantivy.query import (
    edit_distance_within,
    lucene_regexp_to_regex,
    max_edits,
    minimum_should_match,
    wildcard_to_regex,
)

DEFAULT = DateFormats.parse(None)
NOW = int(datetime(2024, 5, 17, 13, 45, 30, 250000, tzinfo=UTC).timestamp() * 1000)


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-01", ms("2024-03-01T00:00:00")),
        ("2024-03-01T10:20", ms("2024-03-01T10:20:00")),
        ("2024-03-01T10:20:30.5Z", ms("2024-03-01T10:20:30") + 500),
        ("2024-03-01T10:20:30+02:00", ms("2024-03-01T08:20:30")),
        ("2024", ms("2024-01-01T00:00:00")),
        (1709251200000, ms("2024-03-01T00:00:00")),
        ("1709251200000", ms("2024-03-01T00:00:00")),
    ],
)
def test_default_format_reads_iso_dates_and_epoch_millis(value: object, expected: int) -> None:
    assert DEFAULT.to_millis(value) == expected


def test_custom_patterns_parse_and_format() -> None:
    formats = DateFormats.parse("dd/MM/yyyy HH:mm||yyyy")
    assert formats.to_millis("17/05/2024 13:45") == ms("2024-05-17T13:45:00")
    assert formats.to_millis("2023") == ms("2023-01-01T00:00:00")
    assert formats.format(ms("2024-05-17T13:45:00")) == "17/05/2024 13:45"
    with pytest.raises(DateFormatError):
        formats.to_millis("2024-05-17")
    with pytest.raises(DateFormatError, match="unsupported"):
        DateFormats.parse("EEE dd")


def test_default_formatting_matches_elasticsearch() -> None:
    assert format_millis(ms("2024-01-05T10:00:00") + 7) == "2024-01-05T10:00:00.007Z"
    assert DateFormats.parse("epoch_millis").format(1234) == "1234"


@pytest.mark.parametrize(
    ("expression", "round_up", "expected"),
    [
        ("now", False, NOW),
        ("now-1d", False, NOW - 86_400_000),
        ("now/d", False, ms("2024-05-17T00:00:00")),
        ("now/d", True, ms("2024-05-18T00:00:00") - 1),
        ("now-1M/M", False, ms("2024-04-01T00:00:00")),
        ("now/w", False, ms("2024-05-13T00:00:00")),
        ("2024-01-31||+1M", False, ms("2024-02-29T00:00:00")),
        ("2024-02-10||/y", True, ms("2025-01-01T00:00:00") - 1),
        # A bare date rounded up (lte, gt) fills the missing time with its maximum.
        ("2024-02-29", True, ms("2024-02-29T23:59:59") + 999),
        ("2024-02-29T10:15", True, ms("2024-02-29T10:15:59") + 999),
    ],
)
def test_date_math_and_rounding(expression: str, round_up: bool, expected: int) -> None:
    got = resolve_date(expression, DEFAULT, UTC, now_millis=lambda: NOW, round_up=round_up)
    assert got == expected


def test_date_math_in_a_time_zone() -> None:
    berlin = parse_time_zone("Europe/Berlin")
    start_of_day = resolve_date("now/d", DEFAULT, berlin, now_millis=lambda: NOW, round_up=False)
    assert start_of_day == ms("2024-05-16T22:00:00")
    assert parse_time_zone("+01:00").utcoffset(None).total_seconds() == 3600  # type: ignore[union-attr]
    with pytest.raises(DateFormatError):
        parse_time_zone("Mars/Olympus")


def test_minimum_should_match_follows_elasticsearch() -> None:
    assert minimum_should_match(3, 2) == 2
    assert minimum_should_match(3, "66%") == 1
    assert minimum_should_match(3, "100%") == 3
    assert minimum_should_match(4, "-1") == 3
    assert minimum_should_match(4, "-25%") == 3
    assert minimum_should_match(2, "3<90%") == 2
    assert minimum_should_match(10, "3<90%") == 9
    assert minimum_should_match(3, "-5") == 0


def test_fuzziness_and_edit_distance() -> None:
    assert [max_edits("AUTO", w) for w in ("ab", "abc", "abcde", "abcdef")] == [0, 1, 1, 2]
    assert max_edits("AUTO:2,4", "abcd") == 2
    assert edit_distance_within("kettle", "kettel", 1, transpositions=True)
    assert not edit_distance_within("kettle", "kettel", 1, transpositions=False)
    assert edit_distance_within("tostr", "toaster", 2, transpositions=True)
    assert not edit_distance_within("hose", "tostr", 2, transpositions=True)


def test_patterns_translate_to_anchored_regexes() -> None:
    assert wildcard_to_regex("k*t?e.x") == r"k.*t.e\.x"
    assert wildcard_to_regex(r"a\*b") == r"a\*b"
    assert lucene_regexp_to_regex(r'ab\d"x.y"[a-c^]+', "ALL", "p") == r"ab[0-9]x\.y[a-c\^]+"
    assert lucene_regexp_to_regex("a@", "ALL", "p") == "a.*"
    assert lucene_regexp_to_regex("a~b", "NONE", "p") == r"a\~b"


def test_java_double_strings() -> None:
    assert [java_double(v) for v in (15.0, 0.5, 1e7, 1.5e-4, 123456.75, -2.0)] == [
        "15.0",
        "0.5",
        "1.0E7",
        "1.5E-4",
        "123456.75",
        "-2.0",
    ]
