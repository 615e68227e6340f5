"""Snapshots of a folding service's partition state: the bytes, without any I/O.

A restart must not replay a shop's whole history, so routing, SLA and notify
checkpoint each partition's state with the input offset it covers
(``pronto.folding``) and load the newest one on assignment.

Why this format. The state is the domain's own dataclasses (operators,
queues, clocks, customers), and they change as features land: a protobuf
mirror of every class would double the domain model and drift from it. The
state is therefore pickled, but never with Python's open unpickler: records
on Kafka are input, so ``_Unpickler`` resolves only Pronto's own classes
(``pronto.*`` and ``services.*``), the ``holidays`` calendars the SLA
policies hold, and a fixed list of standard containers and time types. No
function, no ``builtins.eval``, nothing else can be named by a snapshot. The
pickle is compressed, checksummed and framed in the ``PartitionSnapshot``
protobuf (``proto/pronto/v1/snapshot.proto``), which any Kafka tool can read.

Schema changes. ``fingerprint`` names every field of every class reachable
from the state. A snapshot whose fingerprint differs is loaded tolerantly:
fields the code added get their defaults, fields it removed are dropped. A
field added without a default, a class that no longer exists, or a service's
``state_version`` bumped for a change of meaning make the snapshot
unreadable (``SnapshotError``), and the caller falls back (see folding).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pickle
import typing
import zlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from google.protobuf.message import Message

from pronto.errors import SnapshotError
from pronto.v1 import snapshot_pb2

FORMAT = 1
# Chunks of one snapshot on Kafka stay well under the 1 MiB a default broker accepts per record.
CHUNK_BYTES = 512 * 1024

_STANDARD: dict[str, frozenset[str]] = {
    "builtins": frozenset(
        {"dict", "list", "set", "frozenset", "tuple", "str", "bytes", "bytearray", "int", "float", "bool"}
    ),
    "collections": frozenset({"OrderedDict", "deque", "defaultdict", "Counter"}),
    "datetime": frozenset({"datetime", "date", "time", "timedelta", "timezone"}),
    "zoneinfo": frozenset({"ZoneInfo"}),
    "decimal": frozenset({"Decimal"}),
}
_OWN_PREFIXES = ("pronto.", "services.", "holidays.")
# Modules that moved, as snapshots written before the move name them: they are read from the new place.
MOVED = {"services.sla.domain.calendar": "pronto.calendar"}


class _Pickler(pickle.Pickler):
    """Writes time zones by name (their own pickling names a private method, which the reader
    refuses) and ordered dicts as one plain dict (five times faster than item by item)."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, ZoneInfo):
            return ZoneInfo, (obj.key,)
        if type(obj) is OrderedDict:
            return OrderedDict, (dict(obj),)
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        module = MOVED.get(module, module)
        own = module.startswith(_OWN_PREFIXES)
        if not own and name not in _STANDARD.get(module, ()):
            raise SnapshotError(f"a snapshot may not name {module}.{name}")
        try:
            found = super().find_class(module, name)
        except (ImportError, AttributeError) as exc:
            raise SnapshotError(f"the snapshot names {module}.{name}, which this code does not have") from exc
        if own and not _state_class(found):
            raise SnapshotError(f"a snapshot may not name {module}.{name}: not a class of Pronto's state")
        return found


def _state_class(found: Any) -> bool:
    """Defined by Pronto (or the holidays package) as data: a dataclass, an enum, a protobuf message.
    A class merely imported into one of Pronto's modules (a process, a client) never qualifies."""
    if not isinstance(found, type) or not found.__module__.startswith(_OWN_PREFIXES):
        return False
    if found.__module__.startswith("holidays."):
        return True
    return dataclasses.is_dataclass(found) or issubclass(found, Enum | Message)


