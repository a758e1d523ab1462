"""Elasticsearch query clauses translated into tantivy queries.

The translation follows Elasticsearch's (Lucene's) semantics clause by clause: which
documents match is meant to be identical; scores follow the same model (BM25 for full-text
and ``term`` clauses, constant scores for filters and multi-term clauses) but are not
numerically identical. Where the embedded engine cannot reproduce Elasticsearch exactly —
a fuzzy or prefix expansion beyond ``max_expansions``, a regexp operator such as ``~`` —
the clause is refused with :func:`~airgap.adapters.tantivy.errors.unsupported`.
"""

from __future__ import annotations

import bisect
import math
import re
import struct
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, tzinfo
from typing import Any

import attrs
import tantivy

from airgap.adapters.tantivy.analysis import Analyzer
from airgap.adapters.tantivy.dates import (
    DateFormatError,
    DateFormats,
    parse_time_zone,
    resolve_date,
)
from airgap.adapters.tantivy.errors import join, rejected, unsupported
from airgap.adapters.tantivy.mapping import FieldKind, FieldSpec, IndexMapping
from airgap.domain.model.errors import PermanentSearchError

Query = Any  # tantivy.Query (the bindings ship no type information)

ID_FIELD = FieldSpec("_id", FieldKind.KEYWORD, "_id", "_id")
FIELD_NAMES = "_field_names"
_DEFAULT_MAX_EXPANSIONS = 50
_FUZZY_AUTO = (3, 6)


class TermDictionary:
    """The sorted terms of each field, read once per (immutable) index and shared."""

    def __init__(self) -> None:
        self._terms: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def sorted_terms(self, searcher: Any, field: str) -> list[str]:
        terms = self._terms.get(field)
        if terms is None:
            found = searcher.terms_with_prefix(field, "")
            terms = sorted(str(term) for term, _count in found)
            with self._lock:
                self._terms[field] = terms
        return terms

    def with_prefix(self, searcher: Any, field: str, prefix: str) -> list[str]:
        terms = self.sorted_terms(searcher, field)
        start = bisect.bisect_left(terms, prefix)
        out: list[str] = []
        for term in terms[start:]:
            if not term.startswith(prefix):
                break
            out.append(term)
        return out


@attrs.define
class QueryContext:
    """Everything one search needs to translate its clauses."""

    mapping: IndexMapping
    schema: Any
    searcher: Any
    analyzer: Analyzer
    terms: TermDictionary
    now_millis: int

    def spec(self, name: str) -> FieldSpec | None:
        return ID_FIELD if name == "_id" else self.mapping.field(name)


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _all() -> Query:
    return tantivy.Query.all_query()


def _none() -> Query:
    return tantivy.Query.empty_query()


def _boosted(query: Query, boost: float | None) -> Query:
    if boost is None or boost == 1:
        return query
    return tantivy.Query.boost_query(query, float(boost))


def _constant(query: Query, boost: float | None = None) -> Query:
    return tantivy.Query.const_score_query(query, float(1.0 if boost is None else boost))


def _should(queries: Sequence[Query], minimum: int | None = None) -> Query:
    if not queries:
        return _none()
    if len(queries) == 1 and not minimum:
        return queries[0]
    clauses = [(tantivy.Occur.Should, q) for q in queries]
    return tantivy.Query.boolean_query(clauses, minimum if minimum else None)


def _must(queries: Sequence[Query]) -> Query:
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])


def _float32(value: float) -> float:
    return float(struct.unpack("f", struct.pack("f", value))[0])


def minimum_should_match(optional: int, spec: int | str) -> int:
    """Elasticsearch's ``minimum_should_match`` arithmetic (``Queries.calculateMinShouldMatch``)
    for ``optional`` clauses: integers, negatives, percentages and ``"3<90%"`` conditions."""
    text = str(spec).strip()
    if "<" in text:
        result = optional
        for part in re.sub(r"\s*<\s*", "<", text).split():
            bound, _, rule = part.partition("<")
            if optional <= int(bound):
                return result
            result = minimum_should_match(optional, rule)
        return result
    result = optional
    if text.endswith("%"):
        # Java computes this in float arithmetic and truncates toward zero.
        calc = _float32(_float32(float(result * int(text[:-1]))) * _float32(1 / 100))
        result = result + int(calc) if calc < 0 else int(calc)
    else:
        calc_int = int(text)
        result = result + calc_int if calc_int < 0 else calc_int
    return max(result, 0)


