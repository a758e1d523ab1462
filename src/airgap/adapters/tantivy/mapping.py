"""An index's declared mapping, in Elasticsearch's mapping language, and what it means for
the embedded engine.

A mapping is the same JSON an operator would send to Elasticsearch
(``{"properties": {"name": {"type": "text"}, ...}}``, optionally wrapped in ``"mappings"``).
Supported field types: ``text``; ``keyword``; ``long``/``integer``/``short``/``byte``;
``double``/``float``/``half_float``/``scaled_float``; ``date`` (with ``format``);
``boolean``; objects (``properties``, flattened to dotted names) and multi-fields
(``"fields": {"keyword": {"type": "keyword"}}`` gives ``name.keyword``). Anything else is
refused when the mapping is read, so a document can never be half-indexed.

Documents follow Elasticsearch's coercion rules (numeric strings become numbers, numbers
become keyword strings, ``"true"`` is true, arrays hold several values). Fields a mapping
does not declare are kept in ``_source`` but not indexed, like ``"dynamic": false``.
"""

from __future__ import annotations

import enum
import fnmatch
import math
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from airgap.adapters.tantivy.dates import DateFormatError, DateFormats

__all__ = ["DocumentRejected", "FieldKind", "FieldSpec", "IndexMapping", "MappingError"]

# Keyword terms longer than this cannot be indexed (Lucene refuses them too).
_MAX_KEYWORD_BYTES = 32_766


class MappingError(ValueError):
    """The mapping uses something the embedded engine cannot honour."""


class DocumentRejected(ValueError):
    """A document value cannot be indexed under its field's type."""


class FieldKind(enum.Enum):
    TEXT = "text"
    KEYWORD = "keyword"
    LONG = "long"
    DOUBLE = "double"
    DATE = "date"
    BOOLEAN = "boolean"

    @property
    def numeric(self) -> bool:
        return self in (FieldKind.LONG, FieldKind.DOUBLE, FieldKind.DATE)

    @property
    def has_doc_values(self) -> bool:
        """Can be sorted and aggregated on (Elasticsearch: has doc values)."""
        return self is not FieldKind.TEXT


_TYPES: dict[str, FieldKind] = {
    "text": FieldKind.TEXT,
    "match_only_text": FieldKind.TEXT,
    "keyword": FieldKind.KEYWORD,
    "long": FieldKind.LONG,
    "integer": FieldKind.LONG,
    "short": FieldKind.LONG,
    "byte": FieldKind.LONG,
    "double": FieldKind.DOUBLE,
    "float": FieldKind.DOUBLE,
    "half_float": FieldKind.DOUBLE,
    "scaled_float": FieldKind.DOUBLE,
    "date": FieldKind.DATE,
    "boolean": FieldKind.BOOLEAN,
}
_INTEGER_LIMITS = {
    "long": (-(2**63), 2**63 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-(2**7), 2**7 - 1),
}
# Options that change nothing the embedded engine answers (storage and scoring details).
_IGNORED_OPTIONS = frozenset({"store", "norms", "similarity", "boost"})


@attrs.frozen
class FieldSpec:
    """One indexed field. ``source_path`` is where its values live in ``_source`` (the parent
    field for a multi-field such as ``name.keyword``)."""

    name: str
    kind: FieldKind
    es_type: str
    source_path: str
    formats: DateFormats | None = None
    format_spec: str | None = None

    def describe(self) -> str:
        return f"[{self.name}] of type [{self.es_type}]"