def fingerprint(state_type: Any) -> str:
    """The fields of every dataclass that the type ``state_type`` names, recursively: its schema.

    Read from the classes' annotations, not from a state (walking a state of 200,000 remembered
    event ids on every snapshot would cost more than pickling it).
    """
    described: dict[str, str] = {}
    pending = [state_type]
    while pending:
        current = pending.pop()
        if isinstance(current, str):
            continue
        pending.extend(typing.get_args(current))
        origin = typing.get_origin(current)
        if origin is not None:
            pending.append(origin)
        if not (isinstance(current, type) and dataclasses.is_dataclass(current)):
            continue
        name = f"{current.__module__}.{current.__qualname__}"
        if name in described:
            continue
        hints = typing.get_type_hints(current)
        described[name] = ",".join(f"{f.name}:{hints.get(f.name)}" for f in dataclasses.fields(current))
        pending.extend(hints.get(f.name) for f in dataclasses.fields(current))
    text = "\n".join(f"{name}({fields})" for name, fields in sorted(described.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def dump(state: Any) -> bytes:
    """The state's pickle: the part of a snapshot that must be taken while the state holds still."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=5).dump(state)
    return buffer.getvalue()


def frame(
    pickled: bytes,
    *,
    processor: str,
    partition: int,
    next_offset: int,
    records: int,
    state_version: int,
    schema: str,
    taken_at: datetime | None = None,
    source_offsets: Mapping[str, int] | None = None,
) -> bytes:
    """The serialized ``PartitionSnapshot`` around a pickle; compresses, so a thread may do it."""
    body = zlib.compress(pickled, 1)
    snapshot = snapshot_pb2.PartitionSnapshot(
        format=FORMAT,
        processor=processor,
        schema=schema,
        state_version=state_version,
        partition=partition,
        next_offset=next_offset,
        records=records,
        state_crc32=zlib.crc32(body),
        state=body,
        source_offsets=dict(source_offsets or {}),
    )
    snapshot.taken_at.FromDatetime(taken_at or datetime.now(UTC))
    return snapshot.SerializeToString()


def encode(state: Any, **attributes: Any) -> bytes:
    """``frame(dump(state), ...)``: a whole snapshot at once."""
    return frame(dump(state), **attributes)


def read_header(data: bytes) -> snapshot_pb2.PartitionSnapshot:
    """The snapshot's frame, checked, with its state still compressed."""
    snapshot = snapshot_pb2.PartitionSnapshot()
    try:
        snapshot.ParseFromString(data)
    except Exception as exc:  # protobuf raises DecodeError, or RuntimeWarning-like errors on garbage
        raise SnapshotError(f"not a snapshot: {exc}") from exc
    if snapshot.format != FORMAT:
        raise SnapshotError(f"snapshot format {snapshot.format}; this code reads format {FORMAT}")
    # A frame cut short after its first fields parses; its state (a zlib stream) is then missing.
    if not snapshot.state:
        raise SnapshotError("the snapshot is truncated: it holds no state")
    if zlib.crc32(snapshot.state) != snapshot.state_crc32:
        raise SnapshotError("the snapshot's checksum does not match its state (corrupt or truncated)")
    return snapshot


def decode(snapshot: snapshot_pb2.PartitionSnapshot, *, state_version: int, schema: str | None = None) -> Any:
    """The state a checked snapshot holds, migrated field by field when its schema differs."""
    if snapshot.state_version != state_version:
        raise SnapshotError(
            f"state version {snapshot.state_version}; this code keeps version {state_version}"
        )
    try:
        state = _Unpickler(io.BytesIO(zlib.decompress(snapshot.state))).load()
    except SnapshotError:
        raise
    except Exception as exc:
        raise SnapshotError(f"the snapshot's state cannot be read: {exc!r}") from exc
    if schema is None or snapshot.schema != schema:
        _walk(state, _migrate)
    return state


def chunks(data: bytes, size: int = CHUNK_BYTES) -> list[bytes]:
    """``data`` cut into pieces small enough for one Kafka record each (at least one piece)."""
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def _migrate(obj: Any) -> None:
    """Give a dataclass instance restored from an older schema the fields this code added."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        return
    values = vars(obj)
    for f in dataclasses.fields(obj):
        if f.name in values:
            continue
        if f.default is not dataclasses.MISSING:
            object.__setattr__(obj, f.name, f.default)
        elif f.default_factory is not dataclasses.MISSING:
            object.__setattr__(obj, f.name, f.default_factory())
        else:
            raise SnapshotError(f"{type(obj).__qualname__}.{f.name} is new and has no default")
    for name in set(values) - {f.name for f in dataclasses.fields(obj)}:
        del values[name]


def _walk(root: Any, visit: Any) -> None:
    """Call ``visit`` on every object reachable from ``root`` through containers and dataclasses."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if isinstance(obj, str | bytes | int | float | bool | datetime) or obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        visit(obj)
        stack.extend(_children(obj))


def _children(obj: Any) -> Iterator[Any]:
    if isinstance(obj, dict):
        yield from obj.keys()
        yield from obj.values()
    elif isinstance(obj, list | tuple | set | frozenset) or type(obj).__name__ == "deque":
        yield from obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        yield from vars(obj).values()
