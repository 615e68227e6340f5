"""Checks a published message's required fields, identifier lengths and characters, and enum values."""

from __future__ import annotations

from typing import Any

import pytest

from pronto.v1 import common_pb2, events_pb2, ingest_pb2
from services.ingest.validation import (
    MAX_ATTACHMENTS,
    MAX_ID_LENGTH,
    MAX_TEXT_BYTES,
    publish_problems,
)
from tests.unit.ingest.validation_requests import (
    NOW,
    attachment,
    only_problem,
    publish,
    sender,
)

# ---------------------------------------------------------------- publish: a valid message


def test_a_plain_web_chat_message_has_no_problems() -> None:
    assert publish_problems(publish(), NOW) == []


def test_a_request_without_an_event_says_which_event_to_set() -> None:
    request = ingest_pb2.PublishRequest(idempotency_key="k-1")

    assert publish_problems(request, NOW) == ["event is required: set message_received"]


def test_an_invalid_idempotency_key_is_reported_even_without_an_event() -> None:
    request = ingest_pb2.PublishRequest(idempotency_key=" k-1")

    assert publish_problems(request, NOW) == [
        "idempotency_key must not contain control characters or surrounding spaces",
        "event is required: set message_received",
    ]


# ---------------------------------------------------------------- required fields


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"conversation_id": ""}, "message_received.conversation_id"),
        ({"sender": sender(id="")}, "message_received.sender.id"),
    ],
)
def test_a_missing_identifier_is_named_in_the_problem(fields: dict[str, Any], field: str) -> None:
    assert (
        only_problem(publish_problems(publish(idempotency_key="k-1", **fields), NOW))
        == f"{field} is required"
    )


def test_a_message_without_a_sender_is_refused_for_its_sender_id() -> None:
    request = publish()
    request.message_received.ClearField("sender")

    assert only_problem(publish_problems(request, NOW)) == "message_received.sender.id is required"


def test_a_message_without_a_channel_asks_for_one() -> None:
    problem = only_problem(publish_problems(publish(channel=common_pb2.CHANNEL_UNSPECIFIED), NOW))

    assert problem == "message_received.channel is required (a Channel other than UNSPECIFIED)"


def test_an_empty_message_lists_every_missing_field() -> None:
    request = ingest_pb2.PublishRequest(message_received=events_pb2.MessageReceived())

    problems = publish_problems(request, NOW)

    assert problems == [
        "message_received.conversation_id is required",
        "message_received.channel is required (a Channel other than UNSPECIFIED)",
        "message_received.sender.id is required",
        "message_received.text is empty and there are no attachments: a message needs content",
        "idempotency_key or message_received.channel_message_id is required, "
        "so that a retried request is recognised as the same event",
    ]


# ---------------------------------------------------------------- lengths


@pytest.mark.parametrize(
    ("field", "build"),
    [
        ("message_received.conversation_id", lambda v: publish(conversation_id=v)),
        ("message_received.channel_message_id", lambda v: publish(channel_message_id=v)),
        ("message_received.sender.id", lambda v: publish(sender=sender(id=v))),
        ("idempotency_key", lambda v: publish(idempotency_key=v)),
    ],
)
def test_an_identifier_of_up_to_200_characters_is_accepted_and_201_is_not(field: str, build: Any) -> None:
    assert publish_problems(build("x" * MAX_ID_LENGTH), NOW) == []

    problem = only_problem(publish_problems(build("é" * (MAX_ID_LENGTH + 1)), NOW))

    assert problem == f"{field} is 201 characters long, at most 200 allowed"


def test_a_text_of_64_kib_is_accepted_and_one_byte_more_is_not() -> None:
    assert publish_problems(publish(text="a" * MAX_TEXT_BYTES), NOW) == []

    # "é" is two bytes in UTF-8: the limit is on bytes, not characters.
    problem = only_problem(publish_problems(publish(text="a" + "é" * (MAX_TEXT_BYTES // 2)), NOW))

    assert problem == f"message_received.text is {MAX_TEXT_BYTES + 1} bytes, at most {MAX_TEXT_BYTES} allowed"


def test_fifty_attachments_are_accepted_and_fifty_one_are_not() -> None:
    assert publish_problems(publish(attachments=[attachment()] * MAX_ATTACHMENTS), NOW) == []

    problem = only_problem(publish_problems(publish(attachments=[attachment()] * 51), NOW))

    assert problem == "message_received.attachments has 51 entries, at most 50 allowed"


def test_an_attachment_of_negative_size_is_named_by_its_position() -> None:
    request = publish(attachments=[attachment(), attachment(size_bytes=-1)])

    assert only_problem(publish_problems(request, NOW)) == (
        "message_received.attachments[1].size_bytes must not be negative"
    )


# ---------------------------------------------------------------- control characters and spaces


@pytest.mark.parametrize("value", ["conv\x00-1", "conv\n1", "conv\x1f1", "conv\x7f1", " conv-1", "conv-1\t"])
def test_an_identifier_with_control_characters_or_surrounding_spaces_is_refused(value: str) -> None:
    problem = only_problem(publish_problems(publish(conversation_id=value), NOW))

    assert problem == (
        "message_received.conversation_id must not contain control characters or surrounding spaces"
    )


def test_an_identifier_of_spaces_only_is_refused() -> None:
    problem = only_problem(publish_problems(publish(sender=sender(id="   ")), NOW))

    assert problem == "message_received.sender.id must not contain control characters or surrounding spaces"


def test_an_identifier_may_contain_inner_spaces_and_any_script() -> None:
    assert publish_problems(publish(conversation_id="chat 42 · Łódź · 東京"), NOW) == []


def test_a_text_may_contain_newlines_and_tabs() -> None:
    assert publish_problems(publish(text="Buongiorno,\n\tl'ordine 42 non è arrivato.\r\n"), NOW) == []


# ---------------------------------------------------------------- enums


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"channel": 77}, "message_received.channel has unknown Channel value 77"),
        ({"kind": 99}, "message_received.kind has unknown MessageKind value 99"),
        (
            {"sender": sender(tier=9)},
            "message_received.sender.tier has unknown CustomerTier value 9",
        ),
        (
            {"topic_hints": [common_pb2.SUPPORT_TOPIC_ORDERS, 42]},
            "message_received.topic_hints has unknown or unspecified SupportTopic values [42]",
        ),
        (
            {"topic_hints": [common_pb2.SUPPORT_TOPIC_UNSPECIFIED]},
            "message_received.topic_hints has unknown or unspecified SupportTopic values [0]",
        ),
    ],
)
def test_an_unknown_enum_value_is_refused_with_its_number(fields: dict[str, Any], problem: str) -> None:
    assert only_problem(publish_problems(publish(**fields), NOW)) == problem


def test_every_known_channel_kind_tier_and_topic_is_accepted() -> None:
    for channel in common_pb2.Channel.values()[1:]:
        assert publish_problems(publish(channel=channel), NOW) == [], common_pb2.Channel.Name(channel)
    for kind in events_pb2.MessageKind.values():
        assert publish_problems(publish(kind=kind), NOW) == [], events_pb2.MessageKind.Name(kind)
    for tier in common_pb2.CustomerTier.values():
        assert publish_problems(publish(sender=sender(tier=tier)), NOW) == [], tier
    topics = common_pb2.SupportTopic.values()[1:]
    assert publish_problems(publish(topic_hints=topics), NOW) == []