def _check_options(path: str, spec: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for key, value in spec.items():
        if key in allowed or key in _IGNORED_OPTIONS:
            continue
        if key in {"index", "doc_values"} and value is True:
            continue
        if key in {"analyzer", "search_analyzer"}:
            if value != "standard":
                raise MappingError(f"{path}: analyzer {value!r} is unsupported (only standard)")
            continue
        raise MappingError(f"{path}: mapping option {key!r} is unsupported by the embedded backend")


@attrs.frozen
class IndexMapping:
    """The fields of one index, by dotted name, and the mapping they came from."""

    fields: Mapping[str, FieldSpec]
    source: Mapping[str, Any]
    # Fields by the _source path holding their values (multi-fields excluded).
    _leaves: Mapping[str, FieldSpec] = attrs.field(
        init=False,
        default=attrs.Factory(
            lambda self: {
                f.source_path: f for f in self.fields.values() if f.name == f.source_path
            },
            takes_self=True,
        ),
    )

    @classmethod
    def from_json(cls, mapping: Mapping[str, Any]) -> IndexMapping:
        """Read an Elasticsearch mapping; raises :class:`MappingError` for what the embedded
        engine cannot honour."""
        root = mapping.get("mappings", mapping)
        if not isinstance(root, Mapping):
            raise MappingError("mapping must be a JSON object")
        unknown = set(root) - {"properties", "dynamic", "_source"}
        if unknown:
            raise MappingError(
                f"mapping keys unsupported by the embedded backend: {sorted(unknown)}"
            )
        properties = root.get("properties")
        if not isinstance(properties, Mapping) or not properties:
            raise MappingError("mapping needs a non-empty 'properties' object")
        fields: dict[str, FieldSpec] = {}
        _collect(properties, "", fields)
        return cls(fields=fields, source={"properties": _copy(properties)})

    def field(self, name: str) -> FieldSpec | None:
        return self.fields.get(name)

    def matching(self, pattern: str) -> list[FieldSpec]:
        """Fields whose name matches a pattern with ``*`` wildcards, in mapping order."""
        if "*" not in pattern and "?" not in pattern:
            spec = self.fields.get(pattern)
            return [spec] if spec else []
        return [f for name, f in self.fields.items() if fnmatch.fnmatchcase(name, pattern)]

    def elasticsearch_body(self) -> dict[str, Any]:
        """The mapping as sent to Elasticsearch's create-index API."""
        return {"properties": _copy(self.source["properties"])}

    # -- documents ------------------------------------------------------------------------------

    def index_values(self, source: Mapping[str, Any]) -> dict[str, list[Any]]:
        """Field name → coerced values of one document (fields without values are absent).

        Raises :class:`DocumentRejected` naming the field when a value does not fit its type.
        """
        flat: dict[str, list[Any]] = {}
        _flatten(source, "", flat)
        for path in flat:
            parent = path.rpartition(".")[0]
            while parent:
                spec = self._leaves.get(parent)
                if spec is not None:
                    raise DocumentRejected(
                        f"failed to parse field {spec.describe()}: an object where a value "
                        "was expected"
                    )
                parent = parent.rpartition(".")[0]
        out: dict[str, list[Any]] = {}
        for spec in self.fields.values():
            raw = flat.get(spec.source_path)
            if not raw:
                continue
            values = [_coerce(spec, v) for v in raw if v is not None]
            if values:
                out[spec.name] = values
        return out


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _collect(properties: Mapping[str, Any], prefix: str, out: dict[str, FieldSpec]) -> None:
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        if not isinstance(spec, Mapping):
            raise MappingError(f"{path}: field mapping must be an object")
        if not name or name.startswith("_") or "*" in name:
            raise MappingError(f"{path}: invalid field name")
        kind_name = spec.get("type", "object" if "properties" in spec else None)
        if kind_name in {"object", None}:
            _check_options(path, spec, frozenset({"type", "properties", "dynamic", "enabled"}))
            children = spec.get("properties")
            if not isinstance(children, Mapping):
                raise MappingError(f"{path}: an object needs 'properties'")
            _collect(children, f"{path}.", out)
            continue
        out.update({f.name: f for f in _field(path, path, spec)})


def _field(path: str, source_path: str, spec: Mapping[str, Any]) -> Iterator[FieldSpec]:
    es_type = spec.get("type")
    kind = _TYPES.get(str(es_type))
    if kind is None:
        raise MappingError(f"{path}: field type {es_type!r} is unsupported by the embedded backend")
    allowed = {"type", "fields"}
    formats = None
    format_spec = None
    if kind is FieldKind.DATE:
        allowed.add("format")
        format_spec = spec.get("format")
        try:
            formats = DateFormats.parse(format_spec)
        except DateFormatError as error:
            raise MappingError(f"{path}: {error}") from error
    if es_type == "scaled_float":
        allowed.add("scaling_factor")
    if kind in (FieldKind.KEYWORD,):
        allowed.add("ignore_above")
    if kind.numeric or kind is FieldKind.BOOLEAN:
        allowed.update({"coerce", "ignore_malformed"})
    _check_options(path, spec, frozenset(allowed))
    if spec.get("ignore_malformed"):
        raise MappingError(f"{path}: ignore_malformed is unsupported by the embedded backend")
    yield FieldSpec(path, kind, str(es_type), source_path, formats, format_spec)
    subfields = spec.get("fields", {})
    if not isinstance(subfields, Mapping):
        raise MappingError(f"{path}: 'fields' must be an object")
    for sub_name, sub_spec in subfields.items():
        if not isinstance(sub_spec, Mapping) or "fields" in sub_spec:
            raise MappingError(f"{path}.{sub_name}: invalid multi-field")
        yield from _field(f"{path}.{sub_name}", source_path, sub_spec)


def _flatten(value: Mapping[str, Any], prefix: str, out: dict[str, list[Any]]) -> None:
    for key, item in value.items():
        _flatten_value(item, f"{prefix}{key}", out)


def _flatten_value(value: Any, path: str, out: dict[str, list[Any]]) -> None:
    # Objects flatten to dotted names and arrays to several values, as in Elasticsearch.
    if isinstance(value, Mapping):
        _flatten(value, f"{path}.", out)
    elif isinstance(value, list):
        for item in value:
            _flatten_value(item, path, out)
    else:
        out.setdefault(path, []).append(value)


def _coerce(spec: FieldSpec, value: Any) -> Any:
    kind = spec.kind
    try:
        if kind is FieldKind.TEXT or kind is FieldKind.KEYWORD:
            return _string(spec, value)
        if kind is FieldKind.LONG:
            return _long(spec, value)
        if kind is FieldKind.DOUBLE:
            return _double(value)
        if kind is FieldKind.BOOLEAN:
            return _boolean(value)
        assert spec.formats is not None
        return spec.formats.to_millis(value)
    except (ValueError, TypeError, OverflowError) as error:
        raise DocumentRejected(
            f"failed to parse field {spec.describe()}: {value!r} ({error})"
        ) from error


def _string(spec: FieldSpec, value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float | str):
        text = str(value)
    else:
        raise TypeError("expected a string")
    if spec.kind is FieldKind.KEYWORD and len(text.encode("utf-8")) > _MAX_KEYWORD_BYTES:
        raise ValueError(f"keyword longer than {_MAX_KEYWORD_BYTES} bytes")
    return text


def _long(spec: FieldSpec, value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("expected a number")
    if isinstance(value, str):
        value = float(value) if any(c in value for c in ".eE") else int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        value = int(value)  # Elasticsearch coerces by truncation
    if not isinstance(value, int):
        raise TypeError("expected a number")
    low, high = _INTEGER_LIMITS.get(spec.es_type, _INTEGER_LIMITS["long"])
    if not low <= value <= high:
        raise ValueError(f"out of range for {spec.es_type}")
    return value


def _double(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError("expected a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true",):
        return True
    if value in ("false", ""):
        return False
    raise ValueError("expected true or false")
