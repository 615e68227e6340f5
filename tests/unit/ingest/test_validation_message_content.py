"""Checks a published message's content: text or attachments, language, send time, retry keys, size."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pronto.v1 import common_pb2, events_pb2
from services.ingest.validation import (
    MAX_EVENT_BYTES,
    publish_problems,
    reply_problems,
)
from tests.unit.ingest.validation_requests import (
    NOW,
    at,
    attachment,
    only_problem,
    publish,
    reply,
)

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
