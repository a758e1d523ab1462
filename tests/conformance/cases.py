"""The conformance table: query bodies and their expected answers on ``documents.DOCUMENTS``.

Every expectation was worked out by hand from the twelve documents; the comment on each case
shows the working. ``ids`` is the set of matching documents (relevance order is engine
specific, so it is not compared), ``ordered`` the exact hit order where the query fixes one,
``aggs`` the exact aggregation results (floats compared to 1e-9).
"""

from __future__ import annotations

from typing import Any

import attrs

from conformance.documents import ALL_IDS, source_of


@attrs.frozen
class Case:
    name: str
    body: dict[str, Any]
    ids: frozenset[str] | None = None
    ordered: tuple[str, ...] | None = None
    total: int | None = None
    first: str | None = None
    aggs: dict[str, Any] | None = None
    sources: dict[str, Any] | None = None
    error: str | None = None  # a PermanentSearchError whose message matches this regex


def ids(*values: str) -> frozenset[str]:
    return frozenset(values)


def everything_but(*values: str) -> frozenset[str]:
    return ALL_IDS - set(values)


def month(key_ms: int, text: str, count: int) -> dict[str, Any]:
    return {"key_as_string": text, "key": key_ms, "doc_count": count}


CASES: list[Case] = [
    # --- full text ------------------------------------------------------------------------
    Case("match_all counts every document", {"query": {"match_all": {}}}, total=12),
    Case("empty body is match_all", {}, total=12, ids=None),
    # name tokens: 1 red kettle / 2 blue kettle with whistle / 12 kettle descaler
    Case("match one word", {"query": {"match": {"name": "kettle"}}}, ids=ids("1", "2", "12")),
    Case(
        "match is case-insensitive",
        {"query": {"match": {"name": "KETTLE"}}},
        ids=ids("1", "2", "12"),
    ),
    # red: 1, 3, 9; kettle: 1, 2, 12. Doc 1 has both words, so it scores highest.
    Case(
        "match any word (operator or)",
        {"query": {"match": {"name": "red kettle"}}},
        ids=ids("1", "2", "3", "9", "12"),
        first="1",
    ),
    Case(
        "match every word (operator and)",
        {"query": {"match": {"name": {"query": "red kettle", "operator": "and"}}}},
        ids=ids("1"),
    ),
    # red garden chair: 1 red / 3 red / 7 chair / 8 garden / 9 all three -> at least two: 9
    Case(
        "match minimum_should_match count",
        {"query": {"match": {"name": {"query": "red garden chair", "minimum_should_match": 2}}}},
        ids=ids("9"),
    ),
    # 66% of 3 clauses is 1.98, truncated to 1: any one word.
    Case(
        "match minimum_should_match percentage truncates",
        {
            "query": {
                "match": {"name": {"query": "red garden chair", "minimum_should_match": "66%"}}
            }
        },
        ids=ids("1", "3", "7", "8", "9"),
    ),
    # description: 1 "a red kettle ...", 2 "blue kettle ..."; 12 has "kettles" (no stemming)
    Case(
        "match has no stemming", {"query": {"match": {"description": "kettle"}}}, ids=ids("1", "2")
    ),
    Case(
        "match with no words matches nothing",
        {"query": {"match": {"name": "!!!"}}},
        total=0,
    ),
    Case(
        "match zero_terms_query all",
        {"query": {"match": {"name": {"query": "...", "zero_terms_query": "all"}}}},
        total=12,
    ),
    # tostr -> toaster: two insertions (a, e); no other name word is within two edits.
    Case(
        "match with fuzziness",
        {"query": {"match": {"name": {"query": "tostr", "fuzziness": 2}}}},
        ids=ids("3"),
    ),
    Case(
        "match on a keyword field is exact",
        {"query": {"match": {"brand": "acme"}}},
        ids=ids("1", "2", "9"),
    ),
    Case("match on a number field", {"query": {"match": {"stock": "0"}}}, ids=ids("2", "7")),
    Case(
        "match_phrase in order", {"query": {"match_phrase": {"name": "red kettle"}}}, ids=ids("1")
    ),
    Case("match_phrase out of order", {"query": {"match_phrase": {"name": "kettle red"}}}, total=0),
    # "quick brown fox lamp": quick _ fox needs one position of slop.
    Case("match_phrase without slop", {"query": {"match_phrase": {"name": "quick fox"}}}, total=0),
    Case(
        "match_phrase with slop",
        {"query": {"match_phrase": {"name": {"query": "quick fox", "slop": 1}}}},
        ids=ids("10"),
    ),
    # lamp: names 5, 10, 11; descriptions 5, 10 (11 says "lamps")
    Case(
        "multi_match best_fields",
        {"query": {"multi_match": {"query": "lamp", "fields": ["name", "description"]}}},
        ids=ids("5", "10", "11"),
    ),
    # desk: names 5, 6; descriptions 5, 6, 7
    Case(
        "multi_match most_fields with a boost",
        {
            "query": {
                "multi_match": {
                    "query": "desk",
                    "fields": ["name^2", "description"],
                    "type": "most_fields",
                }
            }
        },
        ids=ids("5", "6", "7"),
    ),
    # both words in one field: 4 (name "steel frying pan", description "heavy steel pan")
    Case(
        "multi_match operator and, per field",
        {
            "query": {
                "multi_match": {
                    "query": "steel pan",
                    "fields": ["name", "description"],
                    "operator": "and",
                }
            }
        },
        ids=ids("4"),
    ),
    # red: name 1, 3, 9 / description 1; garden: name 8, 9 / description 8, 9 -> both: 9
    Case(
        "multi_match cross_fields operator and",
        {
            "query": {
                "multi_match": {
                    "query": "red garden",
                    "fields": ["name", "description"],
                    "type": "cross_fields",
                    "operator": "and",
                }
            }
        },
        ids=ids("9"),
    ),
    Case(
        "multi_match phrase",
        {
            "query": {
                "multi_match": {
                    "query": "standing desk",
                    "fields": ["name", "description"],
                    "type": "phrase",
                }
            }
        },
        ids=ids("6"),
    ),
    Case(
        "multi_match phrase_prefix",
        {
            "query": {
                "multi_match": {"query": "garden h", "fields": ["name"], "type": "phrase_prefix"}
            }
        },
        ids=ids("8"),
    ),
    Case(
        "multi_match with a field pattern",
        {"query": {"multi_match": {"query": "whistle", "fields": ["name*"]}}},
        ids=ids("2"),
    ),
    # --- term level -----------------------------------------------------------------------
    Case("term on a keyword", {"query": {"term": {"category": "office"}}}, ids=ids("5", "6", "7")),
    Case("term is case-sensitive", {"query": {"term": {"category": "Office"}}}, total=0),
    Case(
        "term case_insensitive",
        {"query": {"term": {"category": {"value": "OFFICE", "case_insensitive": True}}}},
        ids=ids("5", "6", "7"),
    ),
    Case(
        "term on a text field sees tokens",
        {"query": {"term": {"name": "red"}}},
        ids=ids("1", "3", "9"),
    ),
    Case("term on a text field is not analysed", {"query": {"term": {"name": "Red"}}}, total=0),
    Case("term on a boolean", {"query": {"term": {"in_stock": False}}}, ids=ids("2", "7", "10")),
    Case("term on a long", {"query": {"term": {"stock": 0}}}, ids=ids("2", "7")),
    Case("term on a double", {"query": {"term": {"price": 42.25}}}, ids=ids("4")),
    Case("term on an array value", {"query": {"term": {"tags": "outdoor"}}}, ids=ids("8", "9")),
    Case("term on a multi-field", {"query": {"term": {"name.keyword": "Desk lamp"}}}, ids=ids("5")),
    Case(
        "term on a date", {"query": {"term": {"created_at": "2024-03-01T00:00:00Z"}}}, ids=ids("5")
    ),
    Case(
        "terms on a keyword",
        {"query": {"terms": {"brand": ["lumo", "kettleco"]}}},
        ids=ids("5", "6", "11", "12"),
    ),
    Case("terms on a long", {"query": {"terms": {"stock": [3, 30, 99]}}}, ids=ids("1", "12")),
    Case("ids", {"query": {"ids": {"values": ["3", "7", "99"]}}}, ids=ids("3", "7")),
    # prices: 1 20, 2 35.5, 3 50, 4 42.25, 5 18.5, 6 250, 7 120, 8 25, 9 60, 10 75, 11 15, 12 8.75
    Case(
        "range inclusive",
        {"query": {"range": {"price": {"gte": 20, "lte": 50}}}},
        ids=ids("1", "2", "3", "4", "8"),
    ),
    Case(
        "range exclusive",
        {"query": {"range": {"price": {"gt": 20, "lt": 50}}}},
        ids=ids("2", "4", "8"),
    ),
    Case(
        "range with a string number",
        {"query": {"range": {"price": {"gte": "100"}}}},
        ids=ids("6", "7"),
    ),
    # stock gt 4.5 on a long field means stock >= 5: 3 (7), 4 (12), 5 (5), 11 (9), 12 (30)
    Case(
        "range on a long with a decimal bound",
        {"query": {"range": {"stock": {"gt": 4.5}}}},
        ids=ids("3", "4", "5", "11", "12"),
    ),
    Case(
        "range lte a decimal on a long",
        {"query": {"range": {"stock": {"lte": 0.5}}}},
        ids=ids("2", "7"),
    ),
    Case(
        "range on dates",
        {"query": {"range": {"created_at": {"gte": "2024-03-01", "lt": "2024-05-01"}}}},
        ids=ids("5", "6", "7", "8"),
    ),
    # lte a bare date rounds up to its last millisecond: 2024-02-29T23:59:59 is included.
    Case(
        "range lte a date includes the whole day",
        {"query": {"range": {"created_at": {"lte": "2024-02-29"}}}},
        ids=ids("1", "2", "3", "4"),
    ),
    Case(
        "range lt a date excludes the day",
        {"query": {"range": {"created_at": {"lt": "2024-02-29"}}}},
        ids=ids("1", "2", "3"),
    ),
    # 2024-06-01||-1M/M is 2024-05-01: 9 (05-05), 11 (06-01), 12 (06-15)
    Case(
        "range with date math",
        {"query": {"range": {"created_at": {"gte": "2024-06-01||-1M/M"}}}},
        ids=ids("9", "11", "12"),
    ),
    Case(
        "range with a date format",
        {"query": {"range": {"created_at": {"gte": "01/03/2024", "format": "dd/MM/yyyy"}}}},
        ids=ids("5", "6", "7", "8", "9", "11", "12"),
    ),
    # In UTC+1, 2024-03-01 starts at 2024-02-29T23:00Z: doc 4 (02-29T23:59:59Z) is in.
    Case(
        "range with a time zone",
        {"query": {"range": {"created_at": {"gte": "2024-03-01", "time_zone": "+01:00"}}}},
        ids=ids("4", "5", "6", "7", "8", "9", "11", "12"),
    ),
    # brands between b (inclusive) and l (exclusive): brava (3, 4), kettleco (12)
    Case(
        "range on a keyword",
        {"query": {"range": {"brand": {"gte": "b", "lt": "l"}}}},
        ids=ids("3", "4", "12"),
    ),
    Case(
        "range with epoch millis",
        {"query": {"range": {"created_at": {"gte": 1717200000000}}}},
        ids=ids("11", "12"),
    ),
    Case(
        "range on an object's field",
        {"query": {"range": {"dimensions.width_cm": {"gte": 100}}}},
        ids=ids("6"),
    ),
    Case("exists", {"query": {"exists": {"field": "brand"}}}, ids=everything_but("10")),
    Case("exists on a number", {"query": {"exists": {"field": "stock"}}}, ids=everything_but("8")),
    Case(
        "exists on an object",
        {"query": {"exists": {"field": "dimensions.width_cm"}}},
        ids=ids("1", "6"),
    ),
    Case("exists on an unknown field", {"query": {"exists": {"field": "nope"}}}, total=0),
    Case("term on an unknown field", {"query": {"term": {"nope": "x"}}}, total=0),
    Case("wildcard star", {"query": {"wildcard": {"brand": "k*co"}}}, ids=ids("12")),
    Case(
        "wildcard question mark on text",
        {"query": {"wildcard": {"name": "ket?le"}}},
        ids=ids("1", "2", "12"),
    ),
    Case("prefix on a keyword", {"query": {"prefix": {"brand": "nord"}}}, ids=ids("7", "8")),
    # name tokens starting with des: desk (5, 6), descaler (12)
    Case("prefix on text", {"query": {"prefix": {"name": "des"}}}, ids=ids("5", "6", "12")),
    Case("regexp dot", {"query": {"regexp": {"brand": "lu.o"}}}, ids=ids("5", "6", "11")),
    Case(
        "regexp alternation",
        {"query": {"regexp": {"brand": "(acme|brava)"}}},
        ids=ids("1", "2", "3", "4", "9"),
    ),
    # kettel -> kettle is one transposition (AUTO allows two edits for six letters)
    Case("fuzzy on text", {"query": {"fuzzy": {"name": "kettel"}}}, ids=ids("1", "2", "12")),
    Case(
        "fuzzy on a keyword",
        {"query": {"fuzzy": {"brand": {"value": "lumu"}}}},
        ids=ids("5", "6", "11"),
    ),
    Case(
        "fuzzy with prefix_length",
        {"query": {"fuzzy": {"brand": {"value": "xumo", "prefix_length": 1}}}},
        total=0,
    ),
    # --- bool -----------------------------------------------------------------------------
    # kettle: 1, 2, 12; price <= 40: 1, 2, 12; not kettleco: 1, 2
    Case(
        "bool must, filter and must_not",
        {
            "query": {
                "bool": {
                    "must": [{"match": {"name": "kettle"}}],
                    "filter": [{"range": {"price": {"lte": 40}}}],
                    "must_not": [{"term": {"brand": "kettleco"}}],
                }
            }
        },
        ids=ids("1", "2"),
    ),
    Case(
        "bool should alone needs one",
        {
            "query": {
                "bool": {"should": [{"term": {"category": "garden"}}, {"term": {"brand": "lumo"}}]}
            }
        },
        ids=ids("5", "6", "8", "9", "11"),
    ),
    Case(
        "bool should beside must is optional",
        {
            "query": {
                "bool": {
                    "must": [{"term": {"category": "kitchen"}}],
                    "should": [{"term": {"brand": "acme"}}],
                }
            }
        },
        ids=ids("1", "2", "3", "4", "12"),
    ),
    Case(
        "bool should beside filter is optional",
        {
            "query": {
                "bool": {
                    "filter": {"term": {"category": "kitchen"}},
                    "should": [{"term": {"brand": "nobody"}}],
                }
            }
        },
        ids=ids("1", "2", "3", "4", "12"),
    ),
    # kitchen / acme / in stock: 1 (3), 2 (2), 3 (2), 4 (2), 9 (2), 12 (2); others have one
    Case(
        "bool minimum_should_match two of three",
        {
            "query": {
                "bool": {
                    "should": [
                        {"term": {"category": "kitchen"}},
                        {"term": {"brand": "acme"}},
                        {"term": {"in_stock": True}},
                    ],
                    "minimum_should_match": 2,
                }
            }
        },
        ids=ids("1", "2", "3", "4", "9", "12"),
    ),
    Case(
        "bool minimum_should_match above the should count matches nothing",
        {"query": {"bool": {"should": [{"match_all": {}}], "minimum_should_match": 2}}},
        total=0,
    ),
    Case(
        "bool with only must_not",
        {"query": {"bool": {"must_not": {"term": {"category": "kitchen"}}}}},
        ids=ids("5", "6", "7", "8", "9", "10", "11"),
    ),
    Case("empty bool matches everything", {"query": {"bool": {}}}, total=12),
    # office and >= 100: 6, 7; acme: 1, 2, 9
    Case(
        "nested bool",
        {
            "query": {
                "bool": {
                    "should": [
                        {
                            "bool": {
                                "must": [
                                    {"term": {"category": "office"}},
                                    {"range": {"price": {"gte": 100}}},
                                ]
                            }
                        },
                        {"term": {"brand": "acme"}},
                    ]
                }
            }
        },
        ids=ids("1", "2", "6", "7", "9"),
    ),
    # --- sort, paging, _source ------------------------------------------------------------
    Case(
        "sort by a double descending",
        {"query": {"match_all": {}}, "sort": [{"price": "desc"}], "size": 3},
        ordered=("6", "7", "10"),
        total=12,
    ),
    # ascending: 12, 11, 5, 1, 8, 2, 4, 3, 9, 10, 7, 6
    Case(
        "sort ascending with from",
        {"query": {"match_all": {}}, "sort": [{"price": {"order": "asc"}}], "from": 2, "size": 3},
        ordered=("5", "1", "8"),
    ),
    # ratings: 10 5.0, 4 4.75, 1 4.5, 6 4.25, 11 4.125, 3 4.0, 9 3.75, 2 3.5, 12 3.25, 5 3.0,
    # 7 2.5; 8 has none and goes last
    Case(
        "sort puts missing values last",
        {"query": {"match_all": {}}, "sort": [{"rating": "desc"}], "size": 12},
        ordered=("10", "4", "1", "6", "11", "3", "9", "2", "12", "5", "7", "8"),
    ),
    Case(
        "sort with missing first",
        {
            "query": {"match_all": {}},
            "sort": [{"rating": {"order": "asc", "missing": "_first"}}],
            "size": 12,
        },
        ordered=("8", "7", "5", "12", "2", "9", "3", "11", "6", "1", "4", "10"),
    ),
    Case(
        "sort by two keys",
        {
            "query": {"match_all": {}},
            "sort": [{"category": "asc"}, {"price": "desc"}],
            "size": 12,
        },
        ordered=("9", "8", "10", "11", "3", "4", "2", "1", "12", "6", "7", "5"),
    ),
    # stock: 0 (2: 35.5, 7: 120), 1 (6), 2 (10), 3 (1), 4 (9), 5 (5), 7 (3), 9 (11), 12 (4),
    # 30 (12), missing (8)
    Case(
        "sort ties broken by a second key",
        {"query": {"match_all": {}}, "sort": ["stock", {"price": "asc"}], "size": 12},
        ordered=("2", "7", "6", "10", "1", "9", "5", "3", "11", "4", "12", "8"),
    ),
    Case(
        "sort by a date",
        {"query": {"exists": {"field": "created_at"}}, "sort": [{"created_at": "desc"}], "size": 2},
        ordered=("12", "11"),
        total=11,
    ),
    Case(
        "sort by a multi-field",
        {"query": {"match_all": {}}, "sort": ["name.keyword"], "size": 12},
        ordered=("2", "5", "8", "12", "11", "7", "10", "9", "1", "3", "6", "4"),
    ),
    Case(
        "sort with a filter",
        {"query": {"term": {"category": "office"}}, "sort": [{"price": "asc"}]},
        ordered=("5", "7", "6"),
    ),
    Case(
        "size zero returns only the count",
        {"query": {"match_all": {}}, "size": 0},
        ordered=(),
        total=12,
    ),
    Case(
        "from past the end",
        {"query": {"match_all": {}}, "sort": ["price"], "from": 20, "size": 5},
        ordered=(),
        total=12,
    ),
    Case(
        "_source list",
        {"query": {"ids": {"values": ["1"]}}, "_source": ["name", "price"]},
        sources={"1": {"name": "Red kettle", "price": 20.0}},
    ),
    Case(
        "_source false",
        {"query": {"ids": {"values": ["1"]}}, "_source": False},
        sources={"1": None},
    ),
    Case(
        "_source excludes",
        {"query": {"ids": {"values": ["9"]}}, "_source": {"excludes": ["description", "tags"]}},
        sources={
            "9": {k: v for k, v in source_of("9").items() if k not in {"description", "tags"}}
        },
    ),
    Case(
        "_source wildcard into an object",
        {"query": {"ids": {"values": ["6"]}}, "_source": ["dimensions.w*", "brand"]},
        sources={"6": {"brand": "lumo", "dimensions": {"width_cm": 140}}},
    ),
    Case(
        "_source true returns the document",
        {"query": {"ids": {"values": ["10"]}}},
        sources={"10": source_of("10")},
    ),
    # --- aggregations ---------------------------------------------------------------------
    # kitchen 1 2 3 4 12, office 5 6 7, garden 8 9, home 10 11
    Case(
        "terms",
        {"size": 0, "aggs": {"c": {"terms": {"field": "category"}}}},
        aggs={
            "c": {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 0,
                "buckets": [
                    {"key": "kitchen", "doc_count": 5},
                    {"key": "office", "doc_count": 3},
                    {"key": "garden", "doc_count": 2},
                    {"key": "home", "doc_count": 2},
                ],
            }
        },
    ),
    # garden and home tie on 2 at the cut: the smaller key wins.
    Case(
        "terms size cuts a tie by key",
        {"size": 0, "aggs": {"c": {"terms": {"field": "category", "size": 3}}}},
        aggs={
            "c": {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 2,
                "buckets": [
                    {"key": "kitchen", "doc_count": 5},
                    {"key": "office", "doc_count": 3},
                    {"key": "garden", "doc_count": 2},
                ],
            }
        },
    ),
    # acme 1 2 9: 115.5/3 = 38.5; lumo 5 6 11: 283.5/3 = 94.5; brava 3 4: 46.125;
    # nordwind 7 8: 72.5; kettleco 12: 8.75 (10 has no brand)
    Case(
        "terms with an avg sub-aggregation",
        {
            "size": 0,
            "aggs": {
                "b": {"terms": {"field": "brand"}, "aggs": {"p": {"avg": {"field": "price"}}}}
            },
        },
        aggs={
            "b": {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 0,
                "buckets": [
                    {"key": "acme", "doc_count": 3, "p": {"value": 38.5}},
                    {"key": "lumo", "doc_count": 3, "p": {"value": 94.5}},
                    {"key": "brava", "doc_count": 2, "p": {"value": 46.125}},
                    {"key": "nordwind", "doc_count": 2, "p": {"value": 72.5}},
                    {"key": "kettleco", "doc_count": 1, "p": {"value": 8.75}},
                ],
            }
        },
    ),
    Case(
        "terms ordered by a sub-aggregation",
        {
            "size": 0,
            "aggs": {
                "b": {
                    "terms": {"field": "brand", "order": {"p": "desc"}},
                    "aggs": {"p": {"avg": {"field": "price"}}},
                }
            },
        },
        aggs={
            "b": {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 0,
                "buckets": [
                    {"key": "lumo", "doc_count": 3, "p": {"value": 94.5}},
                    {"key": "nordwind", "doc_count": 2, "p": {"value": 72.5}},
                    {"key": "brava", "doc_count": 2, "p": {"value": 46.125}},
                    {"key": "acme", "doc_count": 3, "p": {"value": 38.5}},
                    {"key": "kettleco", "doc_count": 1, "p": {"value": 8.75}},
                ],
            }
        },
    ),
    # 11 documents have a brand; acme 3 + brava 2 shown, 6 others
    Case(
        "terms ordered by key",
        {
            "size": 0,
            "aggs": {"b": {"terms": {"field": "brand", "size": 2, "order": {"_key": "asc"}}}},
        },
        aggs={
            "b": {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 6,
                "buckets": [{"key": "acme", "doc_count": 3}, {"key": "brava", "doc_count": 2}],
            }
        },
    ),
    Case(
        "terms with missing",
        {
            "size": 0,
            "query": {"term": {"category": "home"}},
            "aggs": {"b": {"terms": {"field": "brand", "missing": "(none)"}}},
        },
        aggs={
            "b": {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 0,
                "buckets": [{"key": "(none)", "doc_count": 1}, {"key": "lumo", "doc_count": 1}],
            }
        },
    ),
    # in stock: 1 3 4 5 6 8 9 11 12; not: 2 7 10
    Case(
        "terms on a boolean",
        {"size": 0, "aggs": {"s": {"terms": {"field": "in_stock"}}}},
        aggs={
            "s": {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 0,
                "buckets": [
                    {"key": 1, "key_as_string": "true", "doc_count": 9},
                    {"key": 0, "key_as_string": "false", "doc_count": 3},
                ],
            }
        },
    ),
    # stock 0 twice, every other value once: 0, then 1 and 2 by key; 11 values, 4 shown
    Case(
        "terms on a long",
        {"size": 0, "aggs": {"s": {"terms": {"field": "stock", "size": 3}}}},
        aggs={
            "s": {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 7,
                "buckets": [
                    {"key": 0, "doc_count": 2},
                    {"key": 1, "doc_count": 1},
                    {"key": 2, "doc_count": 1},
                ],
            }
        },
    ),
    # tags: sale 1 3 9, outdoor 8 9, new 1
    Case(
        "terms on an array field",
        {"size": 0, "aggs": {"t": {"terms": {"field": "tags"}}}},
        aggs={
            "t": {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 0,
                "buckets": [
                    {"key": "sale", "doc_count": 3},
                    {"key": "outdoor", "doc_count": 2},
                    {"key": "new", "doc_count": 1},
                ],
            }
        },
    ),
    Case(
        "terms inside terms",
        {
            "size": 0,
            "query": {"terms": {"category": ["garden", "office"]}},
            "aggs": {
                "c": {"terms": {"field": "category"}, "aggs": {"b": {"terms": {"field": "brand"}}}}
            },
        },
        aggs={
            "c": {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 0,
                "buckets": [
                    {
                        "key": "office",
                        "doc_count": 3,
                        "b": {
                            "doc_count_error_upper_bound": 0,
                            "sum_other_doc_count": 0,
                            "buckets": [
                                {"key": "lumo", "doc_count": 2},
                                {"key": "nordwind", "doc_count": 1},
                            ],
                        },
                    },
                    {
                        "key": "garden",
                        "doc_count": 2,
                        "b": {
                            "doc_count_error_upper_bound": 0,
                            "sum_other_doc_count": 0,
                            "buckets": [
                                {"key": "acme", "doc_count": 1},
                                {"key": "nordwind", "doc_count": 1},
                            ],
                        },
                    },
                ],
            }
        },
    ),
    # < 20: 12, 11, 5; [20, 50): 1, 2, 4, 8; >= 50: 3, 6, 7, 9, 10
    Case(
        "range aggregation",
        {
            "size": 0,
            "aggs": {
                "r": {
                    "range": {
                        "field": "price",
                        "ranges": [{"to": 20}, {"from": 20, "to": 50}, {"from": 50}],
                    }
                }
            },
        },
        aggs={
            "r": {
                "buckets": [
                    {"key": "*-20.0", "to": 20.0, "doc_count": 3},
                    {"key": "20.0-50.0", "from": 20.0, "to": 50.0, "doc_count": 4},
                    {"key": "50.0-*", "from": 50.0, "doc_count": 5},
                ]
            }
        },
    ),
    # ranges come back sorted by from (cheap has none), overlapping ranges are allowed
    Case(
        "range aggregation sorts and allows overlaps",
        {
            "size": 0,
            "aggs": {
                "r": {
                    "range": {
                        "field": "price",
                        "ranges": [
                            {"from": 100, "key": "expensive"},
                            {"to": 100, "key": "cheap"},
                            {"from": 50, "to": 150, "key": "middle"},
                        ],
                    },
                    "aggs": {"n": {"value_count": {"field": "price"}}},
                }
            },
        },
        aggs={
            "r": {
                "buckets": [
                    {"key": "cheap", "to": 100.0, "doc_count": 10, "n": {"value": 10}},
                    {"key": "middle", "from": 50.0, "to": 150.0, "doc_count": 4, "n": {"value": 4}},
                    {"key": "expensive", "from": 100.0, "doc_count": 2, "n": {"value": 2}},
                ]
            }
        },
    ),
    # [0,50): 1 2 4 5 8 11 12; [50,100): 3 9 10; [100,150): 7; [150,250): none; [250,300): 6
    Case(
        "histogram fills empty buckets",
        {"size": 0, "aggs": {"h": {"histogram": {"field": "price", "interval": 50}}}},
        aggs={
            "h": {
                "buckets": [
                    {"key": 0.0, "doc_count": 7},
                    {"key": 50.0, "doc_count": 3},
                    {"key": 100.0, "doc_count": 1},
                    {"key": 150.0, "doc_count": 0},
                    {"key": 200.0, "doc_count": 0},
                    {"key": 250.0, "doc_count": 1},
                ]
            }
        },
    ),
    Case(
        "histogram with min_doc_count",
        {
            "size": 0,
            "aggs": {"h": {"histogram": {"field": "price", "interval": 50, "min_doc_count": 1}}},
        },
        aggs={
            "h": {
                "buckets": [
                    {"key": 0.0, "doc_count": 7},
                    {"key": 50.0, "doc_count": 3},
                    {"key": 100.0, "doc_count": 1},
                    {"key": 250.0, "doc_count": 1},
                ]
            }
        },
    ),
    # Jan 1 2, Feb 3 4, Mar 5 6, Apr 7 8, May 9, Jun 11 12 (10 has no date)
    Case(
        "date_histogram by month",
        {
            "size": 0,
            "aggs": {
                "m": {"date_histogram": {"field": "created_at", "calendar_interval": "month"}}
            },
        },
        aggs={
            "m": {
                "buckets": [
                    month(1704067200000, "2024-01-01T00:00:00.000Z", 2),
                    month(1706745600000, "2024-02-01T00:00:00.000Z", 2),
                    month(1709251200000, "2024-03-01T00:00:00.000Z", 2),
                    month(1711929600000, "2024-04-01T00:00:00.000Z", 2),
                    month(1714521600000, "2024-05-01T00:00:00.000Z", 1),
                    month(1717200000000, "2024-06-01T00:00:00.000Z", 2),
                ]
            }
        },
    ),
    Case(
        "date_histogram by quarter with a format",
        {
            "size": 0,
            "aggs": {
                "q": {
                    "date_histogram": {
                        "field": "created_at",
                        "calendar_interval": "quarter",
                        "format": "yyyy-MM",
                    }
                }
            },
        },
        aggs={
            "q": {
                "buckets": [month(1704067200000, "2024-01", 6), month(1711929600000, "2024-04", 5)]
            }
        },
    ),
    # 2024-01-05 (a Friday) is in the week of Monday 01-01; 2024-01-20 (Saturday) in 01-15
    Case(
        "date_histogram by week starts on Monday",
        {
            "size": 0,
            "query": {"ids": {"values": ["1", "2"]}},
            "aggs": {"w": {"date_histogram": {"field": "created_at", "calendar_interval": "week"}}},
        },
        aggs={
            "w": {
                "buckets": [
                    month(1704067200000, "2024-01-01T00:00:00.000Z", 1),
                    month(1704672000000, "2024-01-08T00:00:00.000Z", 0),
                    month(1705276800000, "2024-01-15T00:00:00.000Z", 1),
                ]
            }
        },
    ),
    Case(
        "date_histogram fixed interval with min_doc_count",
        {
            "size": 0,
            "query": {"ids": {"values": ["3", "4"]}},
            "aggs": {
                "d": {
                    "date_histogram": {
                        "field": "created_at",
                        "fixed_interval": "1d",
                        "min_doc_count": 1,
                    }
                }
            },
        },
        aggs={
            "d": {
                "buckets": [
                    month(1707523200000, "2024-02-10T00:00:00.000Z", 1),
                    month(1709164800000, "2024-02-29T00:00:00.000Z", 1),
                ]
            }
        },
    ),
    # prices sum to 720 over 12 documents
    Case(
        "metrics",
        {
            "size": 0,
            "aggs": {
                "avg": {"avg": {"field": "price"}},
                "sum": {"sum": {"field": "price"}},
                "min": {"min": {"field": "price"}},
                "max": {"max": {"field": "price"}},
                "stats": {"stats": {"field": "price"}},
                "ratings": {"value_count": {"field": "rating"}},
                "brands": {"cardinality": {"field": "brand"}},
                "stock": {"sum": {"field": "stock"}},
            },
        },
        aggs={
            "avg": {"value": 60.0},
            "sum": {"value": 720.0},
            "min": {"value": 8.75},
            "max": {"value": 250.0},
            "stats": {"count": 12, "min": 8.75, "max": 250.0, "avg": 60.0, "sum": 720.0},
            "ratings": {"value": 11},
            "brands": {"value": 5},
            "stock": {"value": 73.0},
        },
    ),
    Case(
        "min of a date has a string form",
        {"size": 0, "aggs": {"first": {"min": {"field": "created_at"}}}},
        aggs={"first": {"value": 1704448800000.0, "value_as_string": "2024-01-05T10:00:00.000Z"}},
    ),
    Case(
        "aggregations over no documents",
        {
            "size": 0,
            "query": {"term": {"category": "none"}},
            "aggs": {
                "avg": {"avg": {"field": "price"}},
                "sum": {"sum": {"field": "price"}},
                "n": {"value_count": {"field": "price"}},
                "c": {"terms": {"field": "category"}},
            },
        },
        total=0,
        aggs={
            "avg": {"value": None},
            "sum": {"value": 0.0},
            "n": {"value": 0},
            "c": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": []},
        },
    ),
    Case(
        "aggregations on an unmapped field",
        {
            "size": 0,
            "aggs": {"c": {"terms": {"field": "nope"}}, "a": {"avg": {"field": "nope"}}},
        },
        aggs={
            "c": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": []},
            "a": {"value": None},
        },
    ),
    Case(
        "aggregations follow the query",
        {
            "size": 0,
            "query": {"term": {"category": "office"}},
            "aggs": {"max": {"max": {"field": "price"}}, "avg": {"avg": {"field": "rating"}}},
        },
        total=3,
        aggs={"max": {"value": 250.0}, "avg": {"value": (3.0 + 4.25 + 2.5) / 3}},
    ),
    # --- errors both engines report -------------------------------------------------------
    Case(
        "avg of a keyword is refused",
        {"size": 0, "aggs": {"a": {"avg": {"field": "category"}}}},
        error=r"\[keyword\] is not supported for aggregation \[avg\]",
    ),
    Case(
        "terms on a text field is refused",
        {"size": 0, "aggs": {"t": {"terms": {"field": "name"}}}},
        error="Text fields are not optimised",
    ),
    Case(
        "sorting on a text field is refused",
        {"sort": ["description"]},
        error="Text fields are not optimised",
    ),
    Case(
        "sorting on an unmapped field is refused",
        {"sort": ["nope"]},
        error=r"No mapping found for \[nope\] in order to sort on",
    ),
]
