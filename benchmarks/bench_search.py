"""Search latency of the embedded backend on the 10,000-product sample, through the adapter,
next to raw tantivy on the same queries, in the same run.

    uv run python benchmarks/bench_search.py [--count 10000] [--iterations 3000] [--markdown]

For each query the adapter figure is ``TantivySearchBackend.search`` end to end — checking
the body, translating Elasticsearch's query DSL into tantivy queries, searching, fetching
and decoding the hits' ``_source``, translating aggregations back into Elasticsearch's
shape. The baseline is the same query pre-built as a tantivy ``Query`` and run with
``searcher.search(query, 10)`` (``searcher.aggregate`` for aggregations), without
fetching documents. Both are timed alternately, one call at a time, after a warm-up, with
the garbage collector left on (as in a worker); the ratio is adapter p50 / baseline p50.
The SPEC §13 bar is the adapter's p95 ≤ 1 ms for match, bool with filters and terms
aggregation; the other rows are for information.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import report
import tantivy

from airgap.adapters.tantivy import EmbeddedIndex, TantivySearchBackend
from airgap.adapters.tantivy.sample import PRODUCTS_INDEX, generate_products, products_mapping

BAR_MS = 1.0


def queries(schema: Any) -> list[tuple[str, bool, dict[str, Any], Callable[[Any], object]]]:
    """(name, under the SPEC bar, Elasticsearch body, the same search on raw tantivy)."""
    q = tantivy.Query
    occur = tantivy.Occur

    match = q.boolean_query([(occur.Should, q.term_query(schema, "name", "kettle"))])
    filters = q.boolean_query(
        [
            (occur.Must, q.term_query(schema, "description", "steel")),
            (occur.Must, q.const_score_query(q.term_query(schema, "category", "kitchen"), 0.0)),
            (
                occur.Must,
                q.const_score_query(
                    q.range_query(schema, "price", tantivy.FieldType.Float, 20.0, 200.0), 0.0
                ),
            ),
            (occur.Must, q.const_score_query(q.term_query(schema, "in_stock", True), 0.0)),
        ]
    )
    everything = q.all_query()
    terms = {"brands": {"terms": {"field": "brand", "size": 10}}}
    two_words = q.boolean_query(
        [
            (occur.Should, q.term_query(schema, "description", "red")),
            (occur.Should, q.term_query(schema, "description", "kettle")),
        ]
    )
    return [
        (
            "match",
            True,
            {"query": {"match": {"name": "kettle"}}, "size": 10},
            lambda s: s.search(match, 10),
        ),
        (
            "bool with filters",
            True,
            {
                "query": {
                    "bool": {
                        "must": [{"match": {"description": "steel"}}],
                        "filter": [
                            {"term": {"category": "kitchen"}},
                            {"range": {"price": {"gte": 20, "lte": 200}}},
                            {"term": {"in_stock": True}},
                        ],
                    }
                },
                "size": 10,
            },
            lambda s: s.search(filters, 10),
        ),
        (
            "terms aggregation",
            True,
            {"size": 0, "aggs": {"brands": {"terms": {"field": "brand", "size": 10}}}},
            lambda s: s.aggregate(everything, terms),
        ),
        (
            "match, 2 words, sorted by price",
            False,
            {"query": {"match": {"description": "red kettle"}}, "sort": [{"price": "desc"}]},
            lambda s: s.search(two_words, 10, order_by_field="price", order=tantivy.Order.Desc),
        ),
        (
            "date_histogram by month + avg",
            False,
            {
                "size": 0,
                "aggs": {
                    "m": {
                        "date_histogram": {"field": "created_at", "calendar_interval": "month"},
                        "aggs": {"p": {"avg": {"field": "price"}}},
                    }
                },
            },
            lambda s: s.aggregate(
                everything,
                {
                    "m": {
                        "histogram": {"field": "created_at", "interval": 2_592_000_000.0},
                        "aggs": {"p": {"avg": {"field": "price"}}},
                    }
                },
            ),
        ),
    ]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(
    adapter: Callable[[], object], raw: Callable[[], object], iterations: int
) -> tuple[list[float], list[float]]:
    for _ in range(200):
        adapter()
        raw()
    gc.collect()
    adapter_ms: list[float] = []
    raw_ms: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(iterations):
        start = clock()
        adapter()
        middle = clock()
        raw()
        end = clock()
        adapter_ms.append((middle - start) / 1e6)
        raw_ms.append((end - middle) / 1e6)
    return adapter_ms, raw_ms


def table(rows: list[list[str]], markdown: bool) -> str:
    headers = [
        "query",
        "adapter p50 ms",
        "adapter p95 ms",
        "adapter p99 ms",
        "raw tantivy p50 ms",
        "raw tantivy p95 ms",
        "adapter/raw (p50)",
        "hits",
        "≤ 1 ms p95",
    ]
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="sample documents")
    parser.add_argument("--iterations", type=int, default=3_000, help="timed calls per query")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()

    started = time.perf_counter()
    index = EmbeddedIndex.build(PRODUCTS_INDEX, products_mapping(), generate_products(args.count))
    built_s = time.perf_counter() - started
    backend = TantivySearchBackend([index])
    searcher = index.searcher()

    rows = []
    headline: list[report.Row] = []
    for name, under_bar, body, raw in queries(index.schema):

        def through_adapter(body: dict[str, Any] = body) -> object:
            return backend.search(PRODUCTS_INDEX, body, timeout_s=30.0)

        def raw_tantivy(raw: Callable[[Any], object] = raw) -> object:
            return raw(searcher)

        total = backend.search(PRODUCTS_INDEX, body, timeout_s=30.0).total
        adapter_ms, raw_ms = measure(through_adapter, raw_tantivy, args.iterations)
        p95 = percentile(adapter_ms, 0.95)
        rows.append(
            [
                name,
                f"{statistics.median(adapter_ms):.3f}",
                f"{p95:.3f}",
                f"{percentile(adapter_ms, 0.99):.3f}",
                f"{statistics.median(raw_ms):.3f}",
                f"{percentile(raw_ms, 0.95):.3f}",
                f"{statistics.median(adapter_ms) / statistics.median(raw_ms):.1f}×",
                str(total),
                ("yes" if p95 <= BAR_MS else "NO") if under_bar else "(info)",
            ]
        )
        if under_bar:
            headline.append(
                report.Row(
                    area="Search",
                    measure=f"{name} through the adapter, p95 ({args.count:,} docs)",
                    value=p95,
                    unit="ms",
                    baseline="raw tantivy p95",
                    baseline_value=percentile(raw_ms, 0.95),
                    goal=f"≤ {BAR_MS:g} ms p95",
                    met=p95 <= BAR_MS,
                )
            )

    print(
        f"embedded search, {args.count:,} sample products (index built in {built_s:.2f} s), "
        f"{args.iterations:,} calls per query; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    print()
    print(table(rows, args.markdown))
    report.emit(headline)


if __name__ == "__main__":
    main()
