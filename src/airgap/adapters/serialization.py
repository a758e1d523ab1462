"""The wire spelling of the transfer format v1: records as JSON Lines, manifests as JSON.

One factory-built cattrs converter (never a module-level global) turns the domain's attrs
classes into plain JSON values and back. Structuring is strict: a string is never made out
of a number, unknown keys are refused, and any failure becomes a ``ValueError`` with a
one-line message that names the field, so the batch reader can quarantine with a reason.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import attrs
import cattrs
import orjson
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from airgap.domain.model.batching import (
    FORMAT_VERSION,
    Acks,
    BatchType,
    EncryptionInfo,
    ImportStatus,
    Manifest,
    Network,
    Rejection,
    SignatureInfo,
)
from airgap.domain.model.canonical import canonical_json
from airgap.domain.model.records import (
    ImportReportRecord,
    RequestRecord,
    ResultRecord,
    TransferRecord,
    UserRecord,
)

RECORD_TYPES: dict[str, type[Any]] = {
    "request": RequestRecord,
    "result": ResultRecord,
    "user": UserRecord,
    "import_report": ImportReportRecord,
}
TYPE_OF: dict[type[Any], str] = {cls: name for name, cls in RECORD_TYPES.items()}


def format_datetime(value: datetime) -> str:
    """UTC, ISO 8601, microseconds, ``Z`` suffix."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 timestamp")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("timestamp without a time zone")
    return parsed.astimezone(UTC)


def _strict(kind: type[Any]) -> Any:
    def structure(value: object, _type: object) -> Any:
        # bool is an int in Python; JSON keeps them apart and so do we.
        if isinstance(value, bool) and kind is not bool:
            raise ValueError(f"expected {kind.__name__}, got a boolean")
        if kind is float and isinstance(value, int):
            return float(value)
        if not isinstance(value, kind):
            raise ValueError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return structure


def _json_value(value: object, _type: object) -> Any:
    return value


def make_converter() -> cattrs.Converter:
    """The converter for transfer records and manifests."""
    converter = cattrs.Converter(forbid_extra_keys=True)
    for kind in (str, int, float, bool):
        converter.register_structure_hook(kind, _strict(kind))
    converter.register_unstructure_hook(uuid.UUID, str)
    converter.register_structure_hook(uuid.UUID, lambda v, _t: uuid.UUID(_expect_str(v)))
    converter.register_unstructure_hook(datetime, format_datetime)
    converter.register_structure_hook(datetime, lambda v, _t: parse_datetime(v))
    # Query params and result bodies are free-form JSON: passed through as they are.
    converter.register_structure_hook_func(lambda t: t == Mapping[str, Any], _mapping)
    converter.register_unstructure_hook_func(lambda t: t == Mapping[str, Any], lambda v: v)
    for enum_type in (BatchType, Network, ImportStatus):
        converter.register_structure_hook(enum_type, _enum(enum_type))
        converter.register_unstructure_hook(enum_type, lambda e: e.value)
    converter.register_unstructure_hook(
        Acks, lambda a: {"received": [list(r) for r in a.received], "missing": list(a.missing)}
    )
    converter.register_structure_hook(Acks, _acks)
    for cls in (ImportReportRecord, Rejection, EncryptionInfo, SignatureInfo):
        converter.register_structure_hook(
            cls, make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=True)
        )
    converter.register_unstructure_hook(
        Manifest,
        make_dict_unstructure_fn(Manifest, converter, _cattrs_omit_if_default=False),
    )
    converter.register_structure_hook(
        Manifest,
        make_dict_structure_fn(
            Manifest,
            converter,
            _cattrs_forbid_extra_keys=True,
            acks=override(omit_if_default=False),
        ),
    )
    return converter


def _expect_str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _mapping(value: object, _type: object) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("expected an object")
    return value


def _enum(enum_type: Any) -> Any:
    def structure(value: object, _type: object) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"expected one of {[e.value for e in enum_type]}")
        return enum_type(value)

    return structure


