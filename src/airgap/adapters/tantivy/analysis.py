"""Text analysis shared by indexing and querying.

``text`` fields are split the way Elasticsearch's ``standard`` analyzer splits them, as
closely as a regular expression can: runs of letters, digits and ``_``, kept together across
an inner apostrophe or dot (``don't``, ``u.s``, ``3.5``), then lower-cased; tokens longer than
255 bytes are dropped. Known differences from the Unicode word-break rules: a comma between
digits splits (``1,000`` is ``1`` and ``000``), and CJK ideographs stay in runs instead of
one token per character. The same analyzer runs on query text, so the embedded engine is
always consistent with itself.
"""

from __future__ import annotations

import threading
from typing import Any

import tantivy

STANDARD = "airgap_standard"
"""Name under which the analyzer is registered on every embedded index."""

RAW = "raw"
"""tantivy's built-in tokenizer that keeps a value whole (``keyword`` fields)."""

_TOKEN_PATTERN = r"[\p{L}\p{N}\p{M}_]+(?:['’.][\p{L}\p{N}\p{M}_]+)*"  # noqa: S105
_MAX_TOKEN_BYTES = 255


def build_standard_analyzer() -> Any:
    """A fresh tantivy ``TextAnalyzer`` for ``text`` fields."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(_TOKEN_PATTERN))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.remove_long(_MAX_TOKEN_BYTES + 1))
        .build()
    )


class Analyzer:
    """Tokenises query text exactly as the index tokenised documents (thread-safe)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _analyzer(self) -> Any:
        analyzer = getattr(self._local, "analyzer", None)
        if analyzer is None:
            analyzer = build_standard_analyzer()
            self._local.analyzer = analyzer
        return analyzer

    def tokens(self, text: str) -> list[str]:
        """The terms ``text`` produces in a ``text`` field, in order."""
        return [str(token) for token in self._analyzer().analyze(text)]


def register(index: Any) -> None:
    """Register the analyzer on a tantivy index (tokenizers are not persisted with it)."""
    index.register_tokenizer(STANDARD, build_standard_analyzer())
