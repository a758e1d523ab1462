"""One embedded index: a tantivy index plus the Elasticsearch mapping it was built from.

An index is built once from documents (a JSON Lines file or any iterable of JSON objects)
and then only read, which is what makes concurrent searches safe without locks: every search
takes its own tantivy searcher over the same immutable segments. On disk an index is a
directory holding ``airgap-index.json`` (name, mapping, counts) and the tantivy files under
``tantivy/``; :func:`write_index` builds a new one beside the old and swaps it in, so readers
never see a half-built index. In memory (``directory=None``) it serves tests and embedding.

Each document is stored whole (as ``_source``, the JSON it came as, minus ``_id``) and
indexed field by field according to the mapping, plus three internal fields: ``_id``,
``_seq`` (load order, Elasticsearch's ``_doc`` order) and ``_field_names`` (which fields have
a value, for ``exists``).
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import tantivy

from airgap.adapters.tantivy import analysis
from airgap.adapters.tantivy.mapping import DocumentRejected, FieldKind, IndexMapping
from airgap.adapters.tantivy.query import FIELD_NAMES, TermDictionary

__all__ = ["EmbeddedIndex", "IndexDirectoryError", "read_json_lines", "write_index"]

META_FILE = "airgap-index.json"
DATA_DIR = "tantivy"
FORMAT_VERSION = 1
_WRITER_HEAP = 64_000_000
_MAX_ID_BYTES = 512
_INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,254}$")


class IndexDirectoryError(OSError):
    """An index directory is missing, incomplete, or from an incompatible version."""


def check_index_name(name: str) -> str:
    """An index name usable as a directory name (Elasticsearch's rules, a little stricter)."""
    if not _INDEX_NAME.match(name) or name in {".", ".."}:
        raise ValueError(f"invalid index name {name!r}: lowercase letters, digits, '.', '_', '-'")
    return name


def _schema(mapping: IndexMapping) -> Any:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("_id", stored=True, tokenizer_name=analysis.RAW)
    builder.add_bytes_field("_source", stored=True)
    builder.add_unsigned_field("_seq", indexed=False, fast=True)
    builder.add_text_field(FIELD_NAMES, tokenizer_name=analysis.RAW)
    for spec in mapping.fields.values():
        if spec.kind is FieldKind.TEXT:
            builder.add_text_field(spec.name, tokenizer_name=analysis.STANDARD)
        elif spec.kind is FieldKind.KEYWORD:
            builder.add_text_field(spec.name, fast=True, tokenizer_name=analysis.RAW)
        elif spec.kind in (FieldKind.LONG, FieldKind.DATE):
            # Dates are epoch milliseconds, Elasticsearch's own resolution.
            builder.add_integer_field(spec.name, indexed=True, fast=True)
        elif spec.kind is FieldKind.DOUBLE:
            builder.add_float_field(spec.name, indexed=True, fast=True)
        else:
            builder.add_boolean_field(spec.name, indexed=True, fast=True)
    return builder.build()


_ADDERS = {
    FieldKind.TEXT: "add_text",
    FieldKind.KEYWORD: "add_text",
    FieldKind.LONG: "add_integer",
    FieldKind.DATE: "add_integer",
    FieldKind.DOUBLE: "add_float",
    FieldKind.BOOLEAN: "add_boolean",
}


class EmbeddedIndex:
    """A searchable, read-only index. Build with :meth:`build`, reopen with :meth:`open`."""

    def __init__(
        self,
        name: str,
        mapping: IndexMapping,
        index: Any,
        *,
        document_count: int,
        multi_valued: frozenset[str],
        path: Path | None = None,
    ) -> None:
        self.name = name
        self.mapping = mapping
        self.document_count = document_count
        self.multi_valued = multi_valued
        self.path = path
        self.analyzer = analysis.Analyzer()
        self.terms = TermDictionary()
        self._index = index

    @property
    def schema(self) -> Any:
        return self._index.schema

    def searcher(self) -> Any:
        """A tantivy searcher over the index (one per search)."""
        return self._index.searcher()

    # -- building -------------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        name: str,
        mapping: IndexMapping | Mapping[str, Any],
        documents: Iterable[Mapping[str, Any]],
        *,
        directory: Path | None = None,
    ) -> EmbeddedIndex:
        """Index ``documents`` (each may carry an ``_id``; others are numbered from 1).

        With ``directory`` the index is written there (which must not exist yet); without, it
        lives in memory. Raises :class:`~airgap.adapters.tantivy.mapping.DocumentRejected`
        naming the document and field for a value its field cannot hold, and
        :class:`~airgap.adapters.tantivy.mapping.MappingError` for an unsupported mapping.
        """
        check_index_name(name)
        index_mapping = (
            mapping if isinstance(mapping, IndexMapping) else IndexMapping.from_json(mapping)
        )
        schema = _schema(index_mapping)
        data_path: Path | None = None
        if directory is not None:
            data_path = directory / DATA_DIR
            data_path.mkdir(parents=True, exist_ok=False)
            index = tantivy.Index(schema, path=str(data_path), reuse=False)
        else:
            index = tantivy.Index(schema)
        analysis.register(index)
        writer = index.writer(_WRITER_HEAP, 1)
        try:
            count, multi_valued = _add_documents(writer, index_mapping, documents)
        except BaseException:
            # Stop the writer's threads before the caller removes the directory under them.
            writer.rollback()
            writer.wait_merging_threads()
            raise
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        built = cls(
            name,
            index_mapping,
            index,
            document_count=count,
            multi_valued=frozenset(multi_valued),
            path=directory,
        )
        if directory is not None:
            built._write_meta()
        return built

    def _write_meta(self) -> None:
        assert self.path is not None
        meta = {
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "mapping": self.mapping.elasticsearch_body(),
            "document_count": self.document_count,
            "multi_valued": sorted(self.multi_valued),
            "created_at": datetime.now(UTC).isoformat(),
        }
        target = self.path / META_FILE
        temporary = self.path / f".{META_FILE}.tmp"
        with temporary.open("wb") as handle:
            handle.write(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(target)

    @classmethod
    def open(cls, directory: Path) -> EmbeddedIndex:
        """Reopen an index written by :func:`write_index`."""
        meta_path = directory / META_FILE
        try:
            meta = orjson.loads(meta_path.read_bytes())
        except FileNotFoundError as error:
            raise IndexDirectoryError(
                f"{directory} holds no embedded index ({META_FILE})"
            ) from error
        except orjson.JSONDecodeError as error:
            raise IndexDirectoryError(f"{meta_path} is not valid JSON: {error}") from error
        if meta.get("format_version") != FORMAT_VERSION:
            raise IndexDirectoryError(
                f"{directory}: index format {meta.get('format_version')!r} is not supported "
                f"(expected {FORMAT_VERSION}); load the data again"
            )
        data_path = directory / DATA_DIR
        if not tantivy.Index.exists(str(data_path)):
            raise IndexDirectoryError(f"{data_path} holds no tantivy index")
        index = tantivy.Index.open(str(data_path))
        analysis.register(index)
        return cls(
            str(meta["name"]),
            IndexMapping.from_json(meta["mapping"]),
            index,
            document_count=int(meta["document_count"]),
            multi_valued=frozenset(meta.get("multi_valued", [])),
            path=directory,
        )


def _add_documents(
    writer: Any, mapping: IndexMapping, documents: Iterable[Mapping[str, Any]]
) -> tuple[int, set[str]]:
    seen: set[str] = set()
    multi_valued: set[str] = set()
    count = 0
    fields = mapping.fields
    for position, document in enumerate(documents):
        if not isinstance(document, Mapping):
            raise DocumentRejected(f"document {position + 1} is not a JSON object")
        source = {str(k): v for k, v in document.items() if k != "_id"}
        raw_id = document.get("_id", position + 1)
        doc_id = str(raw_id)
        if not doc_id or len(doc_id.encode("utf-8")) > _MAX_ID_BYTES:
            raise DocumentRejected(f"document {position + 1}: _id must be 1 to 512 bytes")
        if doc_id in seen:
            raise DocumentRejected(f"document {position + 1}: duplicate _id {doc_id!r}")
        seen.add(doc_id)
        try:
            values = mapping.index_values(source)
            source_bytes = orjson.dumps(source)
        except DocumentRejected as error:
            raise DocumentRejected(f"document {doc_id!r}: {error}") from error
        except TypeError as error:
            raise DocumentRejected(f"document {doc_id!r}: {error}") from error
        doc = tantivy.Document()
        doc.add_text("_id", doc_id)
        doc.add_bytes("_source", source_bytes)
        doc.add_unsigned("_seq", position)
        for name, field_values in values.items():
            adder = getattr(doc, _ADDERS[fields[name].kind])
            for value in field_values:
                adder(name, value)
            doc.add_text(FIELD_NAMES, name)
            if len(field_values) > 1:
                multi_valued.add(name)
        writer.add_document(doc)
        count += 1
    return count, multi_valued


def read_json_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Documents of a JSON Lines file, one object per non-blank line."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise DocumentRejected(f"{path}:{number}: not valid JSON ({error})") from error
            if not isinstance(value, dict):
                raise DocumentRejected(f"{path}:{number}: a line must hold a JSON object")
            yield value


def write_index(
    data_dir: Path,
    name: str,
    mapping: IndexMapping | Mapping[str, Any],
    documents: Iterable[Mapping[str, Any]],
) -> EmbeddedIndex:
    """Build index ``name`` under ``data_dir`` and swap it in for any previous one.

    The new index is built in a hidden sibling directory; only a complete index replaces
    the old one (two renames), and a failed build leaves the old index untouched.
    """
    check_index_name(name)
    data_dir.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    building = data_dir / f".{name}.building-{token}"
    try:
        EmbeddedIndex.build(name, mapping, documents, directory=building)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    target = data_dir / name
    retired = data_dir / f".{name}.retired-{token}"
    if target.exists():
        target.rename(retired)
    building.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
    return EmbeddedIndex.open(target)


def index_directories(data_dir: Path) -> list[Path]:
    """The index directories under ``data_dir`` (hidden work directories excluded)."""
    if not data_dir.is_dir():
        return []
    return sorted(
        p
        for p in data_dir.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / META_FILE).is_file()
    )