def _acks(value: object, _type: object) -> Acks:
    if not isinstance(value, dict) or set(value) != {"received", "missing"}:
        raise ValueError("acks must be {received, missing}")
    received, missing = value["received"], value["missing"]
    if not isinstance(received, list) or not isinstance(missing, list):
        raise ValueError("acks.received and acks.missing must be lists")
    ranges: list[tuple[int, int]] = []
    for item in received:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not all(type(n) is int and n >= 1 for n in item)
            or item[0] > item[1]
        ):
            raise ValueError("acks.received holds [first, last] pairs of sequence numbers")
        ranges.append((item[0], item[1]))
    if not all(type(n) is int and n >= 1 for n in missing):
        raise ValueError("acks.missing holds sequence numbers")
    return Acks(received=tuple(ranges), missing=tuple(missing))


@lru_cache(maxsize=1)
def _shared() -> cattrs.Converter:
    # Building a converter costs milliseconds; the codec functions below reuse one built by
    # the factory (still never a mutable global that callers configure).
    return make_converter()


def json_depth_exceeds(value: object, limit: int) -> bool:
    """True if ``value`` nests objects/arrays deeper than ``limit`` (checked iteratively)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def record_to_json(record: TransferRecord) -> dict[str, Any]:
    data: dict[str, Any] = _shared().unstructure(record)
    return {"type": TYPE_OF[type(record)], **data}


# --- the fast path for records ----------------------------------------------------------------
# Packing runs once per record, hundreds of thousands of times per second (SPEC §13), and
# cattrs' generic unstructuring costs more than all the rest. orjson writes UUIDs, str enums,
# tuples and UTC datetimes natively in exactly the spelling the converter produces, so each
# attrs class only needs turning into a dict of its fields. ``record_to_json`` stays the
# reference; the tests check that both give the same JSON.


def _wire_datetime(value: datetime) -> datetime | str:
    """Hand orjson an aware UTC datetime with microseconds, which it writes exactly as
    :func:`format_datetime` does; anything else (a whole second, another zone, naive) is
    spelled by :func:`format_datetime` itself, which also refuses naive values."""
    if value.tzinfo is UTC and value.microsecond:
        return value
    return format_datetime(value)


def _fields_builder(cls: type[Any], tag: str | None) -> Callable[[Any], dict[str, Any]]:
    """A function that turns an instance of the attrs class ``cls`` into a dict of its
    fields (tagged with ``"type": tag``), compiled from the field list as attrs and cattrs do
    it: a literal dict expression runs several times faster than a loop over the fields."""
    items = [] if tag is None else [f"'type': {tag!r}"]
    for field in attrs.fields(attrs.resolve_types(cls)):
        name = field.name
        if not name.isidentifier():  # pragma: no cover - attrs guarantees it
            raise TypeError(f"unexpected field name {name!r}")
        if field.type is datetime:
            items.append(f"{name!r}: _wire_datetime(obj.{name})")
        else:
            items.append(f"{name!r}: obj.{name}")
    source = f"def build(obj):\n    return {{{', '.join(items)}}}\n"
    namespace: dict[str, Any] = {"_wire_datetime": _wire_datetime}
    exec(compile(source, f"<airgap wire {cls.__name__}>", "exec"), namespace)  # noqa: S102 - source built from attrs field names only
    build: Callable[[Any], dict[str, Any]] = namespace["build"]
    return build


_BUILDERS: dict[type[Any], Callable[[Any], dict[str, Any]]] = {}


def _builder(kind: type[Any]) -> Callable[[Any], dict[str, Any]] | None:
    if not _BUILDERS:
        _BUILDERS.update({cls: _fields_builder(cls, tag) for tag, cls in RECORD_TYPES.items()})
        _BUILDERS[Rejection] = _fields_builder(Rejection, None)
    return _BUILDERS.get(kind)


def _json_default(value: Any) -> Any:
    build = _builder(type(value))
    if build is not None:
        return build(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


_RECORD_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_UTC_Z


def encode_record(record: TransferRecord) -> bytes:
    """One JSON Lines line (with its ``\\n``)."""
    build = _BUILDERS.get(type(record)) or _builder(type(record))
    if build is None or type(record) not in TYPE_OF:
        raise TypeError(f"not a transfer record: {type(record).__name__}")
    return orjson.dumps(build(record), default=_json_default, option=_RECORD_OPTIONS)


def decode_record(line: bytes, *, max_depth: int = 32) -> TransferRecord:
    """Parse one line; ``ValueError`` with a short reason for anything wrong."""
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        if str(error).startswith("depth limit"):
            raise ValueError(f"nested deeper than {max_depth}") from None
        raise ValueError(f"not JSON ({_short(error)})") from None
    if not isinstance(data, dict):
        raise ValueError("a record must be a JSON object")
    # Nesting can be no deeper than the number of brackets on the line, and walking every
    # value costs more than parsing: count first (in C), walk only when it could matter.
    if line.count(b"{") + line.count(b"[") > max_depth and json_depth_exceeds(data, max_depth):
        raise ValueError(f"nested deeper than {max_depth}")
    kind = data.pop("type", None)
    cls = RECORD_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown record type {kind!r}")
    try:
        record: TransferRecord = _shared().structure(data, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as error:
        raise ValueError(f"bad {kind} record: {_describe(error)}") from None
    return record


#: The manifest's own checksum: SHA-256 (hex) of the canonical JSON of every other field
#: except ``signature``. A signature is optional, and without one nothing else would notice
#: a carrier changing a digit of ``sequence`` or ``acks`` -- and a receiver that believes a
#: wrong ``sequence`` acknowledges a batch it never got, whose requests are then never
#: re-sent. The checksum guards against damage, not forgery (that is the signature's job).
MANIFEST_CHECKSUM = "manifest_sha256"


def manifest_to_json(manifest: Manifest) -> dict[str, Any]:
    """The manifest's JSON object, ``manifest_sha256`` included."""
    data: dict[str, Any] = _shared().unstructure(manifest)
    data[MANIFEST_CHECKSUM] = manifest_checksum(data)
    return data


