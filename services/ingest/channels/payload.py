"""Reading platform payloads with errors that name the path of what is wrong."""

from __future__ import annotations

import builtins
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from services.ingest.errors import MalformedPayload

log = logging.getLogger("pronto.ingest.channels")
T = TypeVar("T")


# JSON may escape half of a UTF-16 surrogate pair alone (``"\ud800"``), as a widget cutting a text
# in the middle of an emoji sends; decoded, it is a code point no UTF-8 (nor protobuf) can hold.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
LONE_SURROGATES_NOTE = (
    "the payload had lone UTF-16 surrogates (text cut in the middle of a character): "
    "each is replaced with U+FFFD"
)


def load_json(body: bytes) -> Any:
    """The JSON document, with lone surrogates replaced by U+FFFD: the message is kept, not refused."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, too deep, integers too long
        raise MalformedPayload(f"the body is not valid JSON: {exc}") from exc
    # Pairs are joined by the decoder, so whatever surrogate is left is a lone one.
    return _without_surrogates(document) if _SURROGATE_ESCAPE.search(body) else document


def has_lone_surrogates(body: bytes) -> bool:
    """Whether ``load_json`` replaced anything in ``body`` (so that the messages can say so)."""
    if not _SURROGATE_ESCAPE.search(body):
        return False
    try:
        return _LONE_SURROGATE.search(json.dumps(json.loads(body), ensure_ascii=False)) is not None
    except (ValueError, RecursionError):
        return False


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


class Obj:
    """A JSON object at ``path`` in a payload; accessors raise MalformedPayload naming the field."""

    def __init__(self, data: Any, path: builtins.str = "body") -> None:
        if not isinstance(data, dict):
            raise MalformedPayload(f"{path} must be an object, got {type(data).__name__}")
        self.data: dict[builtins.str, Any] = data
        self.path = path

    def has(self, key: builtins.str) -> bool:
        return self.data.get(key) is not None

    def str(self, key: builtins.str, default: builtins.str | None = None) -> builtins.str:
        value = self.data.get(key)
        if value is None:
            if default is None:
                raise MalformedPayload(f"{self.path}.{key} is required")
            return default
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise MalformedPayload(f"{self.path}.{key} must be a string, got {type(value).__name__}")
        return str(value)

    def int(self, key: builtins.str, default: int | None = None) -> int:
        value = self.data.get(key)
        if value is None:
            if default is None:
                raise MalformedPayload(f"{self.path}.{key} is required")
            return default
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise MalformedPayload(f"{self.path}.{key} must be an integer, got {type(value).__name__}")
        try:
            return int(value)
        except ValueError as exc:
            raise MalformedPayload(f"{self.path}.{key} must be an integer, got {value!r}") from exc

    def flag(self, key: builtins.str) -> bool:
        """True only when the field is JSON ``true``: absent, false or anything else is False."""
        return self.data.get(key) is True

    def obj(self, key: builtins.str) -> Obj:
        if self.data.get(key) is None:
            raise MalformedPayload(f"{self.path}.{key} is required")
        return Obj(self.data[key], f"{self.path}.{key}")

    def maybe(self, key: builtins.str) -> Obj | None:
        return None if self.data.get(key) is None else Obj(self.data[key], f"{self.path}.{key}")

    def list(self, key: builtins.str, required: bool = True) -> list[Obj]:
        value = self.data.get(key)
        if value is None:
            if required:
                raise MalformedPayload(f"{self.path}.{key} is required")
            return []
        if not isinstance(value, list):
            raise MalformedPayload(f"{self.path}.{key} must be a list, got {type(value).__name__}")
        return [Obj(item, f"{self.path}.{key}[{i}]") for i, item in enumerate(value)]


@dataclass(frozen=True)
class Unreadable:
    """A part of a platform's delivery that cannot be read: where it is in the body, and why.

    The webhook dead-letters it and accepts the rest. Refusing the whole delivery would make the
    platform retry the readable messages together with this one, then drop them all.
    """

    path: builtins.str
    reason: builtins.str
    channel: int


def loggable(exc: BaseException) -> builtins.str:
    """What may be logged of an exception a hostile payload raised: its type and where, never what it
    quotes (a ``UnicodeDecodeError`` holds the bytes it could not decode, a ``KeyError`` the key)."""
    if isinstance(exc, UnicodeError):
        start, end = getattr(exc, "start", None), getattr(exc, "end", None)
        where = f" at bytes {start}-{end}" if start is not None else ""
        return f"{type(exc).__name__} ({getattr(exc, 'encoding', '?')}{where})"
    return type(exc).__name__


def guarded(path: builtins.str, channel: int, read: Callable[[], Iterable[T]]) -> list[T | Unreadable]:
    """What ``read`` finds, or the part at ``path`` as Unreadable when it trips over it.

    Any exception counts, not only MalformedPayload: a hostile part must not take the readable
    ones down with it, nor turn into a 500.
    """
    try:
        return list(read())
    except MalformedPayload as exc:
        return [Unreadable(path, str(exc), channel)]
    except Exception as exc:  # RecursionError, ValueError from protobuf...
        log.warning("a part of a delivery could not be read at %s: %s", path, loggable(exc))
        return [Unreadable(path, f"{path} cannot be read: {type(exc).__name__}: {exc}", channel)]


def each_part(
    parent: Obj, key: builtins.str, channel: int, read: Callable[[Obj], Iterable[T]], required: bool = False
) -> Iterator[T | Unreadable]:
    """``read`` of each object in the list ``parent.key``; one that cannot be read does not stop the others.

    The list itself must be there (when ``required``) and be a list: without it the body is not the
    platform's shape at all, which is the caller's to refuse.
    """
    items = parent.data.get(key)
    if items is None:
        if required:
            raise MalformedPayload(f"{parent.path}.{key} is required")
        return
    if not isinstance(items, list):
        raise MalformedPayload(f"{parent.path}.{key} must be a list, got {type(items).__name__}")
    for index, item in enumerate(items):
        path = f"{parent.path}.{key}[{index}]"
        yield from guarded(path, channel, partial(_read_at, read, item, path))


def _read_at(read: Callable[[Obj], Iterable[T]], item: Any, path: builtins.str) -> Iterable[T]:
    return read(Obj(item, path))


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    try:
        stamp.FromDatetime(moment.astimezone(UTC))
    except (OverflowError, ValueError) as exc:
        raise MalformedPayload(f"the time {moment.isoformat()} is out of range") from exc
    return stamp


def from_epoch(value: int, path: str, milliseconds: bool = False) -> Timestamp:
    try:
        return timestamp(datetime.fromtimestamp(value / 1000 if milliseconds else value, UTC))
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedPayload(f"{path} is not a valid time: {value!r}") from exc


def from_iso(value: str, path: str) -> Timestamp:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MalformedPayload(f"{path} is not an ISO 8601 time: {value!r}") from exc
    if moment.tzinfo is None:
        raise MalformedPayload(f"{path} needs a time zone (e.g. Z or +01:00): {value!r}")
    return timestamp(moment)
