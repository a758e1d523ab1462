"""A small in-memory search backend for unit tests and embedding without an engine.

It understands enough of the query subset to give honest answers on small data — match_all,
match (all/any terms, case-insensitive), term, terms, range, exists, bool, and terms / avg /
min / max / sum / value_count aggregations — and refuses anything else with a permanent
error naming the clause, never a wrong answer. The tantivy and Elasticsearch adapters are
the real engines. Tests can make it fail on purpose to drive the retry paths.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from airgap.domain.model.errors import PermanentSearchError, TransientSearchError
from airgap.domain.model.search import SearchResult


def _tokens(value: object) -> set[str]:
    return {t for t in str(value).lower().split() if t}


class MemorySearchBackend:
    name = "memory"

    def __init__(self, documents: Mapping[str, Iterable[Mapping[str, Any]]] | None = None) -> None:
        self._indices: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._failures: list[Exception] = []
        self.calls = 0
        for index, docs in (documents or {}).items():
            self.index(index, docs)

    def index(self, index: str, documents: Iterable[Mapping[str, Any]]) -> None:
        """Add documents; each needs an ``_id`` or gets its position as one."""
        with self._lock:
            target = self._indices.setdefault(index, [])
            for doc in documents:
                copy = dict(doc)
                copy.setdefault("_id", str(len(target) + 1))
                target.append(copy)

    def fail_next(self, times: int = 1, *, transient: bool = True) -> None:
        """Make the next ``times`` searches fail (transient or permanent)."""
        error: Exception = (
            TransientSearchError("injected timeout")
            if transient
            else PermanentSearchError("injected syntax error")
        )
        with self._lock:
            self._failures.extend([error] * times)

    def healthy(self) -> bool:
        return True

    def search(self, index: str, body: Mapping[str, Any], *, timeout_s: float) -> SearchResult:
        with self._lock:
            self.calls += 1
            if self._failures:
                raise self._failures.pop(0)
            if index not in self._indices:
                raise PermanentSearchError(f"no such index: {index}")
            docs = list(self._indices[index])
        query = body.get("query") or {"match_all": {}}
        matched = [d for d in docs if self._matches(d, query)]
        ordered = self._sorted(matched, body.get("sort"))
        start = int(body.get("from", 0))
        size = int(body.get("size", 10))
        page = ordered[start : start + size]
        hits = []
        for d in page:
            hit: dict[str, Any] = {"_index": index, "_id": d["_id"], "_score": 1.0}
            if body.get("_source", True) is not False:
                hit["_source"] = self._source(d, body)
            hits.append(hit)
        result: dict[str, Any] = {
            "took": 0,
            "timed_out": False,
            "hits": {
                "total": {"value": len(matched), "relation": "eq"},
                "max_score": 1.0 if hits else None,
                "hits": hits,
            },
        }
        if body.get("aggs"):
            result["aggregations"] = {
                name: self._aggregate(matched, spec) for name, spec in body["aggs"].items()
            }
        return SearchResult.from_body(result)

    @staticmethod
    def _sorted(docs: list[dict[str, Any]], sort: object) -> list[dict[str, Any]]:
        """Field sorts, applied last key first (stable); missing values go last either way.
        Every hit scores 1.0 here, so ``_score`` keeps the order as it is."""
        if sort is None:
            return docs
        specs = sort if isinstance(sort, list) else [sort]
        ordered = list(docs)
        for spec in reversed(specs):
            if isinstance(spec, str):
                field, order = spec, "asc"
            else:
                ((field, how),) = spec.items()
                order = how if isinstance(how, str) else how.get("order", "asc")
            if field == "_score":
                continue
            present = [d for d in ordered if d.get(field) is not None]
            missing = [d for d in ordered if d.get(field) is None]
            present.sort(key=lambda d: d[field], reverse=order == "desc")
            ordered = present + missing
        return ordered

    @staticmethod
    def _source(doc: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        fields = body.get("_source")
        source = {k: v for k, v in doc.items() if k != "_id"}
        if isinstance(fields, str):
            fields = [fields]
        if isinstance(fields, list):
            includes, excludes = fields, []
        elif isinstance(fields, Mapping):
            includes = list(fields.get("includes", ["*"]))
            excludes = list(fields.get("excludes", []))
        else:
            return source
        return {
            k: v
            for k, v in source.items()
            if any(fnmatch.fnmatchcase(k, p) for p in includes)
            and not any(fnmatch.fnmatchcase(k, p) for p in excludes)
        }

    def _matches(self, doc: Mapping[str, Any], clause: Mapping[str, Any]) -> bool:
        (kind, spec), *_ = clause.items()
        if kind == "match_all":
            return True
        if kind == "bool":
            return self._bool(doc, spec)
        if kind == "exists":
            return doc.get(spec["field"]) is not None
        (field, arg), *_ = spec.items()
        value = doc.get(field)
        if kind == "match":
            wanted = arg.get("query") if isinstance(arg, Mapping) else arg
            operator = arg.get("operator", "or") if isinstance(arg, Mapping) else "or"
            have, need = _tokens(value), _tokens(wanted)
            return need <= have if operator == "and" else bool(need & have)
        if kind == "term":
            wanted = arg.get("value") if isinstance(arg, Mapping) else arg
            return bool(value == wanted)
        if kind == "terms":
            return value in arg
        if kind == "range":
            if value is None:
                return False
            checks = {
                "gt": lambda b: value > b,
                "gte": lambda b: value >= b,
                "lt": lambda b: value < b,
                "lte": lambda b: value <= b,
            }
            return all(checks[op](bound) for op, bound in arg.items() if op in checks)
        raise PermanentSearchError(f"clause {kind} is not supported by the memory backend")

    def _bool(self, doc: Mapping[str, Any], spec: Mapping[str, Any]) -> bool:
        def clauses(key: str) -> list[Mapping[str, Any]]:
            found = spec.get(key, [])
            return list(found) if isinstance(found, list) else [found]

        if not all(self._matches(doc, c) for c in clauses("must") + clauses("filter")):
            return False
        if any(self._matches(doc, c) for c in clauses("must_not")):
            return False
        should = clauses("should")
        if not should:
            return True
        wanted = int(spec.get("minimum_should_match", 1))
        return sum(self._matches(doc, c) for c in should) >= wanted

    @staticmethod
    def _aggregate(docs: list[dict[str, Any]], spec: Mapping[str, Any]) -> dict[str, Any]:
        (kind, arg), *_ = ((k, v) for k, v in spec.items() if k not in ("aggs", "meta"))
        values = [d[arg["field"]] for d in docs if d.get(arg["field"]) is not None]
        if kind == "terms":
            # Elasticsearch orders buckets by count, then by key.
            ranked = sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0]))
            counts = ranked[: int(arg.get("size", 10))]
            return {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": len(values) - sum(c for _, c in counts),
                "buckets": [{"key": k, "doc_count": c} for k, c in counts],
            }
        numeric = [float(v) for v in values]
        if kind == "value_count":
            return {"value": len(values)}
        if kind == "sum":
            return {"value": sum(numeric)}
        if kind in ("avg", "min", "max"):
            if not numeric:
                return {"value": None}
            summary = {
                "avg": sum(numeric) / len(numeric),
                "min": min(numeric),
                "max": max(numeric),
            }
            return {"value": summary[kind]}
        raise PermanentSearchError(f"aggregation {kind} is not supported by the memory backend")