def manifest_checksum(data: Mapping[str, Any]) -> str:
    """``manifest_sha256`` of a manifest's JSON object (as written or as read)."""
    covered = {key: value for key, value in data.items() if key not in _UNCHECKED}
    return hashlib.sha256(canonical_json(covered).encode("utf-8")).hexdigest()


_UNCHECKED = frozenset({"signature", MANIFEST_CHECKSUM})


def manifest_from_json(data: object) -> Manifest:
    """The manifest from its JSON object. Every field must be present (``encryption`` and
    ``signature`` as ``null`` when unused): a reader never fills in what a writer left out."""
    if not isinstance(data, dict):
        raise ValueError("the manifest must be a JSON object")
    missing = [name for name in (*_manifest_fields(), MANIFEST_CHECKSUM) if name not in data]
    if missing:
        raise ValueError(f"bad manifest: missing keys {missing}")
    try:
        intact = data[MANIFEST_CHECKSUM] == manifest_checksum(data)
    except ValueError:  # a value canonical JSON cannot spell: not what any writer wrote
        intact = False
    if not intact:
        raise ValueError(
            f"{MANIFEST_CHECKSUM} does not match its contents (damaged or altered on the way)"
        )
    fields = {key: value for key, value in data.items() if key != MANIFEST_CHECKSUM}
    try:
        manifest: Manifest = _shared().structure(fields, Manifest)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as error:
        raise ValueError(f"bad manifest: {_describe(error)}") from None
    return manifest


@lru_cache(maxsize=1)
def _manifest_fields() -> tuple[str, ...]:
    return tuple(field.name for field in attrs.fields(Manifest))


def signed_bytes(manifest: Manifest) -> bytes:
    """What a signature covers: the canonical JSON of the manifest without ``signature``
    (``manifest_sha256`` included)."""
    return signed_bytes_of_json(manifest_to_json(manifest))


