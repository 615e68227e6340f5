"""Issue #26: every timestamp, duration and enum a caller sends is checked, never converted blindly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf.message import Message

from pronto.v1 import common_pb2, events_pb2, ingest_pb2, operator_pb2
from services.ingest.validation import (
    MAX_DURATION_S,
    MAX_TIMESTAMP_S,
    MIN_TIMESTAMP_S,
    profile_problems,
    publish_problems,
    reply_problems,
    resolve_problems,
    state_problems,
    status_problems,
    time_problems,
)
from tests.support.events import message

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def publish_with(seconds: int, nanos: int = 0) -> ingest_pb2.PublishRequest:
    event = message("conv-1", 1)
    event.sent_at.seconds = seconds
    event.sent_at.nanos = nanos
    return ingest_pb2.PublishRequest(message_received=event)


@pytest.mark.parametrize(
    ("seconds", "nanos", "named"),
    [
        (10**15, 0, "message_received.sent_at.seconds is 1000000000000000"),
        (-(10**15), 0, "message_received.sent_at.seconds"),
        (MAX_TIMESTAMP_S + 1, 0, "message_received.sent_at.seconds"),
        (MIN_TIMESTAMP_S - 1, 0, "message_received.sent_at.seconds"),
        (0, -1, "message_received.sent_at.nanos is -1"),
        (0, 10**9, "message_received.sent_at.nanos"),
    ],
)
def test_a_timestamp_protobuf_cannot_hold_is_a_problem_not_an_exception(
    seconds: int, nanos: int, named: str
) -> None:
    problems = publish_problems(publish_with(seconds, nanos), NOW)
    assert len(problems) == 1, problems
    assert named in problems[0]


def test_the_edges_of_timestamps_range_are_in_range() -> None:
    assert publish_problems(publish_with(MIN_TIMESTAMP_S), NOW) == []
    # The last instant is in range, only in the future.
    (problem,) = publish_problems(publish_with(MAX_TIMESTAMP_S, 999_999_999), NOW)
    assert "in the future" in problem


def test_durations_anywhere_in_a_message_are_checked() -> None:
    met = events_pb2.SlaMet(conversation_id="c")
    met.elapsed.seconds = -1
    met.target.seconds = MAX_DURATION_S + 1
    assert time_problems(met) == [
        "elapsed.seconds is -1, expected 0 to 315576000000",
        "target.seconds is 315576000001, expected 0 to 315576000000",
    ]
    met.elapsed.seconds, met.target.seconds, met.target.nanos = 1, 1, -5
    assert time_problems(met) == ["target.nanos is -5, expected 0 to 999999999"]


def test_a_timestamp_is_named_by_its_path() -> None:
    started = events_pb2.SlaClockStarted(conversation_id="c")
    started.deadline.seconds = 10**15
    started.target.seconds = 60
    assert time_problems(started, "sla.") == [
        f"sla.deadline.seconds is {10**15}, outside 0001-01-01..9999-12-31 "
        f"({MIN_TIMESTAMP_S} to {MAX_TIMESTAMP_S})"
    ]


# ---------------------------------------------------------------- every enum a caller sends


def _status() -> operator_pb2.SetOperatorStatusRequest:
    return operator_pb2.SetOperatorStatusRequest(operator_id="op-7", status=events_pb2.OPERATOR_STATUS_ONLINE)


def _reply() -> operator_pb2.PostReplyRequest:
    return operator_pb2.PostReplyRequest(
        conversation_id="c-1", operator_id="op-7", text="ok", attachments=[common_pb2.Attachment()]
    )


def _profile() -> operator_pb2.UpdateOperatorProfileRequest:
    profile = events_pb2.OperatorProfileUpdated(
        operator_id="op-7",
        display_name="Giulia",
        languages=[events_pb2.LanguageSkill(language="it", proficiency=5)],
        topics=[common_pb2.SUPPORT_TOPIC_ORDERS],
        capacities=[events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_EMAIL, max_concurrent=3)],
    )
    return operator_pb2.UpdateOperatorProfileRequest(profile=profile)


def _resolve() -> operator_pb2.ResolveConversationRequest:
    return operator_pb2.ResolveConversationRequest(conversation_id="c-1", operator_id="op-7")


def _state() -> operator_pb2.SetConversationStateRequest:
    return operator_pb2.SetConversationStateRequest(
        conversation_id="c-1", operator_id="op-7", state=events_pb2.CONVERSATION_STATE_ON_HOLD
    )


def _publish() -> ingest_pb2.PublishRequest:
    event = message("conv-1", 1, topic_hints=[common_pb2.SUPPORT_TOPIC_ORDERS])
    event.sender.tier = common_pb2.CUSTOMER_TIER_GOLD
    event.kind = events_pb2.MESSAGE_KIND_TEXT
    return ingest_pb2.PublishRequest(message_received=event)


REQUESTS: dict[str, tuple[Callable[[], Message], Callable[[Any], list[str]]]] = {
    "PublishRequest": (_publish, lambda r: publish_problems(r, NOW)),
    "SetOperatorStatusRequest": (_status, status_problems),
    "PostReplyRequest": (_reply, reply_problems),
    "UpdateOperatorProfileRequest": (_profile, profile_problems),
    "ResolveConversationRequest": (_resolve, resolve_problems),
    "SetConversationStateRequest": (_state, state_problems),
}


def enum_paths(message: Message, prefix: str = "") -> Iterator[tuple[str, Message, Any]]:
    """Every enum field reachable in ``message`` (its repeated messages need one element to be reached)."""
    for descriptor in message.DESCRIPTOR.fields:
        path = f"{prefix}{descriptor.name}"
        if descriptor.enum_type is not None:
            yield path, message, descriptor
        elif descriptor.message_type is not None:
            if descriptor.is_repeated:
                for i, item in enumerate(getattr(message, descriptor.name)):
                    yield from enum_paths(item, f"{path}[{i}].")
            elif message.HasField(descriptor.name):
                yield from enum_paths(getattr(message, descriptor.name), f"{path}.")


@pytest.mark.parametrize("name", REQUESTS)
def test_every_enum_in_a_request_refuses_a_value_it_does_not_know(name: str) -> None:
    build, problems_of = REQUESTS[name]
    assert problems_of(build()) == [], "the baseline is valid"
    paths = [path for path, _, _ in enum_paths(build())]
    for path in paths:
        request = build()
        owner, descriptor = next((m, d) for p, m, d in enum_paths(request) if p == path)
        if descriptor.is_repeated:
            getattr(owner, descriptor.name).append(99)
        else:
            setattr(owner, descriptor.name, 99)
        problems = problems_of(request)
        assert any(path in p and "99" in p for p in problems), (path, problems)
    expected = {
        "PublishRequest": 4,  # channel, sender.tier, kind, topic_hints
        "UpdateOperatorProfileRequest": 2,  # profile.topics, profile.capacities[0].channel
        "SetOperatorStatusRequest": 2,  # status, channel
        "SetConversationStateRequest": 1,
    }
    assert len(paths) == expected.get(name, 0), paths
