"""Hypothesis strategies for any protobuf message, built from its descriptor (issue #26's fuzz suite).

Every field gets what a hostile or broken client could send: strings of any
Unicode, integers at their type's ends, floats including NaN and infinities,
enum numbers the contract does not know, timestamps and durations far outside
what ``google.protobuf`` itself accepts (year 0 and 10,000, negative nanos), and
now and then a repeated field far longer than any real client sends. Oneofs set
at most one member. Depth is bounded so that recursive messages stay finite.
"""

from __future__ import annotations

from typing import Any, cast

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
# Seconds from 0001-01-01 to 9999-12-31: what Timestamp's documentation allows, and past it.
TIMESTAMP_S = (-62_135_596_800, 253_402_300_799)
DURATION_S = 315_576_000_000  # Duration's documented bound: about 10,000 years
# How many elements a "huge" repeated field has: far beyond real clients, still within a request.
HUGE = 2_000
FIELD = FieldDescriptor


def _ends(low: int, high: int) -> st.SearchStrategy[int]:
    """Any integer of the range, the ends and their neighbours more often than chance gives."""
    edges = sorted({n for n in (low, low + 1, -1, 0, 1, high - 1, high) if low <= n <= high})
    return st.one_of(st.sampled_from(edges), st.integers(low, high))


def _scalar(field: FieldDescriptor, long: bool = True) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind in (FIELD.TYPE_INT32, FIELD.TYPE_SINT32, FIELD.TYPE_SFIXED32):
        return _ends(*INT32)
    if kind in (FIELD.TYPE_INT64, FIELD.TYPE_SINT64, FIELD.TYPE_SFIXED64):
        return _ends(*INT64)
    if kind in (FIELD.TYPE_UINT32, FIELD.TYPE_FIXED32):
        return _ends(0, 2**32 - 1)
    if kind in (FIELD.TYPE_UINT64, FIELD.TYPE_FIXED64):
        return _ends(0, 2**64 - 1)
    if kind in (FIELD.TYPE_DOUBLE, FIELD.TYPE_FLOAT):
        return st.floats(width=64 if kind == FIELD.TYPE_DOUBLE else 32)
    if kind == FIELD.TYPE_BOOL:
        return st.booleans()
    if kind == FIELD.TYPE_STRING:
        # Mostly short; now and then long (a short one repeated: hypothesis draws small data cheaply).
        # Protobuf strings are UTF-8: no lone surrogates.
        short = st.text(st.characters(codec="utf-8"), max_size=40)
        if not long:
            return short
        return st.one_of(short, short, short, short.map(lambda text: (text or "x") * 1_000))
    if kind == FIELD.TYPE_BYTES:
        return st.binary(max_size=256)
    if kind == FIELD.TYPE_ENUM:
        assert field.enum_type is not None
        known = [v.number for v in field.enum_type.values]
        # Proto3 enums are open: a number the contract does not name reaches the server as is.
        return st.one_of(st.sampled_from(known), _ends(*INT32))
    raise NotImplementedError(f"no strategy for field {field.full_name} of type {kind}")


def _well_known(descriptor: Descriptor) -> st.SearchStrategy[dict[str, Any]] | None:
    if descriptor.full_name == "google.protobuf.Timestamp":
        low, high = TIMESTAMP_S
        return st.fixed_dictionaries(
            {
                "seconds": st.one_of(_ends(low, high), _ends(*INT64)),
                "nanos": st.one_of(st.integers(0, 999_999_999), _ends(*INT32)),
            }
        )
    if descriptor.full_name == "google.protobuf.Duration":
        return st.fixed_dictionaries(
            {
                "seconds": st.one_of(_ends(-DURATION_S, DURATION_S), _ends(*INT64)),
                "nanos": st.one_of(st.integers(-999_999_999, 999_999_999), _ends(*INT32)),
            }
        )
    return None


def _field(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.message_type is not None:
        single: st.SearchStrategy[Any] = fields_of(field.message_type, depth - 1)
    else:
        single = _scalar(field)
    if not field.is_repeated:
        return single
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key, value = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        return st.dictionaries(_field(key, depth), _field(value, depth), max_size=3).map(
            lambda d: [{"key": k, "value": v} for k, v in d.items()]
        )
    small = st.lists(single, max_size=3)
    # HUGE elements: short scalars, or empty messages (huge lists inside huge lists would be
    # gigabytes). One element repeated: hypothesis draws it at the cost of one.
    if field.type == FIELD.TYPE_MESSAGE:
        huge: st.SearchStrategy[list[Any]] = st.just([{}] * HUGE)
    else:
        huge = _scalar(field, long=False).map(lambda item: [item] * HUGE)
    return st.one_of(small, small, small, huge)


def fields_of(descriptor: Descriptor, depth: int = 6) -> st.SearchStrategy[dict[str, Any]]:
    """A dict of field name -> value for ``descriptor``, to build with ``build``."""
    special = _well_known(descriptor)
    if special is not None:
        return special
    if depth <= 0:
        return st.just({})
    optional = st.fixed_dictionaries({}, optional={f.name: _field(f, depth) for f in descriptor.fields})
    return optional.map(lambda values: _one_per_oneof(descriptor, values))


def _one_per_oneof(descriptor: Descriptor, values: dict[str, Any]) -> dict[str, Any]:
    for oneof in descriptor.oneofs:
        members = [f.name for f in oneof.fields if f.name in values]
        for name in members[1:]:
            del values[name]
    return values


def build(descriptor: Descriptor, values: dict[str, Any]) -> Message:
    """The message of ``values`` (from ``fields_of``), set field by field, bypassing the checks of
    ``google.protobuf``'s own well-known-type helpers (a client in another language has none)."""
    message = GetMessageClass(descriptor)()
    _fill(message, values)
    return message


def _fill(message: Message, values: dict[str, Any]) -> None:
    for name, value in values.items():
        field = message.DESCRIPTOR.fields_by_name[name]
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            container = getattr(message, name)
            for entry in value:
                if isinstance(entry["value"], dict):
                    _fill(container[entry["key"]], entry["value"])
                else:
                    container[entry["key"]] = entry["value"]
        elif field.type == FIELD.TYPE_MESSAGE:
            if field.is_repeated:
                container = getattr(message, name)
                for item in value:
                    _fill(container.add(), item)
            else:
                _fill(getattr(message, name), value)
        elif field.is_repeated:
            getattr(message, name).extend(value)
        else:
            setattr(message, name, value)


def messages(descriptor: Descriptor, depth: int = 6) -> st.SearchStrategy[Message]:
    return fields_of(descriptor, depth).map(lambda values: build(descriptor, values))


def mutated(base: Message, path: tuple[str, ...] = ()) -> st.SearchStrategy[Message]:
    """``base`` (a valid message) with one field of the message at ``path`` inside it replaced by
    anything ``fields_of`` draws: deep into validation, one hostile value at a time."""
    target = base
    for name in path:
        target = getattr(target, name)
    names = [f.name for f in target.DESCRIPTOR.fields]

    def with_value(name: str) -> st.SearchStrategy[Message]:
        field = cast(FieldDescriptor, target.DESCRIPTOR.fields_by_name[name])

        def change(value: Any) -> Message:
            copy = type(base)()
            copy.CopyFrom(base)
            inner = copy
            for step in path:
                inner = getattr(inner, step)
            inner.ClearField(name)
            _fill(inner, {name: value})
            return copy

        return _field(field, 3).map(change)

    return st.sampled_from(names).flatmap(with_value)