def signed_bytes_of_json(data: Mapping[str, Any]) -> bytes:
    """The same bytes computed from a manifest's JSON object as read from a file, so a reader
    verifies what the sender wrote rather than its own re-spelling of it."""
    unsigned = {key: value for key, value in data.items() if key != "signature"}
    return canonical_json(unsigned).encode("utf-8")


#: What a manifest may claim beyond its types (the schema's value rules).
SIGNATURE_ALGORITHM = "Ed25519"
ENCRYPTION_ALGORITHM = "AES-256-GCM"
NONCE_BYTES = 12
SIGNATURE_BYTES = 64
MIN_SEGMENT_SIZE = 1024
MAX_SEGMENT_SIZE = 4 * 1024 * 1024
_KEY_ID_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
_HEX = frozenset("0123456789abcdef")


def check_manifest_values(manifest: Manifest) -> None:
    """The value rules of format v1 that types alone do not express; ``ValueError`` with a
    one-line reason naming the field."""
    if manifest.format_version != FORMAT_VERSION:
        raise ValueError(f"unsupported format_version {manifest.format_version}")
    if manifest.sequence < 1:
        raise ValueError("sequence must be 1 or more")
    if manifest.record_count < 0 or manifest.payload_size < 0:
        raise ValueError("record_count and payload_size must not be negative")
    digest = manifest.payload_sha256
    if len(digest) != 64 or not set(digest) <= _HEX:
        raise ValueError("payload_sha256 must be 64 lowercase hex digits")
    if manifest.source_network is manifest.destination_network:
        raise ValueError("source_network and destination_network are the same")
    if manifest.encryption is not None:
        encryption = manifest.encryption
        if encryption.algorithm != ENCRYPTION_ALGORITHM:
            raise ValueError(f"unsupported encryption algorithm {encryption.algorithm!r}")
        _check_key_id(encryption.key_id, "encryption.key_id")
        if len(_b64_field(encryption.nonce, "encryption.nonce")) != NONCE_BYTES:
            raise ValueError(f"encryption.nonce must be {NONCE_BYTES} bytes")
        if not MIN_SEGMENT_SIZE <= encryption.segment_size <= MAX_SEGMENT_SIZE:
            raise ValueError(
                f"encryption.segment_size must be {MIN_SEGMENT_SIZE}..{MAX_SEGMENT_SIZE}"
            )
    if manifest.signature is not None:
        signature = manifest.signature
        if signature.algorithm != SIGNATURE_ALGORITHM:
            raise ValueError(f"unsupported signature algorithm {signature.algorithm!r}")
        _check_key_id(signature.key_id, "signature.key_id")
        if len(_b64_field(signature.value, "signature.value")) != SIGNATURE_BYTES:
            raise ValueError(f"signature.value must be {SIGNATURE_BYTES} bytes")


def _check_key_id(key_id: str, field: str) -> None:
    # Key ids end up in file names, logs and one-line reasons: keep them plain.
    if not 1 <= len(key_id) <= 64 or not set(key_id) <= _KEY_ID_CHARACTERS:
        raise ValueError(f"{field} must be 1-64 characters of [A-Za-z0-9._-]")


def _b64_field(text: str, field: str) -> bytes:
    try:
        return unb64(text)
    except (ValueError, UnicodeEncodeError):
        raise ValueError(f"{field} is not base64") from None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _short(error: Exception) -> str:
    return str(error).splitlines()[0][:120]


def _describe(error: BaseException) -> str:
    """Flatten cattrs' exception groups into 'field: reason' text."""
    if isinstance(error, cattrs.ClassValidationError | cattrs.IterableValidationError):
        notes = []
        for sub in error.exceptions:
            where = ", ".join(str(n) for n in getattr(sub, "__notes__", []))
            notes.append(f"{_describe(sub)}" + (f" ({where})" if where else ""))
        return "; ".join(notes)[:300]
    if isinstance(error, cattrs.ForbiddenExtraKeysError):
        return f"unknown keys {sorted(error.extra_fields)}"
    if isinstance(error, KeyError):
        return f"missing {error}"
    return _short(error) if isinstance(error, Exception) else str(error)
