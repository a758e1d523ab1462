"""The query policy: which Elasticsearch searches may cross the air gap (SPEC §6).

A request carries a ``query_type`` and ``query_params`` following the template
``{index, query, aggs, size, from, sort, _source}``. :meth:`QueryPolicy.validate` checks them
against an allow list of clause and aggregation types and a set of caps, and returns a
:class:`ValidatedQuery` holding a normalised, deep-copied template. It runs before anything is
stored on the request network and again before execution on the response network.

The validator is written for hostile input. Whatever the caller passes (arbitrary JSON, wrong
types, cycles, NaN, ten thousand levels of nesting) the only exception that leaves
:meth:`QueryPolicy.validate` is :class:`~airgap.domain.model.errors.QueryPolicyViolation`, whose
``path`` names the offending part (``query.bool.must[2].script``, ``size``, ``index``...).
It never recurses into a structure before checking the depth it is about to reach, and it
only descends where the grammar allows nesting (``bool`` clauses, sub-aggregations, ``meta``),
so the work done is bounded by the caps rather than by the size of the input.
"""

from __future__ import annotations

import enum
import fnmatch
import math
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any, NoReturn

import attrs

from airgap.domain.model.canonical import canonical_sha256
from airgap.domain.model.errors import QueryPolicyViolation

__all__ = [
    "MAX_STRING_LENGTH",
    "QueryLimits",
    "QueryPolicy",
    "QueryType",
    "ValidatedQuery",
]

MAX_STRING_LENGTH = 10_000
"""Longest string accepted anywhere in a query."""

_MAX_NAME_LENGTH = 255
_MAX_AGG_NAME_LENGTH = 128
# Elasticsearch accepts longs and unsigned longs; anything wider cannot be a field value and
# would also trip Python's int-to-str digit limit when the query is serialised.
_MIN_INT = -(2**63)
_MAX_INT = 2**64 - 1
# Ceiling for QueryLimits.max_depth: the validator recurses once per compound level, and
# keeping the ceiling low guarantees it stays far from Python's recursion limit even when
# called from deep inside a web framework's stack.
_MAX_DEPTH_CEILING = 64
# Objects that must hold one key are refused outright above this size, so that scanning them
# for a more specific complaint stays cheap.
_MAX_KEYS_SCANNED = 64
_MAX_META_DEPTH = 4
_MAX_META_ENTRIES = 64


class QueryType(enum.StrEnum):
    """The kinds of search a user may ask for; each names the clause expected at the root."""

    MATCH = "match"
    TERM = "term"
    RANGE = "range"
    BOOL = "bool"
    WILDCARD = "wildcard"
    FUZZY = "fuzzy"
    AGGREGATION = "aggregation"
    MULTI_MATCH = "multi_match"


