"""The rules an incoming event must obey, checked without any broker or clock of their own."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pronto.v1 import common_pb2, events_pb2, ingest_pb2, operator_pb2
from services.ingest.validation import (
    MAX_ATTACHMENTS,
    MAX_EVENT_BYTES,
    MAX_ID_LENGTH,
    MAX_TEXT_BYTES,
    InvalidEvent,
    check,
    publish_problems,
    reply_problems,
    status_problems,
)
from tests.support.events import message

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
BCP47 = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def publish(
    idempotency_key: str = "", conversation_id: str = "conv-1", **fields: Any
) -> ingest_pb2.PublishRequest:
    """A request publishing a valid web chat message, with ``fields`` replaced.

    The channel message id and the sender do not follow ``conversation_id``, so that a
    test of the conversation id sees only its own problem.
    """
    fields = {"channel_message_id": "wc-1", "sender": sender()} | fields
    return ingest_pb2.PublishRequest(
        idempotency_key=idempotency_key, message_received=message(conversation_id, 1, **fields)
    )


def sender(id: str = "cust-1", tier: int = common_pb2.CUSTOMER_TIER_STANDARD) -> common_pb2.Sender:
    fields: dict[str, Any] = {"id": id, "display_name": "Giulia Rossi", "tier": tier}  # tier may be unknown
    return common_pb2.Sender(**fields)


def at(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def status(**fields: Any) -> operator_pb2.SetOperatorStatusRequest:
    values: dict[str, Any] = {"operator_id": "op-7", "status": events_pb2.OPERATOR_STATUS_ONLINE}
    return operator_pb2.SetOperatorStatusRequest(**(values | fields))


def reply(**fields: Any) -> operator_pb2.PostReplyRequest:
    values: dict[str, Any] = {"conversation_id": "conv-1", "operator_id": "op-7", "text": "Arriva domani."}
    return operator_pb2.PostReplyRequest(**(values | fields))


def only_problem(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    return problems[0]


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


def attachment(size_bytes: int = 1024) -> common_pb2.Attachment:
    return common_pb2.Attachment(filename="scontrino.jpg", content_type="image/jpeg", size_bytes=size_bytes)


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


# ---------------------------------------------------------------- content


@pytest.mark.parametrize(
    "kind",
    [
        events_pb2.MESSAGE_KIND_STICKER,
        events_pb2.MESSAGE_KIND_LOCATION,
        events_pb2.MESSAGE_KIND_DELETED,
        events_pb2.MESSAGE_KIND_MISSED_CALL,
        events_pb2.MESSAGE_KIND_CALLBACK_REQUEST,
    ],
    ids=events_pb2.MessageKind.Name,
)
def test_a_textless_kind_needs_no_text(kind: int) -> None:
    assert publish_problems(publish(kind=kind, text=""), NOW) == []


@pytest.mark.parametrize(
    "kind",
    [
        events_pb2.MESSAGE_KIND_UNSPECIFIED,
        events_pb2.MESSAGE_KIND_TEXT,
        events_pb2.MESSAGE_KIND_IMAGE,
        events_pb2.MESSAGE_KIND_EDITED,
        events_pb2.MESSAGE_KIND_VOICEMAIL,
    ],
    ids=events_pb2.MessageKind.Name,
)
@pytest.mark.parametrize("text", ["", " \n\t "])
def test_any_other_kind_needs_text_or_attachments(kind: int, text: str) -> None:
    problem = only_problem(publish_problems(publish(kind=kind, text=text), NOW))

    assert problem == "message_received.text is empty and there are no attachments: a message needs content"
    assert publish_problems(publish(kind=kind, text=text, attachments=[attachment()]), NOW) == []


# ---------------------------------------------------------------- language


@pytest.mark.parametrize("language", ["", "it", "IT", "ita", "pt-BR", "zh-Hant-TW", "de-CH-1996", "en-x-a"])
def test_an_empty_or_bcp47_language_is_accepted(language: str) -> None:
    assert publish_problems(publish(language=language), NOW) == []


@pytest.mark.parametrize(
    "language", ["i", "italiano", "pt_BR", "pt-", "-pt", "en-toolongsubtag", " it", "it ", "1t", "en--US"]
)
def test_a_language_that_is_not_bcp47_is_refused_and_quoted(language: str) -> None:
    problem = only_problem(publish_problems(publish(language=language), NOW))

    assert problem == (f"message_received.language {language!r} is not a BCP 47 tag such as 'it' or 'pt-BR'")


def test_a_language_with_a_trailing_newline_is_refused() -> None:
    assert publish_problems(publish(language="it\n"), NOW) != []


# ---------------------------------------------------------------- sent_at


def test_a_message_sent_four_minutes_in_the_future_is_accepted() -> None:
    assert publish_problems(publish(sent_at=at(NOW + timedelta(minutes=4))), NOW) == []


def test_a_message_sent_exactly_five_minutes_in_the_future_is_accepted() -> None:
    assert publish_problems(publish(sent_at=at(NOW + timedelta(minutes=5))), NOW) == []


def test_a_message_sent_more_than_five_minutes_in_the_future_is_refused() -> None:
    request = publish(sent_at=at(NOW + timedelta(minutes=5, seconds=1)))

    assert only_problem(publish_problems(request, NOW)) == (
        "message_received.sent_at is more than 5 minutes in the future"
    )


def test_a_message_sent_long_ago_is_accepted() -> None:
    assert publish_problems(publish(sent_at=at(NOW - timedelta(days=400))), NOW) == []


@pytest.mark.parametrize(
    "now", [NOW, NOW.astimezone(timezone(timedelta(hours=1))), NOW.replace(tzinfo=None)], ids=str
)
def test_the_future_is_judged_from_the_given_now_whatever_its_time_zone(now: datetime) -> None:
    assert publish_problems(publish(sent_at=at(NOW + timedelta(minutes=4))), now) == []
    assert publish_problems(publish(sent_at=at(NOW + timedelta(minutes=6))), now) != []
    assert publish_problems(publish(sent_at=at(NOW + timedelta(minutes=6))), now + timedelta(minutes=2)) == []


# ---------------------------------------------------------------- retries


def test_a_message_needs_an_idempotency_key_or_a_channel_message_id() -> None:
    problem = only_problem(publish_problems(publish(channel_message_id=""), NOW))

    assert problem == (
        "idempotency_key or message_received.channel_message_id is required, "
        "so that a retried request is recognised as the same event"
    )


def test_an_idempotency_key_alone_is_enough() -> None:
    assert publish_problems(publish(idempotency_key="k-1", channel_message_id=""), NOW) == []


# ---------------------------------------------------------------- operator status


def test_a_valid_status_change_has_no_problems() -> None:
    assert status_problems(status(reason="pausa pranzo", idempotency_key="s-1")) == []


def test_a_status_change_needs_an_operator_and_a_status() -> None:
    request = operator_pb2.SetOperatorStatusRequest()

    assert status_problems(request) == [
        "operator_id is required",
        "status is required (a OperatorStatus other than UNSPECIFIED)",
    ]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"status": 12}, "status has unknown OperatorStatus value 12"),
        ({"operator_id": "op\n7"}, "operator_id must not contain control characters or surrounding spaces"),
        ({"operator_id": "o" * 201}, "operator_id is 201 characters long, at most 200 allowed"),
        ({"idempotency_key": "k" * 201}, "idempotency_key is 201 characters long, at most 200 allowed"),
        ({"reason": "r" * (MAX_TEXT_BYTES + 1)}, "reason is 65537 bytes, at most 65536 allowed"),
    ],
)
def test_a_bad_status_change_names_its_field(fields: dict[str, Any], problem: str) -> None:
    assert only_problem(status_problems(status(**fields))) == problem


# ---------------------------------------------------------------- replies


def test_a_valid_reply_has_no_problems() -> None:
    assert reply_problems(reply()) == []


def test_a_reply_needs_a_conversation_an_operator_and_content() -> None:
    assert reply_problems(operator_pb2.PostReplyRequest()) == [
        "conversation_id is required",
        "operator_id is required",
        "text is empty and there are no attachments: a reply needs content",
    ]


def test_a_reply_of_attachments_only_is_accepted() -> None:
    assert reply_problems(reply(text="", attachments=[attachment()])) == []


def test_a_reply_of_blank_text_is_refused() -> None:
    problem = only_problem(reply_problems(reply(text="  \n")))

    assert problem == "text is empty and there are no attachments: a reply needs content"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (
            {"conversation_id": "conv-1 "},
            "conversation_id must not contain control characters or surrounding spaces",
        ),
        ({"operator_id": "o" * 201}, "operator_id is 201 characters long, at most 200 allowed"),
        (
            {"idempotency_key": "\x00"},
            "idempotency_key must not contain control characters or surrounding spaces",
        ),
        ({"text": "t" * (MAX_TEXT_BYTES + 1)}, "text is 65537 bytes, at most 65536 allowed"),
        ({"attachments": [attachment()] * 51}, "attachments has 51 entries, at most 50 allowed"),
        ({"attachments": [attachment(size_bytes=-5)]}, "attachments[0].size_bytes must not be negative"),
    ],
)
def test_a_bad_reply_names_its_field(fields: dict[str, Any], problem: str) -> None:
    assert only_problem(reply_problems(reply(**fields))) == problem


# ---------------------------------------------------------------- check


def test_check_raises_every_problem_at_once() -> None:
    with pytest.raises(InvalidEvent, match=r"^operator_id is required; status is required") as raised:
        check(status_problems(operator_pb2.SetOperatorStatusRequest()))

    assert raised.value.problems == [
        "operator_id is required",
        "status is required (a OperatorStatus other than UNSPECIFIED)",
    ]


def test_check_accepts_no_problems() -> None:
    check([])


# ---------------------------------------------------------------- any input


def obeys_identifier_limits(value: str) -> bool:
    return 0 < len(value) <= MAX_ID_LENGTH and value.isprintable() and value == value.strip()


@settings(database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    conversation_id=st.text(max_size=250),
    sender_id=st.text(max_size=250),
    text=st.text(),
    language=st.one_of(st.text(max_size=20), st.from_regex(BCP47, fullmatch=True)),
)
def test_any_strings_give_a_list_of_problems_and_no_problems_means_within_limits(
    conversation_id: str, sender_id: str, text: str, language: str
) -> None:
    request = publish(
        idempotency_key="k-1",
        conversation_id=conversation_id,
        sender=sender(id=sender_id),
        text=text,
        language=language,
    )

    problems = publish_problems(request, NOW)

    assert isinstance(problems, list)
    assert all(isinstance(p, str) for p in problems)
    if not problems:
        assert obeys_identifier_limits(conversation_id)
        assert obeys_identifier_limits(sender_id)
        assert text.strip()
        assert len(text.encode()) <= MAX_TEXT_BYTES
        assert language == "" or BCP47.fullmatch(language)


# ---------------------------------------------------------------- size and printability


def test_a_message_too_large_to_write_is_refused_whatever_field_makes_it_large() -> None:
    problem = only_problem(publish_problems(publish(subject="x" * (MAX_EVENT_BYTES + 1)), NOW))

    assert problem.startswith("message_received is ")
    assert problem.endswith(f"bytes when serialized, at most {MAX_EVENT_BYTES} allowed")


def test_a_reply_too_large_to_write_is_refused() -> None:
    attachments = [common_pb2.Attachment(url="https://x/" + "y" * 10_000)] * 30

    assert "bytes when serialized" in only_problem(reply_problems(reply(attachments=attachments)))


@pytest.mark.parametrize("separator", ["\x85", "\u2028", "\u2029", "\u200b"])
def test_unicode_separators_and_invisible_characters_are_refused_in_ids(separator: str) -> None:
    problem = only_problem(publish_problems(publish(conversation_id=f"conv{separator}1"), NOW))

    assert (
        problem
        == "message_received.conversation_id must not contain control characters or surrounding spaces"
    )