def max_edits(fuzziness: int | str, term: str) -> int:
    """Edits allowed for ``term``: ``0``/``1``/``2`` or ``AUTO[:low,high]`` by its length."""
    text = str(fuzziness)
    if text.isdigit():
        return int(text)
    low, high = _FUZZY_AUTO
    if ":" in text:
        low_text, high_text = text.split(":", 1)[1].split(",")
        low, high = int(low_text), int(high_text)
    length = len(term)
    if length < low:
        return 0
    return 1 if length < high else 2


def edit_distance_within(a: str, b: str, limit: int, *, transpositions: bool) -> bool:
    """Whether the (restricted Damerau-)Levenshtein distance of ``a`` and ``b`` is at most
    ``limit``, as Lucene's automata count it (a transposition of neighbours costs one)."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if transpositions and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return False
        previous2, previous = previous, current
    return previous[len(b)] <= limit


# Characters with a meaning in tantivy's (Rust) regex syntax.
_REGEX_META = frozenset("\\.+*?()|[]{}^$#&-~")


def regex_escape(text: str) -> str:
    return "".join("\\" + c if c in _REGEX_META else c for c in text)


def wildcard_to_regex(pattern: str) -> str:
    """A Lucene wildcard pattern (``*``, ``?``, ``\\`` escapes) as an anchored regex."""
    out: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            out.append(regex_escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(regex_escape(char))
    if escaped:
        out.append(regex_escape("\\"))
    return "".join(out)


_REGEXP_OPERATORS = {
    "~": "COMPLEMENT",
    "&": "INTERSECTION",
    "@": "ANYSTRING",
    "#": "EMPTY",
    "<": "INTERVAL",
}
_REGEXP_SHORTHANDS = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "s": "[ \\t\\n\\r]",
    "S": "[^ \\t\\n\\r]",
    "w": "[a-zA-Z0-9_]",
    "W": "[^a-zA-Z0-9_]",
}


def lucene_regexp_to_regex(pattern: str, flags: str, path: str) -> str:
    """Translate Lucene's regular-expression syntax (which differs from Rust's: ``\\x`` is a
    literal, ``"..."`` quotes, ``@``/``~``/``&``/``<n-m>``/``#`` are operators) into tantivy's.

    ``@`` (any string) is supported; the other optional operators are refused when enabled.
    """
    enabled = _regexp_flags(flags)
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern):
                raise rejected(path, "regexp ends with a lone backslash")
            following = pattern[i + 1]
            out.append(_REGEXP_SHORTHANDS.get(following) or regex_escape(following))
            i += 2
        elif char == '"':
            end = pattern.find('"', i + 1)
            if end < 0:
                raise rejected(path, "unterminated quoted string in regexp")
            out.append(regex_escape(pattern[i + 1 : end]))
            i = end + 1
        elif char == "[":
            text, i = _regexp_class(pattern, i, path)
            out.append(text)
        elif char in _REGEXP_OPERATORS:
            name = _REGEXP_OPERATORS[char]
            if name not in enabled:
                out.append(regex_escape(char))
            elif name == "ANYSTRING":
                out.append(".*")
            else:
                raise unsupported(f"regexp operator {char!r} ({name})", path)
            i += 1
        elif char == "{":
            end = pattern.find("}", i)
            body = pattern[i + 1 : end] if end > 0 else ""
            if not re.fullmatch(r"\d+(,\d*)?", body):
                raise rejected(path, f"invalid repetition in regexp: {pattern[i : end + 1]}")
            out.append("{" + body + "}")
            i = end + 1
        elif char in ".?*+|()":
            out.append(char)
            i += 1
        else:
            out.append(regex_escape(char))
            i += 1
    return "".join(out)


def _regexp_flags(flags: str) -> frozenset[str]:
    every = frozenset(_REGEXP_OPERATORS.values())
    names = {part.strip() for part in flags.split("|")}
    if "ALL" in names:
        return every
    return frozenset(names & every)


def _regexp_class(pattern: str, start: int, path: str) -> tuple[str, int]:
    i = start + 1
    out = ["["]
    if i < len(pattern) and pattern[i] == "^":
        out.append("^")
        i += 1
    first = True
    while i < len(pattern):
        char = pattern[i]
        if char == "]" and not first:
            out.append("]")
            return "".join(out), i + 1
        if char == "\\" and i + 1 < len(pattern):
            char = pattern[i + 1]
            i += 1
        if char == "-" and not first and i + 1 < len(pattern) and pattern[i + 1] != "]":
            out.append("-")
        else:
            out.append("\\" + char if not char.isalnum() else char)
        first = False
        i += 1
    raise rejected(path, "unterminated character class in regexp")


# ---------------------------------------------------------------------------------------------
# The translator
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class _MatchOptions:
    operator: str = "or"
    minimum_should_match: int | str | None = None
    fuzziness: int | str | None = None
    prefix_length: int = 0
    max_expansions: int = _DEFAULT_MAX_EXPANSIONS
    transpositions: bool = True
    lenient: bool = False
    zero_terms_query: str = "none"


_NO_MATCH = object()


class QueryTranslator:
    """Builds one tantivy query from one Elasticsearch ``query`` object."""

    def __init__(self, context: QueryContext) -> None:
        self.ctx = context
        self._handlers: dict[str, Callable[[Any, str], Query]] = {
            "match_all": self._match_all,
            "match": self._match,
            "match_phrase": self._match_phrase,
            "multi_match": self._multi_match,
            "term": self._term,
            "terms": self._terms,
            "range": self._range,
            "bool": self._bool,
            "wildcard": self._wildcard,
            "prefix": self._prefix,
            "regexp": self._regexp,
            "fuzzy": self._fuzzy,
            "exists": self._exists,
            "ids": self._ids,
        }

    def build(self, clause: object, path: str = "query") -> Query:
        if not isinstance(clause, Mapping) or len(clause) != 1:
            raise rejected(path, "a query clause is an object holding exactly one clause")
        ((kind, body),) = clause.items()
        handler = self._handlers.get(str(kind))
        if handler is None:
            raise unsupported(f"query clause [{kind}]", join(path, str(kind)))
        return handler(body, join(path, str(kind)))

    # -- field helpers --------------------------------------------------------------------------

    def _single(self, body: Any, path: str) -> tuple[str, Any]:
        fields = {k: v for k, v in body.items() if k not in {"boost", "_name"}}
        if len(fields) != 1:
            raise rejected(path, "the clause needs exactly one field")
        ((field, spec),) = fields.items()
        return str(field), spec

    def _value(self, spec: FieldSpec, value: Any, path: str) -> Any:
        """A query value as the field indexes it, or ``_NO_MATCH`` (as Elasticsearch turns a
        decimal looked up in a long field into a query matching nothing)."""
        kind = spec.kind
        if kind in (FieldKind.TEXT, FieldKind.KEYWORD):
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)
        if kind is FieldKind.BOOLEAN:
            if value in (True, "true"):
                return True
            if value in (False, "false", ""):
                return False
            raise rejected(path, f"Can't parse boolean value [{value}], expected [true] or [false]")
        if kind is FieldKind.DATE:
            try:
                return resolve_date(
                    value, self._formats(spec, None), UTC, now_millis=self._now, round_up=False
                )
            except DateFormatError as error:
                raise rejected(path, str(error)) from error
        number = self._number(value, path)
        if kind is FieldKind.DOUBLE:
            return float(number)
        if isinstance(number, float):
            if not number.is_integer() or abs(number) >= 2**63:
                return _NO_MATCH
            number = int(number)
        if not -(2**63) <= number < 2**63:
            return _NO_MATCH
        return number

    @staticmethod
    def _number(value: Any, path: str) -> int | float:
        if isinstance(value, bool):
            raise rejected(path, f'failed to create query: For input string: "{value}"')
        if isinstance(value, int | float):
            return value
        try:
            text = str(value).strip()
            number = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError as error:
            raise rejected(path, f'failed to create query: For input string: "{value}"') from error
        if isinstance(number, float) and not math.isfinite(number):
            raise rejected(path, f'failed to create query: For input string: "{value}"')
        return number

    def _now(self) -> int:
        return self.ctx.now_millis

    @staticmethod
    def _formats(spec: FieldSpec, override: str | None) -> DateFormats:
        if override is not None:
            return DateFormats.parse(override)
        assert spec.formats is not None
        return spec.formats

    def _term_query(self, spec: FieldSpec, value: Any) -> Query:
        """Exact lookup of an already converted value."""
        if value is _NO_MATCH:
            return _none()
        return tantivy.Query.term_query(self.ctx.schema, spec.name, value)

    # -- clauses --------------------------------------------------------------------------------

    def _match_all(self, body: Mapping[str, Any], path: str) -> Query:
        return _constant(_all(), body.get("boost"))

    def _options(self, spec: Any) -> tuple[Any, _MatchOptions, float | None]:
        if not isinstance(spec, Mapping):
            return spec, _MatchOptions(), None
        options = _MatchOptions(
            operator=str(spec.get("operator", "or")).lower(),
            minimum_should_match=spec.get("minimum_should_match"),
            fuzziness=spec.get("fuzziness"),
            prefix_length=int(spec.get("prefix_length", 0)),
            max_expansions=int(spec.get("max_expansions", _DEFAULT_MAX_EXPANSIONS)),
            transpositions=bool(spec.get("fuzzy_transpositions", True)),
            lenient=bool(spec.get("lenient", False)),
            zero_terms_query=str(spec.get("zero_terms_query", "none")),
        )
        return spec.get("query"), options, spec.get("boost")

    def _match(self, body: Mapping[str, Any], path: str) -> Query:
        field, spec = self._single(body, path)
        value, options, boost = self._options(spec)
        field_spec = self.ctx.spec(field)
        if field_spec is None:
            return _none()
        return _boosted(self._match_field(field_spec, value, options, join(path, field)), boost)

    def _match_field(self, spec: FieldSpec, value: Any, options: _MatchOptions, path: str) -> Query:
        if spec.kind is not FieldKind.TEXT:
            if options.fuzziness is not None and spec.kind is not FieldKind.KEYWORD:
                if options.lenient:
                    return _none()
                raise rejected(path, "Can only use fuzzy queries on keyword and text fields")
            try:
                converted = self._value(spec, value, path)
            except PermanentSearchError:
                if options.lenient:
                    return _none()
                raise
            if options.fuzziness is not None:
                return self._fuzzy_term(spec, str(converted), options, path)
            return self._term_query(spec, converted)
        text = "true" if value is True else "false" if value is False else str(value)
        tokens = self.ctx.analyzer.tokens(text)
        if not tokens:
            return _all() if options.zero_terms_query == "all" else _none()
        if options.fuzziness is not None:
            queries = [self._fuzzy_term(spec, token, options, path) for token in tokens]
        else:
            queries = [self._term_query(spec, token) for token in tokens]
        if len(queries) == 1:
            return queries[0]
        if options.operator == "and":
            return _must(queries)
        minimum = None
        if options.minimum_should_match is not None:
            minimum = minimum_should_match(len(queries), options.minimum_should_match)
            if minimum > len(queries):
                return _none()
        return _should(queries, minimum)

    def _fuzzy_term(self, spec: FieldSpec, term: str, options: _MatchOptions, path: str) -> Query:
        assert options.fuzziness is not None
        edits = max_edits(options.fuzziness, term)
        if edits == 0:
            return self._term_query(spec, term)
        prefix = term[: options.prefix_length]
        matches = [
            candidate
            for candidate in self.ctx.terms.with_prefix(self.ctx.searcher, spec.name, prefix)
            if edit_distance_within(candidate, term, edits, transpositions=options.transpositions)
        ]
        if len(matches) > options.max_expansions:
            raise unsupported(
                f"fuzzy matching of {term!r} expanding to more than max_expansions "
                f"({options.max_expansions}) terms",
                path,
            )
        return _should([self._term_query(spec, m) for m in matches])

    def _match_phrase(self, body: Mapping[str, Any], path: str) -> Query:
        field, spec = self._single(body, path)
        value = spec.get("query") if isinstance(spec, Mapping) else spec
        slop = int(spec.get("slop", 0)) if isinstance(spec, Mapping) else 0
        boost = spec.get("boost") if isinstance(spec, Mapping) else None
        field_spec = self.ctx.spec(field)
        if field_spec is None:
            return _none()
        return _boosted(self._phrase(field_spec, value, slop, join(path, field)), boost)

    def _phrase(self, spec: FieldSpec, value: Any, slop: int, path: str) -> Query:
        if spec.kind is not FieldKind.TEXT:
            return self._term_query(spec, self._value(spec, value, path))
        tokens = self.ctx.analyzer.tokens(str(value))
        if not tokens:
            return _none()
        if len(tokens) == 1:
            return self._term_query(spec, tokens[0])
        words: list[str | tuple[int, str]] = list(tokens)
        return tantivy.Query.phrase_query(self.ctx.schema, spec.name, words, slop)

    def _phrase_prefix(self, spec: FieldSpec, value: Any, max_expansions: int) -> Query:
        if spec.kind is FieldKind.TEXT:
            tokens = self.ctx.analyzer.tokens(str(value))
        elif spec.kind is FieldKind.KEYWORD:
            tokens = [str(value)]
        else:
            return _none()
        if not tokens:
            return _none()
        # Lucene expands the last word to the first max_expansions terms in index order.
        expansions = self.ctx.terms.with_prefix(self.ctx.searcher, spec.name, tokens[-1])
        expansions = expansions[:max_expansions]
        if len(tokens) == 1:
            return _should([self._term_query(spec, e) for e in expansions])
        words: list[str | tuple[int, str]] = list(tokens[:-1])
        return _should(
            [
                tantivy.Query.phrase_query(self.ctx.schema, spec.name, [*words, e], 0)
                for e in expansions
            ]
        )

    def _multi_match(self, body: Mapping[str, Any], path: str) -> Query:
        value, options, boost = self._options(body)
        kind = str(body.get("type", "best_fields"))
        patterns = body.get("fields") or ["*"]
        if "fields" not in body or "*" in patterns:
            options = attrs.evolve(options, lenient=True)
        fields: list[tuple[FieldSpec, float | None]] = []
        for entry in patterns:
            name, _, weight = str(entry).partition("^")
            for spec in self.ctx.mapping.matching(name):
                fields.append((spec, float(weight) if weight else None))
        if not fields:
            return _none()
        tie_breaker = float(body.get("tie_breaker", 0.0))
        if kind in {"phrase", "phrase_prefix"}:
            if options.fuzziness is not None:
                raise rejected(path, f"Fuzziness not allowed for type [{kind}]")
            if kind == "phrase":
                queries = [
                    _boosted(self._phrase(spec, value, 0, path), weight)
                    for spec, weight in fields
                    if spec.kind in (FieldKind.TEXT, FieldKind.KEYWORD) or not options.lenient
                ]
            else:
                queries = [
                    _boosted(self._phrase_prefix(spec, value, options.max_expansions), weight)
                    for spec, weight in fields
                ]
            return _boosted(_dismax(queries, tie_breaker), boost)
        if kind == "cross_fields":
            return _boosted(self._cross_fields(fields, value, options, path), boost)
        queries = [
            _boosted(self._match_field(spec, value, options, path), weight)
            for spec, weight in fields
        ]
        if kind == "most_fields":
            return _boosted(_should(queries), boost)
        return _boosted(_dismax(queries, tie_breaker), boost)

    def _cross_fields(
        self,
        fields: list[tuple[FieldSpec, float | None]],
        value: Any,
        options: _MatchOptions,
        path: str,
    ) -> Query:
        # Fields sharing an analyzer form one group in which every word may come from any
        # field; each other field is a group of its own. The best group wins.
        text_fields = [(s, w) for s, w in fields if s.kind is FieldKind.TEXT]
        groups: list[Query] = []
        if text_fields:
            tokens = self.ctx.analyzer.tokens(str(value))
            per_token = [
                _dismax(
                    [_boosted(self._term_query(s, t), w) for s, w in text_fields],
                    0.0,
                )
                for t in tokens
            ]
            if per_token:
                if options.operator == "and":
                    groups.append(_must(per_token))
                else:
                    minimum = None
                    if options.minimum_should_match is not None and len(per_token) > 1:
                        minimum = minimum_should_match(len(per_token), options.minimum_should_match)
                        if minimum > len(per_token):
                            per_token = []
                    groups.append(_should(per_token, minimum))
        for spec, weight in fields:
            if spec.kind is not FieldKind.TEXT:
                groups.append(_boosted(self._match_field(spec, value, options, path), weight))
        return _dismax(groups, 0.0)

    def _term(self, body: Mapping[str, Any], path: str) -> Query:
        field, spec = self._single(body, path)
        value = spec.get("value") if isinstance(spec, Mapping) else spec
        boost = spec.get("boost") if isinstance(spec, Mapping) else None
        insensitive = bool(spec.get("case_insensitive")) if isinstance(spec, Mapping) else False
        field_spec = self.ctx.spec(field)
        if field_spec is None:
            return _none()
        field_path = join(path, field)
        converted = self._value(field_spec, value, field_path)
        if insensitive and field_spec.kind in (FieldKind.KEYWORD, FieldKind.TEXT):
            query = self._regex(field_spec, regex_escape(str(converted)), True, field_path)
            return _constant(query, boost)
        return _boosted(self._term_query(field_spec, converted), boost)

    def _terms(self, body: Mapping[str, Any], path: str) -> Query:
        field, values = self._single(body, path)
        field_spec = self.ctx.spec(field)
        if field_spec is None:
            return _none()
        if not isinstance(values, list):
            raise rejected(join(path, field), "terms needs an array of values")
        field_path = join(path, field)
        converted = [self._value(field_spec, v, field_path) for v in values]
        kept = [v for v in converted if v is not _NO_MATCH]
        if not kept:
            return _none()
        query = tantivy.Query.term_set_query(self.ctx.schema, field_spec.name, kept)
        return _constant(query, body.get("boost"))

    def _range(self, body: Mapping[str, Any], path: str) -> Query:
        field, spec = self._single(body, path)
        field_spec = self.ctx.spec(field)
        if field_spec is None:
            return _none()
        field_path = join(path, field)
        if not isinstance(spec, Mapping):
            raise rejected(field_path, "range needs an object of bounds")
        bounds = {k: spec[k] for k in ("gt", "gte", "lt", "lte") if spec.get(k) is not None}
        boost = spec.get("boost")
        if field_spec is ID_FIELD:
            raise rejected(field_path, "Field [_id] of type [_id] does not support range queries")
        if not bounds:
            return _constant(self._exists_field(field_spec), boost)
        kind = field_spec.kind
        if kind in (FieldKind.TEXT, FieldKind.KEYWORD):
            return _constant(self._term_range(field_spec, bounds), boost)
        if kind is FieldKind.BOOLEAN:
            return _constant(self._boolean_range(field_spec, bounds, field_path), boost)
        if kind is FieldKind.DOUBLE:
            return _constant(self._double_range(field_spec, bounds, field_path), boost)
        if kind is FieldKind.DATE:
            try:
                zone = parse_time_zone(str(spec.get("time_zone", "UTC")))
                formats = self._formats(field_spec, spec.get("format"))
            except DateFormatError as error:
                raise rejected(field_path, str(error)) from error
            return _constant(self._date_range(field_spec, bounds, formats, zone, field_path), boost)
        return _constant(self._long_range(field_spec, bounds, field_path), boost)

    def _long_bounds(
        self, bounds: Mapping[str, Any], convert: Callable[[str, Any], int | float]
    ) -> tuple[int | None, int | None]:
        low: int | None = None
        high: int | None = None
        for op, raw in bounds.items():
            value = convert(op, raw)
            if op in {"gt", "gte"}:
                if isinstance(value, float) and not value.is_integer():
                    bound = math.ceil(value)
                else:
                    bound = int(value) + (1 if op == "gt" else 0)
                low = bound if low is None else max(low, bound)
            else:
                if isinstance(value, float) and not value.is_integer():
                    bound = math.floor(value)
                else:
                    bound = int(value) - (1 if op == "lt" else 0)
                high = bound if high is None else min(high, bound)
        return low, high

    def _integer_range(self, spec: FieldSpec, low: int | None, high: int | None) -> Query:
        if low is not None and high is not None and low > high:
            return _none()
        low = None if low is not None and low <= -(2**63) else low
        high = None if high is not None and high >= 2**63 - 1 else high
        if low is None and high is None:
            return self._exists_field(spec)
        if (low is not None and low >= 2**63) or (high is not None and high < -(2**63)):
            return _none()
        return tantivy.Query.range_query(
            self.ctx.schema, spec.name, tantivy.FieldType.Integer, low, high, True, True
        )

    def _long_range(self, spec: FieldSpec, bounds: Mapping[str, Any], path: str) -> Query:
        low, high = self._long_bounds(bounds, lambda _op, raw: self._number(raw, path))
        return self._integer_range(spec, low, high)

    def _date_range(
        self,
        spec: FieldSpec,
        bounds: Mapping[str, Any],
        formats: DateFormats,
        zone: tzinfo,
        path: str,
    ) -> Query:
        def convert(op: str, raw: Any) -> int:
            try:
                return resolve_date(
                    raw, formats, zone, now_millis=self._now, round_up=op in {"gt", "lte"}
                )
            except DateFormatError as error:
                raise rejected(path, str(error)) from error

        low, high = self._long_bounds(bounds, convert)
        return self._integer_range(spec, low, high)

    def _double_range(self, spec: FieldSpec, bounds: Mapping[str, Any], path: str) -> Query:
        low: float | None = None
        high: float | None = None
        include_low = include_high = True
        for op, raw in bounds.items():
            value = float(self._number(raw, path))
            if op in {"gt", "gte"}:
                inclusive = op == "gte"
                if low is None or value > low or (value == low and not inclusive):
                    low, include_low = value, inclusive
            else:
                inclusive = op == "lte"
                if high is None or value < high or (value == high and not inclusive):
                    high, include_high = value, inclusive
        if (
            low is not None
            and high is not None
            and (low > high or (low == high and not (include_low and include_high)))
        ):
            return _none()
        return tantivy.Query.range_query(
            self.ctx.schema,
            spec.name,
            tantivy.FieldType.Float,
            low,
            high,
            include_low if low is not None else True,
            include_high if high is not None else True,
        )

    def _term_range(self, spec: FieldSpec, bounds: Mapping[str, Any]) -> Query:
        # Terms compare as UTF-8 bytes, which is the order of Python's code point comparison.
        def keep(term: str) -> bool:
            for op, raw in bounds.items():
                bound = self._value(spec, raw, "")
                if (
                    (op == "gt" and not term > bound)
                    or (op == "gte" and not term >= bound)
                    or (op == "lt" and not term < bound)
                    or (op == "lte" and not term <= bound)
                ):
                    return False
            return True

        terms = [t for t in self.ctx.terms.sorted_terms(self.ctx.searcher, spec.name) if keep(t)]
        if not terms:
            return _none()
        return tantivy.Query.term_set_query(self.ctx.schema, spec.name, terms)

    def _boolean_range(self, spec: FieldSpec, bounds: Mapping[str, Any], path: str) -> Query:
        kept = []
        for candidate in (False, True):
            ok = True
            for op, raw in bounds.items():
                bound = self._value(spec, raw, path)
                ok = (
                    ok
                    and {
                        "gt": candidate > bound,
                        "gte": candidate >= bound,
                        "lt": candidate < bound,
                        "lte": candidate <= bound,
                    }[op]
                )
            if ok:
                kept.append(candidate)
        if not kept:
            return _none()
        return tantivy.Query.term_set_query(self.ctx.schema, spec.name, kept)

    def _bool(self, body: Mapping[str, Any], path: str) -> Query:
        def clauses(occur: str) -> list[Query]:
            found = body.get(occur)
            if found is None:
                return []
            items = found if isinstance(found, list) else [found]
            occur_path = join(path, occur)
            if isinstance(found, list):
                return [self.build(item, f"{occur_path}[{i}]") for i, item in enumerate(items)]
            return [self.build(found, occur_path)]

        must = clauses("must")
        filters = clauses("filter")
        must_not = clauses("must_not")
        should = clauses("should")
        boost = body.get("boost")
        if not (must or filters or must_not or should):
            return _constant(_all(), boost)
        parts: list[tuple[Any, Query]] = [(tantivy.Occur.Must, q) for q in must]
        parts += [(tantivy.Occur.Must, _constant(q, 0.0)) for q in filters]
        parts += [(tantivy.Occur.MustNot, q) for q in must_not]
        parts += [(tantivy.Occur.Should, q) for q in should]
        minimum = None
        if body.get("minimum_should_match") is not None and should:
            minimum = minimum_should_match(len(should), body["minimum_should_match"])
            if minimum > len(should):
                return _none()
        if not (must or filters or should):
            # A purely negative bool matches everything else, as in Elasticsearch.
            parts.append((tantivy.Occur.Must, _constant(_all(), 0.0)))
        query = tantivy.Query.boolean_query(parts, minimum if minimum else None)
        return _boosted(query, boost)

    def _pattern_field(self, body: Mapping[str, Any], path: str, clause: str) -> Any:
        field, spec = self._single(body, path)
        field_spec = self.ctx.spec(field)
        options = spec if isinstance(spec, Mapping) else {"value": spec}
        if field_spec is not None and field_spec.kind not in (FieldKind.TEXT, FieldKind.KEYWORD):
            raise rejected(
                join(path, field),
                f"Can only use {clause} queries on keyword and text fields - not on "
                f"[{field}] which is of type [{field_spec.es_type}]",
            )
        return field_spec, options, join(path, field)

    def _regex(self, spec: FieldSpec, regex: str, insensitive: bool, path: str) -> Query:
        flags = "(?s" + ("i" if insensitive else "") + ")"
        try:
            return tantivy.Query.regex_query(self.ctx.schema, spec.name, flags + regex)
        except ValueError as error:
            raise rejected(path, f"invalid pattern: {error}") from error

    def _wildcard(self, body: Mapping[str, Any], path: str) -> Query:
        spec, options, field_path = self._pattern_field(body, path, "wildcard")
        if spec is None:
            return _none()
        regex = wildcard_to_regex(str(options["value"]))
        query = self._regex(spec, regex, bool(options.get("case_insensitive")), field_path)
        return _constant(query, options.get("boost"))

    def _prefix(self, body: Mapping[str, Any], path: str) -> Query:
        spec, options, field_path = self._pattern_field(body, path, "prefix")
        if spec is None:
            return _none()
        regex = regex_escape(str(options["value"])) + ".*"
        query = self._regex(spec, regex, bool(options.get("case_insensitive")), field_path)
        return _constant(query, options.get("boost"))

    def _regexp(self, body: Mapping[str, Any], path: str) -> Query:
        spec, options, field_path = self._pattern_field(body, path, "regexp")
        if spec is None:
            return _none()
        regex = lucene_regexp_to_regex(
            str(options["value"]), str(options.get("flags", "ALL")), field_path
        )
        query = self._regex(spec, regex, bool(options.get("case_insensitive")), field_path)
        return _constant(query, options.get("boost"))

    def _fuzzy(self, body: Mapping[str, Any], path: str) -> Query:
        spec, options, field_path = self._pattern_field(body, path, "fuzzy")
        if spec is None:
            return _none()
        match_options = _MatchOptions(
            fuzziness=options.get("fuzziness", "AUTO"),
            prefix_length=int(options.get("prefix_length", 0)),
            max_expansions=int(options.get("max_expansions", _DEFAULT_MAX_EXPANSIONS)),
            transpositions=bool(options.get("transpositions", True)),
        )
        term = str(self._value(spec, options["value"], field_path))
        query = self._fuzzy_term(spec, term, match_options, field_path)
        return _boosted(query, options.get("boost"))

    def _exists_field(self, spec: FieldSpec) -> Query:
        if spec is ID_FIELD:
            return _all()
        return tantivy.Query.term_query(self.ctx.schema, FIELD_NAMES, spec.name)

    def _exists(self, body: Mapping[str, Any], path: str) -> Query:
        name = str(body.get("field", ""))
        specs = [ID_FIELD] if name == "_id" else self.ctx.mapping.matching(name)
        return _constant(_should([self._exists_field(s) for s in specs]), body.get("boost"))

    def _ids(self, body: Mapping[str, Any], path: str) -> Query:
        values = [str(v) for v in body.get("values", [])]
        if not values:
            return _none()
        query = tantivy.Query.term_set_query(self.ctx.schema, ID_FIELD.name, values)
        return _constant(query, body.get("boost"))


def _dismax(queries: Sequence[Query], tie_breaker: float) -> Query:
    if not queries:
        return _none()
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.disjunction_max_query(list(queries), tie_breaker)