def _positive_int(maximum: int) -> Any:
    """attrs validator: an int (not a bool) in ``1..maximum``."""

    def check(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
            raise ValueError(f"{attribute.name} must be an integer in 1..{maximum}, got {value!r}")

    return check


@attrs.frozen
class QueryLimits:
    """Caps applied by :class:`QueryPolicy`.

    ``max_depth`` counts compound levels: a ``bool`` at the root of ``query`` is level 1, a
    ``bool`` inside it level 2, and so on; top-level aggregations are level 1 and each
    sub-aggregation adds one. ``max_clauses`` counts every query clause (compound or leaf)
    plus every aggregation.
    """

    max_size: int = attrs.field(default=1000, validator=_positive_int(_MAX_INT))
    max_from_plus_size: int = attrs.field(default=10_000, validator=_positive_int(_MAX_INT))
    max_depth: int = attrs.field(default=8, validator=_positive_int(_MAX_DEPTH_CEILING))
    max_clauses: int = attrs.field(default=64, validator=_positive_int(100_000))
    max_terms: int = attrs.field(default=1024, validator=_positive_int(1_000_000))
    max_aggregations: int = attrs.field(default=32, validator=_positive_int(100_000))
    allow_leading_wildcard: bool = attrs.field(
        default=False, validator=attrs.validators.instance_of(bool)
    )


def _copy_json(value: Any) -> Any:
    """Deep copy of a validated JSON value (depth already bounded by validation)."""
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


@attrs.frozen(unsafe_hash=False)
class ValidatedQuery:
    """A query that passed the policy, in normalised form.

    ``params`` always has ``index``, ``size`` and ``from``; ``query`` defaults to
    ``{"match_all": {}}``; ``aggs``, ``sort`` and ``_source`` are present only when given. It
    holds plain dicts, lists and scalars built by the validator, never the caller's objects.
    Instances compare by value but are not hashable (``params`` is a dict); use
    :meth:`query_hash` as a key.
    """

    query_type: QueryType
    params: Mapping[str, Any]

    @property
    def index(self) -> str:
        """The single concrete index the query targets."""
        return str(self.params["index"])

    @property
    def has_aggregations(self) -> bool:
        """True when the query asks for at least one aggregation."""
        return bool(self.params.get("aggs"))

    def template(self) -> dict[str, Any]:
        """A fresh copy of the template keys present (used for cache keys)."""
        keys = ("index", "query", "aggs", "size", "from", "sort", "_source")
        return {k: _copy_json(self.params[k]) for k in keys if k in self.params}

    def query_hash(self) -> str:
        """SHA-256 of the canonical JSON of the query type and params (key order irrelevant)."""
        return canonical_sha256({"query_type": self.query_type.value, "params": self.params})

    def search_body(self) -> dict[str, Any]:
        """A fresh copy of the body sent to Elasticsearch: the params without ``index``."""
        return {k: _copy_json(v) for k, v in self.params.items() if k != "index"}


def _to_name_set(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        # A bare string would otherwise become a set of its characters.
        raise TypeError("allowed_indices must be a collection of names, not a string")
    names = frozenset(value)
    for name in names:
        if not isinstance(name, str) or not name:
            raise TypeError(f"allowed_indices entries must be non-empty strings, got {name!r}")
    return names


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

_TEMPLATE_KEYS = ("index", "query", "aggs", "size", "from", "sort", "_source")

# Names refused wherever they appear (clause position, option key, field name), each with the
# reason given to the user.
_FORBIDDEN: dict[str, str] = {
    "script": "scripts are forbidden",
    "_script": "script sorting is forbidden",
    "script_score": "script_score is forbidden (it runs a script)",
    "function_score": "function_score is forbidden (it can run scripts)",
    "percolate": "percolate is forbidden",
    "runtime_mappings": "runtime_mappings are forbidden (they run scripts)",
    "script_fields": "script_fields are forbidden (they run scripts)",
    "search_template": "stored search templates are forbidden",
    "template": "stored search templates are forbidden",
    "more_like_this": "more_like_this is forbidden",
    "query_string": "query_string is forbidden (it accepts arbitrary query syntax)",
    "simple_query_string": "simple_query_string is forbidden (it accepts arbitrary query syntax)",
    "wrapper": "wrapper is forbidden (it smuggles an encoded query past the policy)",
    "scripted_metric": "scripted_metric is forbidden (it runs scripts)",
    "bucket_script": "bucket_script is forbidden (it runs a script)",
    "bucket_selector": "bucket_selector is forbidden (it runs a script)",
}
_FORBIDDEN_PREFIXES: tuple[tuple[str, str], ...] = (
    ("geo_", "geo queries are forbidden"),
    ("_geo_", "geo sorting is forbidden"),
    ("span_", "span queries are forbidden"),
)
_NOT_SUPPORTED = frozenset(
    {"nested", "has_child", "has_parent", "parent_id", "reverse_nested", "children", "parent"}
)
# Field names that would be refused as keys anyway; refusing them as field names too keeps a
# forbidden word from slipping through a position where any name is accepted.
_FORBIDDEN_FIELD_NAMES = frozenset(_FORBIDDEN) - {"template"}

_LEAF_CLAUSES = frozenset(
    {
        "match",
        "match_phrase",
        "multi_match",
        "term",
        "terms",
        "range",
        "wildcard",
        "prefix",
        "regexp",
        "fuzzy",
        "exists",
        "match_all",
        "ids",
    }
)
_ROOT_CLAUSES: dict[QueryType, frozenset[str]] = {
    QueryType.MATCH: frozenset({"match", "match_phrase"}),
    QueryType.TERM: frozenset({"term", "terms"}),
    QueryType.RANGE: frozenset({"range"}),
    QueryType.BOOL: frozenset({"bool"}),
    QueryType.WILDCARD: frozenset({"wildcard", "prefix", "regexp"}),
    QueryType.FUZZY: frozenset({"fuzzy"}),
    QueryType.MULTI_MATCH: frozenset({"multi_match"}),
}

_BUCKET_AGGS = frozenset({"terms", "range", "histogram", "date_histogram"})
_METRIC_AGGS = frozenset({"avg", "min", "max", "sum", "stats", "cardinality", "value_count"})

_MATCH_OPTIONS = frozenset(
    {
        "query",
        "operator",
        "fuzziness",
        "minimum_should_match",
        "boost",
        "lenient",
        "zero_terms_query",
        "prefix_length",
        "max_expansions",
    }
)
_MATCH_PHRASE_OPTIONS = frozenset({"query", "slop", "boost"})
_MULTI_MATCH_OPTIONS = frozenset(
    {
        "query",
        "fields",
        "type",
        "operator",
        "minimum_should_match",
        "fuzziness",
        "boost",
        "tie_breaker",
    }
)
_MULTI_MATCH_TYPES = ("best_fields", "most_fields", "cross_fields", "phrase", "phrase_prefix")
_TERM_OPTIONS = frozenset({"value", "boost", "case_insensitive"})
_RANGE_BOUNDS = ("gt", "gte", "lt", "lte")
_RANGE_OPTIONS = frozenset({*_RANGE_BOUNDS, "format", "time_zone", "boost"})
_PATTERN_OPTIONS = frozenset({"value", "boost", "case_insensitive", "rewrite"})
_REGEXP_OPTIONS = frozenset(
    {"value", "boost", "case_insensitive", "rewrite", "flags", "max_determinized_states"}
)
_FUZZY_OPTIONS = frozenset(
    {"value", "fuzziness", "prefix_length", "max_expansions", "transpositions", "boost", "rewrite"}
)
_BOOL_OCCURS = ("must", "should", "must_not", "filter")
_BOOL_OPTIONS = frozenset({*_BOOL_OCCURS, "minimum_should_match", "boost"})

_TERMS_AGG_OPTIONS = frozenset({"field", "size", "order", "min_doc_count", "missing"})
_RANGE_AGG_OPTIONS = frozenset({"field", "ranges"})
_HISTOGRAM_OPTIONS = frozenset({"field", "interval", "min_doc_count", "extended_bounds"})
_DATE_HISTOGRAM_OPTIONS = frozenset(
    {
        "field",
        "calendar_interval",
        "fixed_interval",
        "format",
        "time_zone",
        "min_doc_count",
        "extended_bounds",
    }
)
_METRIC_OPTIONS = frozenset({"field", "missing"})
_CALENDAR_INTERVALS = frozenset(
    {
        "minute",
        "1m",
        "hour",
        "1h",
        "day",
        "1d",
        "week",
        "1w",
        "month",
        "1M",
        "quarter",
        "1q",
        "year",
        "1y",
    }
)
_SORT_OPTIONS = frozenset({"order", "missing", "mode", "unmapped_type"})
_SORT_MODES = ("min", "max", "sum", "avg", "median")

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_INDEX_BAD_CHARS = re.compile(r'[\s*?,\\/"<>|#:]')
_MINIMUM_SHOULD_MATCH = re.compile(r"^(?:\d{1,9}<)?-?\d{1,9}%?(?: \d{1,9}<-?\d{1,9}%?)*$")
_FUZZINESS = re.compile(r"^(?:AUTO(?::\d{1,3},\d{1,3})?|[012])$")
_FIXED_INTERVAL = re.compile(r"^[1-9]\d{0,8}(?:ms|s|m|h|d)$")
_TIME_ZONE = re.compile(r"^[A-Za-z0-9_+\-:/]{1,64}$")
_REWRITE = re.compile(
    r"^(?:constant_score|constant_score_blended|constant_score_boolean|scoring_boolean"
    r"|top_terms_blended_freqs_[1-9]\d{0,3}|top_terms_boost_[1-9]\d{0,3}|top_terms_[1-9]\d{0,3})$"
)
_REGEXP_FLAGS = re.compile(
    r"^(?:ALL|NONE|ANYSTRING|COMPLEMENT|EMPTY|INTERSECTION|INTERVAL)"
    r"(?:\|(?:ALL|NONE|ANYSTRING|COMPLEMENT|EMPTY|INTERSECTION|INTERVAL))*$"
)
_UNMAPPED_TYPE = re.compile(r"^[a-z_]{1,32}$")
_BOOST_SUFFIX = re.compile(r"^(.*)\^(\d{1,6}(?:\.\d{1,6})?)$")


# ---------------------------------------------------------------------------------------------
# Paths and refusals
# ---------------------------------------------------------------------------------------------


def _show(value: object) -> str:
    """A value as quoted in a message, cut short so hostile input cannot flood a log line."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        # repr() of a huge int is slow and beyond ~4300 digits raises ValueError.
        return "a very large integer"
    if value is None or isinstance(value, str | int | float | bool):
        text = repr(value)
    else:
        text = _type_name(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _path_key(key: str) -> str:
    # Paths end up in logs and JSON error bodies: escape control characters and lone
    # surrogates (which cannot be encoded as UTF-8) and cut hostile keys short.
    if not key.isprintable():
        key = repr(key)[1:-1]
    return key if len(key) <= 80 else key[:77] + "..."


def _join(path: str, key: str) -> str:
    return f"{path}.{_path_key(key)}" if path else _path_key(key)


def _item(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _fail(path: str, message: str) -> NoReturn:
    raise QueryPolicyViolation(path, message)


def _forbidden_reason(name: str) -> str | None:
    if name in _FORBIDDEN:
        return _FORBIDDEN[name]
    for prefix, reason in _FORBIDDEN_PREFIXES:
        if name.startswith(prefix):
            return reason
    if name in _NOT_SUPPORTED:
        return f"{name} is not supported (no nested or parent/child documents)"
    return None


def _name_reason(name: str) -> str | None:
    """Why ``name``, used where a field or aggregation name is expected, is forbidden.

    Such positions accept ordinary document field names, so only the scripting words and
    underscore-prefixed names (``_script``, ``_geo_distance``) are refused here; a field
    called ``geo_location`` or ``parent`` is legitimate.
    """
    if name in _FORBIDDEN_FIELD_NAMES:
        return _FORBIDDEN[name]
    if name.startswith("_"):
        return _forbidden_reason(name)
    return None


def _refuse_key(path: str, key: object, *, kind: str, hint: str = "") -> NoReturn:
    """Refuse ``key`` found in the object at ``path``; ``kind`` says what the key was taken for.

    Forbidden and unsupported names get their specific reason; anything else is simply not on
    the allow list.
    """
    if not isinstance(key, str):
        _fail(path, f"object keys must be strings, got {_show(key)}")
    reason = _forbidden_reason(key)
    if reason is not None:
        _fail(_join(path, key), reason)
    if key == "aggregations":
        _fail(_join(path, key), "'aggregations' is not accepted here; use 'aggs'")
    _fail(_join(path, key), f"{kind} {_show(key)} is not allowed{hint}")


def _check_keys(obj: dict[Any, Any], path: str, allowed: frozenset[str], *, kind: str) -> None:
    for key in obj:
        if key not in allowed or not isinstance(key, str):
            _refuse_key(path, key, kind=kind)


def _require(obj: dict[str, Any], path: str, key: str) -> Any:
    if key not in obj:
        _fail(_join(path, key), f"'{key}' is required")
    return obj[key]


# ---------------------------------------------------------------------------------------------
# Scalars
# ---------------------------------------------------------------------------------------------


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__} (not JSON)"


def _object(value: object, path: str) -> dict[Any, Any]:
    if not isinstance(value, dict):
        _fail(path, f"expected an object, got {_type_name(value)}")
    return value


def _list(value: object, path: str, *, max_items: int, non_empty: bool = False) -> list[Any]:
    if not isinstance(value, list):
        _fail(path, f"expected an array, got {_type_name(value)}")
    if len(value) > max_items:
        _fail(path, f"at most {max_items} items allowed, got {len(value)}")
    if non_empty and not value:
        _fail(path, "must not be empty")
    return value


def _string(
    value: object, path: str, *, max_length: int = MAX_STRING_LENGTH, allow_empty: bool = True
) -> str:
    if not isinstance(value, str):
        _fail(path, f"expected a string, got {_type_name(value)}")
    if len(value) > max_length:
        _fail(path, f"string longer than {max_length} characters")
    if not value and not allow_empty:
        _fail(path, "must not be empty")
    # Lone surrogates cannot be encoded as UTF-8, so they could never be hashed or sent.
    if not value.isascii() and _SURROGATE.search(value):
        _fail(path, "string contains unpaired surrogates (not valid Unicode text)")
    return str(value)


def _int(value: object, path: str, *, minimum: int = _MIN_INT, maximum: int = _MAX_INT) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(path, f"expected an integer, got {_type_name(value)}")
    if not minimum <= value <= maximum:
        _fail(path, f"must be between {minimum} and {maximum}, got {_show(value)}")
    return int(value)


def _number(
    value: object, path: str, *, minimum: float | None = None, positive: bool = False
) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(path, f"expected a number, got {_type_name(value)}")
    if isinstance(value, float):
        if not math.isfinite(value):
            _fail(path, "numbers must be finite (no NaN or Infinity)")
        number: int | float = float(value)
    else:
        number = _int(value, path)
    if minimum is not None and number < minimum:
        _fail(path, f"must be at least {minimum}, got {_show(number)}")
    if positive and number <= 0:
        _fail(path, f"must be greater than 0, got {_show(number)}")
    return number


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        _fail(path, f"expected true or false, got {_type_name(value)}")
    return bool(value)


def _choice(value: object, path: str, choices: Iterable[str]) -> str:
    text = _string(value, path, max_length=64)
    options = tuple(choices)
    if text not in options:
        _fail(path, f"must be one of {', '.join(options)}; got {_show(text)}")
    return text


def _scalar(value: object, path: str, *, allow_bool: bool = True) -> str | int | float | bool:
    """A string, finite number or (optionally) boolean value."""
    if isinstance(value, bool):
        if not allow_bool:
            _fail(path, "expected a string or number, got a boolean")
        return bool(value)
    if isinstance(value, str):
        return _string(value, path)
    if isinstance(value, int | float):
        return _number(value, path)
    expected = "a string, number or boolean" if allow_bool else "a string or number"
    _fail(path, f"expected {expected}, got {_type_name(value)}")


def _pattern(value: object, path: str, regex: re.Pattern[str], what: str) -> str:
    text = _string(value, path, max_length=64)
    if not regex.match(text):
        _fail(path, f"not a valid {what}: {_show(text)}")
    return text


def _boost(value: object, path: str) -> int | float:
    return _number(value, path, minimum=0)


def _minimum_should_match(value: object, path: str) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool):
        return _int(value, path, minimum=-(2**31), maximum=2**31 - 1)
    if isinstance(value, str):
        return _pattern(value, path, _MINIMUM_SHOULD_MATCH, "minimum_should_match")
    _fail(path, f"expected an integer or a string like '2' or '75%', got {_type_name(value)}")


def _fuzziness(value: object, path: str) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool):
        return _int(value, path, minimum=0, maximum=2)
    if isinstance(value, str):
        return _pattern(value, path, _FUZZINESS, "fuzziness (0, 1, 2, AUTO or AUTO:low,high)")
    _fail(path, f"expected 0, 1, 2 or 'AUTO', got {_type_name(value)}")


def _operator(value: object, path: str) -> str:
    return _choice(value, path, ("and", "or", "AND", "OR"))


def _field_name(value: object, path: str, *, wildcards: bool = False) -> str:
    """A document field name: non-empty, ≤ 255 chars, no leading ``_`` except ``_id``."""
    name = _string(value, path, max_length=_MAX_NAME_LENGTH, allow_empty=False)
    reason = _FORBIDDEN.get(name) if name in _FORBIDDEN_FIELD_NAMES else None
    if reason is not None:
        _fail(path, f"field name {_show(name)} is forbidden: {reason}")
    if name.startswith("_") and name != "_id":
        _fail(path, f"field {_show(name)} is a metadata field; only _id may be queried")
    if _CONTROL.search(name) or name.strip() != name:
        _fail(path, f"field name {_show(name)} has control characters or surrounding spaces")
    if not wildcards and ("*" in name or "?" in name):
        _fail(path, f"field name {_show(name)} may not contain wildcards here")
    return name


def _field_key(key: object, path: str, *, wildcards: bool = False) -> str:
    """A field name used as an object key; refusals point at the key itself."""
    if not isinstance(key, str):
        _fail(path, f"object keys must be strings, got {_show(key)}")
    return _field_name(key, _join(path, key), wildcards=wildcards)


def _single_field(body: dict[Any, Any], path: str, clause: str) -> tuple[str, Any]:
    """The one ``field: spec`` pair of a leaf clause body."""
    if len(body) > _MAX_KEYS_SCANNED:
        _fail(path, f"{clause} needs exactly one field, got {len(body)}")
    for key in body:
        _field_key(key, path)
    if len(body) != 1:
        _fail(path, f"{clause} needs exactly one field, got {len(body)}")
    ((field, spec),) = body.items()
    return str(field), spec


def _index_name(value: object, path: str) -> str:
    """A concrete index name (no patterns, lists, aliases to everything or remote clusters)."""
    name = _string(value, path, max_length=_MAX_NAME_LENGTH, allow_empty=False)
    if name == "_all":
        _fail(path, "'_all' is not a concrete index")
    if name in {".", ".."}:
        _fail(path, f"{_show(name)} is not a valid index name")
    if name[0] in "-_+.":
        _fail(path, f"index name may not start with {name[0]!r}")
    bad = _INDEX_BAD_CHARS.search(name) or _CONTROL.search(name)
    if bad is not None:
        _fail(path, f"index name may not contain {bad.group()!r}; name one concrete index")
    if name != name.lower():
        _fail(path, "index names are lowercase")
    return name


def _matches_any(name: str, patterns: Collection[str]) -> bool:
    if name in patterns:
        return True
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _leading_wildcard_in_wildcard(pattern: str) -> bool:
    return pattern.startswith(("*", "?"))


def _leading_wildcard_in_regexp(pattern: str) -> bool:
    # Lucene regexps are always anchored, so a pattern that can begin with "anything" forces a
    # scan of the whole term dictionary. Groups do not change that, so look past "(".
    body = pattern.lstrip("(")
    if body.startswith(("*", "?", "+", "@", "~", "[^")):
        return True
    return body.startswith(".") and body[1:2] in {"*", "+", "?", "{"}


# ---------------------------------------------------------------------------------------------
# The validator
# ---------------------------------------------------------------------------------------------


class _Validator:
    """One validation run: walks the grammar, counts clauses and builds the normalised copy."""

    def __init__(self, limits: QueryLimits) -> None:
        self.limits = limits
        self.clauses = 0
        self.aggregations = 0

    # -- counting -------------------------------------------------------------------------------

    def _count_clause(self, path: str) -> None:
        self.clauses += 1
        if self.clauses > self.limits.max_clauses:
            _fail(path, f"too many clauses and aggregations (at most {self.limits.max_clauses})")

    def _count_aggregation(self, path: str) -> None:
        self.aggregations += 1
        if self.aggregations > self.limits.max_aggregations:
            _fail(path, f"too many aggregations (at most {self.limits.max_aggregations})")
        self._count_clause(path)

    # -- query clauses --------------------------------------------------------------------------

    def clause(self, value: object, path: str, level: int) -> dict[str, Any]:
        """A clause object ``{type: body}``; ``level`` is the number of enclosing bools."""
        obj = _object(value, path)
        for key in obj:
            if key != "bool" and key not in _LEAF_CLAUSES:
                _refuse_key(path, key, kind="clause")
        if len(obj) != 1:
            _fail(path, f"a clause object holds exactly one clause, got {len(obj)}")
        ((kind, body),) = obj.items()
        self._count_clause(path)
        body_path = _join(path, kind)
        if kind == "bool":
            return {"bool": self._bool(body, body_path, level + 1)}
        return {kind: self._leaf(kind, body, body_path)}

    def _bool(self, value: object, path: str, level: int) -> dict[str, Any]:
        # Checked before descending, so hostile nesting never reaches deep recursion.
        if level > self.limits.max_depth:
            _fail(path, f"compound clauses nested deeper than {self.limits.max_depth} levels")
        body = _object(value, path)
        _check_keys(body, path, _BOOL_OPTIONS, kind="bool option")
        out: dict[str, Any] = {}
        for occur in _BOOL_OCCURS:
            if occur not in body:
                continue
            occur_path = _join(path, occur)
            children = body[occur]
            if isinstance(children, list):
                if len(children) > self.limits.max_clauses:
                    _fail(occur_path, f"at most {self.limits.max_clauses} clauses allowed")
                out[occur] = [
                    self.clause(child, _item(occur_path, i), level)
                    for i, child in enumerate(children)
                ]
            else:
                out[occur] = self.clause(children, occur_path, level)
        if "minimum_should_match" in body:
            out["minimum_should_match"] = _minimum_should_match(
                body["minimum_should_match"], _join(path, "minimum_should_match")
            )
        if "boost" in body:
            out["boost"] = _boost(body["boost"], _join(path, "boost"))
        return out

    def _leaf(self, kind: str, value: object, path: str) -> dict[str, Any]:
        body = _object(value, path)
        if kind == "match":
            return self._match(body, path)
        if kind == "match_phrase":
            return self._match_phrase(body, path)
        if kind == "multi_match":
            return self._multi_match(body, path)
        if kind == "term":
            return self._term(body, path)
        if kind == "terms":
            return self._terms(body, path)
        if kind == "range":
            return self._range(body, path)
        if kind in {"wildcard", "prefix", "regexp"}:
            return self._pattern_query(kind, body, path)
        if kind == "fuzzy":
            return self._fuzzy(body, path)
        if kind == "exists":
            _check_keys(body, path, frozenset({"field", "boost"}), kind="exists option")
            out: dict[str, Any] = {
                "field": _field_name(
                    _require(body, path, "field"), _join(path, "field"), wildcards=True
                )
            }
            if "boost" in body:
                out["boost"] = _boost(body["boost"], _join(path, "boost"))
            return out
        if kind == "match_all":
            _check_keys(body, path, frozenset({"boost"}), kind="match_all option")
            return {"boost": _boost(body["boost"], _join(path, "boost"))} if body else {}
        # Only "ids" is left: clause() admits nothing outside the allow list.
        return self._ids(body, path)

    def _options(
        self, spec: dict[Any, Any], path: str, allowed: frozenset[str], *, kind: str
    ) -> dict[str, Any]:
        """Validate the common option keys of a leaf clause's field object."""
        _check_keys(spec, path, allowed, kind=kind)
        out: dict[str, Any] = {}
        for key, value in spec.items():
            key_path = _join(path, key)
            if key in {"query", "value"}:
                out[key] = _scalar(value, key_path)
            elif key == "boost":
                out[key] = _boost(value, key_path)
            elif key == "operator":
                out[key] = _operator(value, key_path)
            elif key == "fuzziness":
                out[key] = _fuzziness(value, key_path)
            elif key == "minimum_should_match":
                out[key] = _minimum_should_match(value, key_path)
            elif key in {"lenient", "case_insensitive", "transpositions"}:
                out[key] = _bool(value, key_path)
            elif key == "zero_terms_query":
                out[key] = _choice(value, key_path, ("none", "all"))
            elif key in {"prefix_length", "slop"}:
                out[key] = _int(value, key_path, minimum=0, maximum=1_000)
            elif key == "max_expansions":
                out[key] = _int(value, key_path, minimum=1, maximum=10_000)
            elif key == "rewrite":
                out[key] = _pattern(value, key_path, _REWRITE, "rewrite method")
            elif key == "flags":
                out[key] = _pattern(value, key_path, _REGEXP_FLAGS, "regexp flags value")
            elif key == "max_determinized_states":
                out[key] = _int(value, key_path, minimum=1, maximum=10_000)
            elif key == "tie_breaker":
                out[key] = _number(value, key_path, minimum=0)
                if out[key] > 1:
                    _fail(key_path, "tie_breaker must be between 0 and 1")
            elif key == "format":
                out[key] = _string(value, key_path, max_length=_MAX_NAME_LENGTH, allow_empty=False)
            elif key == "time_zone":
                out[key] = _pattern(value, key_path, _TIME_ZONE, "time zone")
            elif key in _RANGE_BOUNDS:
                out[key] = _scalar(value, key_path, allow_bool=False)
            else:  # pragma: no cover - every allowed key is handled above
                _fail(key_path, f"option {_show(key)} is not allowed")
        return out

    def _match(self, body: dict[Any, Any], path: str) -> dict[str, Any]:
        field, spec = _single_field(body, path, "match")
        spec_path = _join(path, field)
        if isinstance(spec, dict):
            _require(spec, spec_path, "query")
            return {field: self._options(spec, spec_path, _MATCH_OPTIONS, kind="match option")}
        return {field: _scalar(spec, spec_path)}

    def _match_phrase(self, body: dict[Any, Any], path: str) -> dict[str, Any]:
        field, spec = _single_field(body, path, "match_phrase")
        spec_path = _join(path, field)
        if isinstance(spec, dict):
            _require(spec, spec_path, "query")
            options = self._options(
                spec, spec_path, _MATCH_PHRASE_OPTIONS, kind="match_phrase option"
            )
            return {field: options}
        return {field: _scalar(spec, spec_path)}

    def _multi_match(self, body: dict[Any, Any], path: str) -> dict[str, Any]:
        _require(body, path, "query")
        rest = {k: v for k, v in body.items() if k not in {"fields", "type"}}
        _check_keys(body, path, _MULTI_MATCH_OPTIONS, kind="multi_match option")
        out = self._options(rest, path, _MULTI_MATCH_OPTIONS, kind="multi_match option")
        if "fields" in body:
            fields_path = _join(path, "fields")
            fields = _list(
                body["fields"], fields_path, max_items=self.limits.max_terms, non_empty=True
            )
            out["fields"] = [
                self._boosted_field(f, _item(fields_path, i)) for i, f in enumerate(fields)
            ]
        if "type" in body:
            out["type"] = _choice(body["type"], _join(path, "type"), _MULTI_MATCH_TYPES)
        return out

    @staticmethod
    def _boosted_field(value: object, path: str) -> str:
        """A multi_match field: a name or pattern, optionally with a ``^boost`` suffix."""
        text = _string(value, path, max_length=_MAX_NAME_LENGTH + 16, allow_empty=False)
        match = _BOOST_SUFFIX.match(text)
        _field_name(match.group(1) if match else text, path, wildcards=True)
        return text

    def _term(self, body: dict[Any, Any], path: str) -> dict[str, Any]:
        field, spec = _single_field(body, path, "term")
        spec_path = _join(path, field)
        if isinstance(spec, dict):
            _require(spec, spec_path, "value")
            return {field: self._options(spec, spec_path, _TERM_OPTIONS, kind="term option")}
        return {field: _scalar(spec, spec_path)}

    def _terms(self, body: dict[Any, Any], path: str) -> dict[str, Any]:
        fields = {k: v for k, v in body.items() if k != "boost"}
        field, values = _single_field(fields, path, "terms")
        values_path = _join(path, field)
        if isinstance(values, dict):
            _fail(values_path, "terms lookup is not allowed (it reads another index)")
        items = _list(values, values_path, max_items=self.limits.max_terms)
        out: dict[str, Any] = {
            field: [_scalar(v, _item(values_path, i)) for i, v in enumerate(items)]
        }
        if "boost" in body:
            out["boost"] = _boost(body["boost"], _join(path, "boost"))
        return out

    def _range(self, body: dict[Any, Any], path: str) -> dict[str, Any]:
        field, spec = _single_field(body, path, "range")
        spec_path = _join(path, field)
        spec_obj = _object(spec, spec_path)
        return {field: self._options(spec_obj, spec_path, _RANGE_OPTIONS, kind="range option")}

    def _pattern_query(self, kind: str, body: dict[Any, Any], path: str) -> dict[str, Any]:
        field, spec = _single_field(body, path, kind)
        spec_path = _join(path, field)
        if isinstance(spec, dict):
            allowed = _REGEXP_OPTIONS if kind == "regexp" else _PATTERN_OPTIONS
            value_path = _join(spec_path, "value")
            _string(_require(spec, spec_path, "value"), value_path)
            out: dict[str, Any] | str = self._options(
                spec, spec_path, allowed, kind=f"{kind} option"
            )
            pattern = str(spec["value"])
        else:
            value_path = spec_path
            pattern = _string(spec, spec_path)
            out = pattern
        if not self.limits.allow_leading_wildcard:
            if kind == "wildcard" and _leading_wildcard_in_wildcard(pattern):
                _fail(value_path, "wildcard patterns may not start with '*' or '?'")
            if kind == "regexp" and _leading_wildcard_in_regexp(pattern):
                _fail(value_path, "regexp patterns may not start with a wildcard such as '.*'")
        return {field: out}

    def _fuzzy(self, body: dict[Any, Any], path: str) -> dict[str, Any]:
        field, spec = _single_field(body, path, "fuzzy")
        spec_path = _join(path, field)
        if isinstance(spec, dict):
            value = _require(spec, spec_path, "value")
            _scalar(value, _join(spec_path, "value"), allow_bool=False)
            return {field: self._options(spec, spec_path, _FUZZY_OPTIONS, kind="fuzzy option")}
        return {field: _scalar(spec, spec_path, allow_bool=False)}

    def _ids(self, body: dict[Any, Any], path: str) -> dict[str, Any]:
        _check_keys(body, path, frozenset({"values", "boost"}), kind="ids option")
        values_path = _join(path, "values")
        items = _list(_require(body, path, "values"), values_path, max_items=self.limits.max_terms)
        out: dict[str, Any] = {
            "values": [
                _string(v, _item(values_path, i), max_length=512, allow_empty=False)
                for i, v in enumerate(items)
            ]
        }
        if "boost" in body:
            out["boost"] = _boost(body["boost"], _join(path, "boost"))
        return out

    # -- aggregations ---------------------------------------------------------------------------

    def aggs(self, value: object, path: str, level: int) -> dict[str, Any]:
        """An ``aggs`` object (name → aggregation) at aggregation nesting ``level``."""
        if level > self.limits.max_depth:
            _fail(path, f"aggregations nested deeper than {self.limits.max_depth} levels")
        obj = _object(value, path)
        out: dict[str, Any] = {}
        for name, agg in obj.items():
            agg_path = _join(path, self._agg_name(name, path))
            self._count_aggregation(agg_path)
            out[name] = self._aggregation(agg, agg_path, level)
        return out

    @staticmethod
    def _agg_name(name: object, path: str) -> str:
        if not isinstance(name, str):
            _fail(path, f"aggregation names must be strings, got {_show(name)}")
        text = _string(name, _join(path, name), max_length=_MAX_AGG_NAME_LENGTH, allow_empty=False)
        reason = _FORBIDDEN[text] if text in _FORBIDDEN_FIELD_NAMES else None
        if reason is not None:
            _fail(_join(path, text), f"aggregation name {_show(text)} is forbidden: {reason}")
        if any(c in text for c in "[]>") or _CONTROL.search(text):
            _fail(_join(path, text), "aggregation names may not contain '[', ']', '>'")
        return text

    def _aggregation(self, value: object, path: str, level: int) -> dict[str, Any]:
        obj = _object(value, path)
        kinds: list[str] = []
        for key in obj:
            if key in {"aggs", "meta"}:
                continue
            if key in _BUCKET_AGGS or key in _METRIC_AGGS:
                kinds.append(key)
            else:
                _refuse_key(path, key, kind="aggregation type")
        if len(kinds) != 1:
            _fail(path, f"an aggregation holds exactly one aggregation type, got {len(kinds)}")
        kind = kinds[0]
        body_path = _join(path, kind)
        body = _object(obj[kind], body_path)
        out: dict[str, Any] = {kind: self._agg_body(kind, body, body_path)}
        if "aggs" in obj:
            sub_path = _join(path, "aggs")
            if kind not in _BUCKET_AGGS:
                _fail(sub_path, f"a {kind} aggregation cannot have sub-aggregations")
            out["aggs"] = self.aggs(obj["aggs"], sub_path, level + 1)
        if "meta" in obj:
            out["meta"] = _meta(obj["meta"], _join(path, "meta"))
        return out

    def _agg_body(self, kind: str, body: dict[Any, Any], path: str) -> dict[str, Any]:
        allowed = {
            "terms": _TERMS_AGG_OPTIONS,
            "range": _RANGE_AGG_OPTIONS,
            "histogram": _HISTOGRAM_OPTIONS,
            "date_histogram": _DATE_HISTOGRAM_OPTIONS,
        }.get(kind, _METRIC_OPTIONS)
        _check_keys(body, path, allowed, kind=f"{kind} aggregation option")
        out: dict[str, Any] = {
            "field": _field_name(_require(body, path, "field"), _join(path, "field"))
        }
        if kind == "histogram":
            _require(body, path, "interval")
        if kind == "range":
            _require(body, path, "ranges")
        if kind == "date_histogram":
            given = [k for k in ("calendar_interval", "fixed_interval") if k in body]
            if len(given) != 1:
                _fail(path, "date_histogram needs exactly one of calendar_interval, fixed_interval")
        for key, value in body.items():
            key_path = _join(path, key)
            if key == "field":
                continue
            if key == "size":
                out[key] = _int(value, key_path, minimum=1, maximum=self.limits.max_size)
            elif key == "min_doc_count":
                out[key] = _int(value, key_path, minimum=0, maximum=2**31 - 1)
            elif key == "missing":
                out[key] = _scalar(value, key_path)
            elif key == "order":
                out[key] = self._agg_order(value, key_path)
            elif key == "ranges":
                out[key] = self._agg_ranges(value, key_path)
            elif key == "interval":
                out[key] = _number(value, key_path, positive=True)
            elif key == "extended_bounds":
                out[key] = self._extended_bounds(value, key_path, dates=kind == "date_histogram")
            elif key == "calendar_interval":
                out[key] = _choice(value, key_path, sorted(_CALENDAR_INTERVALS))
            elif key == "fixed_interval":
                out[key] = _pattern(value, key_path, _FIXED_INTERVAL, "fixed interval like '30m'")
            elif key == "format":
                out[key] = _string(value, key_path, max_length=_MAX_NAME_LENGTH, allow_empty=False)
            elif key == "time_zone":
                out[key] = _pattern(value, key_path, _TIME_ZONE, "time zone")
        return out

    def _agg_order(self, value: object, path: str) -> dict[str, str] | list[dict[str, str]]:
        if isinstance(value, list):
            items = _list(value, path, max_items=8, non_empty=True)
            return [self._agg_order_item(v, _item(path, i)) for i, v in enumerate(items)]
        return self._agg_order_item(value, path)

    @staticmethod
    def _agg_order_item(value: object, path: str) -> dict[str, str]:
        obj = _object(value, path)
        if len(obj) > _MAX_KEYS_SCANNED:
            _fail(path, f"an order holds exactly one key, got {len(obj)}")
        for name in obj:
            if not isinstance(name, str):
                _fail(path, f"object keys must be strings, got {_show(name)}")
            reason = _name_reason(name)
            if reason is not None:
                _fail(_join(path, name), reason)
        if len(obj) != 1:
            _fail(path, f"an order holds exactly one key, got {len(obj)}")
        ((key, direction),) = obj.items()
        key_path = _join(path, key)
        if key not in {"_count", "_key"}:
            # Otherwise a sub-aggregation path such as "avg_price" or "stats_price.max".
            text = _string(key, key_path, max_length=_MAX_NAME_LENGTH, allow_empty=False)
            if text.startswith("_") or _CONTROL.search(text) or " " in text:
                _fail(key_path, "order by '_count', '_key' or a sub-aggregation name")
        return {str(key): _choice(direction, key_path, ("asc", "desc"))}

    def _agg_ranges(self, value: object, path: str) -> list[dict[str, Any]]:
        items = _list(value, path, max_items=self.limits.max_terms, non_empty=True)
        out: list[dict[str, Any]] = []
        for i, item in enumerate(items):
            item_path = _item(path, i)
            obj = _object(item, item_path)
            _check_keys(obj, item_path, frozenset({"from", "to", "key"}), kind="range option")
            if "from" not in obj and "to" not in obj:
                _fail(item_path, "a range needs 'from' or 'to'")
            entry: dict[str, Any] = {}
            for key, bound in obj.items():
                bound_path = _join(item_path, key)
                if key == "key":
                    entry[key] = _string(bound, bound_path, max_length=_MAX_NAME_LENGTH)
                else:
                    entry[key] = _number(bound, bound_path)
            out.append(entry)
        return out

    @staticmethod
    def _extended_bounds(value: object, path: str, *, dates: bool) -> dict[str, Any]:
        obj = _object(value, path)
        _check_keys(obj, path, frozenset({"min", "max"}), kind="extended_bounds option")
        return {
            key: (
                _scalar(bound, _join(path, key), allow_bool=False)
                if dates
                else _number(bound, _join(path, key))
            )
            for key, bound in obj.items()
        }

    # -- sort and _source -----------------------------------------------------------------------

    def sort(self, value: object, path: str) -> str | list[Any] | dict[str, Any]:
        """``sort``: one item (a field name or ``{field: order}``), or a list of items."""
        if isinstance(value, list):
            items = _list(value, path, max_items=self.limits.max_clauses)
            return [self._sort_item(v, _item(path, i)) for i, v in enumerate(items)]
        return self._sort_item(value, path)

    @staticmethod
    def _sort_field(value: object, path: str) -> str:
        if isinstance(value, str):
            if value in {"_score", "_doc"}:
                return str(value)
            reason = _name_reason(value)
            if reason is not None:
                _fail(path, reason)
        return _field_name(value, path)

    def _sort_item(self, value: object, path: str) -> str | dict[str, Any]:
        if isinstance(value, str):
            return self._sort_field(value, path)
        obj = _object(value, path)
        if len(obj) > _MAX_KEYS_SCANNED:
            _fail(path, f"a sort object holds exactly one field, got {len(obj)}")
        for key in obj:
            if not isinstance(key, str):
                _fail(path, f"object keys must be strings, got {_show(key)}")
            reason = _name_reason(key)
            if reason is not None:
                _fail(_join(path, key), reason)
        if len(obj) != 1:
            _fail(path, f"a sort object holds exactly one field, got {len(obj)}")
        ((key, spec),) = obj.items()
        key_path = _join(path, key)
        field = self._sort_field(key, key_path)
        if isinstance(spec, str):
            return {field: _choice(spec, key_path, ("asc", "desc"))}
        spec_obj = _object(spec, key_path)
        _check_keys(spec_obj, key_path, _SORT_OPTIONS, kind="sort option")
        out: dict[str, Any] = {}
        for option, option_value in spec_obj.items():
            option_path = _join(key_path, option)
            if option == "order":
                out[option] = _choice(option_value, option_path, ("asc", "desc"))
            elif option == "missing":
                out[option] = _scalar(option_value, option_path)
            elif option == "mode":
                out[option] = _choice(option_value, option_path, _SORT_MODES)
            else:
                out[option] = _pattern(option_value, option_path, _UNMAPPED_TYPE, "field type")
        return {field: out}

    def source(self, value: object, path: str) -> bool | str | list[str] | dict[str, Any]:
        """``_source``: a bool, a pattern, a list of patterns, or includes/excludes."""
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, str | list):
            return self._source_patterns(value, path)
        obj = _object(value, path)
        _check_keys(obj, path, frozenset({"includes", "excludes"}), kind="_source option")
        return {key: self._source_patterns(v, _join(path, key)) for key, v in obj.items()}

    def _source_patterns(self, value: object, path: str) -> str | list[str]:
        if isinstance(value, str):
            return _source_pattern(value, path)
        items = _list(value, path, max_items=self.limits.max_terms)
        return [_source_pattern(v, _item(path, i)) for i, v in enumerate(items)]


def _source_pattern(value: object, path: str) -> str:
    text = _string(value, path, max_length=_MAX_NAME_LENGTH, allow_empty=False)
    if _CONTROL.search(text):
        _fail(path, "patterns may not contain control characters")
    return text


def _meta(value: object, path: str) -> dict[str, Any]:
    """Free-form aggregation ``meta``: small, shallow, plain JSON, copied as is."""
    obj = _object(value, path)
    return {str(k): v for k, v in _meta_value(obj, path, 1).items()}


def _meta_value(value: Any, path: str, depth: int) -> Any:
    if depth > _MAX_META_DEPTH:
        _fail(path, f"meta nested deeper than {_MAX_META_DEPTH} levels")
    if isinstance(value, dict):
        if len(value) > _MAX_META_ENTRIES:
            _fail(path, f"at most {_MAX_META_ENTRIES} entries allowed")
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                _fail(path, f"object keys must be strings, got {_show(key)}")
            # meta is opaque to Elasticsearch, so only the scripting words are refused here.
            reason = _FORBIDDEN.get(key)
            if reason is not None:
                _fail(_join(path, key), reason)
            key_text = _string(key, _join(path, key), max_length=_MAX_NAME_LENGTH)
            out[key_text] = _meta_value(item, _join(path, key), depth + 1)
        return out
    if isinstance(value, list):
        items = _list(value, path, max_items=_MAX_META_ENTRIES)
        return [_meta_value(v, _item(path, i), depth + 1) for i, v in enumerate(items)]
    if value is None:
        return None
    return _scalar(value, path)


# ---------------------------------------------------------------------------------------------
# The policy
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class QueryPolicy:
    """The domain's query policy: index whitelist plus the supported Elasticsearch subset.

    ``allowed_indices`` holds exact index names or ``fnmatch`` patterns such as ``"logs-*"``;
    patterns only widen the whitelist, a query must still name one concrete index.
    """

    allowed_indices: frozenset[str] = attrs.field(converter=_to_name_set)
    limits: QueryLimits = attrs.field(
        factory=QueryLimits, validator=attrs.validators.instance_of(QueryLimits)
    )

    def validate(
        self,
        query_type: object,
        query_params: object,
        *,
        profile_indices: frozenset[str] | None = None,
    ) -> ValidatedQuery:
        """Check a submitted query and return its normalised form.

        ``profile_indices`` (exact names or patterns), when given, narrows the whitelist for
        the caller's profile. Raises :class:`QueryPolicyViolation` — and nothing else — for
        any input that is not an allowed query.
        """
        try:
            return self._validate(query_type, query_params, profile_indices)
        except RecursionError:
            # Unreachable by design (depth is checked before every descent); kept so that a
            # caller already deep in its own stack still gets the one documented exception.
            raise QueryPolicyViolation("", "query is nested too deeply") from None

    def _validate(
        self, query_type: object, query_params: object, profile_indices: frozenset[str] | None
    ) -> ValidatedQuery:
        kind = _query_type(query_type)
        params = query_params
        if not isinstance(params, dict):
            _fail("", f"query_params must be a JSON object, got {_type_name(params)}")
        for key in params:
            if not isinstance(key, str) or key not in _TEMPLATE_KEYS:
                _refuse_key(
                    "", key, kind="key", hint=f" (the template is {', '.join(_TEMPLATE_KEYS)})"
                )

        index = _index_name(_require(params, "", "index"), "index")
        if not _matches_any(index, self.allowed_indices):
            _fail("index", f"index {_show(index)} is not in the allowed indices")
        if profile_indices is not None and not _matches_any(index, profile_indices):
            _fail("index", f"index {_show(index)} is not allowed for this profile")

        limits = self.limits
        size = _int(params.get("size", 10), "size", minimum=0, maximum=limits.max_size)
        start = _int(params.get("from", 0), "from", minimum=0, maximum=limits.max_from_plus_size)
        if start + size > limits.max_from_plus_size:
            _fail("from", f"from + size must not exceed {limits.max_from_plus_size}")

        validator = _Validator(limits)
        if "query" in params:
            query = validator.clause(params["query"], "query", 0)
        else:
            query = {"match_all": {}}
        expected = _ROOT_CLAUSES.get(kind)
        if expected is not None and next(iter(query)) not in expected:
            _fail("query", f"query_type '{kind}' needs a {kind} clause at the root")

        out: dict[str, Any] = {"index": index, "query": query}
        if "aggs" in params:
            out["aggs"] = validator.aggs(params["aggs"], "aggs", 1)
        if kind is QueryType.AGGREGATION and not out.get("aggs"):
            _fail("aggs", "query_type 'aggregation' needs at least one aggregation in 'aggs'")
        out["size"] = size
        out["from"] = start
        if "sort" in params:
            out["sort"] = validator.sort(params["sort"], "sort")
        if "_source" in params:
            out["_source"] = validator.source(params["_source"], "_source")
        return ValidatedQuery(query_type=kind, params=out)


def _query_type(value: object) -> QueryType:
    if isinstance(value, str):
        try:
            return QueryType(str(value))
        except ValueError:
            pass
    choices = ", ".join(t.value for t in QueryType)
    _fail("query_type", f"query_type must be one of {choices}; got {_show(value)}")
